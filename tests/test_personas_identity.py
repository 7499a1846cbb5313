"""One person under one readable name: identities, readable names, `dramatis play check`.

These run on the real shipped texts (the parser, the identity table, the staging cast).
"""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest
from typer.testing import CliRunner

from dramatis.cli import app
from dramatis.core.errors import DramatisError
from dramatis.personas import identities
from dramatis.personas.check import heading_rows, weak_rows
from dramatis.personas.corpus import list_plays, load_play, texts_dir
from dramatis.personas.headings import spell_out
from dramatis.personas.model import Character
from dramatis.personas.parse import parse_play
from dramatis.staging import cast_personas

ORDINALS = {"First", "Second", "Third", "Fourth", "Fifth", "Sixth", "Seventh", "Eighth", "Both"}


def speaker_of(play: str, words: str) -> str:
    """Who speaks the speech holding `words` in a play."""
    found = [s.speaker for s in load_play(play).speeches() if words in s.text]
    assert found, f"no speech holds {words!r}"
    return found[0]


def test_prince_hal_is_one_person_and_not_prince_john():
    play = load_play("henry_iv_part_1")
    hal = speaker_of("henry_iv_part_1", "Thou art so fat-witted")
    assert hal == "Prince Henry"
    assert speaker_of("henry_iv_part_1", "I know you all, and will awhile uphold") == hal
    counts = Counter(s.speaker for s in play.speeches())
    assert counts["Prince Henry"] > 150 > counts["Prince John of Lancaster"]
    assert "Hal" in play.characters["Prince Henry"].aliases
    assert speaker_of("henry_iv_part_1", "Percy is but my factor") == hal


def test_richard_is_one_person_across_his_two_headings():
    play = load_play("richard_iii")
    winter = speaker_of("richard_iii", "Now is the winter of our discontent")
    horse = speaker_of("richard_iii", "A horse! a horse! my kingdom for a horse!")
    assert winter == horse == "Richard III"
    headings = {s.heading.rstrip(".") for s in play.speeches() if s.speaker == "Richard III"}
    assert {"GLOSTER", "KING RICHARD"} <= headings
    assert "King Richard the Third" not in play.characters  # the title repeated, not a person


@pytest.mark.parametrize(
    ("play", "gone", "readable"),
    [
        ("antony_and_cleopatra", "M.antony", "Mark Antony"),
        ("merry_wives_of_windsor", "MRS. Page", "Mistress Page"),
        ("merry_wives_of_windsor", "MRS. Ford", "Mistress Ford"),
        ("henry_vi_part_1", "King", "King Henry VI"),
        ("richard_ii", "Queen to King Richard", "Richard's Queen"),
    ],
)
def test_names_a_reader_would_type(play, gone, readable):
    speakers = {s.speaker for s in load_play(play).speeches()}
    assert gone not in speakers
    assert readable in speakers


def _listed_text(key: str) -> str:
    """The persons-list text of a shipped play, lower case, abbreviations spelt out
    (edition.NAME_ABBREVIATIONS: "M.ANTONY" is Mark Antony)."""
    text = (texts_dir() / f"{key}_gut.txt").read_text(encoding="utf-8", errors="replace")
    head = spell_out(re.split(r"\n\s*ACT (?:I|1|FIRST)\b", text, maxsplit=1)[0])
    return " ".join(re.sub(r"[.,;:]", " ", head).lower().split())


def _role_explained(name: str, persons_text: str) -> bool:
    """A generic role: an optional ordinal and one role word the persons list uses."""
    words = name.split()
    if words[0] in ORDINALS:
        words = words[1:]
    return len(words) == 1 and words[0].lower().rstrip("s") in persons_text


def test_whole_canon_every_frequent_speaker_has_a_readable_explained_name():
    """Every character with 20+ speeches in the 37 plays: a name from the persons list, an
    explained identity-table name, or a generic role the list names."""
    problems = []
    for key in list_plays():
        play = load_play(key)
        persons_text = _listed_text(key)
        counts = Counter(s.speaker for s in play.speeches() if len(s.speakers) == 1)
        for name, n in counts.items():
            if n < 20:
                continue
            char = play.characters.get(name)
            readable = "." not in name and not re.search(r"\b(Mrs|Of|The)\b", name)
            in_list = " ".join(name.lower().replace(",", " ").split()) in persons_text
            explained = char is not None and ((char.listed and in_list) or bool(char.identity))
            if not readable or not (explained or _role_explained(name, persons_text)):
                problems.append(f"{key}: {name} ({n} speeches)")
    assert problems == []


