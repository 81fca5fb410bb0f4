"""The tiny offline model: full vocabulary, exact round trips, llama.cpp-friendly shapes, determinism."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import torch

from tara_trainer import tiny

SENTENCES = [
    "How much water should I drink each day?",
    "Two  spaces, a\nnewline and\ttabs: kept exactly.",
    "Prices rose 12.5% in Q3 -- what now?",
    "### User:\nhello\n\n### Assistant:\n",
]


def test_vocabulary_and_round_trip(tiny_model_dir: Path) -> None:
    tokenizer = tiny.load_tokenizer(tiny_model_dir)
    assert len(tokenizer) == 1024  # the transformers 5 pitfall gave 3
    for text in SENTENCES:
        ids = tokenizer(text, add_special_tokens=False)["input_ids"]
        assert tokenizer.decode(ids) == text
        assert len(ids) < len(text)  # real merges, not one token per character
    again = tiny.load_tokenizer(tiny_model_dir)
    assert [again(t)["input_ids"] for t in SENTENCES] == [tokenizer(t)["input_ids"] for t in SENTENCES]
    assert (tokenizer.bos_token_id, tokenizer.eos_token_id, tokenizer.pad_token_id) == (1, 2, 3)


def test_chat_template(tiny_model_dir: Path) -> None:
    tokenizer = tiny.load_tokenizer(tiny_model_dir)
    messages = [{"role": "system", "content": "Be kind."}, {"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]
    rendered = tokenizer.apply_chat_template(messages, tokenize=False)
    assert rendered == "<s>### System:\nBe kind.\n\n### User:\nHi\n\n### Assistant:\nHello!</s>"
    prompt = tokenizer.apply_chat_template(messages[:2], tokenize=False, add_generation_prompt=True)
    assert prompt.endswith("### User:\nHi\n\n### Assistant:\n")


def test_model_shapes_suit_k_quants(tiny_model_dir: Path) -> None:
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    logits = model(torch.tensor([[1, 50, 60, 70]])).logits
    assert logits.shape == (1, 4, 1024)
    for name, weight in model.named_parameters():
        if weight.dim() == 2:
            assert weight.shape[1] % 256 == 0, f"{name} rows of {weight.shape[1]} would fall back in k-quants"


def test_build_is_idempotent_and_deterministic(tiny_model_dir: Path, tmp_path: Path) -> None:
    started = time.perf_counter()
    tiny.build_tiny_model(tiny_model_dir)
    assert time.perf_counter() - started < 5  # reused, not rebuilt (a rebuild takes seconds of training)
    other = tiny.build_tiny_model(tmp_path / "other")
    assert (other / "tokenizer.model").read_bytes() == (tiny_model_dir / "tokenizer.model").read_bytes()
    from safetensors.torch import load_file

    a, b = load_file(str(tiny_model_dir / "model.safetensors")), load_file(str(other / "model.safetensors"))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_load_tokenizer_refuses_a_folder_without_model(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="tokenizer.model"):
        tiny.load_tokenizer(tmp_path)
