"""Every LanguageModel implementation through the same cases: the fake backend, llama.cpp
on the bundled SmolLM2, transformers + peft on a tiny random Llama, and the OpenAI-
compatible backend against llama-cpp-python's own server on loopback.

A few tokens per case. Each backend declares the optional sampling features it honours
(`supports`); asking for any other is a one-line error, never a silent drop.
"""

from __future__ import annotations

import re

import pytest
from test_openai_backend import llama_server  # noqa: F401  (the loopback server fixture)

from dramatis.agents.fake_backend import FakeModel
from dramatis.agents.model import FEATURES, LanguageModel, Message, Sampling, asked_features
from dramatis.core.errors import DramatisError

PROMPT = "HORATIO: Hail to your lordship!\nHAMLET:"
GREEDY = Sampling(max_tokens=8, temperature=0.0, seed=1)
# One Sampling per optional feature, asking for that feature alone.
ASKS = {
    "banned": Sampling(max_tokens=4, seed=1, banned=("lord",)),
    "boosted": Sampling(max_tokens=4, seed=1, boosted=("Denmark",), boost=2.0),
    "known_only": Sampling(max_tokens=4, seed=1, known_only=True, page_words=frozenset({"zed"})),
    "min_tokens": Sampling(max_tokens=4, seed=1, min_tokens=2),
    "presence_penalty": Sampling(max_tokens=4, seed=1, presence_penalty=0.5),
    "repeat_penalty": Sampling(max_tokens=4, seed=1, repeat_penalty=1.3),
    "spare_commas": Sampling(max_tokens=4, seed=1, spare_commas=True),
    "spared_words": Sampling(max_tokens=4, seed=1, spared_words=("the",)),
    "tail_cut": Sampling(max_tokens=4, seed=1, top_k=0, min_p=0.0),
    "tilted": Sampling(max_tokens=4, seed=1, tilted=(("what", -1.0),)),
    "long_words": Sampling(max_tokens=4, seed=1, long_words=1.0),
}


def fake(request) -> LanguageModel:
    return FakeModel()


def llama(request) -> LanguageModel:
    from dramatis.agents.catalog import resolve_model
    from dramatis.agents.llama_backend import LlamaCppModel

    # one thread: two collapse when the cores are shared with anything else (DESIGN.md)
    return LlamaCppModel(resolve_model("smollm2", cache_dir=None), n_threads=1, seed=0)


def peft(request) -> LanguageModel:
    pytest.importorskip("torch")
    pytest.importorskip("peft")
    from tiny_models import byte_tokenizer, tiny_llama

    from dramatis.agents.peft_backend import PeftModel

    tokenizer = byte_tokenizer()
    return PeftModel(tiny_llama(len(tokenizer)), tokenizer)


def openai(request) -> LanguageModel:
    from dramatis.agents.openai_backend import OpenAIModel, parse_endpoint

    url = request.getfixturevalue("llama_server")
    return OpenAIModel(parse_endpoint(f"openai:{url}#smollm2"))


BACKENDS = [
    pytest.param(fake, id="fake"),
    pytest.param(llama, id="llama.cpp", marks=pytest.mark.model),
    pytest.param(peft, id="peft"),
    pytest.param(openai, id="openai", marks=pytest.mark.model),
]
_opened: dict[str, LanguageModel] = {}


@pytest.fixture(params=BACKENDS)
def model(request) -> LanguageModel:
    """One of each backend, opened once per module (the server and models are slow)."""
    name = request.param.__name__
    if name not in _opened:
        _opened[name] = request.param(request)
    return _opened[name]


@pytest.fixture(scope="module", autouse=True)
def _close_opened():
    yield
    _opened.clear()  # the server fixture ends with the module: no stale client survives


def test_supports_names_only_known_features(model):
    assert model.supports <= set(FEATURES)
    assert asked_features(Sampling()) == ()  # the defaults ask for nothing optional


