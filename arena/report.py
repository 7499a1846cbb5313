"""`dramatis arena report DIR`: scores.json, ratings, PNG plots and a self-contained
report.html (plots embedded as data URIs, no scripts or styles from the network)."""

from __future__ import annotations

import base64
import html
from pathlib import Path

from jinja2 import Environment, select_autoescape

from dramatis.arena import plots
from dramatis.arena.ratings import ratings
from dramatis.arena.registry import shown
from dramatis.arena.scoring import score_dirs, write_scores
from dramatis.core.errors import DramatisError

PLOTS = {
    "metric_table.png": "Metrics, with the baselines beside them",
    "speaking_share.png": "Speaking share per character",
    "address_graph.png": "Who addresses whom",
    "confusion.png": "Speaker attribution confusion",
    "fidelity_by_turn.png": "Fidelity by turn",
    "ratings.png": "Ratings",
}

TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ title }}</title>
<style>
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
h1 { font-size: 1.6em; } h2 { font-size: 1.2em; margin-top: 2em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; font-size: 12px; } td, th { padding: 3px 8px; border: 1px solid #ddd; text-align: right; }
th:first-child, td:first-child { text-align: left; } td.b { background: #eef2f7; }
figure { margin: 1.5em 0; } img { max-width: 100%; border: 1px solid #eee; }
.note { color: #666; font-size: 12px; } blockquote { margin: .3em 0 .3em 1em; color: #444; }
</style></head>
<body data-images="{{ plots|length }}">
<h1>{{ title }}</h1>
<p class="note">{{ n_runs }} runs scored ({{ n_model }} generated, {{ n_runs - n_model }} baseline) · judge: {{ judges }}</p>
<h2>Metrics</h2>
<div style="overflow-x:auto"><table><tr><th>metric</th>{% for config in summary %}<th>{{ config }}</th>{% endfor %}</tr>
<tr><td>runs</td>{% for values in summary.values() %}<td>{{ values.runs|int }}</td>{% endfor %}</tr>
{% for k in metrics %}<tr><td>{{ k.name }}</td>{% for config, values in summary.items() %}<td{{ ' class=b' if config.startswith('baseline:') else '' }}>{{ k.show(values[k.name]) if k.name in values else '–' }}</td>{% endfor %}</tr>{% endfor %}
</table></div>
<p class="note">Higher is better: {{ higher|join(', ') }}. Lower is better: {{ lower|join(', ') }}. Rates are 0–1; bleu 0–100. attribution2: the second judge (other features). Baselines are real lines: their copying is 1 by construction.</p>
<h2>Ratings</h2>
<table><tr><th>config</th><th>rating</th><th>95% CI</th><th>wins / games</th><th>ties</th></tr>
{% for config, r in rated.items() %}<tr><td>{{ config }}</td><td>{{ '%.2f'|format(r.rating) }}</td>
<td>{{ '%.2f'|format(r.low) }} … {{ '%.2f'|format(r.high) }}</td><td>{{ r.wins|int }} / {{ r.games|int }}</td><td>{{ r.ties|int }}</td></tr>{% endfor %}
</table>
<p class="note">A tie (equal fidelity on the same cast, scene and seed) is no game: ties are counted apart.</p>
{% for name, caption, data in plots %}<figure><img src="data:image/png;base64,{{ data }}" alt="{{ caption }}" data-file="{{ name }}">
<figcaption>{{ caption }} <span class="note">({{ name }})</span></figcaption></figure>{% endfor %}
<h2>Out-of-world examples</h2>
{% for config, examples in out_of_world.items() %}<p><b>{{ config }}</b></p>
{% for e in examples %}<blockquote>{{ e }}</blockquote>{% endfor %}{% endfor %}
<script>
window.addEventListener("load", () => {
  const imgs = [...document.images];
  document.body.dataset.loaded = imgs.filter(i => i.complete && i.naturalWidth > 0).length;
});
</script>
</body></html>
"""


def load_or_score(folder: Path) -> dict:
    """Scores for a run folder: score it (runs/ and baselines) if it holds transcripts."""
    runs = folder / "runs" if (folder / "runs").is_dir() else folder
    if not runs.exists():
        raise DramatisError(
            f"{folder} does not exist: give the --out folder of `dramatis arena run`"
        )
    return score_dirs([runs], baselines_dir=folder / "baselines")


def out_of_world_examples(scores: dict, per_config: int = 3) -> dict[str, list[str]]:
    """A few generated turns the in-world metric flagged, per configuration."""
    found: dict[str, list[str]] = {}
    for row in scores["runs"]:
        flags = row["detail"].get("in_world", {}).get("per_turn", [])
        for text, ok in zip(row["texts"], flags, strict=False):
            picked = found.setdefault(row["config"], [])
            if not ok and len(picked) < per_config:
                picked.append(text[:300])
    return {k: v for k, v in found.items() if v}


def write_report(folder: Path) -> Path:
    """scores.json, ratings, PNGs and report.html in `folder`; returns the html path."""
    scores = load_or_score(folder)
    rated = ratings(scores["runs"])
    scores["ratings"] = rated
    write_scores(scores, folder / "scores.json")
    made = {
        "metric_table.png": plots.metric_table(scores["summary"], folder / "metric_table.png"),
        "speaking_share.png": plots.speaking_share(scores["runs"], folder / "speaking_share.png"),
        "address_graph.png": plots.address_graph(scores["runs"], folder / "address_graph.png"),
        "confusion.png": plots.confusion(scores["runs"], folder / "confusion.png"),
        "fidelity_by_turn.png": plots.fidelity_by_turn(
            scores["runs"], folder / "fidelity_by_turn.png"
        ),
        "ratings.png": plots.ratings_plot(rated, folder / "ratings.png"),
    }
    embedded = [(n, PLOTS[n], base64.b64encode(p.read_bytes()).decode()) for n, p in made.items()]
    judges = sorted(
        {str(m) for r in scores["runs"] if (m := r["detail"].get("attribution", {}).get("method"))}
    )
    table_keys = shown("table")
    page = (
        Environment(autoescape=select_autoescape(default=True))
        .from_string(TEMPLATE)
        .render(
            title=f"Arena report: {html.escape(folder.name)}",
            n_runs=len(scores["runs"]),
            n_model=sum(not r["config"].startswith("baseline:") for r in scores["runs"]),
            judges=", ".join(judges) or "none",
            metrics=table_keys,
            higher=[k.name for k in table_keys if k.better == "higher"],
            lower=[k.name for k in table_keys if k.better == "lower"],
            summary=scores["summary"],
            rated=rated,
            plots=embedded,
            out_of_world=out_of_world_examples(scores),
        )
    )
    target = folder / "report.html"
    target.write_text(page, encoding="utf-8")
    return target