SPELT_OTHERWISE = """THE PLAY

PERSONS REPRESENTED.

EARL OF GLOSTER.
EDGAR, son to Gloster.

ACT I.

SCENE I. A heath.

[Enter Gloster and Edgar.]

Glou.
Who is there?

Edg.
A poor man.
"""


def test_play_check_lists_every_heading_with_a_rule_and_flags_weak_ones():
    pericles = load_play("pericles")
    rows = heading_rows(pericles)
    assert sum(r.speeches for r in rows) == len(pericles.speeches())
    assert all(r.rule for r in rows)
    odd = [r for r in rows if r.heading == "PERACLES."]  # a misprint the table explains
    assert [(r.speaker, r.weak, r.rule) for r in odd] == [
        ("Pericles", False, "identity table: this heading in this scene")
    ]
    assert all(r.weak or not r.resolved for r in weak_rows(pericles))
    small = parse_play(SPELT_OTHERWISE, "small", "The Play")
    glou_small = [r for r in heading_rows(small) if r.heading == "Glou."]
    assert [(r.speaker, r.rule, r.weak) for r in glou_small] == [
        ("Earl of Gloster", "spelling variant", True)
    ]
    assert [r.heading for r in weak_rows(small)] == ["Glou."]
    glou = [r for r in heading_rows(load_play("lear")) if r.heading == "Glou."]
    assert [(r.speaker, r.weak) for r in glou] == [("Earl of Gloster", False)]  # the table
    hal = [r for r in heading_rows(load_play("henry_iv_part_1")) if r.heading == "PRINCE."]
    assert [(r.speaker, r.weak) for r in hal] == [("Prince Henry", False)]


