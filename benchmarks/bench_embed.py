"""Embedding benchmark: what the router's uncached decision spends embedding a request, per implementation.

    python benchmarks/bench_embed.py [--rows 200] [--threads 2] [--repeats 3] [--numpy] [--work DIR]
                                     [--output benchmarks/results/embed.json]

The shipped routing encoder (the build's own code makes it and the five-domain index, as
``bench_routing`` does) embeds the routed text of the first ``--rows`` queries of
``tests/data/routing_eval.jsonl`` through:

- ``Llama.embed``: llama-cpp-python's high-level call, one text at a time (the router before);
- ``Embedder``: ``tara_router.semantic.Embedder``, one ``llama_decode`` of a batch allocated once
  (the router now), on the same llama.cpp context and weights;
- with ``--numpy``, :class:`NumpyBert`: the same BERT forward pass in numpy from the same GGUF's
  weights (dequantized once; activations rounded to Q8_0 blocks and GELU read through float16 as
  llama.cpp's CPU kernels do), tokens from llama.cpp's tokenizer. Embedding only; its vectors are
  compared with llama.cpp's (lowest cosine).

Every figure is from one run, the implementations interleaved request by request (the order rotates
so none always goes first): the embedding of the routed text, the uncached decision
(``Router.decide`` with both caches cleared, crisis views included) and the cached one, p50 and p95
in µs with each one's ratio to ``Llama.embed``'s; and the uncached decision given its vectors (what
the decision costs besides embedding). The decisions of the two llama.cpp routers are
compared on every timed row. Last, the Python each llama.cpp path runs around the forward pass
(``llama_decode`` made a no-op): the one figure here that load from other processes hardly moves.
Not a test: nothing here asserts a figure.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as tara-router sets it (see tara_router.main), before numpy loads

import numpy as np  # noqa: E402 - after the line above

ROOT = Path(__file__).resolve().parents[1]
for sub in ("api", "router", "operator", "trainer_image"):
    sys.path.insert(0, str(ROOT / sub))
sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_routing as br  # noqa: E402 - after the path setup above

BASELINE = "Llama.embed"
Timer = Callable[[Any], Any]


class NumpyBert:
    """A BERT encoder (llama.cpp's ``bert`` graph: token + type + position embeddings, post-norm
    layers, tanh GELU, mean pooling) in numpy, from a GGUF's tensors dequantized once at load.
    ``emulate`` rounds each matrix multiplication's input to Q8_0 blocks (32 values, a float16 scale)
    and GELU's input and output to float16, as llama.cpp's CPU backend computes a Q8_0 model."""

    def __init__(self, path: Path, emulate: bool = True) -> None:
        import gguf  # noqa: PLC0415 - the trainer image's gguf-py; only this comparison reads weights

        reader = gguf.GGUFReader(str(path))
        tensors = {t.name: t for t in reader.tensors}

        def field(name: str) -> Any:
            return reader.fields[name].contents()

        def get(name: str) -> np.ndarray:
            t = tensors[name]
            shape = [int(n) for n in reversed(t.shape)]
            return np.ascontiguousarray(gguf.quants.dequantize(t.data, t.tensor_type).reshape(shape), dtype=np.float32)

        self.heads = int(field("bert.attention.head_count"))
        self.eps = np.float32(field("bert.attention.layer_norm_epsilon"))
        self.emulate = emulate
        self.token, self.position = get("token_embd.weight"), get("position_embd.weight")
        self.type0 = get("token_types.weight")[0]
        self.norm = (get("token_embd_norm.weight"), get("token_embd_norm.bias"))
        self.layers = []
        for i in range(int(field("bert.block_count"))):
            def linear(name: str, p: str = f"blk.{i}.") -> tuple[np.ndarray, np.ndarray]:
                return np.ascontiguousarray(get(f"{p}{name}.weight").T), get(f"{p}{name}.bias")

            self.layers.append({n: linear(n) for n in ("attn_q", "attn_k", "attn_v", "attn_output", "ffn_up", "ffn_down",
                                                        "attn_output_norm", "layer_output_norm")})

    def _q8(self, x: np.ndarray) -> np.ndarray:
        if not self.emulate:
            return x
        blocks = x.reshape(len(x), -1, 32)
        amax = np.abs(blocks).max(axis=-1, keepdims=True)
        scale = (amax / 127).astype(np.float16).astype(np.float32)
        inverse = np.divide(np.float32(127), amax, out=np.zeros_like(amax), where=amax > 0)
        return (np.rint(blocks * inverse) * scale).reshape(x.shape)

    def _gelu(self, x: np.ndarray) -> np.ndarray:
        h = x.astype(np.float16).astype(np.float32) if self.emulate else x
        y = 0.5 * h * (1 + np.tanh(np.float32(0.7978845608) * h * (1 + np.float32(0.044715) * h * h)))
        if not self.emulate:
            return y
        y = y.astype(np.float16).astype(np.float32)
        return np.where(x <= -10, np.float32(0), np.where(x >= 10, x, y))

    def _norm(self, x: np.ndarray, weights: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
        centred = x - x.mean(axis=-1, keepdims=True)
        return centred / np.sqrt((centred * centred).mean(axis=-1, keepdims=True) + self.eps) * weights[0] + weights[1]

    def forward(self, tokens: Sequence[int]) -> np.ndarray:
        """The mean-pooled (not normalised) embedding of one tokenized text."""
        n = len(tokens)
        x = self._norm(self.token[np.asarray(tokens)] + self.type0 + self.position[:n], self.norm)
        dh = x.shape[1] // self.heads
        for layer in self.layers:
            xq = self._q8(x)
            q, k, v = ((xq @ layer[name][0] + layer[name][1]).reshape(n, self.heads, dh).transpose(1, 0, 2)
                       for name in ("attn_q", "attn_k", "attn_v"))
            s = (q @ k.transpose(0, 2, 1)) * np.float32(1 / np.sqrt(dh))
            s = np.exp(s - s.max(axis=-1, keepdims=True))
            a = ((s / s.sum(axis=-1, keepdims=True)) @ v).transpose(1, 0, 2).reshape(n, -1)
            x = self._norm(self._q8(a) @ layer["attn_output"][0] + layer["attn_output"][1] + x, layer["attn_output_norm"])
            h = self._gelu(self._q8(x) @ layer["ffn_up"][0] + layer["ffn_up"][1])
            x = self._norm(self._q8(h) @ layer["ffn_down"][0] + layer["ffn_down"][1] + x, layer["layer_output_norm"])
        return x.mean(axis=0)


def llama_embed(embedder: Any) -> Callable[[Sequence[str]], np.ndarray]:
    """The router's embedding before: ``Llama.embed`` one text at a time, on ``embedder``'s own context."""
    from tara_router.semantic import normalise

    return lambda texts: normalise(np.asarray([embedder._llm.embed(t or " ", truncate=True) for t in texts],  # noqa: SLF001
                                              dtype=np.float32))


def numpy_embed(model: NumpyBert, embedder: Any) -> Callable[[Sequence[str]], np.ndarray]:
    from tara_router.semantic import normalise

    def embed(texts: Sequence[str]) -> np.ndarray:
        return normalise(np.stack([model.forward(embedder._llm.tokenize((t or " ").encode())[:embedder.context])  # noqa: SLF001
                                   for t in texts]))

    return embed


def interleaved(timers: dict[str, Timer], items: Sequence[Any], repeats: int) -> dict[str, list[float]]:
    """µs per call of each timer on each item, the timers taking turns item by item (the first one
    rotates) so that load from other processes falls on all of them alike."""
    names = list(timers)
    out: dict[str, list[float]] = {n: [] for n in names}
    for r in range(repeats):
        for i, item in enumerate(items):
            shift = (i + r) % len(names)
            for name in names[shift:] + names[:shift]:
                start = time.perf_counter()
                timers[name](item)
                out[name].append((time.perf_counter() - start) * 1e6)
    return out


def percentiles(values: Sequence[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {f"p{q}": round(ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))], 1) for q in (50, 95)}


def summary(timings: dict[str, list[float]]) -> dict[str, dict[str, float]]:
    """p50 and p95 per implementation, each with its ratio to the baseline's (same run)."""
    stats = {name: percentiles(values) for name, values in timings.items()}
    base = stats[BASELINE]
    return {name: {**s, **{f"{k}Ratio": round(v / base[k], 3) for k, v in s.items()}} for name, s in stats.items()}


