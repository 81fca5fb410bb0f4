"""A tiny Llama-architecture model and SentencePiece tokenizer, built offline in seconds.

Tests and the local demo use it in place of a Hugging Face model; the same trainer and build
code load real models in a cluster. Its shape is chosen for llama.cpp: k-quants need every
weight row length divisible by 256, otherwise llama-quantize silently falls back to another
type per tensor, so hidden 256 and intermediate 768 are the smallest sizes with no fallback.

The tokenizer is trained on the bundled domain datasets with ``remove_extra_whitespaces=False``
(so llama.cpp and Hugging Face tokenize alike) and loaded through one path only,
``LlamaTokenizer.from_pretrained`` on a folder holding ``tokenizer.model``: in transformers 5,
``LlamaTokenizer(vocab_file=...)`` silently produced a 3-token vocabulary.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import shutil
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

__all__ = ["CHAT_TEMPLATE", "TINY_CONFIG", "build_tiny_model", "build_tokenizer", "load_tokenizer", "main"]

TINY_CONFIG: dict = {
    "hidden_size": 256,
    "intermediate_size": 768,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 4,
    "max_position_embeddings": 1024,
    "rms_norm_eps": 1e-5,
    "tie_word_embeddings": False,
    "bos_token_id": 1,
    "eos_token_id": 2,
    "pad_token_id": 3,
}

# Plain-text chat template (no special tokens beyond BOS/EOS); also the fallback for tokenizers
# that have none. An assistant turn ends at EOS, so the trained span is exactly content + EOS;
# `add_generation_prompt` ends with the assistant header.
CHAT_TEMPLATE = (
    "{{ bos_token }}"
    "{% for message in messages %}"
    "{% if message['role'] == 'system' %}{{ '### System:\n' + message['content'] + '\n\n' }}"
    "{% elif message['role'] == 'user' %}{{ '### User:\n' + message['content'] + '\n\n' }}"
    "{% elif message['role'] == 'assistant' %}{{ '### Assistant:\n' + message['content'] + eos_token }}"
    "{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '### Assistant:\n' }}{% endif %}"
)

_MARKER = "tara-tiny.json"
_TEMPLATE_TEXT = "### System:\n### User:\n### Assistant:\n"


def _bundled_corpus() -> Iterator[str]:
    data = Path(__file__).resolve().parent / "data"
    for path in sorted(data.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                row = json.loads(line)
            except ValueError:
                continue
            for message in row.get("messages", ()):
                yield str(message.get("content", ""))
    for _ in range(20):
        yield _TEMPLATE_TEXT


def build_tokenizer(output_dir: Path, corpus: Iterable[str] | None = None, vocab_size: int = 1024) -> Path:
    """Train a SentencePiece BPE model on ``corpus`` (default: the bundled datasets) into ``output_dir``."""
    import sentencepiece as spm

    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    lines = [line for text in (corpus if corpus is not None else _bundled_corpus()) for line in str(text).splitlines() if line]
    if not lines:
        raise ValueError("tokenizer corpus is empty: no bundled datasets found and no corpus given")
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(lines),
        model_writer=model,
        model_type="bpe",
        vocab_size=vocab_size,
        character_coverage=1.0,
        byte_fallback=True,
        remove_extra_whitespaces=False,
        split_digits=True,
        unk_id=0,
        bos_id=1,
        eos_id=2,
        pad_id=3,
        num_threads=1,
        minloglevel=2,
        hard_vocab_limit=True,
        max_sentence_length=16384,
    )
    (output_dir / "tokenizer.model").write_bytes(model.getvalue())
    tokenizer = _from_folder(output_dir)
    tokenizer.chat_template = CHAT_TEMPLATE
    tokenizer.save_pretrained(str(output_dir))
    return output_dir


def _from_folder(path: Path):
    from transformers import LlamaTokenizer

    tokenizer = LlamaTokenizer.from_pretrained(str(path), legacy=False, add_prefix_space=False)
    tokenizer.pad_token = "<pad>"
    return tokenizer


def load_tokenizer(path: str | Path):
    """The one way TARA loads its SentencePiece tokenizers (see the module docstring)."""
    path = Path(path)
    if not (path / "tokenizer.model").is_file():
        raise FileNotFoundError(f"{path} holds no tokenizer.model")
    tokenizer = _from_folder(path)
    if tokenizer.chat_template is None:
        tokenizer.chat_template = CHAT_TEMPLATE
    return tokenizer


def _params(seed: int, vocab_size: int) -> dict:
    corpus_hash = hashlib.sha256("\n".join(_bundled_corpus()).encode()).hexdigest()[:16]
    return {"seed": seed, "vocabSize": vocab_size, "config": TINY_CONFIG, "corpus": corpus_hash, "version": 1}


def build_tiny_model(output_dir: Path, *, seed: int = 0, corpus: Iterable[str] | None = None, vocab_size: int = 1024) -> Path:
    """Build tokenizer + randomly initialised LlamaForCausalLM into ``output_dir`` (idempotent)."""
    import torch
    from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM

    output_dir = Path(output_dir)
    corpus_lines = list(corpus) if corpus is not None else None
    params = _params(seed, vocab_size) if corpus_lines is None else None
    marker = output_dir / _MARKER
    if params is not None and marker.is_file() and json.loads(marker.read_text()) == params:
        return output_dir
    tmp = output_dir.with_name(f".{output_dir.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    build_tokenizer(tmp, corpus_lines, vocab_size)
    torch.manual_seed(seed)
    config = LlamaConfig(vocab_size=vocab_size, **TINY_CONFIG)
    model = LlamaForCausalLM(config).to(torch.float32)
    model.generation_config = GenerationConfig(bos_token_id=1, eos_token_id=2, pad_token_id=3)
    model.save_pretrained(str(tmp))
    if params is not None:
        (tmp / _MARKER).write_text(json.dumps(params))
    shutil.rmtree(output_dir, ignore_errors=True)
    tmp.rename(output_dir)
    return output_dir


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tara-trainer tiny-model", description="build the tiny offline model")
    parser.add_argument("--output", required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--vocab-size", type=int, default=1024)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    path = build_tiny_model(Path(args.output), seed=args.seed, vocab_size=args.vocab_size)
    print(f"tiny model ready in {path} ({time.perf_counter() - started:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