def test_play_check_cli_json_and_table():
    runner = CliRunner()
    result = runner.invoke(app, ["play", "check", "henry_iv_part_1", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    by_heading = {row["heading"]: row for row in data["headings"]}
    assert by_heading["PRINCE."]["speaker"] == "Prince Henry"
    assert "Henry, Prince of Wales" in by_heading["PRINCE."]["identity"]
    assert by_heading["HOT."]["speaker"] == "Hotspur"
    human = runner.invoke(app, ["play", "check", "macbeth"])
    assert human.exit_code == 0 and "DOCTOR." in human.output
    assert "Dunsinane" in human.output  # the identity table's reason for 5.1 and 5.3
    weak_only = runner.invoke(app, ["play", "check", "macbeth", "--weak"])
    assert weak_only.exit_code == 0 and "WEAK" not in weak_only.output
    canon = runner.invoke(app, ["play", "check", "all", "--json"])
    plays = json.loads(canon.output)
    assert len(plays) == 37 and sum(p["weak_headings"] for p in plays) == 0
    bad = runner.invoke(app, ["play", "check", "no_such_play"])
    assert bad.exit_code != 0 and "Traceback" not in bad.output


def test_a_1_henry_iv_cast_by_the_names_a_reader_types():
    """The staging root takes the names a reader would type and finds one person each."""
    names = ["henry_iv_part_1:Hal", "henry_iv_part_1:Falstaff", "henry_iv_part_1:Hotspur"]
    cast = cast_personas(names)
    assert [p.name for p in cast] == ["Prince Henry", "Sir John Falstaff", "Hotspur"]
    assert all(p.play == "henry_iv_part_1" for p in cast)
    assert "Thou art so fat-witted" in " ".join(cast[0].sample_lines) or cast[0].n_speeches > 150
    with pytest.raises(DramatisError, match="two characters called Richard III"):
        cast_personas(["richard_iii:Gloucester", "richard_iii:King Richard"])


def test_identity_table_errors_name_the_entry_and_field(tmp_path, monkeypatch):
    bad = tmp_path / "identities.json"
    bad.write_text(json.dumps({"hamlet": [{"listed": "Hamlet", "name": "Prince Hamlet"}]}))
    identities.load_identities.cache_clear()
    try:
        with pytest.raises(DramatisError, match=r"hamlet\[0\]: field 'why'"):
            identities.load_identities(bad)
        bad.write_text("{not json")
        with pytest.raises(DramatisError, match="not valid JSON"):
            identities.load_identities(bad)
    finally:
        identities.load_identities.cache_clear()


def test_identity_table_renames_keeps_old_forms_and_adds_people(monkeypatch):
    table = {
        "x": (
            identities.Identity("Prince Henry", "why", "Henry", ("Hal",)),
            identities.Identity("Hotspur", "why", None, (), "his son"),
            identities.Identity("Title Line", "why", drop=True),
        )
    }
    monkeypatch.setattr(identities, "load_identities", lambda: table)
    chars = [Character("Henry", "Prince of Wales", ("Prince",)), Character("Title Line")]
    out = identities.apply_identities("x", chars)
    assert [c.name for c in out] == ["Prince Henry", "Hotspur"]
    assert out[0].aliases == ("Hal", "Henry", "Prince") and out[0].identity == "why"
    assert out[1].description == "his son"


def test_a_1_henry_iv_scene_staged_by_reader_names(tmp_path):
    """The real staging root, LangGraph scene and SQLite checkpoint (a fake model): the
    names a reader types become one person each, who speak under their readable names."""
    from dramatis.agents.fake_backend import FakeModel
    from dramatis.agents.scene_store import SceneSpec, SceneStore
    from dramatis.core.settings import Settings
    from dramatis.staging import build_scene, parse_cast

    settings = Settings(home=tmp_path / "home").ensure()
    typed = "henry_iv_part_1:Hal, henry_iv_part_1:Falstaff, henry_iv_part_1:Hotspur"
    personas = cast_personas(parse_cast(typed), settings.home)
    names = [p.name for p in personas]
    spec = SceneSpec(
        thread_id="hal", cast=names, plays={p.name: p.play for p in personas},
        setting="The Boar's Head.", source_scene="henry_iv_part_1:2.4", seed=1,
        policy="round-robin", agent={"max_tokens": 8}, stage_voice=0.0,
    )  # fmt: skip
    store = SceneStore(settings.scenes_db)
    store.save(spec)
    staged = build_scene(
        store.load("hal"), store, settings, model=FakeModel(["Peace.", "Ay.", "No."])
    )
    assert sorted(staged.scene.agents) == ["Hotspur", "Prince Henry", "Sir John Falstaff"]
    turns = [e for e in staged.scene.run("hal", 3) if isinstance(e, dict)]
    assert [t["speaker"] for t in turns] == ["Prince Henry", "Sir John Falstaff", "Hotspur"]
    hal = staged.scene.agents["Prince Henry"].persona
    assert hal.play == "henry_iv_part_1" and "Prince of Wales" in hal.description


def test_a_heading_bound_to_scenes_follows_the_crown():
    """2 Henry IV: KING. is Henry IV until he dies in 4.5; in 5.2 and 5.5 it is the
    crowned Hal ("This new and gorgeous garment, majesty")."""
    play = load_play("henry_iv_part_2")
    kings = {(s.scene_id, s.speaker) for s in play.speeches() if s.heading == "KING."}
    assert ("4.5", "King Henry the Fourth") in kings
    assert {sp for sc, sp in kings if sc in ("5.2", "5.5")} == {"Prince Henry"}
    assert speaker_of("henry_iv_part_2", "This new and gorgeous garment") == "Prince Henry"
    rows = [r for r in heading_rows(play) if r.heading == "KING." and r.speaker == "Prince Henry"]
    assert rows and rows[0].rule.startswith("identity table")


def test_scene_bound_entry_errors_name_the_field(tmp_path):
    bad = tmp_path / "identities.json"
    entry = {"heading": "KING.", "scenes": "5.2", "name": "Prince Henry", "why": "crowned"}
    bad.write_text(json.dumps({"henry_iv_part_2": [entry]}))
    with pytest.raises(DramatisError, match=r"henry_iv_part_2\[0\]: field 'scenes'"):
        identities.load_identities.__wrapped__(bad)


def test_one_person_across_the_history_plays():
    from dramatis.personas.cast import find_persona

    for group in identities.load_series():
        for ref in group:
            play, _, name = ref.partition(":")
            assert any(s.speaker == name for s in load_play(play).speeches()), ref
    assert identities.same_person("richard_iii", "Richard III")[-1] == (
        "henry_vi_part_3:Richard, Duke of Gloster"
    )
    assert "henry_v:King Henry V" in identities.same_person("henry_iv_part_1", "Prince Henry")
    hal = find_persona("Hal")  # an alias, no play named: where he speaks most
    assert (hal.name, hal.play) == ("Prince Henry", "henry_iv_part_1")


def test_two_edwards_of_3_henry_vi_are_two_people():
    counts = Counter(s.speaker for s in load_play("henry_vi_part_3").speeches())
    assert counts["King Edward IV"] > 120 and 10 < counts["Prince Edward"] < 25
    assert "Edward" not in counts
