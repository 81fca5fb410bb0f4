"""semantic-router (the anchor library) on the routing eval set, run inside its own virtual environment.

    python semantic_router_baseline.py WORK_DIR

Not project code and imports none of it (stdlib, numpy and ``semantic_router`` only):
``benchmarks/bench_routing.py`` installs ``semantic-router`` into a cached venv and runs this file
there. It reads ``WORK_DIR/semantic-router-input.json`` (the domains' utterances and every query's
text, label and split) and ``WORK_DIR/semantic-router-vectors.npz`` (their unit vectors from the
same embedder the shipped scorer uses), builds an ``IndexedRouter`` over a ``LocalIndex`` with one
``Route`` per domain (no background route: the domains only, as a user of the library would) and an
encoder that looks each text's vector up instead of embedding it, fits the one
``confidence_threshold`` that maximises accuracy on the tune half (0.10..0.60, step 0.01; a query
whose best route misses it counts as ``none``), routes every query with it and writes
``WORK_DIR/semantic-router-output.json``.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import semantic_router
from pydantic import PrivateAttr
from semantic_router import IndexedRouter, Route
from semantic_router.encoders import DenseEncoder
from semantic_router.index import LocalIndex

NONE = "none"
TOP_K = 5
AGGREGATION = "mean"
THRESHOLDS = [t / 100 for t in range(10, 61)]


class LookupEncoder(DenseEncoder):
    """A dense encoder that returns precomputed vectors by text (raises on a text it was not given)."""

    _table: dict[str, np.ndarray] = PrivateAttr(default_factory=dict)

    def __init__(self, table: dict[str, np.ndarray], **data: Any) -> None:
        super().__init__(name="tara-minilm-l6-v2-q8_0-lookup", **data)
        self._table = table

    def __call__(self, docs: list[Any]) -> list[np.ndarray]:
        return [self._table[str(d)] for d in docs]


def main(work: Path) -> None:
    spec = json.loads((work / "semantic-router-input.json").read_text(encoding="utf-8"))
    arrays = np.load(work / "semantic-router-vectors.npz")
    utterances, queries = spec["utterances"], spec["queries"]
    table: dict[str, np.ndarray] = {}
    for text, vector in zip((u["text"] for u in utterances), arrays["utterances"], strict=True):
        table[text] = vector
    for text, vector in zip((q["text"] for q in queries), arrays["queries"], strict=True):
        table.setdefault(text, vector)  # a query that is also an utterance: same embedder, same text

    routes = [Route(name=d, utterances=[u["text"] for u in utterances if u["domain"] == d]) for d in spec["domains"]]
    start = time.perf_counter()
    router = IndexedRouter(encoder=LookupEncoder(table), routes=routes, index=LocalIndex(), top_k=TOP_K,
                           aggregation=AGGREGATION, confidence_threshold=None)
    build_seconds = time.perf_counter() - start

    # every route's score for every query, once (a per-call threshold of 0 lets every route through)
    best: list[tuple[str, float]] = []
    for q in queries:
        choices = router(q["text"], limit=None, threshold=0.0)
        top = max(choices, key=lambda c: c.confidence) if choices else None
        best.append((top.name, float(top.confidence)) if top is not None else (NONE, 0.0))
    tune = [(q, b) for q, b in zip(queries, best, strict=True) if q["split"] == "tune"]

    def accuracy(pairs: list[tuple[dict[str, Any], tuple[str, float]]], threshold: float) -> float:
        return sum((name if score >= threshold else NONE) == q["label"] for q, (name, score) in pairs) / len(pairs)

    scan = {f"{t:.2f}": round(accuracy(tune, t), 4) for t in THRESHOLDS}
    threshold = max((accuracy(tune, t), t) for t in THRESHOLDS)[1]  # ties: the higher threshold

    # the fitted threshold on the router itself, and the plain call a user makes
    router.confidence_threshold = threshold
    predictions, micros = [], []
    for q, (name, score) in zip(queries, best, strict=True):
        t = time.perf_counter()
        choice = router(q["text"])
        micros.append((time.perf_counter() - t) * 1e6)
        predicted = choice.name or NONE
        predictions.append({"id": q["id"], "predicted": predicted, "confidence": round(score, 4),
                            "route": name, "agreesWithScan": predicted == (name if score >= threshold else NONE)})
    micros.sort()
    out = {
        "version": semantic_router.__version__, "numpy": np.__version__,
        "router": {"class": type(router).__name__, "index": type(router.index).__name__, "topK": TOP_K,
                   "aggregation": AGGREGATION, "routes": {r.name: len(r.utterances) for r in routes}},
        "threshold": threshold, "tuneAccuracy": round(accuracy(tune, threshold), 4), "scan": scan,
        "buildSeconds": round(build_seconds, 3),
        "callMicroseconds": {"p50": round(micros[len(micros) // 2], 1),
                             "p95": round(micros[min(len(micros) - 1, int(0.95 * len(micros)))], 1)},
        "predictions": predictions,
    }
    (work / "semantic-router-output.json").write_text(json.dumps(out, indent=1), encoding="utf-8")
    print(f"semantic-router {out['version']}: threshold {threshold:.2f}, tune accuracy {out['tuneAccuracy']:.3f}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
