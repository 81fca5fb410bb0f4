"""The tiny offline model: full vocabulary, exact round trips, llama.cpp-friendly shapes, a plain
chat template, idempotent and deterministic builds."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from tara_trainer import tiny

SENTENCES = [
    "How much water should I drink each day?",
    "Two  spaces,   three, a\nnewline,\n\ntwo newlines and\ttabs: kept exactly.",
    " leading space and trailing space ",
    "Prices rose 12.5% in Q3 -- what now? (Really!) [x] {y} <z> @#$&*",
    "Unicode: café, naïve, 東京, emoji 😀 and a euro sign €.",
    "### User:\nhello\n\n### Assistant:\n",
]


@pytest.fixture(scope="module")
def tokenizer(tiny_model_dir: Path):
    return tiny.load_tokenizer(tiny_model_dir)


def test_vocabulary_size_and_special_tokens(tokenizer, tiny_model_dir: Path) -> None:
    assert len(tokenizer) == 1024  # the transformers 5 pitfall gave 3
    assert (tokenizer.unk_token_id, tokenizer.bos_token_id, tokenizer.eos_token_id, tokenizer.pad_token_id) == (0, 1, 2, 3)
    assert tokenizer("hi")["input_ids"][0] == tokenizer.bos_token_id and tokenizer.add_bos_token
    assert tokenizer("hi", add_special_tokens=False)["input_ids"][0] != tokenizer.bos_token_id
    generation = json.loads((tiny_model_dir / "generation_config.json").read_text())
    assert (generation["bos_token_id"], generation["eos_token_id"], generation["pad_token_id"]) == (1, 2, 3)


@pytest.mark.parametrize("text", SENTENCES)
def test_round_trip_is_exact_and_matches_sentencepiece(tokenizer, tiny_model_dir: Path, text: str) -> None:
    import sentencepiece as spm

    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    assert tokenizer.decode(ids) == text
    # raw SentencePiece (and so llama.cpp, which uses the same pieces with no normaliser) agrees
    assert ids == spm.SentencePieceProcessor(model_file=str(tiny_model_dir / "tokenizer.model")).encode(text)


def test_real_merges_and_template_markers(tokenizer) -> None:
    text = "How much water should I drink each day?"
    assert len(tokenizer(text, add_special_tokens=False)["input_ids"]) < len(text) / 2
    for word in ("###", "▁System", "▁User", "▁Assistant"):
        assert tokenizer.convert_tokens_to_ids(word) != tokenizer.unk_token_id, word


def test_reloaded_tokenizer_encodes_identically(tokenizer, tiny_model_dir: Path) -> None:
    again = tiny.load_tokenizer(tiny_model_dir)
    assert [again(t)["input_ids"] for t in SENTENCES] == [tokenizer(t)["input_ids"] for t in SENTENCES]


def test_model_loads_and_has_k_quant_friendly_shapes(tiny_model_dir: Path) -> None:
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    assert model.dtype == torch.float32 and not model.config.tie_word_embeddings
    with torch.no_grad():
        logits = model(torch.tensor([[1, 50, 60, 70, 80]])).logits
    assert logits.shape == (1, 5, 1024)
    matrices = {name: w for name, w in model.named_parameters() if w.dim() == 2}
    assert len(matrices) == 2 + 7 * 2  # embeddings, lm_head, q/k/v/o/gate/up/down per layer
    for name, weight in matrices.items():
        assert weight.shape[-1] % 256 == 0, f"{name} rows of {weight.shape[-1]} would fall back in k-quants"
    assert model.get_input_embeddings().weight.shape == model.get_output_embeddings().weight.shape == (1024, 256)


def test_chat_template_renders_plain_text(tokenizer) -> None:
    assert tokenizer.chat_template == tiny.CHAT_TEMPLATE
    messages = [
        {"role": "system", "content": "Be kind."},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello!"},
        {"role": "user", "content": "Bye"},
        {"role": "assistant", "content": "Take care."},
    ]
    rendered = tokenizer.apply_chat_template(messages, tokenize=False)
    assert rendered == ("<s>### System:\nBe kind.\n\n### User:\nHi\n\n### Assistant:\nHello!</s>"
                        "### User:\nBye\n\n### Assistant:\nTake care.</s>")
    prompt = tokenizer.apply_chat_template(messages[:4], tokenize=False, add_generation_prompt=True)
    assert prompt == rendered[: rendered.index("Take care.")]
    ids = tokenizer(rendered, add_special_tokens=False)["input_ids"]
    assert ids[0] == tokenizer.bos_token_id and ids.count(tokenizer.eos_token_id) == 2 and ids[-1] == tokenizer.eos_token_id
    assert tokenizer.decode(ids) == rendered


def test_build_is_idempotent(tiny_model_dir: Path) -> None:
    before = {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in tiny_model_dir.iterdir()}
    started = time.perf_counter()
    assert tiny.build_tiny_model(tiny_model_dir) == tiny_model_dir
    elapsed = time.perf_counter() - started
    print(f"second build_tiny_model call: {elapsed:.2f} s")
    assert {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in tiny_model_dir.iterdir()} == before


def test_build_is_deterministic(tiny_model_dir: Path, tmp_path: Path) -> None:
    started = time.perf_counter()
    other = tiny.build_tiny_model(tmp_path / "other")
    print(f"tiny model build: {time.perf_counter() - started:.1f} s")
    assert (other / "tokenizer.model").read_bytes() == (tiny_model_dir / "tokenizer.model").read_bytes()
    a, b = load_file(str(tiny_model_dir / "model.safetensors")), load_file(str(other / "model.safetensors"))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    c = load_file(str(tiny.build_tiny_model(tmp_path / "seed1", seed=1) / "model.safetensors"))
    assert not torch.equal(a["model.layers.0.mlp.up_proj.weight"], c["model.layers.0.mlp.up_proj.weight"])


def test_custom_corpus_and_vocab_size(tmp_path: Path) -> None:
    corpus = tmp_path / "chat.jsonl"
    rows = [{"messages": [{"role": "user", "content": f"Question {i}: how do  I plan week {i}?"},
                          {"role": "assistant", "content": f"Answer {i}: list tasks,\nthen rank them by value."}]}
            for i in range(200)]
    corpus.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    texts = [m["content"] for line in corpus.read_text().splitlines() for m in json.loads(line)["messages"]]
    folder = tiny.build_tokenizer(tmp_path / "tok", texts, vocab_size=400)
    tokenizer = tiny.load_tokenizer(folder)
    assert len(tokenizer) == 400 and tokenizer.decode(tokenizer(texts[1], add_special_tokens=False)["input_ids"]) == texts[1]
    # rebuilding into the same folder replaces the old files instead of loading them
    assert len(tiny.load_tokenizer(tiny.build_tokenizer(folder, texts, vocab_size=300))) == 300


def test_refusals(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="tokenizer.model"):
        tiny.load_tokenizer(tmp_path)
    with pytest.raises(ValueError, match="empty"):
        tiny.build_tokenizer(tmp_path / "t", ["", "  \n"])
    with pytest.raises(ValueError, match="too small"):
        tiny.build_tokenizer(tmp_path / "t", ["some text"], vocab_size=100)
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="not a tiny-model build"):
        tiny.build_tiny_model(precious)
    assert (precious / "notes.txt").read_text() == "mine"


def test_main_prints_what_it_built(tiny_model_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert tiny.main(["--output", str(tiny_model_dir)]) == 0
    out = capsys.readouterr().out
    assert str(tiny_model_dir) in out and "vocabulary 1024" in out
