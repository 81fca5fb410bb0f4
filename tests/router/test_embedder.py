"""The router's embedder (``tara_router.semantic.Embedder``: one ``llama_decode`` of a batch allocated
once) against llama-cpp-python's ``Llama.embed``, which it replaced and which the build still embeds
the index with; and the pure parts of ``benchmarks/bench_embed.py``, with its numpy reference forward
pass checked against llama.cpp.

The crisis thresholds were calibrated on ``Llama.embed``'s vectors, so the embedder must give the
very same floats: every text the router embeds for the evaluation conversations (the routed text and
the crisis views) is compared bit for bit, which makes every routing, crisis and emotion decision on
those sets the same by construction (``bench_embed`` also compares the decisions of two routers).
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import numpy as np
import pytest

from tara_router.decisions import Router
from tara_router.semantic import crisis_views, normalise
from tara_trainer.export import encoder

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
# every routing and emotion row, the crisis development sets and the newest blind set: about 2 800 texts
# (all eleven crisis sets are 6 400, a few minutes more for the same code path)
EVAL_SETS = ("routing_eval.jsonl", "emotion_eval.jsonl", "crisis_eval.jsonl", "crisis_fresh.jsonl", "crisis_blind10.jsonl")


def _bench() -> ModuleType:
    if "bench_embed" in sys.modules:
        return sys.modules["bench_embed"]
    sys.path.insert(0, str(ROOT / "benchmarks"))
    spec = importlib.util.spec_from_file_location("bench_embed", ROOT / "benchmarks" / "bench_embed.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_embed"] = module
    spec.loader.exec_module(module)
    return module


def conversations(name: str) -> list[list[str]]:
    rows = [json.loads(line) for line in (DATA / name).read_text(encoding="utf-8").splitlines() if line.strip()]
    return [list(r["turns"]) if "turns" in r else [r["text"]] for r in rows]


def embedded_texts(turns: list[str]) -> list[str]:
    """What ``Router.embed_request`` embeds for a conversation with empty caches."""
    routed = Router.query_text(turns)
    return [routed, *crisis_views(turns, routed)]


@pytest.fixture(scope="module")
def embedder(toolchain, settings) -> Any:
    from tara_router.semantic import Embedder

    # 1 thread: 2 spin-wait on a machine busy with other tests; the vectors are the same on either
    return Embedder(encoder.routing_encoder(toolchain, settings.cache_dir).gguf, threads=1)


def reference(embedder: Any, texts: list[str]) -> np.ndarray:
    """The router's embedding before this embedder (and the build's): ``Llama.embed`` per text."""
    return normalise(np.asarray([embedder._llm.embed(t or " ", truncate=True) for t in texts], dtype=np.float32))


def test_edge_texts_embed_as_llama_embed_does(embedder) -> None:
    texts = ["", " ", "héllo ünïcode 😀 مرحبا", "word " * 400, "I want to kill myself."]  # 400 words: cut at 256 tokens
    vectors = embedder.embed(texts)
    assert vectors.shape == (5, 384) and vectors.dtype == np.float32
    assert np.array_equal(vectors, reference(embedder, texts))
    assert embedder.embed([]).shape == (0, 384)


@pytest.mark.slow
def test_every_text_of_the_eval_sets_embeds_bit_for_bit_as_before(embedder) -> None:
    texts = list(dict.fromkeys(t for name in EVAL_SETS for turns in conversations(name) for t in embedded_texts(turns)))
    assert len(texts) > 2500  # with the crisis views
    ours, before = embedder.embed(texts), reference(embedder, texts)
    differ = [t for t, a, b in zip(texts, ours, before, strict=True) if not np.array_equal(a, b)]
    assert differ == [], f"{len(differ)} of {len(texts)} texts embed differently, e.g. {differ[:3]}"


def test_a_failed_decode_is_an_error_naming_the_model(embedder, monkeypatch) -> None:
    lib = embedder._lib
    monkeypatch.setattr(embedder, "_lib", SimpleNamespace(llama_decode=lambda ctx, batch: 1,
                                                          llama_get_embeddings_seq=lib.llama_get_embeddings_seq))
    with pytest.raises(RuntimeError, match=rf"{embedder.path.name} \(llama_decode 1\)"):
        embedder.embed(["hello"])


@pytest.mark.slow
def test_the_numpy_reference_forward_pass_matches_llama_cpp_closely(embedder) -> None:
    """bench_embed's numpy forward pass (measured slower, not shipped) computes what llama.cpp does:
    with Q8_0 activations and the float16 GELU it is nearer llama.cpp than plain float32 is."""
    bench = _bench()
    texts = [Router.query_text(turns) for turns in conversations("routing_eval.jsonl")[::20]]
    llama = reference(embedder, texts)
    lowest = {}
    for emulate in (True, False):
        ours = bench.numpy_embed(bench.NumpyBert(embedder.path, emulate=emulate), embedder)(texts)
        lowest[emulate] = float(np.min(np.sum(ours * llama, axis=1)))
    assert lowest[True] > 0.9995 and lowest[True] > lowest[False]


@pytest.mark.parametrize(("repeats", "first"), [(1, ["a", "b", "c"]), (2, ["a", "b", "c", "b", "c", "a"])])
def test_timers_take_turns_and_the_first_rotates(repeats: int, first: list[str]) -> None:
    bench = _bench()
    calls: list[tuple[str, int]] = []
    timers = {name: (lambda item, name=name: calls.append((name, item))) for name in ("a", "b", "c")}
    out = bench.interleaved(timers, [0, 1, 2], repeats)
    assert {n: len(v) for n, v in out.items()} == {"a": 3 * repeats, "b": 3 * repeats, "c": 3 * repeats}
    assert [calls[i * 3][0] for i in range(3 * repeats)] == first * (3 * repeats // len(first))
    assert all(sorted(n for n, item in calls[i * 3:i * 3 + 3]) == ["a", "b", "c"] for i in range(3 * repeats))


def test_summary_gives_percentiles_and_ratios_to_the_baseline() -> None:
    bench = _bench()
    out = bench.summary({bench.BASELINE: [float(x) for x in range(1, 101)], "fast": [x / 2 for x in range(1, 101)]})
    assert out[bench.BASELINE] == {"p50": 51.0, "p95": 96.0, "p50Ratio": 1.0, "p95Ratio": 1.0}
    assert out["fast"] == {"p50": 25.5, "p95": 48.0, "p50Ratio": 0.5, "p95Ratio": 0.5}
