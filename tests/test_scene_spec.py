"""The right character every time: a scene stores each cast member's play, an absolute
model path and a validated spec, and is saved only once its model has loaded."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from dramatis.agents.catalog import resolve_model
from dramatis.agents.fake_backend import FakeModel
from dramatis.agents.scene_store import SceneSpec, SceneStore
from dramatis.core.errors import DramatisError
from dramatis.core.settings import Settings
from dramatis.personas import build_persona, find_persona, load_play
from dramatis.staging import build_scene, cast_personas, scene_spec

MERCHANT = "merchant_of_venice:Antonio,merchant_of_venice:Shylock"


def put_row(store: SceneStore, thread_id: str, spec: dict) -> None:
    """Write a spec as an older version or a hand edit would have left it."""
    row = (thread_id, json.dumps(spec), "2026-01-01")
    store.conn.execute("INSERT INTO dramatis_scenes VALUES (?, ?, ?)", row)
    store.conn.commit()


def test_play_qualified_names_keep_their_play():
    antonio, shylock = cast_personas(MERCHANT.split(","))
    assert (antonio.name, antonio.play) == ("Antonio", "merchant_of_venice")
    assert shylock.play == "merchant_of_venice"
    assert build_persona(load_play("tempest"), "Antonio").name == "Antonio"  # a namesake
    assert find_persona("Macbeth:lady-macbeth").name == "Lady Macbeth"  # the shipped cast


def test_two_characters_with_one_name_are_refused():
    with pytest.raises(DramatisError, match="two characters called Antonio .tempest and merch"):
        cast_personas(["tempest:Antonio", "merchant_of_venice:Antonio"])


def test_resume_rebuilds_the_stored_plays(tmp_path):
    settings = Settings(home=tmp_path / "home").ensure()
    store = SceneStore(settings.scenes_db)
    store.save(
        SceneSpec(
            thread_id="t", cast=["Antonio", "Shylock"], setting="The Rialto.",
            plays={"Antonio": "merchant_of_venice", "Shylock": "merchant_of_venice"},
            policy="round-robin", agent={"max_tokens": 8},
        )
    )  # fmt: skip
    model = FakeModel(["Good morrow.", "Three thousand ducats."])
    staged = build_scene(store.load("t"), store, settings, model=model)
    assert staged.scene.agents["Antonio"].persona.play == "merchant_of_venice"
    list(staged.scene.run("t", 1))
    assert "a merchant of Venice" in model.prompts[0] and "Milan" not in model.prompts[0]


def test_an_old_spec_with_bare_names_still_loads(tmp_path):
    store = SceneStore(tmp_path / "s.sqlite")
    old = {"thread_id": "old", "cast": ["Hamlet", "Ophelia"], "setting": "A hall.",
           "model": "smollm2", "seed": 3, "policy": "addressed", "agent": {"max_tokens": 40},
           "created": "2026-01-01"}  # fmt: skip
    put_row(store, "old", old)
    spec = store.load("old")
    assert spec.roles() == ["Hamlet", "Ophelia"] and spec.agent.max_tokens == 40
    assert [p.play for p in cast_personas(spec.roles())] == ["hamlet", "hamlet"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"agent": {"max_token": 40}}, "agent.max_token: unknown field"),
        ({"agent": {"temperature": "hot"}}, "agent.temperature: Input should be a valid number"),
        ({"plays": {"Horatio": "hamlet"}}, "plays: .*Horatio not in the cast"),
        ({"colour": "red"}, "colour: unknown field"),
    ],
)
def test_a_bad_stored_spec_is_a_one_line_error(tmp_path, change, message):
    store = SceneStore(tmp_path / "s.sqlite")
    put_row(store, "bad", {"thread_id": "bad", "cast": ["Hamlet"], "setting": "x", **change})
    with pytest.raises(DramatisError, match=f"scene 'bad' in .*: {message}") as err:
        store.load("bad")
    assert "\n" not in str(err.value)


def test_stored_model_paths_are_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    hamlet = cast_personas(["Hamlet"])
    assert scene_spec(hamlet, setting="A hall.", model="smollm2").model == "smollm2"
    spec = scene_spec(hamlet, setting="A hall.", model="models/m.gguf")
    assert spec.model == str(tmp_path / "models" / "m.gguf")


def dramatis(*args: str, home: Path, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "DRAMATIS_HOME": str(home), "DRAMATIS_THREADS": "1"}
    cmd = [sys.executable, "-m", "dramatis", *args]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=cwd, timeout=600)


@pytest.mark.model
@pytest.mark.slow
def test_stage_and_resume_elsewhere_keep_the_merchants_antonio(tmp_path):
    """Real model, two processes: a relative --model path, names found in several plays."""
    home, here, elsewhere = tmp_path / "home", tmp_path / "a", tmp_path / "b"
    (here / "models").mkdir(parents=True)
    elsewhere.mkdir()
    (here / "models" / "m.gguf").symlink_to(resolve_model("smollm2", tmp_path))
    args = ["--turns", "2", "--max-tokens", "12", "--policy", "round-robin"]
    run = dramatis("stage", "--cast", MERCHANT, "--model", "models/m.gguf", *args,
                   "--out", str(tmp_path / "out"), home=home, cwd=here)  # fmt: skip
    assert run.returncode == 0, run.stderr
    spec = json.loads((tmp_path / "out" / "scene.json").read_text())
    assert spec["plays"] == {"Antonio": "merchant_of_venice", "Shylock": "merchant_of_venice"}
    assert spec["model"] == str(here / "models" / "m.gguf")
    tid = re.search(r"dramatis resume (\S+)", run.stdout).group(1)
    more = dramatis("resume", tid, "--turns", "1", "--out", str(tmp_path / "out"),
                    home=home, cwd=elsewhere)  # fmt: skip
    assert more.returncode == 0, more.stderr
    turns = (tmp_path / "out" / "transcript.jsonl").read_text().splitlines()
    assert [json.loads(t)["speaker"] for t in turns] == ["Antonio", "Shylock", "Antonio"]


def test_adapters_mount_for_the_stored_play_only(tmp_path):
    from dramatis.agents.hf_base import file_sha256
    from dramatis.training.registry import AdapterMeta, AdapterRegistry

    settings = Settings(home=tmp_path / "home").ensure()
    sha = file_sha256(resolve_model("smollm2", settings.cache_dir), settings.cache_dir)
    meta = AdapterMeta(character="Antonio", play="tempest", base_model="m.gguf",
                       base_sha256=sha, data_sha256="d")  # fmt: skip
    (tmp_path / "a").mkdir()  # never read: FakeModel refuses any adapter before that
    AdapterRegistry(settings.home / "adapters").add(tmp_path / "a", meta)
    spec = SceneSpec(thread_id="t", cast=["Antonio"], setting="Venice.", adapters=True,
                     plays={"Antonio": "merchant_of_venice"})  # fmt: skip
    # FakeModel cannot load adapters: mounting the Tempest's would raise here
    staged = build_scene(spec, SceneStore(settings.scenes_db), settings, model=FakeModel())
    assert staged.scene.agents["Antonio"].adapter is None
    assert staged.notes == [
        "Antonio: no adapter, speaking with the base model "
        "(train one: dramatis train 'merchant_of_venice:Antonio')"
    ]
    tempest = spec.model_copy(update={"plays": {"Antonio": "tempest"}})
    with pytest.raises(NotImplementedError, match="does not support LoRA"):
        build_scene(tempest, SceneStore(settings.scenes_db), settings, model=FakeModel())


def test_arena_scores_a_run_with_its_stored_plays(tmp_path):
    from dramatis.arena.context import Contexts
    from dramatis.arena.runs import load_run

    spec = SceneSpec(thread_id="t", cast=["Antonio"], setting="Venice.",
                     plays={"Antonio": "merchant_of_venice"})  # fmt: skip
    (tmp_path / "scene.json").write_text(spec.model_dump_json())
    turn = {"index": 0, "speaker": "Antonio", "text": "In sooth, I know not.", "source": "model"}
    (tmp_path / "transcript.jsonl").write_text(json.dumps(turn) + "\n")
    run = load_run(tmp_path)
    assert run.roles == ["merchant_of_venice:Antonio"]
    assert Contexts().get(run.roles).personas["Antonio"].play == "merchant_of_venice"


def test_every_entry_point_stores_the_plays_its_cast_resolved_to(tmp_path):
    """stage, chat, invite, the prompt command and the arena all make their spec with
    `scene_spec`: The Tempest's Antonio stays The Tempest's wherever the spec goes."""
    from dramatis.arena.stage import job_spec
    from dramatis.arena.suite import Configuration, Job, SceneRef
    from dramatis.tui.session import ChatOptions, ChatSession, new_spec

    chat, _ = new_spec(ChatOptions(cast="tempest:Antonio,Miranda", model="fake"))
    assert chat.roles() == ["tempest:Antonio", "tempest:Miranda"]
    settings = Settings(home=tmp_path / "home").ensure()
    session = ChatSession.start(chat, [], SceneStore(settings.scenes_db), settings, FakeModel())
    session.invite("merchant_of_venice:Shylock")
    saved = SceneStore(settings.scenes_db).load(chat.thread_id)
    assert saved.roles()[-1] == "merchant_of_venice:Shylock"  # the invited keep their play
    roles = ["tempest:Antonio", "tempest:Sebastian"]
    job = Job(config=Configuration(name="c", model="fake"), scene=SceneRef(cast=roles),
              seed=1, turns=2)  # fmt: skip
    spec, _ = job_spec(job, cast_personas(roles))
    assert spec.roles() == ["tempest:Antonio", "tempest:Sebastian"] and spec.model == "fake"


def test_baselines_and_the_critic_read_the_stored_roles(tmp_path):
    """The arena's baselines take the scene's Antonio from the play it stored, not the
    shipped cast's first Antonio; the critic learns from that play's lines."""
    from dramatis.agents.critic import StyleCritic
    from dramatis.arena.baselines import make_baselines
    from dramatis.arena.context import Contexts
    from dramatis.arena.runs import Run

    spec = {"plays": {"Antonio": "tempest", "Sebastian": "tempest"}, "seed": 1}
    turns = [
        {"index": i, "speaker": n, "text": "Good my lord.", "source": "model", "present": []}
        for i, n in enumerate(["Antonio", "Sebastian"] * 2)
    ]
    run = Run("r", ["Antonio", "Sebastian"], turns, "An island.", None, "c", spec)
    ctx = Contexts().get(run.roles)
    assert ctx.personas["Antonio"].play == "tempest"
    bases = make_baselines(run, ctx)
    tempest = {s.text for s in load_play("tempest").speeches() if s.speaker == "Antonio"}
    said = [t["text"] for t in bases["retrieval"].scored if t["speaker"] == "Antonio"]
    assert said and all(text in tempest for text in said)
    critic = StyleCritic.for_personas(cast_personas(run.roles))
    merchant = StyleCritic.for_personas(cast_personas(["merchant_of_venice:Antonio"]))
    assert critic.counts["Antonio"] and critic.counts["Antonio"] != merchant.counts["Antonio"]
