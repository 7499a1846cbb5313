"""Card import at the limits: every file-system failure is one line, an image over the
pixel limit is refused at import, and a persona embedded in a dramatis card must name a
play we have and a character who speaks in it."""

from __future__ import annotations

import io
import json
import struct
import subprocess
import zlib
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner

from dramatis.cli import app
from dramatis.personas.card_files import card_png
from dramatis.personas.card_store import card_key

runner = CliRunner()


def import_card(path: Path, home: Path):
    return runner.invoke(app, ["personas", "import", str(path), "--home", str(home)])


def one_line_error(result, *words: str) -> str:
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.output and "unexpected" not in result.output
    for word in words:
        assert word in lines[0], (word, lines[0])
    return lines[0]


def plain_card(name: str = "Yorick") -> dict:
    data = {"name": name, "description": "A jester.", "first_mes": "Alas!"}
    return {"spec": "chara_card_v2", "spec_version": "2.0", "data": data}


@pytest.fixture
def card_file(tmp_path) -> Path:
    path = tmp_path / "yorick.json"
    path.write_text(json.dumps(plain_card()), encoding="utf-8")
    return path


def test_home_that_is_a_file(tmp_path, card_file):
    home = tmp_path / "home"
    home.write_text("not a folder")
    one_line_error(import_card(card_file, home), str(home))


def test_a_300_character_name_imports_under_a_short_file_name(tmp_path):
    long = tmp_path / "long.json"
    long.write_text(json.dumps(plain_card("Y" * 300)), encoding="utf-8")
    result = import_card(long, tmp_path / "home")
    assert result.exit_code == 0, result.output
    (saved,) = (tmp_path / "home" / "cards").glob("*.json")
    assert saved.stem == card_key("Y" * 300) and len(saved.name) < 100
    assert card_key("Y" * 300) != card_key("Y" * 299 + "Z")  # cut names stay apart


def test_read_only_cards_folder(tmp_path, card_file):
    """A real read-only file system (a bind mount: root writes through chmod)."""
    home = tmp_path / "home"
    (home / "cards").mkdir(parents=True)
    target = tmp_path / "ro"
    target.mkdir()
    if subprocess.run(["mount", "--bind", str(home), str(target)], capture_output=True).returncode:
        pytest.skip("cannot bind-mount here")
    try:
        if subprocess.run(["mount", "-o", "remount,bind,ro", str(target)]).returncode:
            pytest.skip("cannot remount read-only here")
        result = import_card(card_file, target)
    finally:
        subprocess.run(["umount", str(target)], check=True)
    one_line_error(result, str(target / "cards" / "yorick.json"), "Read-only file system")
    assert list((home / "cards").iterdir()) == []


def with_size(png: bytes, width: int, height: int) -> bytes:
    """`png` with its IHDR saying width x height (CRC fixed): what a huge image declares."""
    start = 8
    body = struct.pack(">II", width, height) + png[start + 16 : start + 8 + 13]
    chunk = struct.pack(">I", 13) + b"IHDR" + body
    crc = struct.pack(">I", zlib.crc32(b"IHDR" + body))
    return png[:start] + chunk + crc + png[start + 8 + 13 + 4 :]


def small_card_png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 60), (90, 40, 40)).save(out, format="PNG")
    return card_png(plain_card(), out.getvalue())


def test_an_image_over_the_pixel_limit_is_refused_at_import(tmp_path):
    big = tmp_path / "big.png"
    big.write_bytes(with_size(small_card_png(), 30000, 30000))  # 900 megapixels
    one_line_error(import_card(big, tmp_path / "home"), "30000 x 30000", "megapixel limit")
    assert not (tmp_path / "home" / "cards").exists() or not any(
        (tmp_path / "home" / "cards").iterdir()
    )
    fits = tmp_path / "fits.png"
    fits.write_bytes(small_card_png())
    assert import_card(fits, tmp_path / "home").exit_code == 0


def exported_hamlet(tmp_path: Path) -> dict:
    out = tmp_path / "hamlet.json"
    result = runner.invoke(
        app, ["personas", "export", "Hamlet", "--format", "json", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    return json.loads(out.read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("play", "no_such_play", ["names play 'no_such_play'", "ordinary card"]),
        ("name", "Gandalf", ["'Gandalf', who does not speak in hamlet"]),
    ],
)
def test_an_embedded_persona_must_name_a_known_play_and_character(tmp_path, field, value, words):
    card = exported_hamlet(tmp_path)
    card["data"]["extensions"]["dramatis"][field] = value
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(card), encoding="utf-8")
    one_line_error(import_card(forged, tmp_path / "home"), *words)


def test_an_exported_play_persona_still_imports(tmp_path):
    path = tmp_path / "hamlet.json"
    path.write_text(json.dumps(exported_hamlet(tmp_path)), encoding="utf-8")
    assert import_card(path, tmp_path / "home").exit_code == 0
