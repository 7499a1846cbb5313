"""One story horizon for every part of every prompt: staged at hamlet:1.2 (or with
--horizon), no agent's prompt holds an 8-word span of a later scene, with memory on or
off, in the page and script formats."""

import pytest
from conftest import hamlet_lore_slice
from test_memory_scene import index_slice
from typer.testing import CliRunner

from dramatis.agents.fake_backend import FakeModel
from dramatis.agents.scene import Partial
from dramatis.agents.scene_store import SceneSpec, SceneStore
from dramatis.arena.later_spans import later_grams
from dramatis.arena.words import ngrams, words
from dramatis.cli import app
from dramatis.core.errors import DramatisError
from dramatis.core.settings import Settings
from dramatis.memory.attach import check_horizon
from dramatis.memory.clock import horizon_of, parse_horizons
from dramatis.memory.voice import PlayVoices, at_horizon, lines_before
from dramatis.personas import find_persona, load_play
from dramatis.staging import build_scene, opening_from_play

CAST = ["Claudius", "Gertrude", "Hamlet", "Laertes", "Polonius", "Horatio", "Marcellus"]


def later_spans(text: str, grams: set) -> list[str]:
    return [" ".join(g) for g in ngrams(words(text), 8) if g in grams]


@pytest.fixture(scope="module")
def after_1_2():
    return later_grams(load_play("hamlet"), "1.1")  # 1.2 itself and every scene after


def prompts_of(staged, thread: str, turns: int) -> list[str]:
    """Every agent's prompt at the opening and after each of `turns` turns."""
    opening = opening_from_play(staged.spec.source_scene or "hamlet:1.2")[1]
    found = []
    for step in range(turns + 1):
        if step:
            list(e for e in staged.scene.run(thread, 1, opening) if not isinstance(e, Partial))
        said = staged.scene.turns(thread) or opening
        for agent in staged.scene.agents.values():
            found.append(agent.prompt(said, staged.spec.setting)[0])
    return found


@pytest.mark.parametrize("fmt", ["page", "script"])
@pytest.mark.parametrize("memory", [False, True])
def test_no_prompt_holds_a_line_of_a_later_scene(
    home, embedding_cache, after_1_2, fmt, memory, monkeypatch
):
    monkeypatch.setenv("DRAMATIS_THREADS", "1")
    settings = Settings.load().ensure()
    if memory:  # the slice holds short speeches of every act: the filters must hold them off
        index_slice(settings, embedding_cache)
    thread = f"h12-{fmt}-{memory}"
    spec = SceneSpec(thread_id=thread, cast=CAST, plays=dict.fromkeys(CAST, "hamlet"),
                     setting="A room of state.", source_scene="hamlet:1.2", model="fake", seed=3,
                     agent={"prompt_format": fmt, "max_tokens": 16}, memory=memory)  # fmt: skip
    store = SceneStore(settings.scenes_db)
    staged = build_scene(spec, store, settings, model=FakeModel(chat=False))
    prompts = prompts_of(staged, thread, 3)
    # The staged scene's own opening lines are in every prompt: 1.2 is not "later".
    opening = " ".join(t["text"] for t in opening_from_play("hamlet:1.2")[1])
    allowed = set(ngrams(words(opening), 8))
    leaks = {s for p in prompts for s in later_spans(p, after_1_2 - allowed)}
    assert len(prompts) == 4 * len(CAST) and not leaks, sorted(leaks)[:5]
    if memory:
        assert any("remembers:" in p for p in prompts)  # memory reached the prompts
        staged.memory.store.close()


def test_the_horizon_check_catches_the_unfiltered_sources(after_1_2):
    """The detector above is not vacuous: without the horizon, voice examples and sample
    lines hold later scenes (what every prompt held before)."""
    voices = PlayVoices({"Hamlet": "hamlet"})
    shown = voices.examples("Hamlet", "My lord, the king your father.", 6)
    assert any(later_spans(f"{cue} {reply}", after_1_2) for _, cue, reply in shown)
    hamlet = find_persona("hamlet:Hamlet")
    assert any(later_spans(line, after_1_2) for line in hamlet.sample_lines)


def test_voice_examples_and_sample_lines_stop_at_the_horizon():
    hamlet = load_play("hamlet")
    at = PlayVoices({"Ophelia": "hamlet"}, horizons={"hamlet": "3.1"})
    shown = at.examples("Ophelia", "He is dead and gone, lady, he is dead and gone", 40)
    scenes = {s.scene_id for s in hamlet.speeches() if s.speaker == "Ophelia"}
    assert shown and {"1.3", "2.1"} >= {_scene_of(hamlet, r) for _, _, r in shown}
    assert "4.5" in scenes  # she does sing it, later
    ophelia = at_horizon(find_persona("hamlet:Ophelia"), "3.1")
    assert ophelia.sample_lines and all(_scene_of(hamlet, s) < "3.1" for s in ophelia.sample_lines)
    assert lines_before("hamlet", "Hamlet", "1.2", 8) == []  # he has not spoken yet
    whole = find_persona("hamlet:Ophelia")
    assert at_horizon(whole, "99.0") is whole


def _scene_of(play, text: str) -> str:
    return next(s.scene_id for s in play.speeches() if s.text == text)


def test_the_horizon_setting():
    assert parse_horizons("Hamlet:2.2, macbeth:1.3") == {"hamlet": "2.2", "macbeth": "1.3"}
    assert horizon_of(None, "hamlet", "hamlet:2.2") == "2.2"
    assert horizon_of("hamlet:3.1", "hamlet", "hamlet:2.2") == "2.2"  # the earlier wins
    assert horizon_of("hamlet:1.2", "macbeth") == "99.0"  # another play: known whole
    assert check_horizon("Hamlet:2.2") == "hamlet:2.2" and check_horizon(None) is None
    for bad, says in [("hamlet", "write PLAY:ACT.SCENE"), ("hamlet:9.9", "no scene '9.9'"),
                      ("hamlt:1.1", "did you mean hamlet")]:  # fmt: skip
        with pytest.raises(DramatisError, match=says):
            check_horizon(bad)


def test_stage_refuses_a_bad_horizon_in_one_line(home):
    out = CliRunner().invoke(
        app, ["stage", "--cast", "Hamlet,Horatio", "--model", "fake", "--horizon", "hamlet:7.1"]
    )
    assert out.exit_code != 0 and "--horizon" in out.output and "Traceback" not in out.output
    assert len(out.output.strip().splitlines()) == 1, out.output


def test_hamlet_lore_slice_reaches_past_the_horizon():
    """The memory case above means something: the indexed slice holds later scenes."""
    _, speeches = hamlet_lore_slice()
    assert sum(s.act >= 2 for s in speeches) > 50
