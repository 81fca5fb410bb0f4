"""A tiny Llama-architecture model and SentencePiece tokenizer, built offline in seconds.

Tests and the local demo use it in place of a Hugging Face model; the same trainer and build
code load real models in a cluster. Its shape is chosen for llama.cpp: k-quants need every
weight row length divisible by 256, otherwise llama-quantize silently falls back to another
type per tensor, so hidden 256 and intermediate 768 are the smallest sizes with no fallback
(2 layers, 4 heads of 64, untied embeddings so ``output.weight`` is quantized like a real model).

The tokenizer is a SentencePiece BPE trained on the bundled domain datasets so that Hugging Face,
raw SentencePiece and llama.cpp all produce the same ids: identity normalisation (no NFKC, which
would turn newlines into spaces), no dummy prefix and ``add_prefix_space=False`` (the GGUF
converter copies it to ``add_space_prefix``), extra whitespace kept, byte fallback for anything
else. It loads through one path only, ``LlamaTokenizer.from_pretrained`` on a folder holding
``tokenizer.model``: in transformers 5, ``LlamaTokenizer(vocab_file=...)`` silently produced a
3-token vocabulary, so every build checks the vocabulary size and that ids round-trip.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

__all__ = ["CHAT_TEMPLATE", "TINY_CONFIG", "build_tiny_model", "build_tokenizer", "load_tokenizer", "main"]

UNK_ID, BOS_ID, EOS_ID, PAD_ID = 0, 1, 2, 3

TINY_CONFIG: dict[str, Any] = {
    "hidden_size": 256,
    "intermediate_size": 768,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 4,
    "max_position_embeddings": 1024,
    "rms_norm_eps": 1e-5,
    "tie_word_embeddings": False,
    "bos_token_id": BOS_ID,
    "eos_token_id": EOS_ID,
    "pad_token_id": PAD_ID,
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
_RECIPE_VERSION = 2  # bump whenever the build changes what it writes
_REQUIRED = ("config.json", "generation_config.json", "model.safetensors", "tokenizer.model", "tokenizer.json",
             "tokenizer_config.json", _MARKER)
_HF_TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json",
                       "chat_template.jinja", "chat_template.json")
_TEMPLATE_MARKERS = ("### System:", "### User:", "### Assistant:")
_PROBE = "### User:\nHow  much water, exactly?\n\n### Assistant:\nAbout 2 litres (8 cups) a day.\tCafé ☕"


def _bundled_corpus() -> Iterator[str]:
    data = Path(__file__).resolve().parent / "data"
    for path in sorted(data.glob("*.jsonl")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                messages = json.loads(line)["messages"]
                yield from (str(m["content"]) for m in messages)
            except (ValueError, KeyError, TypeError) as exc:
                raise ValueError(f"{path}:{number}: not a chat row ({exc})") from exc


def _corpus_lines(corpus: Iterable[str] | None) -> list[str]:
    texts = list(_bundled_corpus()) if corpus is None else [str(text) for text in corpus]
    # SentencePiece sees one line at a time: newlines are left to byte fallback (<0x0A>), as in Llama.
    lines = [line for text in texts for line in text.splitlines() if line.strip()]
    if not lines:
        where = "the given corpus" if corpus is not None else f"{Path(__file__).resolve().parent / 'data'}/*.jsonl"
        raise ValueError(f"tokenizer corpus is empty: no text in {where}")
    # The template markers as often as real rendered chats hold them, so they get their own pieces.
    return lines + list(_TEMPLATE_MARKERS) * max(50, len(lines) // 3)


def build_tokenizer(output_dir: Path, corpus: Iterable[str] | None = None, vocab_size: int = 1024) -> Path:
    """Train a SentencePiece BPE model on ``corpus`` (default: the bundled datasets) into ``output_dir``.

    Writes ``tokenizer.model`` and the Hugging Face files (with :data:`CHAT_TEMPLATE`); returns ``output_dir``.
    """
    return _build_tokenizer(Path(output_dir), _corpus_lines(corpus), vocab_size)


def _build_tokenizer(output_dir: Path, lines: list[str], vocab_size: int) -> Path:
    import sentencepiece as spm

    if vocab_size < 256 + 4 + 8:
        raise ValueError(f"vocab_size {vocab_size} is too small: 256 byte pieces and 4 special tokens come first")
    output_dir.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    try:
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter(lines), model_writer=buffer,
            model_type="bpe", vocab_size=vocab_size, character_coverage=1.0, byte_fallback=True,
            normalization_rule_name="identity", remove_extra_whitespaces=False, add_dummy_prefix=False,
            split_digits=True, max_sentence_length=1 << 16, hard_vocab_limit=True,
            unk_id=UNK_ID, bos_id=BOS_ID, eos_id=EOS_ID, pad_id=PAD_ID,
            num_threads=1, minloglevel=2,
        )
    except RuntimeError as exc:
        raise ValueError(f"SentencePiece could not train a {vocab_size}-piece vocabulary on {len(lines)} lines: {exc}") from exc
    for stale in _HF_TOKENIZER_FILES:  # from_pretrained would prefer them to the new tokenizer.model
        (output_dir / stale).unlink(missing_ok=True)
    (output_dir / "tokenizer.model").write_bytes(buffer.getvalue())
    tokenizer = _from_folder(output_dir, fresh=True)
    tokenizer.chat_template = CHAT_TEMPLATE
    tokenizer.save_pretrained(str(output_dir))
    _check_round_trip(output_dir, vocab_size)
    return output_dir


def _from_folder(path: Path, *, fresh: bool):
    from transformers import LlamaTokenizer

    if not fresh:
        return LlamaTokenizer.from_pretrained(str(path))  # the saved tokenizer_config.json decides
    # A bare tokenizer.model: decide everything explicitly (transformers 5 defaults differ from 4's).
    return LlamaTokenizer.from_pretrained(
        str(path), legacy=False, add_prefix_space=False, add_bos_token=True, add_eos_token=False,
        unk_token="<unk>", bos_token="<s>", eos_token="</s>", pad_token="<pad>",
    )


def load_tokenizer(path: str | Path):
    """The one way TARA loads SentencePiece tokenizers (see the module docstring)."""
    path = Path(path)
    if not (path / "tokenizer.model").is_file():
        raise FileNotFoundError(f"{path} holds no tokenizer.model")
    tokenizer = _from_folder(path, fresh=not (path / "tokenizer_config.json").is_file())
    if tokenizer.chat_template is None:
        tokenizer.chat_template = CHAT_TEMPLATE
    # transformers 5 drops add_bos_token from tokenizer_config.json and reloads it as False while
    # tokenizer.json still adds BOS (and the GGUF converter reads tokenizer.json): make the flag true.
    if not tokenizer.add_bos_token and tokenizer("")["input_ids"][:1] == [tokenizer.bos_token_id]:
        tokenizer.add_bos_token = True
    return tokenizer


def _check_round_trip(path: Path, vocab_size: int) -> None:
    import sentencepiece as spm

    tokenizer = load_tokenizer(path)
    sp = spm.SentencePieceProcessor(model_file=str(path / "tokenizer.model"))
    ids = tokenizer(_PROBE, add_special_tokens=False)["input_ids"]
    problems = []
    if len(tokenizer) != vocab_size or sp.get_piece_size() != vocab_size:
        problems.append(f"vocabulary has {len(tokenizer)} tokens (SentencePiece {sp.get_piece_size()}), expected {vocab_size}")
    if ids != sp.encode(_PROBE):
        problems.append("Hugging Face and SentencePiece ids differ")
    if tokenizer.decode(ids) != _PROBE:
        problems.append(f"decode gives {tokenizer.decode(ids)!r}")
    if (tokenizer.unk_token_id, tokenizer.bos_token_id, tokenizer.eos_token_id, tokenizer.pad_token_id) != (0, 1, 2, 3):
        problems.append("special token ids are not unk 0, bos 1, eos 2, pad 3")
    if problems:
        raise RuntimeError(f"tokenizer in {path} does not round-trip: " + "; ".join(problems))


def _params(seed: int, vocab_size: int, lines: list[str]) -> dict[str, Any]:
    versions = {name: metadata.version(name) for name in ("sentencepiece", "tokenizers", "transformers", "torch")}
    corpus = hashlib.sha256("\n".join(lines).encode()).hexdigest()
    return {"recipe": _RECIPE_VERSION, "seed": seed, "vocabSize": vocab_size, "config": TINY_CONFIG,
            "corpusSha256": corpus, "versions": versions}


def _is_complete(output_dir: Path, params: dict[str, Any]) -> bool:
    try:
        marker = json.loads((output_dir / _MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return marker == params and all((output_dir / name).is_file() for name in _REQUIRED)


def build_tiny_model(output_dir: Path, *, seed: int = 0, corpus: Iterable[str] | None = None, vocab_size: int = 1024) -> Path:
    """Build tokenizer + randomly initialised float32 LlamaForCausalLM into ``output_dir``.

    Idempotent: a complete build with the same parameters is returned as it is. Deterministic:
    the same parameters give byte-identical ``tokenizer.model`` and identical weights.
    """
    import torch
    from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM
    from transformers.utils import logging as hf_logging

    output_dir = Path(output_dir)
    lines = _corpus_lines(corpus)
    params = _params(seed, vocab_size, lines)
    if _is_complete(output_dir, params):
        return output_dir
    if output_dir.exists() and (not output_dir.is_dir() or (any(output_dir.iterdir()) and not (output_dir / _MARKER).is_file())):
        raise FileExistsError(f"{output_dir} exists and is not a tiny-model build; refusing to replace it")
    output_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{output_dir.name}.", dir=output_dir.parent))
    bars = hf_logging.is_progress_bar_enabled()
    try:
        hf_logging.disable_progress_bar()
        _build_tokenizer(tmp, lines, vocab_size)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            model = LlamaForCausalLM(LlamaConfig(vocab_size=vocab_size, **TINY_CONFIG)).to(torch.float32)
        model.generation_config = GenerationConfig(bos_token_id=BOS_ID, eos_token_id=EOS_ID, pad_token_id=PAD_ID)
        model.save_pretrained(str(tmp), safe_serialization=True)
        (tmp / _MARKER).write_text(json.dumps(params, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        missing = [name for name in _REQUIRED if not (tmp / name).is_file()]
        if missing:
            raise RuntimeError(f"tiny-model build wrote no {', '.join(missing)}")
        os.chmod(tmp, 0o755)  # mkdtemp (and the safetensors writer) make files private
        for file in tmp.iterdir():
            file.chmod(0o644)
        shutil.rmtree(output_dir, ignore_errors=True)
        tmp.rename(output_dir)
    finally:
        if bars:
            hf_logging.enable_progress_bar()
        shutil.rmtree(tmp, ignore_errors=True)
    return output_dir


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tara-trainer tiny-model", description="build the tiny offline model")
    parser.add_argument("--output", required=True, help="folder to build into (reused if already built)")
    parser.add_argument("--seed", type=int, default=0, help="weight initialisation seed (default 0)")
    parser.add_argument("--vocab-size", type=int, default=1024, help="SentencePiece vocabulary size (default 1024)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        path = build_tiny_model(Path(args.output), seed=args.seed, vocab_size=args.vocab_size)
    except (OSError, ValueError, RuntimeError) as exc:
        print(f"tiny-model: {exc}", file=sys.stderr)
        return 1
    print(f"tiny model ready in {path}: Llama {TINY_CONFIG['num_hidden_layers']} layers, hidden "
          f"{TINY_CONFIG['hidden_size']}, vocabulary {args.vocab_size}, seed {args.seed} "
          f"({time.perf_counter() - started:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
