"""The report's PNG plots (matplotlib, Agg): each function takes scores and a path."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import networkx as nx  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from dramatis.agents.policies import mentions  # noqa: E402
from dramatis.arena.registry import shown  # noqa: E402


def _save(fig: plt.Figure, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _models(runs: Sequence[dict]) -> list[dict]:
    return [r for r in runs if not r["config"].startswith("baseline:")]


def metric_table(summary: dict[str, dict[str, float]], path: Path) -> Path:
    """Configurations (baselines included) × headline metrics, as a coloured table."""
    configs = list(summary)
    keys = shown("table")
    cells = [
        [k.show(summary[c][k.name]) if k.name in summary[c] else "–" for c in configs] for k in keys
    ]
    fig, ax = plt.subplots(figsize=(2.0 + 1.6 * len(configs), 0.3 * len(keys) + 1.0))
    ax.axis("off")
    table = ax.table(
        cellText=cells,
        rowLabels=[k.name for k in keys],
        colLabels=[c.replace("/", "/\n") for c in configs],
        loc="center",
    )
    table.auto_set_font_size(False)
    table.set_fontsize(8)
    table.scale(1, 1.6)
    for (row, col), cell in table.get_celld().items():
        if row == 0:
            cell.set_height(cell.get_height() * 1.8)
        if col >= 0 and row > 0 and configs[col].startswith("baseline:"):
            cell.set_facecolor("#eef2f7")
    ax.set_title("Metrics per configuration (baselines shaded)", pad=24)
    return _save(fig, path)


def speaking_share(runs: Sequence[dict], path: Path) -> Path:
    """Share of generated turns per character, one stacked bar per configuration."""
    by_config: dict[str, Counter[str]] = defaultdict(Counter)
    for r in _models(runs):
        by_config[r["config"]].update(r["speakers"])
    configs = sorted(by_config)
    names = sorted({n for c in by_config.values() for n in c})
    fig, ax = plt.subplots(figsize=(8, 0.6 * len(configs) + 1.5))
    left = np.zeros(len(configs))
    for name in names:
        share = np.array([by_config[c][name] / max(1, sum(by_config[c].values())) for c in configs])
        ax.barh(configs, share, left=left, label=name)
        left += share
    ax.set_xlabel("share of generated turns")
    ax.set_xlim(0, 1)
    ax.legend(fontsize=7, loc="lower right", ncol=2)
    ax.set_title("Speaking share per character")
    return _save(fig, path)


def address_graph(runs: Sequence[dict], path: Path) -> Path:
    """Who addresses whom: an edge speaker -> character named in the turn, over model runs."""
    graph = nx.DiGraph()
    for r in _models(runs):
        texts = r.get("texts", [])
        for speaker, text in zip(r["speakers"], texts, strict=False):
            graph.add_node(speaker)
            for name in r["cast"]:
                if name != speaker and mentions(text, name):
                    weight = graph.get_edge_data(speaker, name, {"weight": 0})["weight"]
                    graph.add_edge(speaker, name, weight=weight + 1)
    fig, ax = plt.subplots(figsize=(6, 5))
    if graph.number_of_nodes():
        pos = nx.circular_layout(graph)
        widths = [1 + graph[u][v]["weight"] / 2 for u, v in graph.edges]
        nx.draw_networkx(
            graph,
            pos,
            ax=ax,
            node_color="#cfe0f3",
            node_size=1800,
            font_size=8,
            width=widths,
            arrowsize=14,
            connectionstyle="arc3,rad=0.12",
        )
        labels = {(u, v): graph[u][v]["weight"] for u, v in graph.edges}
        nx.draw_networkx_edge_labels(graph, pos, edge_labels=labels, ax=ax, font_size=7)
        ax.margins(0.22)  # the circles (node_size 1800) stay inside the frame
    ax.set_title("Who addresses whom (names in generated turns)")
    ax.axis("off")
    return _save(fig, path)


def confusion(runs: Sequence[dict], path: Path) -> Path:
    """Attribution confusion matrices of the model runs, one panel per cast."""
    by_cast: dict[tuple, np.ndarray] = {}
    for r in _models(runs):
        detail = r["detail"].get("attribution", {})
        if "confusion" not in detail:
            continue
        key = tuple(detail["labels"])
        by_cast[key] = by_cast.get(key, 0) + np.array(detail["confusion"])
    panels = list(by_cast.items())[:4] or [(("-",), np.zeros((1, 1)))]
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 4), squeeze=False)
    for ax, (labels, matrix) in zip(axes[0], panels, strict=True):
        ax.imshow(matrix, cmap="Blues")
        ax.set_xticks(range(len(labels)), labels, rotation=30, fontsize=7)
        ax.set_yticks(range(len(labels)), labels, fontsize=7)
        for (i, j), v in np.ndenumerate(matrix):
            dark = v > matrix.max() / 2
            ax.text(
                j,
                i,
                int(v),
                ha="center",
                va="center",
                fontsize=9,
                color="white" if dark else "black",
            )
        ax.set_xlabel("judged speaker")
        ax.set_ylabel("true speaker")
    fig.suptitle("Speaker attribution: confusion (model runs)")
    return _save(fig, path)


def fidelity_by_turn(runs: Sequence[dict], path: Path) -> Path:
    """The judge's probability for the true speaker by turn index, mean per configuration."""
    curves: dict[str, dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))
    for r in runs:
        for i, p in enumerate(r["detail"].get("attribution", {}).get("per_turn", [])):
            curves[r["config"]][i].append(p)
    fig, ax = plt.subplots(figsize=(8, 4))
    for config, by_turn in sorted(curves.items()):
        xs = sorted(by_turn)
        style = "--" if config.startswith("baseline:") else "-"
        ax.plot(
            xs, [np.mean(by_turn[x]) for x in xs], style, marker="o", markersize=3, label=config
        )
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # turns are whole numbers
    ax.set_xlabel("turn")
    ax.set_ylabel("P(true speaker)")
    ax.set_ylim(0, 1)
    ax.legend(fontsize=7)
    ax.set_title("Fidelity by turn (attribution confidence)")
    return _save(fig, path)


def ratings_plot(rated: dict[str, dict[str, float]], path: Path) -> Path:
    """Bradley-Terry ratings with 95% bootstrap intervals."""
    configs = sorted(rated, key=lambda c: rated[c]["rating"])
    point = np.array([rated[c]["rating"] for c in configs])
    low = point - np.array([rated[c]["low"] for c in configs])
    high = np.array([rated[c]["high"] for c in configs]) - point
    fig, ax = plt.subplots(figsize=(7, 0.5 * len(configs) + 1.5))
    ax.errorbar(
        point,
        range(len(configs)),
        xerr=[np.maximum(low, 0), np.maximum(high, 0)],
        fmt="o",
        capsize=4,
    )
    ax.set_yticks(range(len(configs)), configs, fontsize=8)
    ax.axvline(0, color="#999", lw=0.8)
    ax.set_xlabel("Bradley-Terry rating (log-strength, 95% bootstrap CI)")
    ax.set_title("Ratings from pairwise comparisons on the same scenes")
    return _save(fig, path)
