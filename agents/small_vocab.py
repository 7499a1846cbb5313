"""The bundled Gemma with a smaller vocabulary: the tokens English text uses, no others.

Gemma 3's vocabulary holds 262,144 tokens, most of them for other scripts and for code.
On two CPU cores the output layer (one 640-wide row per token) is more than half the
work of each generated token. `trim_gguf` writes a copy of a GGUF file that keeps only
the listed tokens: their rows of the embedding (which Gemma also uses as its output
layer), their entries in the tokeniser, and the special ids renumbered. Every other
tensor is copied byte for byte, so the LoRA adapters trained on the full model apply
unchanged (they touch the blocks' linear layers only).

Which tokens stay (agents/small_vocab_build.py): every token the tokeniser uses on the 37 plays and
poems, on Python's own help topics (modern prose, which every Python ships) and on the
50,000 most frequent English words (wordfreq); every token of ASCII marks and digits;
every token the tokeniser passes through on the way to those (each substring of
a kept token that is itself a token, so it merges text exactly as before), and the
special and byte tokens, so any text can still be written. Text made of kept tokens is
tokenised exactly as the full model does; other text (another script, a rare modern
word) falls back to shorter pieces or bytes.

97,608 of the 262,144 tokens stay, and a token is made about 1.5x as fast. The logits
of the kept tokens are bit for bit the full model's; a draw differs only where a dropped
token would have been among the top-k candidates (at top-k 5000, about one first token
in 60). The list ships as `data/gemma3_tokens.b64` (`make small-vocab` rebuilds it); the
file is made next to the full one in the model cache the first time it is asked for
(about a second). DRAMATIS_SMALL_VOCAB=0 runs the full file.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import struct
from pathlib import Path
from typing import Any, cast

import numpy as np

from dramatis.core.errors import DramatisError

KEEP = Path(__file__).with_name("data") / "gemma3_tokens.b64"
SUFFIX = ".en"  # gemma-3-270m-q4_k_m.gguf -> gemma-3-270m-q4_k_m.en-1a2b3c4d5e.gguf

_TOKENS = "tokenizer.ggml.tokens"
_TYPES = "tokenizer.ggml.token_type"
_ARRAYS = (_TOKENS, "tokenizer.ggml.scores", _TYPES)
_IDS = (
    "tokenizer.ggml.bos_token_id",
    "tokenizer.ggml.eos_token_id",
    "tokenizer.ggml.unknown_token_id",
    "tokenizer.ggml.padding_token_id",
)
NORMAL = 1  # token_type of an ordinary token (the others: control, byte, user-defined)


# ggml tensor type -> (values a block, bytes a block), as GGUF files store them: the
# core install has no `gguf` package, so the copy needs its own (a test checks it
# against gguf's table).
TYPE_SIZES = {
    0: (1, 4), 1: (1, 2), 2: (32, 18), 3: (32, 20), 6: (32, 22), 7: (32, 24), 8: (32, 34),
    9: (32, 40), 10: (256, 84), 11: (256, 110), 12: (256, 144), 13: (256, 176),
    14: (256, 210), 15: (256, 292), 16: (256, 66), 17: (256, 74), 18: (256, 98),
    19: (256, 50), 20: (32, 18), 21: (256, 110), 22: (256, 82), 23: (256, 136), 24: (1, 1),
    25: (1, 2), 26: (1, 4), 27: (1, 8), 28: (1, 8), 29: (256, 56), 30: (1, 2), 34: (256, 54),
    35: (256, 66), 39: (32, 17), 40: (64, 36), 41: (128, 18),
}  # fmt: skip


def read_keep(path: Path = KEEP) -> np.ndarray:
    """The kept token ids, ascending: the file holds the vocabulary's size on its first
    line, then a bit per token (1: kept), packed and in base64."""
    try:
        size, *lines = path.read_text(encoding="ascii").split()
        bits = np.unpackbits(np.frombuffer(base64.b64decode("".join(lines)), dtype=np.uint8))
        return np.flatnonzero(bits[: int(size)]).astype(np.int64)
    except (OSError, ValueError) as err:
        raise DramatisError(
            f"cannot read the token list {path}: {err} (rebuild it: make small-vocab)"
        ) from None


def write_keep(ids: np.ndarray, size: int, path: Path = KEEP) -> None:
    """Write token ids of a vocabulary of `size` tokens as `read_keep` reads them."""
    bits = np.zeros(size, dtype=np.uint8)
    bits[ids] = 1
    text = base64.b64encode(np.packbits(bits).tobytes()).decode("ascii")
    lines = [text[i : i + 76] for i in range(0, len(text), 76)]
    path.write_text("\n".join([str(size), *lines]) + "\n", encoding="ascii")


class _Reader:
    """Just enough of the GGUF format (version 2 and 3, little-endian) to copy a file
    with fewer tokens: the header, each key's value as raw bytes, the tensor infos."""

    _SIZES = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}
    _STRING, _ARRAY = 8, 9

    def __init__(self, data: memoryview) -> None:
        self.data, self.at = data, 0

    def take(self, fmt: str) -> Any:
        (value,) = struct.unpack_from("<" + fmt, self.data, self.at)
        self.at += struct.calcsize(fmt)
        return value

    def string(self) -> bytes:
        n = self.take("Q")
        self.at += n
        return bytes(self.data[self.at - n : self.at])

    def skip(self, vtype: int) -> None:
        """Step over one value of `vtype`."""
        if vtype == self._STRING:
            n = self.take("Q")  # read first: `at += take()` would add to the old `at`
            self.at += n
        elif vtype == self._ARRAY:
            inner, n = self.take("I"), self.take("Q")
            if inner in self._SIZES:
                self.at += self._SIZES[inner] * n
            else:
                for _ in range(n):
                    self.skip(inner)
        else:
            self.at += self._SIZES[vtype]

    def items(self) -> tuple[int, list[bytes]]:
        """(element type, the raw bytes of each element) of an array value."""
        inner, n = self.take("I"), self.take("Q")
        out = []
        for _ in range(n):
            start = self.at
            self.skip(inner)
            out.append(bytes(self.data[start : self.at]))
        return inner, out


