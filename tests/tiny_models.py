"""A tiny random Llama-shaped model and a byte-level tokenizer, built in memory: real
transformers/peft code paths in seconds, with nothing downloaded."""

from __future__ import annotations

import torch
import transformers

TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def byte_tokenizer():
    """A byte-level tokenizer (256 tokens + 2 specials) with a ChatML template."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers

    alphabet = sorted(pre_tokenizers.ByteLevel.alphabet())
    tok = Tokenizer(models.BPE(vocab={c: i for i, c in enumerate(alphabet)}, merges=[]))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens(["<|im_start|>", "<|im_end|>"])
    fast = transformers.PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|im_end|>")
    fast.chat_template = TEMPLATE
    return fast


def tiny_llama(vocab_size: int, seed: int = 0):
    """2 layers, 32 wide, grouped-query attention: SmolLM2's shape, shrunk."""
    torch.manual_seed(seed)
    config = transformers.LlamaConfig(
        vocab_size=vocab_size, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512,
        initializer_range=0.2,  # wider than the default 0.02, so a few steps move the loss
    )  # fmt: skip
    return transformers.LlamaForCausalLM(config).eval()
