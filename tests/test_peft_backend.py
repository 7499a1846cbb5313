"""The transformers + peft backend on a tiny random Llama: generate/stream against a
hand-rolled greedy reference, repeat_penalty, stop strings, adapters per request."""

from __future__ import annotations

import pytest

from dramatis.agents.model import Message, Sampling
from dramatis.agents.peft_backend import PeftModel, held_back, until_stop

torch = pytest.importorskip("torch")
pytest.importorskip("peft")

from tiny_models import byte_tokenizer, tiny_llama  # noqa: E402

PROMPT_MESSAGES = [Message("system", "You are Horatio."), Message("user", "HAMLET: What hour?")]


@pytest.fixture(scope="module")
def model():
    tokenizer = byte_tokenizer()
    return PeftModel(tiny_llama(len(tokenizer)), tokenizer)


def reference_greedy(model: PeftModel, prompt: str, n: int) -> str:
    """Greedy decoding the slow, obvious way: the whole sequence through the model per token."""
    ids = model.tokenizer(prompt, add_special_tokens=False)["input_ids"]
    new: list[int] = []
    with torch.no_grad():
        for _ in range(n):
            token = int(model.base(input_ids=torch.tensor([ids + new])).logits[0, -1].argmax())
            if token == model.tokenizer.eos_token_id:
                break
            new.append(token)
    return model.tokenizer.decode(new, skip_special_tokens=True)


def test_greedy_matches_the_reference_and_streams_the_same_text(model):
    prompt = model.render_chat(PROMPT_MESSAGES)
    greedy = Sampling(max_tokens=24, temperature=0.0, repeat_penalty=1.0)
    said = model.generate(prompt, greedy)
    assert said.text == reference_greedy(model, prompt, 24) and said.text
    assert said.finish_reason == "length" and said.tokens == 24  # generated, not re-counted
    assert "".join(model.stream(prompt, greedy)) == said.text


def test_repeat_penalty_is_honoured(model):
    prompt = model.render_chat(PROMPT_MESSAGES)
    plain = model.generate(prompt, Sampling(max_tokens=32, temperature=0.0, repeat_penalty=1.0))
    penalised = model.generate(prompt, Sampling(max_tokens=32, temperature=0.0, repeat_penalty=1.8))
    assert penalised.text != plain.text
    assert len(set(penalised.text)) >= len(set(plain.text))  # repeats itself no more


def test_sampling_is_seeded(model):
    prompt = model.render_chat(PROMPT_MESSAGES)
    runs = [model.generate(prompt, Sampling(max_tokens=16, seed=s)).text for s in (1, 1, 2)]
    assert runs[0] == runs[1] and runs[0] != runs[2]


def test_output_ends_before_a_stop_string(model):
    prompt = model.render_chat(PROMPT_MESSAGES)
    full = model.generate(prompt, Sampling(max_tokens=24, temperature=0.0)).text
    stop = full[10:14]
    pieces = list(model.stream(prompt, Sampling(max_tokens=24, temperature=0.0, stop=(stop,))))
    assert "".join(pieces) == full[: full.index(stop)]


def test_held_back_text_never_shows_part_of_a_stop():
    assert held_back("Ay.\nHOR", ["\nHORATIO:"]) == 4 and held_back("Ay.", ["\nHO"]) == 0
    assert list(until_stop(["Ay.\nHOR", "ATIO: No"], ["\nHORATIO:"])) == ["Ay."]
    assert "".join(until_stop(["Ay.\nHOR", "ACE"], ["\nHORATIO:"])) == "Ay.\nHORACE"


def test_adapters_switch_per_request(model, tmp_path):
    from peft import LoraConfig, get_peft_model

    torch.manual_seed(3)
    lora = get_peft_model(
        tiny_llama(len(model.tokenizer)), LoraConfig(r=4, target_modules=["q_proj", "v_proj"])
    )
    for name, weight in lora.named_parameters():
        if "lora_B" in name:
            torch.nn.init.normal_(weight, std=0.5)  # peft starts B at zero: make it act
    lora.save_pretrained(str(tmp_path))
    prompt = model.render_chat(PROMPT_MESSAGES)
    greedy = Sampling(max_tokens=16, temperature=0.0)
    before = model.generate(prompt, greedy).text
    model.load_adapter("a", tmp_path)
    assert model.adapters == ("a",)
    with_a = model.generate(prompt, Sampling(max_tokens=16, temperature=0.0, adapter="a")).text
    assert with_a != before
    assert model.generate(prompt, greedy).text == before  # adapter=None: the bare base
