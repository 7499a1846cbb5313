"""docs/settings.md is the generated reference, current with the settings classes."""

from __future__ import annotations

from pathlib import Path

from dramatis.settings_doc import field_comments, render

DOC = Path(__file__).resolve().parent.parent / "docs" / "settings.md"


def test_settings_reference_is_current():
    assert DOC.read_text(encoding="utf-8") == render(), (
        "docs/settings.md is stale: run .venv/bin/python -m dramatis.settings_doc > docs/settings.md"
    )


def test_every_setting_has_a_row():
    from dataclasses import fields

    from dramatis.agents.character import AgentSettings
    from dramatis.core.settings import Settings

    text = render()
    names = [f.name for f in fields(AgentSettings)] + list(Settings.model_fields)
    assert [n for n in names if f"| `{n}` |" not in text] == []


def test_comments_above_and_beside_a_field_are_its_notes():
    class Example:
        # first line
        # second line
        a: int = 1  # beside
        b: int = 2

    assert field_comments(Example) == {"a": "first line second line beside", "b": ""}