def python_overhead(embedder: Any, text: str, calls: int = 2000) -> dict[str, float]:
    """µs per text each llama.cpp path spends around the forward pass (tokenizing, filling the batch,
    reading the vector back, normalising): the same calls with ``llama_decode`` made a no-op, which
    leaves the vector of the last real decode in llama.cpp's buffer. Interleaved; p50."""
    from types import SimpleNamespace

    embed_before, ctx = llama_embed(embedder), embedder._llm._ctx  # noqa: SLF001
    lib = embedder._lib  # noqa: SLF001
    embedder.embed([text])
    ctx.decode, embedder._lib = (lambda batch: None), SimpleNamespace(  # noqa: SLF001
        llama_decode=lambda c, b: 0, llama_get_embeddings_seq=lib.llama_get_embeddings_seq)
    try:
        timings = interleaved({BASELINE: lambda t: embed_before([t]), "Embedder": lambda t: embedder.embed([t])}, [text] * calls, 1)
    finally:
        del ctx.decode
        embedder._lib = lib  # noqa: SLF001
    return {name: percentiles(values)["p50"] for name, values in timings.items()}


def decision_view(decision: Any, reading: Any) -> tuple[Any, ...]:
    """What a decision sends on: the domain, why, the crisis and care signals and the dominant emotion."""
    return decision.domain, decision.reason, reading.crisis, reading.care, reading.dominant


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200)
    parser.add_argument("--threads", type=int, default=2, help="llama.cpp threads (semantic.threads; the default is 2)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--numpy", action="store_true", help="also time the numpy forward pass (embedding only)")
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "results" / "embed.json")
    parser.add_argument("--work", type=Path, default=Path("/tmp/tara-bench-embed"),
                        help="where the index is written; one already there is reused (delete it after changing the build)")
    args = parser.parse_args(argv)

    from tara_router.app import Router
    from tara_router.semantic import Embedder
    from tara_router.settings import RouterSettings

    rows = br.load()[:args.rows]
    tc, gguf = br.embedder()
    work = args.work
    if not (work / "index.npz").is_file():
        work.mkdir(parents=True, exist_ok=True)
        br.write_index(tc, gguf, br.domain_utterances(), work / "index.npz")
    embedder = Embedder(gguf, threads=args.threads)
    embeds: dict[str, Callable[[Sequence[str]], np.ndarray]] = {BASELINE: llama_embed(embedder), "Embedder": embedder.embed}
    config = br.operator_config(br.DOMAINS, {"index": str(work / "index.npz"), "model": str(gguf)})
    routers = {name: Router(config, RouterSettings(cache_size=4096), embed=fn) for name, fn in embeds.items()}
    texts = [Router.query_text(br.turns(r)) for r in rows]
    tokens = sorted(len(embedder._llm.tokenize(t.encode())) for t in texts)  # noqa: SLF001
    print(f"{len(rows)} requests, routed text p50 {tokens[len(tokens) // 2]} tokens; llama.cpp threads {args.threads}")

    same = [decision_view(*routers[BASELINE].decide("tara-auto", br.turns(r))) == decision_view(*routers["Embedder"].decide("tara-auto", br.turns(r)))
            for r in rows]
    vectors_equal = bool(np.array_equal(embeds[BASELINE](texts), embeds["Embedder"](texts)))
    print(f"identical decisions: {sum(same)}/{len(same)}; identical vectors: {vectors_equal}")

    embed_timers: dict[str, Timer] = {name: (lambda t, fn=fn: fn([t])) for name, fn in embeds.items()}
    numpy_cosine = None
    if args.numpy:
        embed_numpy = numpy_embed(NumpyBert(gguf), embedder)
        embed_timers["numpy"] = lambda t: embed_numpy([t])
        ours, theirs = embed_numpy(texts), embeds[BASELINE](texts)
        numpy_cosine = round(float(np.min(np.sum(ours * theirs, axis=1))), 6)
        print(f"numpy forward: lowest cosine to llama.cpp's vectors {numpy_cosine}")

    def uncached(router: Any) -> Timer:
        return lambda r: (router.cache.clear(), router.view_cache.clear(), router.decide("tara-auto", br.turns(r)))

    results = {
        "embedding": summary(interleaved(embed_timers, texts, args.repeats)),
        "uncachedDecision": summary(interleaved({n: uncached(r) for n, r in routers.items()}, rows, args.repeats)),
    }
    given = [routers["Embedder"].embed_request(br.turns(r)) for r in rows]
    scoring = interleaved({"decision given the vectors": lambda i: (routers["Embedder"].cache.clear(), routers["Embedder"].decide(
        "tara-auto", br.turns(rows[i]), *given[i]))}, range(len(rows)), args.repeats)
    results["decisionWithoutEmbedding"] = {name: percentiles(v) for name, v in scoring.items()}
    for router in routers.values():  # fill the caches: the uncached timings above leave one decision in each
        for row in rows:
            router.decide("tara-auto", br.turns(row))
    results["cachedDecision"] = summary(interleaved({n: (lambda row, r=r: r.decide("tara-auto", br.turns(row))) for n, r in routers.items()},
                                                    rows, args.repeats))
    overhead = python_overhead(embedder, texts[len(texts) // 2])
    print(f"Python around the forward pass, µs per text (p50): {overhead}")
    for part, stats in results.items():
        print(f"\n{part} (µs)")
        for name, s in stats.items():
            ratios = f"   ratio p50 {s['p50Ratio']:.3f}  p95 {s['p95Ratio']:.3f}" if "p50Ratio" in s else ""
            print(f"  {name:12s} p50 {s['p50']:9.1f}  p95 {s['p95']:9.1f}{ratios}")

    import llama_cpp  # after Embedder: it points the bindings at the cached libllama
    from common import write_result

    write_result(args.output, {
        "benchmark": "embed",
        "requests": len(rows), "repeats": args.repeats, "threads": args.threads,
        "routedTokensP50": tokens[len(tokens) // 2],
        "identicalDecisions": f"{sum(same)}/{len(same)}", "identicalVectors": vectors_equal,
        "numpyLowestCosine": numpy_cosine,
        "microseconds": results,
        "pythonOverheadMicroseconds": overhead,
        "loadAverage": [round(x, 2) for x in os.getloadavg()],
        "versions": {"python": platform.python_version(), "llama-cpp-python": llama_cpp.__version__, "numpy": np.__version__},
    })


if __name__ == "__main__":
    main()
