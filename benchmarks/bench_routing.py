"""Routing benchmark: how often ``tara-auto`` reaches the right domain on text nobody tuned it to.

    python benchmarks/bench_routing.py [--data tests/data/routing_eval.jsonl]
                                       [--output benchmarks/results/routing.json]

Every query of ``tests/data/routing_eval.jsonl`` (labelled by hand, written without reading the
router's profiles; see tests/data/README.md) goes through ``Router.decide`` with the routing config
the operator renders for a phase serving the five foundation domains
(``tara_operator.render.phase.router_config``), in process, no servers, cache off. A query whose
decision has no domain (the base model) counts as ``none``. Reported separately for the ``tune``
and ``report`` halves: accuracy, fallback rate, per-label precision and recall, the confusion
matrix, accuracy per register and how many decisions the crisis path took. Not a test: nothing
here asserts a figure; it is the baseline a new scorer is compared against.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
for sub in ("api", "router", "operator"):
    sys.path.insert(0, str(ROOT / sub))
sys.path.insert(0, str(ROOT / "benchmarks"))

DOMAINS = ("healthcare", "business", "education", "creative", "leadership")
NONE = "none"
LABELS = (*DOMAINS, NONE)
SPLITS = ("tune", "report")
DATA = ROOT / "tests" / "data" / "routing_eval.jsonl"


def load(path: Path = DATA) -> list[dict[str, Any]]:
    """The labelled rows, one JSON object a line."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def turns(row: dict[str, Any]) -> list[str]:
    """The user turns of a row: ``turns`` for multi-turn rows, else ``[text]``."""
    return list(row["turns"]) if "turns" in row else [row["text"]]


def confusion(pairs: Iterable[tuple[str, str]], labels: Sequence[str] = LABELS) -> dict[str, dict[str, int]]:
    """``matrix[expected][predicted]`` counts, every label present in both directions."""
    matrix = {e: dict.fromkeys(labels, 0) for e in labels}
    for expected, predicted in pairs:
        matrix[expected][predicted] += 1
    return matrix


def per_label(matrix: dict[str, dict[str, int]]) -> dict[str, dict[str, float | int | None]]:
    """Precision, recall and support per label; ``None`` where nothing was predicted (or expected)."""
    out: dict[str, dict[str, float | int | None]] = {}
    for label in matrix:
        tp = matrix[label][label]
        predicted = sum(row[label] for row in matrix.values())
        support = sum(matrix[label].values())
        out[label] = {"precision": tp / predicted if predicted else None,
                      "recall": tp / support if support else None, "support": support, "predicted": predicted}
    return out


def summarise(results: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Figures for one half: ``results`` rows carry ``label``, ``predicted``, ``register``, ``reason``."""
    n = len(results)
    matrix = confusion((r["label"], r["predicted"]) for r in results)
    registers: dict[str, list[bool]] = {}
    for r in results:
        registers.setdefault(r["register"], []).append(r["label"] == r["predicted"])
    return {
        "n": n,
        "accuracy": sum(r["label"] == r["predicted"] for r in results) / n if n else None,
        "fallbackRate": sum(r["predicted"] == NONE for r in results) / n if n else None,
        "perLabel": per_label(matrix),
        "confusion": matrix,
        "accuracyByRegister": {k: sum(v) / len(v) for k, v in sorted(registers.items())},
        "reasons": dict(Counter(r["reason"] for r in results)),
    }


def operator_config() -> Any:
    """The RouterConfig the operator renders for a phase serving the five foundation domains."""
    from tara_api import GGUFPhase
    from tara_operator.render.phase import router_config
    from tara_router.config import RouterConfig

    phase = GGUFPhase.model_validate({
        "apiVersion": "tara.dev/v1alpha1", "kind": "GGUFPhase", "metadata": {"name": "phase-1", "namespace": "ml"},
        "spec": {"phaseNumber": 1, "domains": [{"domain": d} for d in DOMAINS]}})
    return RouterConfig.model_validate(router_config(phase, revision=1))


def route_all(rows: Sequence[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Decide every row as the sidecar would for ``tara-auto``; returns per-row results and the config used."""
    from tara_router.app import Router
    from tara_router.settings import RouterSettings

    config = operator_config()
    router = Router(config, RouterSettings(cache_size=0))
    results = []
    for row in rows:
        decision, _reading = router.decide("tara-auto", turns(row))
        results.append({"id": row["id"], "label": row["label"], "register": row["register"], "split": row["split"],
                        "predicted": decision.domain or NONE, "reason": decision.reason,
                        "confidence": round(decision.confidence, 4)})
    return results, config.model_dump(mode="json", by_alias=True, exclude_none=True)


def _fmt(x: float | None) -> str:
    return "  -  " if x is None else f"{x:.3f}"


def print_half(name: str, s: dict[str, Any]) -> None:
    print(f"\n== {name}: n={s['n']}  accuracy {_fmt(s['accuracy'])}  fallback rate {_fmt(s['fallbackRate'])}")
    print(f"{'label':<11} {'precision':>9} {'recall':>7} {'support':>7}   confusion (rows expected, columns predicted)")
    print(f"{'':<11} {'':>9} {'':>7} {'':>7}   " + " ".join(f"{lbl[:6]:>6}" for lbl in LABELS))
    for label in LABELS:
        m = s["perLabel"][label]
        cells = " ".join(f"{s['confusion'][label][p]:>6}" for p in LABELS)
        print(f"{label:<11} {_fmt(m['precision']):>9} {_fmt(m['recall']):>7} {m['support']:>7}   {cells}")
    print("accuracy by register: " + ", ".join(f"{k} {v:.2f}" for k, v in s["accuracyByRegister"].items()))
    print("decisions by reason: " + ", ".join(f"{k} {v}" for k, v in sorted(s["reasons"].items())))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "results" / "routing.json")
    args = parser.parse_args(argv)

    import pydantic
    from common import write_result

    rows = load(args.data)
    start = time.perf_counter()
    results, config = route_all(rows)
    elapsed = time.perf_counter() - start
    halves = {split: summarise([r for r in results if r["split"] == split]) for split in SPLITS}
    for split in SPLITS:
        print_half(split, halves[split])
    print(f"\n{len(rows)} decisions in {elapsed:.2f} s ({elapsed / len(rows) * 1e6:.0f} µs each, uncached)")
    write_result(args.output, {
        "benchmark": "routing", "scorer": "keyword + TF-IDF profiles (current), no embeddings",
        "data": str(args.data.relative_to(ROOT)) if args.data.is_relative_to(ROOT) else str(args.data),
        "rows": len(rows), "config": config, "halves": halves,
        "misses": [r for r in results if r["label"] != r["predicted"]],
        "secondsTotal": round(elapsed, 3),
        "versions": {"python": platform.python_version(), "pydantic": pydantic.VERSION},
    })


if __name__ == "__main__":
    main()
