"""`dramatis personas import/export` end to end, in a private DRAMATIS_HOME: JSON and PNG
cards in, cards out in either spec, the same card again after a re-import, and one-line
errors (exit 2, no traceback) for broken cards."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner, Result

from dramatis.cli import app

FIXTURES = Path(__file__).parent / "fixtures" / "cards"
YORICK_JSON = FIXTURES / "yorick_v2.json"
YORICK_PNG = FIXTURES / "yorick_v2.png"  # written by Pillow, a `chara` chunk only
BRIGID_JSON = FIXTURES / "brigid_v3.json"
runner = CliRunner()


def dramatis(*args: str) -> Result:
    return runner.invoke(app, list(args))


def ok(*args: str) -> Result:
    result = dramatis(*args)
    assert result.exit_code == 0, result.output
    return result


def fixture(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def stored(home: Path, key: str) -> dict:
    return json.loads((home / "cards" / f"{key}.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("card, v3", [(YORICK_JSON, False), (BRIGID_JSON, True)])
def test_json_card_in_and_out_in_its_own_spec(home, tmp_path, card, v3):
    imported = ok("personas", "import", str(card))
    name = fixture(card)["data"]["name"]
    assert imported.stdout.startswith(f"imported {name} into {home / 'cards'}")
    out = tmp_path / "out.json"
    ok("personas", "export", name, "--format", "json", *(["--v3"] if v3 else []), "--out", str(out))
    assert json.loads(out.read_text(encoding="utf-8")) == fixture(card)


def test_v2_card_exported_as_v3_and_back(home, tmp_path):
    ok("personas", "import", str(YORICK_JSON))
    v3 = tmp_path / "yorick_v3.json"
    ok("personas", "export", "Yorick", "--format", "json", "--v3", "--out", str(v3))
    card, original = fixture(v3), fixture(YORICK_JSON)
    assert (card["spec"], card["spec_version"]) == ("chara_card_v3", "3.0")
    assert card["data"] == {**original["data"], "group_only_greetings": []}
    ok("personas", "import", str(v3), "--force")
    v2 = tmp_path / "yorick_again.json"
    ok("personas", "export", "Yorick", "--format", "json", "--out", str(v2))
    assert fixture(v2) == original


def test_png_card_in_and_out_keeps_card_and_picture(home, tmp_path, monkeypatch):
    ok("personas", "import", str(YORICK_PNG))
    assert stored(home, "yorick") == fixture(YORICK_JSON)
    out = tmp_path / "yorick.png"
    ok("personas", "export", "Yorick", "--format", "png", "--out", str(out))
    with Image.open(out) as exported, Image.open(YORICK_PNG) as original:
        assert exported.size == original.size
        assert exported.convert("RGB").tobytes() == original.convert("RGB").tobytes()
        assert {"chara", "ccv3"} <= set(exported.text)  # type: ignore[attr-defined]
    again = tmp_path / "again"  # a second home: the export imports as the same card
    monkeypatch.setenv("DRAMATIS_HOME", str(again))
    ok("personas", "import", str(out))
    card = stored(again, "yorick")  # read from the ccv3 chunk: the V3 form of the same card
    assert card["spec"] == "chara_card_v3"
    assert card["data"] == {**fixture(YORICK_JSON)["data"], "group_only_greetings": []}
    back = tmp_path / "back.json"
    ok("personas", "export", "Yorick", "--format", "json", "--out", str(back))
    assert fixture(back) == fixture(YORICK_JSON)  # and as V2 exactly the card that came in
    assert (again / "cards" / "yorick.png").read_bytes() == out.read_bytes()


def test_play_persona_exported_and_imported_is_the_same_persona(home, tmp_path):
    out = tmp_path / "hamlet.png"
    ok("personas", "export", "Hamlet", "--format", "png", "--v3", "--out", str(out))
    with Image.open(out) as portrait:
        assert portrait.size == (400, 600)
    assert ok("personas", "import", str(out)).stdout.rstrip().endswith("'Hamlet,card:Hamlet'")
    shown = json.loads(ok("personas", "show", "card:Hamlet", "--json").stdout)
    assert shown == json.loads(ok("personas", "show", "Hamlet", "--json").stdout)


def one_line_error(result: Result) -> str:
    """The error of a failed command, checked to be one line on stderr and nothing else."""
    assert result.exit_code == 2, result.output
    assert result.stdout == "" and result.stderr.count("\n") == 1
    assert result.stderr.startswith("error: ") and "Traceback" not in result.stderr
    return result.stderr


def png_bytes() -> bytes:
    return YORICK_PNG.read_bytes()


BROKEN = {
    "bad.json": (b'{"spec": "chara_card_v2", "data": {', "not JSON"),
    "nameless.json": (b'{"spec": "chara_card_v3", "data": {"tags": []}}', "field data.name"),
    "spec.json": (b'{"spec": "tavern", "data": {"name": "A"}}', "spec 'tavern'"),
    "cut.png": (png_bytes()[:300], "truncated PNG"),
    "plain.png": (png_bytes()[:33] + png_bytes()[-12:], "has no character card"),
}


@pytest.mark.parametrize("name", list(BROKEN))
def test_broken_cards_are_one_line_errors(home, tmp_path, name):
    blob, message = BROKEN[name]
    path = tmp_path / name
    path.write_bytes(blob)
    error = one_line_error(dramatis("personas", "import", str(path)))
    assert str(path) in error and message in error
    assert not (home / "cards").exists()  # nothing imported


def test_export_errors_are_one_line(home, tmp_path):
    assert "use png or json" in one_line_error(
        dramatis("personas", "export", "Hamlet", "--format", "gif")
    )
    taken = tmp_path / "taken.json"
    taken.write_text("{}")
    error = one_line_error(
        dramatis("personas", "export", "Hamlet", "--format", "json", "--out", str(taken))
    )
    assert "exists: pass --force" in error and taken.read_text() == "{}"
    ok("personas", "import", str(YORICK_JSON))
    again = one_line_error(dramatis("personas", "import", str(YORICK_JSON)))
    assert "already imported" in again and "--force" in again


def test_broken_card_in_a_new_process(tmp_path):
    """The real entry point: exit code 2 and one line on stderr, no traceback."""
    bad = tmp_path / "card.png"
    bad.write_bytes(png_bytes()[:100])
    env = {**os.environ, "DRAMATIS_HOME": str(tmp_path / "home")}
    run = subprocess.run(
        [sys.executable, "-m", "dramatis", "personas", "import", str(bad)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert run.returncode == 2 and run.stdout == ""
    assert run.stderr.startswith(f"error: {bad}") and run.stderr.count("\n") == 1


def test_png_fixture_is_pillow_readable():
    """The PNG fixture holds the JSON fixture's card (so the tests above compare like with like)."""
    import base64

    with Image.open(io.BytesIO(png_bytes())) as img:
        card = json.loads(base64.b64decode(img.text["chara"]))  # type: ignore[attr-defined]
    assert card == fixture(YORICK_JSON) and "ccv3" not in img.text  # type: ignore[attr-defined]
