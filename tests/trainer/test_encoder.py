"""The routing encoder's cache: made once per key, published whole, never half; its training data
stays apart from the evaluation sets. (Training itself runs once per machine in ``make setup``; the
real encoder is exercised by tests/router/test_semantic.py and test_routing_quality.py.)"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from tara_trainer.export import encoder

TESTS_DATA = Path(__file__).resolve().parents[1] / "data"


def fake_train(calls: list[Path], fail: bool = False):
    def train(out: Path, threads: int, progress) -> None:
        calls.append(out)
        out.mkdir(parents=True)
        (out / "model.safetensors").write_bytes(b"w")
        if fail:
            raise RuntimeError("out of memory")
        np.savez(out.parent / encoder.HEADS_FILE, crisis_weights=np.ones(4, np.float32), crisis_bias=np.float32(-2),
                 emotion_weights=np.zeros((4, 9), np.float32), emotion_bias=np.zeros(9, np.float32))

    return train


def fake_convert(tc, source: Path, out: Path, outtype: str) -> None:
    assert (source / "model.safetensors").is_file() and outtype == "q8_0"
    out.write_bytes(b"GGUF")


def test_the_encoder_is_trained_once_and_published_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Path] = []
    monkeypatch.setattr(encoder, "train", fake_train(calls))
    monkeypatch.setattr(encoder.tools, "convert_base", fake_convert)
    tc = SimpleNamespace(version="0.3.36")
    first = encoder.routing_encoder(tc, tmp_path)
    assert first.gguf.read_bytes() == b"GGUF" and first.crisis[1] == -2 and first.emotion[0].shape == (4, 9)
    assert first.gguf.parent.name == f"routing-{encoder.encoder_key('0.3.36')}"
    assert sorted(p.name for p in first.gguf.parent.iterdir()) == sorted([encoder.HEADS_FILE, encoder.MODEL_FILE])  # no hf/ left
    assert encoder.routing_encoder(tc, tmp_path).gguf == first.gguf and len(calls) == 1  # cached
    encoder.routing_encoder(SimpleNamespace(version="0.3.37"), tmp_path)  # another converter: another key
    assert len(calls) == 2


def test_a_failed_training_leaves_nothing_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Path] = []
    monkeypatch.setattr(encoder, "train", fake_train(calls, fail=True))
    with pytest.raises(RuntimeError, match="out of memory"):
        encoder.routing_encoder(SimpleNamespace(version="0.3.36"), tmp_path)
    assert [p.name for p in (tmp_path / "embedder").iterdir()] == [".routing.lock"]


def test_the_key_follows_the_recipe_and_the_data(monkeypatch: pytest.MonkeyPatch) -> None:
    key = encoder.encoder_key("0.3.36")
    monkeypatch.setitem(encoder.RECIPE, "epochs", 4)
    assert encoder.encoder_key("0.3.36") != key


def test_the_training_rows_are_not_in_the_sets_it_is_measured_on() -> None:
    """No row of a reporting half or a blind set still measured on is trained on (the tuning halves may be;
    blind4-blind9 were read as development sets and are training data since session 11)."""
    def reported(name: str) -> set[str]:
        rows = [json.loads(line) for line in (TESTS_DATA / name).read_text().splitlines() if line.strip()]
        return {" ".join(r.get("turns") or [r["text"]]).strip().lower() for r in rows if r.get("split") != "tune"}

    trained = {" ".join(t).strip().lower() for t, _ in encoder.crisis_rows()} | {t.strip().lower() for t, _ in encoder.emotion_rows()}
    blind = [f"crisis_blind{n}.jsonl" for n in (2, 3, 10, 11, 12, 13, 14, 15, 16)]
    for name in ("crisis_eval.jsonl", "crisis_fresh.jsonl", *blind, "routing_eval.jsonl", "emotion_eval.jsonl"):
        assert not trained & reported(name), name


def test_a_missing_encoder_in_a_read_only_cache_says_how_to_make_it(tmp_path: Path) -> None:
    from tara_trainer.llamacpp import ToolchainError

    blocked = tmp_path / "cache"
    blocked.write_text("")  # a file where the cache folder should be: nothing can be written under it
    with pytest.raises(ToolchainError, match="tara-trainer routing-encoder"):
        encoder.routing_encoder(SimpleNamespace(version="0.3.36"), blocked)