def _open(source: Path) -> tuple[np.memmap, _Reader, int, int]:
    """(the file's bytes, a reader at its first key, its tensor count, its key count) of
    GGUF file `source`."""
    raw = np.memmap(source, dtype=np.uint8, mode="r")
    r = _Reader(memoryview(cast(Any, raw)))
    if bytes(r.data[:4]) != b"GGUF":
        raise DramatisError(f"{source} is not a GGUF file")
    r.at = 4
    version, n_tensors, n_kv = r.take("I"), r.take("Q"), r.take("Q")
    if version not in (2, 3):
        raise DramatisError(f"{source}: GGUF version {version} (2 or 3 are read)")
    return raw, r, n_tensors, n_kv


def vocabulary(source: Path) -> tuple[list[str], list[int]]:
    """(token texts, token types) of a GGUF file."""
    _, r, _, n_kv = _open(source)
    found: dict[str, list[bytes]] = {}
    for _ in range(n_kv):
        name, vtype = r.string().decode("utf-8"), r.take("I")
        if name in (_TOKENS, _TYPES):
            found[name] = r.items()[1]
        else:
            r.skip(vtype)
    texts = [item[8:].decode("utf-8") for item in found[_TOKENS]]
    return texts, [struct.unpack("<i", item)[0] for item in found[_TYPES]]


def _string(text: bytes) -> bytes:
    return struct.pack("<Q", len(text)) + text


def trim_gguf(source: Path, target: Path, keep: np.ndarray) -> None:
    """Write `target`: GGUF `source` with only the tokens `keep` (ascending ids): their
    tokeniser entries and embedding rows, the special ids renumbered, every other key and
    tensor copied byte for byte. Written under a name of this process's own, then
    renamed, so that a second process never opens a half-written file."""
    try:
        _trim(source, target, keep)
    except (struct.error, ValueError, KeyError, IndexError, UnicodeDecodeError) as err:
        raise DramatisError(
            f"{source}: not a readable GGUF file ({err}); delete it, and it is made again"
        ) from None