def test_generate_and_stream_agree(model):
    whole = model.generate(PROMPT, GREEDY)
    pieces = list(model.stream(PROMPT, GREEDY))
    assert whole.text and "".join(pieces) == whole.text
    assert all(isinstance(p, str) and p for p in pieces)


def test_max_tokens_is_respected(model):
    out = model.generate(PROMPT, Sampling(max_tokens=3, temperature=0.0, seed=1))
    assert 0 < out.tokens <= 3 and out.finish_reason == "length"
    assert len(model.generate(PROMPT, GREEDY).text) > len(out.text)  # it was cut short


def test_stop_strings_are_honoured(model):
    full = model.generate(PROMPT, Sampling(max_tokens=12, temperature=0.0, seed=1)).text
    middle = len(full) // 2
    stop = full[middle : middle + 3]
    assert len(stop) == 3
    sampling = Sampling(max_tokens=12, temperature=0.0, seed=1, stop=(stop,))
    before = full[: full.index(stop)]
    assert model.generate(PROMPT, sampling).text == before
    assert "".join(model.stream(PROMPT, sampling)) == before


def test_a_seed_repeats_its_sample(model):
    def sample(seed: int) -> str:
        return model.generate(PROMPT, Sampling(max_tokens=8, temperature=1.0, seed=seed)).text

    assert sample(5) == sample(5)
    assert len({sample(s) for s in (1, 2, 3, 4)}) > 1  # and the seed is what varies it


def test_count_tokens(model):
    short, long = model.count_tokens("To be"), model.count_tokens("To be, or not to be")
    assert 0 < short < long and model.count_tokens("") == 0


def test_render_chat_is_a_template_or_none(model):
    rendered = model.render_chat([Message("system", "Elsinore."), Message("user", "Who's there?")])
    assert rendered is None or ("Elsinore." in rendered and "Who's there?" in rendered)


@pytest.mark.parametrize("feature", FEATURES)
def test_an_unsupported_feature_is_a_one_line_error(model, feature):
    sampling = ASKS[feature]
    assert asked_features(sampling) == (feature,)
    if feature in model.supports:
        assert model.generate(PROMPT, sampling).tokens <= 4
        return
    for call in (model.generate, lambda p, s: list(model.stream(p, s))):
        with pytest.raises(DramatisError) as err:
            call(PROMPT, sampling)
        message = str(err.value)
        assert "\n" not in message and feature in message and model.name in message


def test_the_tail_cut_is_honoured(model):
    """top_k=1 keeps the likeliest token alone: at temperature 1 the draw is the greedy
    one, whatever the seed; with the cut lifted the same seeds draw other text."""
    if "tail_cut" not in model.supports or model.name == "fake":
        pytest.skip(f"{model.name} keeps its own tail cut (the error is tested above)")
    greedy = model.generate(PROMPT, Sampling(max_tokens=8, temperature=0.0, seed=1)).text
    for seed in (3, 4):
        one = Sampling(max_tokens=8, temperature=1.0, seed=seed, top_k=1)
        assert model.generate(PROMPT, one).text == greedy
    wide = [Sampling(max_tokens=8, temperature=1.5, seed=s, top_k=0, min_p=0.0) for s in (3, 4)]
    cut = [Sampling(max_tokens=8, temperature=1.5, seed=s) for s in (3, 4)]
    assert [model.generate(PROMPT, w).text for w in wide] != [
        model.generate(PROMPT, c).text for c in cut
    ]


def test_a_banned_word_never_comes_out(model):
    if "banned" not in model.supports:
        pytest.skip(f"{model.name} does not support banned words (the error is tested above)")
    greedy = Sampling(max_tokens=8, temperature=0.0, seed=1)
    words = re.findall(r"[A-Za-z]{3,}", model.generate(PROMPT, greedy).text)
    assert words, "the greedy completion has no word to ban"
    banned = Sampling(max_tokens=8, temperature=0.0, seed=1, banned=(words[0],))
    again = model.generate(PROMPT, banned).text
    assert words[0].lower() not in re.findall(r"[a-z]+", again.lower())
