"""The bundled Gemma's small vocabulary (agents/small_vocab.py): the list, the copy of the
model file, and what the copy computes against the whole model."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest

from dramatis.agents import small_vocab, small_vocab_build
from dramatis.agents.catalog import parse_model, run_file
from dramatis.core.errors import DramatisError
from dramatis.core.settings import DEFAULT_MODEL, Settings


def test_the_list_reads_back_what_was_written(tmp_path):
    ids = np.array([0, 1, 2, 7, 9, 10, 1000, 4095])
    path = tmp_path / "keep.b64"
    small_vocab.write_keep(ids, 4096, path)
    assert small_vocab.read_keep(path).tolist() == ids.tolist()


def test_a_broken_list_is_one_line_naming_the_file_and_the_fix(tmp_path):
    path = tmp_path / "keep.b64"
    path.write_text("262144\nnot base64 at all!\n")
    with pytest.raises(DramatisError, match=r"keep.b64.*make small-vocab"):
        small_vocab.read_keep(path)
    with pytest.raises(DramatisError, match="make small-vocab"):
        small_vocab.read_keep(tmp_path / "missing.b64")


def test_the_shipped_list_keeps_english_and_drops_most_of_the_rest():
    keep = small_vocab.read_keep()
    assert 60_000 < len(keep) < 120_000  # of 262,144
    assert np.all(np.diff(keep) > 0)


def test_only_the_bundled_gemma_runs_small_and_the_setting_turns_it_off(tmp_path, monkeypatch):
    gguf = tmp_path / "gemma-3-270m-q4_k_m.gguf"
    made = []
    monkeypatch.setattr(small_vocab, "small_model", lambda full: made.append(full) or full)
    on, off = Settings.load(), Settings.load(small_vocab=False)
    assert run_file(parse_model(DEFAULT_MODEL), gguf, on) == gguf and made == [gguf]
    assert run_file(parse_model(DEFAULT_MODEL), gguf, off) is None
    assert run_file(parse_model("smollm2"), gguf, on) is None
    assert run_file(parse_model(str(gguf)), gguf, on) is None  # a file given by path: as it is


def test_the_environment_switch_reads_as_a_boolean(monkeypatch):
    monkeypatch.delenv("DRAMATIS_SMALL_VOCAB", raising=False)
    assert Settings.load().small_vocab is True  # on by default
    monkeypatch.setenv("DRAMATIS_SMALL_VOCAB", "0")
    assert Settings.load().small_vocab is False
    monkeypatch.setenv("DRAMATIS_SMALL_VOCAB", "maybe")
    with pytest.raises(DramatisError, match="DRAMATIS_SMALL_VOCAB='maybe'"):
        Settings.load()


def tiny_gguf(path: Path, alignment: int = 64) -> None:
    """A GGUF file of six tokens (eos 2, bos 3), a 6-row embedding and one other tensor."""
    from gguf import GGUFWriter, TokenType

    writer = GGUFWriter(path, "gemma3")
    writer.add_uint32("general.alignment", alignment)
    writer.add_token_list([b"<pad>", b"a", b"<eos>", b"<bos>", b"bc", b"d"])
    writer.add_token_scores([0.0, -1.0, 0.0, 0.0, -2.0, -3.0])
    control, normal = TokenType.CONTROL, TokenType.NORMAL
    writer.add_token_types([control, normal, control, control, normal, normal])
    writer.add_eos_token_id(2)
    writer.add_bos_token_id(3)
    writer.add_tensor("token_embd.weight", np.arange(6 * 32, dtype=np.float32).reshape(6, 32))
    writer.add_tensor("blk.0.w", np.full((3, 5), 7.0, dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def test_a_copy_keeps_the_listed_tokens_rows_and_renumbers_the_special_ids(tmp_path):
    from gguf import GGUFReader

    source, target = tmp_path / "tiny.gguf", tmp_path / "small.gguf"
    tiny_gguf(source)
    small_vocab.trim_gguf(source, target, np.array([0, 2, 3, 4]))  # "a" (1) and "d" go
    r = GGUFReader(target)
    assert small_vocab.vocabulary(target)[0] == ["<pad>", "<eos>", "<bos>", "bc"]
    assert r.fields["tokenizer.ggml.eos_token_id"].contents() == 1
    assert r.fields["tokenizer.ggml.bos_token_id"].contents() == 2
    assert r.fields["tokenizer.ggml.scores"].contents() == [0.0, 0.0, 0.0, -2.0]
    tensors = {t.name: t for t in r.tensors}
    rows = np.arange(6 * 32, dtype=np.float32).reshape(6, 32)[[0, 2, 3, 4]]
    assert np.array_equal(tensors["token_embd.weight"].data, rows)
    assert np.array_equal(tensors["blk.0.w"].data, np.full((3, 5), 7.0))
    assert all(t.data_offset % 64 == 0 for t in r.tensors)  # the file's own alignment


def test_a_list_that_does_not_fit_the_model_is_refused(tmp_path):
    source = tmp_path / "tiny.gguf"
    tiny_gguf(source)
    with pytest.raises(DramatisError, match="does not fit"):
        small_vocab.trim_gguf(source, tmp_path / "x.gguf", np.array([5, 3]))
    with pytest.raises(DramatisError, match="does not fit"):
        small_vocab.trim_gguf(source, tmp_path / "x.gguf", np.array([0, 9]))
    with pytest.raises(DramatisError, match="drops tokenizer.ggml.eos_token_id"):
        small_vocab.trim_gguf(source, tmp_path / "x.gguf", np.array([0, 3]))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny.gguf"]  # nothing half-made


def test_a_cut_short_or_empty_source_is_one_line_and_leaves_nothing(tmp_path):
    source = tmp_path / "tiny.gguf"
    tiny_gguf(source)
    whole = source.read_bytes()
    for size in (0, 3, 100, len(whole) - 40):
        cut = tmp_path / f"cut{size}.gguf"
        cut.write_bytes(whole[:size])
        with pytest.raises(DramatisError, match=f"cut{size}.gguf"):
            small_vocab.trim_gguf(cut, tmp_path / "out.gguf", np.array([0, 2, 3]))
    assert not (tmp_path / "out.gguf").exists()
    assert not list(tmp_path.glob("*.part"))


def test_a_new_list_or_a_remade_full_file_makes_a_new_copy(tmp_path):
    source = tmp_path / "tiny.gguf"
    tiny_gguf(source)
    keep = tmp_path / "keep.b64"
    small_vocab.write_keep(np.array([0, 2, 3, 4]), 6, keep)
    first = small_vocab.small_model(source, keep)
    assert small_vocab.is_copy(first) and small_vocab.small_model(source, keep) == first
    small_vocab.write_keep(np.array([0, 2, 3, 5]), 6, keep)
    second = small_vocab.small_model(source, keep)
    assert second != first and not first.exists()  # the stale copy is removed
    writing = tmp_path / f"{second.name}.12345.part"  # another process's copy under way
    writing.write_bytes(b"GGUF")
    tiny_gguf(source)  # the same full file made again (by another process, say): same copy
    os.utime(source, ns=(1, 1))
    assert small_vocab.small_model(source, keep) == second and second.exists()
    tiny_gguf(source, alignment=32)  # another full file
    assert small_vocab.small_model(source, keep) not in (first, second)
    assert writing.exists() and not second.exists()  # its old copy goes, not its work


def test_doctor_and_a_model_folder_look_past_the_copy(tmp_path):
    from dramatis.agents.catalog import resolve_model
    from dramatis.doctor import _cached

    source = tmp_path / "gemma-3-270m-q4_k_m.gguf"
    tiny_gguf(source)
    keep = tmp_path / "keep.b64"
    small_vocab.write_keep(np.array([0, 2, 3, 4]), 6, keep)
    small_vocab.small_model(source, keep)
    assert _cached("gemma3-270m", tmp_path) == source
    assert resolve_model(str(tmp_path)) == source


@pytest.mark.model
def test_the_small_model_reads_and_scores_english_as_the_whole_one_does(tmp_path):
    """Real path: the bundled Gemma cut to the shipped list. A page of the plays and a
    line of modern English tokenise to the same tokens, and the kept tokens' logits are
    bit for bit the whole model's; a word of another script still round-trips (by
    smaller pieces or bytes)."""
    import llama_cpp

    from dramatis.agents.catalog import resolve_model
    from dramatis.personas import load_play

    full = resolve_model(DEFAULT_MODEL)
    small = tmp_path / "small.gguf"
    keep = small_vocab.read_keep()
    small_vocab.trim_gguf(full, small, keep)
    whole = small_vocab.vocabulary(full)[0]
    assert small_vocab.vocabulary(small)[0] == [whole[i] for i in keep]

    play = load_play("othello")
    page = "\n".join(f"{s.speaker.upper()}: {s.text}" for s in play.speeches()[200:230])
    page += "\nI would love to hear about your efforts today, honestly.\nIAGO:"
    logits = {}
    for name, path in (("full", full), ("small", small)):
        llm = llama_cpp.Llama(str(path), n_ctx=2048, n_batch=64, n_threads=2, verbose=False)
        tokens = llm.tokenize(page.encode("utf-8"))
        llm.eval(tokens)
        out = np.ctypeslib.as_array(llm._ctx.get_logits(), shape=(llm.n_vocab(),)).copy()
        text = [llm.detokenize([t]) for t in tokens]
        other = "Гамлет".encode()
        assert llm.detokenize(llm.tokenize(other, add_bos=False)) == other
        logits[name] = (text, out)
        del llm
    assert logits["full"][0] == logits["small"][0]  # the same tokens, read the same
    # every speech of three plays as a page serves it ("GERTRUDE:" once split otherwise)
    full_vocab = llama_cpp.Llama(str(full), vocab_only=True, verbose=False)
    small_only = llama_cpp.Llama(str(small), vocab_only=True, verbose=False)
    for key in ("hamlet", "king_lear", "much_ado"):
        for line in small_vocab_build.page_lines(key).split("\n\n"):
            text = ("\n" + line).encode("utf-8")
            a = full_vocab.tokenize(text, add_bos=False)
            b = small_only.tokenize(text, add_bos=False)
            assert [full_vocab.detokenize([t]) for t in a] == [
                small_only.detokenize([t]) for t in b
            ]
    assert np.array_equal(logits["full"][1][keep], logits["small"][1])
    assert len(logits["small"][1]) == len(keep) < len(logits["full"][1]) // 2
    from dramatis.agents.llama_backend import LlamaCppModel

    served = LlamaCppModel(full, n_threads=1, run_path=small)  # the backend runs the copy
    assert served.path == full and served.llama.n_vocab() == len(keep)


def test_the_small_file_sits_beside_the_whole_one_named_for_its_list(tmp_path):
    path = tmp_path / "gemma-3-270m-q4_k_m.gguf"
    path.write_bytes(b"GGUF")
    one = small_vocab.small_path(path)
    assert one.parent == path.parent and one.name.startswith("gemma-3-270m-q4_k_m.en-")
    assert small_vocab.is_copy(one) and not small_vocab.is_copy(path)
    other = tmp_path / "keep.b64"
    small_vocab.write_keep(np.array([0, 1, 2]), 262144, other)
    assert small_vocab.small_path(path, other) != one  # a new list, a new copy


def test_the_copy_needs_no_gguf_package_and_knows_its_type_sizes(tmp_path, monkeypatch):
    """The core install has no `gguf`: the copy is made without it, with a table of the
    ggml types' sizes that matches gguf's own."""
    from gguf.constants import GGML_QUANT_SIZES

    assert {int(k): v for k, v in GGML_QUANT_SIZES.items()} == small_vocab.TYPE_SIZES
    source = tmp_path / "tiny.gguf"
    tiny_gguf(source)
    for name in [m for m in sys.modules if m == "gguf" or m.startswith("gguf.")]:
        monkeypatch.setitem(sys.modules, name, None)  # importing it now fails
    monkeypatch.setitem(sys.modules, "gguf", None)
    small_vocab.trim_gguf(source, tmp_path / "small.gguf", np.array([0, 2, 3]))
    assert small_vocab.vocabulary(tmp_path / "small.gguf")[0] == ["<pad>", "<eos>", "<bos>"]