def _trim(source: Path, target: Path, keep: np.ndarray) -> None:
    raw, r, n_tensors, n_kv = _open(source)
    head = [bytes(r.data[4 : r.at])]  # version and counts, as they are
    alignment, n_vocab = 32, 0
    renumber: dict[int, int] = {}
    for _ in range(n_kv):
        key = r.string()
        vtype = r.take("I")
        start = r.at
        name = key.decode("utf-8")
        if name in _ARRAYS:
            inner, items = r.items()
            if not renumber:  # the first of the three arrays: the list is checked once
                n_vocab = len(items)
                if (
                    not len(keep)
                    or keep[0] < 0
                    or keep[-1] >= n_vocab
                    or np.any(np.diff(keep) <= 0)
                ):
                    raise DramatisError(f"the token list does not fit {source} ({n_vocab} tokens)")
                renumber = {int(old): new for new, old in enumerate(keep)}
            value = struct.pack("<IQ", inner, len(keep)) + b"".join(items[i] for i in keep)
        else:
            r.skip(vtype)
            value = bytes(r.data[start : r.at])
            if name == "general.alignment":
                alignment = struct.unpack("<I", value)[0]
                if alignment <= 0:
                    raise DramatisError(f"{source}: general.alignment is {alignment}")
        if name in _IDS:
            (old,) = struct.unpack("<I", value)
            if old not in renumber:
                raise DramatisError(f"the token list drops {name} ({old}) of {source}")
            value = struct.pack("<I", renumber[old])
        head.append(_string(key) + struct.pack("<I", vtype) + value)
    tensors = []  # (name, dims, type, offset in the data section)
    for _ in range(n_tensors):
        tensor = r.string()
        dims = [r.take("Q") for _ in range(r.take("I"))]
        tensors.append((tensor, dims, r.take("I"), r.take("Q")))
    base = -(-r.at // alignment) * alignment
    offset, infos, pieces = 0, [], []
    for tensor, dims, ttype, at in tensors:
        if ttype not in TYPE_SIZES:
            raise DramatisError(f"{source}: tensor type {ttype} is not one this copy reads")
        block, size = TYPE_SIZES[ttype]
        row = dims[0] // block * size
        rows = int(np.prod(dims[1:])) if len(dims) > 1 else 1
        if base + at + row * rows > len(raw):
            raise DramatisError(
                f"{source} is cut short (tensor {tensor.decode()} runs past its end): "
                "delete it, and it is made again"
            )
        data = raw[base + at : base + at + row * rows]
        if tensor == b"token_embd.weight":
            if dims[1] != n_vocab:
                raise DramatisError(f"{source}: token_embd has {dims[1]} rows, not {n_vocab}")
            data = data.reshape(n_vocab, row)[keep].reshape(-1)
            dims = [dims[0], len(keep), *dims[2:]]
        infos.append(
            _string(tensor)
            + struct.pack(f"<I{len(dims)}Q", len(dims), *dims)
            + struct.pack("<IQ", ttype, offset)
        )
        pieces.append(data)
        offset += -(-len(data) // alignment) * alignment
    part = target.with_name(f"{target.name}.{os.getpid()}.part")
    try:
        with open(part, "wb") as out:
            out.write(b"GGUF" + b"".join(head) + b"".join(infos))
            out.write(b"\0" * (-out.tell() % alignment))
            for data in pieces:
                out.write(np.ascontiguousarray(data).tobytes())
                out.write(b"\0" * (-len(data) % alignment))
        os.replace(part, target)
    finally:
        part.unlink(missing_ok=True)


SAMPLES = 16  # `fingerprint`: evenly spaced 64 KiB reads, besides the file's ends
SAMPLE = 1 << 16


def fingerprint(path: Path) -> bytes:
    """A digest of what `path` holds, read in part (about 3 MiB whatever its size): its
    size, its first and last MiB (a GGUF's header, tokeniser and last tensors) and
    `SAMPLES` reads spaced across it. The same bytes written again, by another process
    or at another time, give the same digest; another model's file does not."""
    size = path.stat().st_size
    digest = hashlib.sha256(str(size).encode())
    spots = [0, max(0, size - (1 << 20))] + [size * k // SAMPLES for k in range(1, SAMPLES)]
    with path.open("rb") as f:
        for k, at in enumerate(spots):
            f.seek(at)
            digest.update(f.read(1 << 20 if k < 2 else SAMPLE))
    return digest.digest()


def small_path(full: Path, keep_file: Path = KEEP) -> Path:
    """Where the small-vocabulary copy of `full` lives: beside it in the model cache, named
    for the token list it was cut to and for what the full file holds (`fingerprint`), so
    that a new list or another full file makes a new copy, while two processes that each
    made the same full file name the same copy (its time would differ: a name tied to it
    let one process remove the other's copy before that one loaded it)."""
    digest = hashlib.sha256(keep_file.read_bytes())
    digest.update(fingerprint(full))
    return full.with_name(f"{full.stem}{SUFFIX}-{digest.hexdigest()[:10]}{full.suffix}")


def is_copy(path: Path) -> bool:
    """Whether `path` is a small-vocabulary copy `small_path` names."""
    return re.search(rf"{re.escape(SUFFIX)}-[0-9a-f]{{10}}\.gguf$", path.name) is not None


def small_model(full: Path, keep_file: Path = KEEP) -> Path:
    """The small-vocabulary copy of GGUF `full`, made on first use (about a second); the
    finished copies of other lists or of an earlier full file beside it are removed then
    (never a `.part` file: another process may be writing it)."""
    target = small_path(full, keep_file)
    if not target.is_file():
        trim_gguf(full, target, read_keep(keep_file))
        for old in full.parent.glob(f"{full.stem}{SUFFIX}-*"):
            if old != target and is_copy(old):
                old.unlink(missing_ok=True)
    return target
