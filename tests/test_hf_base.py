"""The converted base model's cache folder under concurrent conversions."""

from __future__ import annotations

from pathlib import Path

import pytest

from dramatis.agents.hf_base import publish


def writer(text: str):
    def write(folder: Path) -> None:
        (folder / "weights").write_text(text)
        (folder / "done").write_text("")

    return write


def test_a_conversion_lands_complete_and_leaves_no_temporary_folder(tmp_path: Path) -> None:
    target = tmp_path / "base"
    publish(target, writer("first"), done="done")
    assert (target / "weights").read_text() == "first"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["base"]


def test_a_second_process_finishing_later_keeps_the_first_copy(tmp_path: Path) -> None:
    target = tmp_path / "base"
    publish(target, writer("first"), done="done")
    publish(target, writer("second"), done="done")  # it lost the race: no error
    assert (target / "weights").read_text() == "first"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["base"]


def test_an_incomplete_folder_in_the_way_is_an_error_not_a_silent_success(
    tmp_path: Path,
) -> None:
    target = tmp_path / "base"
    target.mkdir()
    (target / "weights").write_text("half")
    with pytest.raises(OSError):
        publish(target, writer("new"), done="done")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["base"]
