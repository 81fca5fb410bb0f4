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

Side by side on the same embeddings: a nearest-centroid baseline, and semantic-router (the anchor
library, pinned below) given the shipped index's domain vectors; it is installed once into its own
virtual environment under ``~/.cache/tara/bench-venvs`` and runs ``semantic_router_baseline.py``
there, so its dependencies never touch the project's (left out, with the reason printed, where it
cannot be installed).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as tara-router sets it (see tara_router.main)
ROOT = Path(__file__).resolve().parents[1]
for sub in ("api", "router", "operator", "trainer_image"):
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


def summarise(results: Sequence[dict[str, Any]], labels: Sequence[str] = LABELS) -> dict[str, Any]:
    """Figures for one half: ``results`` rows carry ``label``, ``predicted``, ``register``, ``reason``."""
    n = len(results)
    matrix = confusion(((r["label"], r["predicted"]) for r in results), labels)
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


def operator_config(domains: Sequence[str] = DOMAINS, semantic: dict[str, str] | None = None) -> Any:
    """The RouterConfig the operator renders for a phase serving ``domains``; ``semantic`` replaces
    the index and model paths (the operator's point into the build volume), None drops them."""
    from tara_api import GGUFPhase
    from tara_operator.render.phase import router_config
    from tara_router.config import RouterConfig

    phase = GGUFPhase.model_validate({
        "apiVersion": "tara.dev/v1alpha1", "kind": "GGUFPhase", "metadata": {"name": "phase-1", "namespace": "ml"},
        "spec": {"phaseNumber": 1, "domains": [{"domain": d} for d in domains]}})
    raw = router_config(phase, revision=1)
    raw.pop("semantic", None)
    if semantic is not None:
        raw["semantic"] = semantic
    return RouterConfig.model_validate(raw)


def route_all(rows: Sequence[dict[str, Any]], router: Any = None) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Decide every row as the sidecar would for ``tara-auto`` (default: the keyword + TF-IDF router
    of the operator's config); returns per-row results and the config used."""
    from tara_router.app import Router
    from tara_router.settings import RouterSettings

    if router is None:
        router = Router(operator_config(), RouterSettings(cache_size=0))
    results = []
    for row in rows:
        decision, _reading = router.decide("tara-auto", turns(row))
        results.append({"id": row["id"], "label": row["label"], "register": row["register"], "split": row["split"],
                        "predicted": decision.domain or NONE, "reason": decision.reason,
                        "confidence": round(decision.confidence, 4)})
    return results, router.config.model_dump(mode="json", by_alias=True, exclude_none=True)


# -- semantic routing: the index the phase build ships, made by the build's own code --------------
def embedder() -> tuple[Any, Path]:
    """The llama.cpp toolchain and the routing encoder's GGUF (fine-tuned and converted once into the
    cache, as builds do)."""
    from tara_trainer.export.encoder import routing_encoder
    from tara_trainer.llamacpp import ensure_toolchain
    from tara_trainer.settings import TrainerSettings

    settings = TrainerSettings.from_env()
    tc = ensure_toolchain(settings.cache_dir, build=False)
    return tc, routing_encoder(tc, settings.cache_dir).gguf


def chat_utterances(path: Path) -> list[str]:
    """A chat dataset's user turns, as the trainer saves them with an adapter."""
    from tara_trainer.dataset import load_examples, routing_utterances

    examples, _report = load_examples(path, "auto")
    return routing_utterances(examples)


def domain_utterances(custom: dict[str, Path] | None = None) -> dict[str, list[str]]:
    """Every domain's utterances as a build collects them: the bundled training rows' user turns plus
    the scope utterances for the built-in five; a custom domain's own training rows alone."""
    from tara_trainer.export import routing
    from tara_trainer.sources import builtin_dataset_path

    scope = routing.scope_utterances()
    out = {d: chat_utterances(builtin_dataset_path(d)) + scope.get(d, []) for d in DOMAINS}
    for name, path in (custom or {}).items():
        out[name] = chat_utterances(path)
    return out


def write_index(tc: Any, gguf: Path, utterances: dict[str, list[str]], out: Path) -> dict[str, int]:
    """The routing index for ``utterances`` (the build's functions, its scoring parameters, the
    encoder's crisis and emotion heads)."""
    from tara_trainer.export import routing
    from tara_trainer.export.encoder import RoutingEncoder

    encoder = RoutingEncoder.load(gguf.parent)
    embed = routing.load_embedder(tc, gguf, threads=2)
    vectors, owner, counts = routing.build_index_arrays(embed, utterances, routing.background_utterances())
    routing.write_index(out, list(utterances), vectors, owner, routing.model_identity(gguf),
                        crisis=encoder.crisis, emotion=encoder.emotion)
    return counts


def semantic_router(index: Path, gguf: Path, domains: Sequence[str] = DOMAINS, cache_size: int = 0) -> Any:
    from tara_router.app import Router
    from tara_router.settings import RouterSettings

    return Router(operator_config(domains, {"index": str(index), "model": str(gguf)}), RouterSettings(cache_size=cache_size))


def shipped_router(work: Path) -> Any:
    """The five-domain router as a phase build would ship it: index written under ``work``."""
    work.mkdir(parents=True, exist_ok=True)
    tc, gguf = embedder()
    write_index(tc, gguf, domain_utterances(), work / "index.npz")
    return semantic_router(work / "index.npz", gguf)


def calibrate(sets: Sequence[tuple[Any, Sequence[dict[str, Any]]]]) -> dict[str, Any]:
    """Search k, threshold and margin on the **tune** halves only (of each (router, rows) set: the
    five domains, and the five plus two custom ones), maximising their mean accuracy. A threshold is
    judged with its neighbours (±0.02) so the choice sits on a plateau, not on one lucky point.
    The shipped defaults (``tara_trainer.export.routing.RoutingParams``) are what this prints."""
    prepared = []
    for router, rows in sets:
        tune = [r for r in rows if r["split"] == "tune"]
        prepared.append((router.semantic, tune, [router.embed_query(turns(r)) for r in tune]))
    steps = list(range(10, 46))
    best: tuple[float, float, int, float, float] | None = None
    for k in (3, 5, 8):
        for margin in (-0.05, 0.0, 0.02, 0.05, 1.0):
            accuracy = []
            for step in steps:
                per_set = []
                for base, tune, vectors in prepared:
                    index = base.with_params(k=k, threshold=step / 100, margin=margin)
                    ok = 0
                    for row, v in zip(tune, vectors, strict=True):
                        s = index.score(v)
                        ok += (s.best if s.confident else NONE) == row["label"]
                    per_set.append(ok / len(tune))
                accuracy.append(sum(per_set) / len(per_set))
            for i, step in enumerate(steps):
                window = accuracy[max(0, i - 2): i + 3]
                candidate = (sum(window) / len(window), accuracy[i], k, margin, step / 100)
                if best is None or candidate[:2] > best[:2]:
                    best = candidate
    assert best is not None
    return {"smoothedTuneAccuracy": round(best[0], 4), "tuneAccuracy": round(best[1], 4), "k": best[2],
            "margin": best[3], "threshold": best[4]}


def centroid_results(router: Any, rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Baseline on the same embeddings: each domain is the centroid of its utterances, nearest wins,
    a threshold calibrated on the tune half decides fallback (no background, no k-nearest)."""
    import numpy as np

    index = router.semantic
    centroids = np.stack([index.vectors[index.owner == i].mean(axis=0) for i in range(len(index.domains))])
    centroids /= np.linalg.norm(centroids, axis=1, keepdims=True)
    sims = [centroids @ router.embed_query(turns(r)) for r in rows]
    tune = [(r, s) for r, s in zip(rows, sims, strict=True) if r["split"] == "tune"]

    def accuracy(pairs: Any, threshold: float) -> float:
        return sum((index.domains[int(s.argmax())] if s.max() >= threshold else NONE) == r["label"] for r, s in pairs) / len(pairs)

    threshold = max((accuracy(tune, t / 100), t / 100) for t in range(0, 60))[1]
    return [{"id": r["id"], "label": r["label"], "register": r["register"], "split": r["split"],
             "predicted": index.domains[int(s.argmax())] if s.max() >= threshold else NONE,
             "reason": "centroid", "confidence": round(float(s.max()), 4), "threshold": threshold}
            for r, s in zip(rows, sims, strict=True)]


# -- semantic-router (the anchor library), in its own cached venv, on the same vectors ---------------
SEMANTIC_ROUTER = "1.1.1"
SEMANTIC_ROUTER_WHAT = (f"semantic-router {SEMANTIC_ROUTER} IndexedRouter + LocalIndex (top_k 5, mean), same embeddings, "
                        "threshold fitted on the tune half")


def semantic_router_python() -> Path:
    """semantic-router installed once into its own venv under ``~/.cache/tara`` (never the project's)."""
    venv = Path.home() / ".cache" / "tara" / "bench-venvs" / f"semantic-router-{SEMANTIC_ROUTER}"
    python = venv / "bin" / "python"
    if not (venv / ".installed").is_file():
        print(f"installing semantic-router=={SEMANTIC_ROUTER} into {venv} (once)", flush=True)
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True, text=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", f"semantic-router=={SEMANTIC_ROUTER}"],
                       check=True, capture_output=True, text=True, timeout=1200)
        (venv / ".installed").write_text(SEMANTIC_ROUTER)
    return python


def index_texts(utterances: dict[str, list[str]]) -> list[str]:
    """The domain rows' texts in index order (deduplicated as ``build_index_arrays`` does)."""
    return [t for rows in utterances.values() for t in dict.fromkeys(t.strip() for t in rows if t and t.strip())]


def semantic_router_results(router: Any, utterances: dict[str, list[str]], rows: Sequence[dict[str, Any]],
                            work: Path) -> tuple[list[dict[str, Any]], dict[str, Any]] | None:
    """semantic-router's ``IndexedRouter`` given the shipped index's domain vectors (no background
    route) and every query's vector, threshold fitted on the tune half
    (``benchmarks/semantic_router_baseline.py``, run in its own venv). None, with the reason printed,
    where the venv cannot be made (no network) or the script fails."""
    import numpy as np

    index = router.semantic
    texts = index_texts(utterances)
    domain_rows = np.flatnonzero(index.owner >= 0)
    if len(texts) != len(domain_rows):
        raise RuntimeError(f"{len(texts)} domain texts for {len(domain_rows)} domain rows in the index")
    queries = [{"id": r["id"], "text": router.query_text(turns(r)), "label": r["label"], "split": r["split"]} for r in rows]
    (work / "semantic-router-input.json").write_text(json.dumps({
        "domains": list(index.domains),
        "utterances": [{"text": t, "domain": index.domains[int(index.owner[i])]} for t, i in zip(texts, domain_rows, strict=True)],
        "queries": queries}), encoding="utf-8")
    np.savez(work / "semantic-router-vectors.npz", utterances=index.vectors[domain_rows].astype(np.float32),
             queries=np.stack([router.embed_query(turns(r)) for r in rows]).astype(np.float32))
    try:
        python = semantic_router_python()
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
        detail = (getattr(exc, "stderr", None) or str(exc)).strip().splitlines()[-3:]
        print(f"semantic-router left out: could not install it into its venv ({' / '.join(detail)})")
        return None
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", PYTHONPATH="")
    try:
        done = subprocess.run([str(python), str(ROOT / "benchmarks" / "semantic_router_baseline.py"), str(work)], env=env,
                              cwd=work, capture_output=True, text=True, timeout=1200)
    except subprocess.TimeoutExpired:
        print("semantic-router left out: its script ran past 20 minutes")
        return None
    if done.returncode != 0:
        print(f"semantic-router left out: its script failed ({done.returncode}):\n{done.stderr[-2000:]}")
        return None
    print(done.stdout.strip())
    out = json.loads((work / "semantic-router-output.json").read_text(encoding="utf-8"))
    predicted = {p["id"]: p for p in out.pop("predictions")}
    results = [{"id": r["id"], "label": r["label"], "register": r["register"], "split": r["split"],
                "predicted": predicted[r["id"]]["predicted"], "reason": "semantic-router",
                "confidence": predicted[r["id"]]["confidence"], "threshold": out["threshold"]} for r in rows]
    out["disagreementsWithScan"] = sum(not p["agreesWithScan"] for p in predicted.values())
    return results, out


def latency(router: Any, rows: Sequence[dict[str, Any]]) -> dict[str, float]:
    """Decision time in µs (p50, p95): uncached (embedding included), and cached."""
    import statistics

    def timed(fn: Any) -> list[float]:
        out = []
        for row in rows:
            t = time.perf_counter()
            fn(row)
            out.append((time.perf_counter() - t) * 1e6)
        return sorted(out)

    def p(values: list[float], q: float) -> float:
        return round(values[min(len(values) - 1, int(q * len(values)))], 1)

    router.cache.clear()
    saved = router.settings
    uncached = timed(lambda r: (router.cache.clear(), router.view_cache.clear(), router.decide("tara-auto", turns(r))))
    embed = timed(lambda r: router.embed_query(turns(r))) if router.semantic is not None else []
    for r in rows:
        router.decide("tara-auto", turns(r))
    cached = timed(lambda r: router.decide("tara-auto", turns(r)))
    del saved
    out = {"uncachedP50": p(uncached, 0.5), "uncachedP95": p(uncached, 0.95), "cachedP50": p(cached, 0.5),
           "cachedP95": p(cached, 0.95), "meanUncached": round(statistics.fmean(uncached), 1)}
    if embed:
        out.update(embedP50=p(embed, 0.5), embedP95=p(embed, 0.95))
    return out


def confusion_svg(matrix: dict[str, dict[str, int]], title: str) -> str:
    """The confusion matrix as a small SVG heat map (rows expected, columns predicted)."""
    labels = list(matrix)
    cell, left, top = 64, 110, 70
    size_w, size_h = left + cell * len(labels) + 20, top + cell * len(labels) + 20
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{size_w}" height="{size_h}" font-family="sans-serif" font-size="12">',
             f'<text x="{left}" y="20" font-size="14" font-weight="bold">{title}</text>',
             f'<text x="{left}" y="40" fill="#555">columns: predicted · rows: expected</text>']
    for j, lbl in enumerate(labels):
        parts.append(f'<text x="{left + j * cell + cell / 2}" y="{top - 8}" text-anchor="middle">{lbl[:10]}</text>')
    for i, exp in enumerate(labels):
        total = sum(matrix[exp].values()) or 1
        parts.append(f'<text x="{left - 8}" y="{top + i * cell + cell / 2 + 4}" text-anchor="end">{exp}</text>')
        for j, pred in enumerate(labels):
            n = matrix[exp][pred]
            share = n / total
            colour = f"rgb({int(255 - 200 * share)},{int(255 - 120 * share)},{255})" if i == j else \
                f"rgb(255,{int(255 - 180 * share)},{int(255 - 180 * share)})"
            parts.append(f'<rect x="{left + j * cell}" y="{top + i * cell}" width="{cell}" height="{cell}" fill="{colour}" stroke="#ccc"/>')
            parts.append(f'<text x="{left + j * cell + cell / 2}" y="{top + i * cell + cell / 2 + 4}" text-anchor="middle">{n}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _fmt(x: float | None) -> str:
    return "  -  " if x is None else f"{x:.3f}"


def print_half(name: str, s: dict[str, Any]) -> None:
    labels = list(s["confusion"])
    print(f"\n== {name}: n={s['n']}  accuracy {_fmt(s['accuracy'])}  fallback rate {_fmt(s['fallbackRate'])}")
    print(f"{'label':<11} {'precision':>9} {'recall':>7} {'support':>7}   confusion (rows expected, columns predicted)")
    print(f"{'':<11} {'':>9} {'':>7} {'':>7}   " + " ".join(f"{lbl[:6]:>6}" for lbl in labels))
    for label in labels:
        m = s["perLabel"][label]
        cells = " ".join(f"{s['confusion'][label][p]:>6}" for p in labels)
        print(f"{label:<11} {_fmt(m['precision']):>9} {_fmt(m['recall']):>7} {m['support']:>7}   {cells}")
    print("accuracy by register: " + ", ".join(f"{k} {v:.2f}" for k, v in s["accuracyByRegister"].items()))
    print("decisions by reason: " + ", ".join(f"{k} {v}" for k, v in sorted(s["reasons"].items())))


CUSTOM = ROOT / "tests" / "data" / "custom_domains"
CUSTOM_DOMAINS = ("legal", "cooking")


def scorer_halves(results: Sequence[dict[str, Any]], labels: Sequence[str] = LABELS) -> dict[str, Any]:
    return {split: summarise([r for r in results if r["split"] == split], labels) for split in SPLITS}


def custom_router(tc: Any, gguf: Path, work: Path) -> tuple[Any, dict[str, int]]:
    """A router for the five built-in domains plus two custom ones (``legal``, ``cooking``) known
    from their training data alone."""
    index = work / "custom-index.npz"
    counts = write_index(tc, gguf, domain_utterances({d: CUSTOM / f"{d}.jsonl" for d in CUSTOM_DOMAINS}), index)
    return semantic_router(index, gguf, (*DOMAINS, *CUSTOM_DOMAINS)), counts


def custom_check(router: Any, counts: dict[str, int], rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The custom-domain router on ``tests/data/custom_domains/eval.jsonl``."""
    results, _config = route_all(rows, router)
    halves = scorer_halves(results, (*DOMAINS, *CUSTOM_DOMAINS, NONE))
    return {"data": str((CUSTOM / "eval.jsonl").relative_to(ROOT)), "utterances": counts, "halves": halves,
            "misses": [r for r in results if r["label"] != r["predicted"]]}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "results" / "routing.json")
    parser.add_argument("--picture", type=Path, default=ROOT / "docs" / "img" / "routing-confusion.svg")
    parser.add_argument("--work", type=Path, default=Path("/tmp/tara-bench-routing"))
    args = parser.parse_args(argv)

    import pydantic
    from common import write_result

    rows = load(args.data)
    args.work.mkdir(parents=True, exist_ok=True)
    tc, gguf = embedder()
    index = args.work / "index.npz"
    start = time.perf_counter()
    utterances = domain_utterances()
    counts = write_index(tc, gguf, utterances, index)
    index_seconds = time.perf_counter() - start
    print(f"routing index: {counts} in {index_seconds:.1f} s")

    scorers: dict[str, dict[str, Any]] = {}
    results, keyword_config = route_all(rows)
    scorers["keywords"] = {"what": "keyword + TF-IDF profiles (the router without a routing index)", "results": results}
    from tara_router.app import Router
    from tara_router.settings import RouterSettings

    router = semantic_router(index, gguf)
    results, semantic_config = route_all(rows, router)
    scorers["semantic"] = {"what": "TARA: k-nearest utterances + background, all-MiniLM-L6-v2 Q8_0 in llama.cpp "
                                   "(the shipped parameters)", "results": results}
    scorers["centroid"] = {"what": "nearest centroid on the same embeddings, threshold calibrated on the tune half",
                           "results": centroid_results(router, rows)}
    anchor = semantic_router_results(router, utterances, rows, args.work)
    if anchor is not None:
        scorers["semantic-router"] = {"what": SEMANTIC_ROUTER_WHAT, "results": anchor[0], "details": anchor[1]}
    custom, custom_counts = custom_router(tc, gguf, args.work)
    custom_rows = load(CUSTOM / "eval.jsonl")
    calibration = calibrate([(router, rows), (custom, custom_rows)])
    print(f"calibration on the tune half: {calibration}")
    for name, entry in scorers.items():
        entry["halves"] = scorer_halves(entry["results"])
        for split in SPLITS:
            print_half(f"{name} / {split}", entry["halves"][split])
    timings = {"keywords": latency(Router(operator_config(), RouterSettings(cache_size=1024)), rows[:200]),
               "semantic": latency(semantic_router(index, gguf, cache_size=1024), rows[:200])}
    print(f"\ndecision latency (µs): {timings}")
    custom = custom_check(custom, custom_counts, custom_rows)
    print_half("custom domains (legal, cooking + the five) / report", custom["halves"]["report"])

    args.picture.parent.mkdir(parents=True, exist_ok=True)
    args.picture.write_text(confusion_svg(scorers["semantic"]["halves"]["report"]["confusion"],
                                          "tara-auto on the reporting half (semantic routing)"), encoding="utf-8")
    print(f"confusion matrix picture: {args.picture}")
    write_result(args.output, {
        "benchmark": "routing",
        "data": str(args.data.relative_to(ROOT)) if args.data.is_relative_to(ROOT) else str(args.data),
        "rows": len(rows),
        "summary": {name: {split: {"accuracy": e["halves"][split]["accuracy"], "fallbackRate": e["halves"][split]["fallbackRate"]}
                           for split in SPLITS} for name, e in scorers.items()},
        "scorers": {name: {"what": e["what"], "halves": e["halves"],
                           "misses": [r for r in e["results"] if r["label"] != r["predicted"] and r["split"] == "report"],
                           **({"details": e["details"]} if "details" in e else {})}
                    for name, e in scorers.items()},
        "calibration": calibration,
        "index": {"utterances": counts, "seconds": round(index_seconds, 2), "model": router.semantic.model},
        "latencyMicroseconds": timings,
        "customDomains": custom,
        "configs": {"keywords": keyword_config, "semantic": semantic_config},
        "versions": {"python": platform.python_version(), "pydantic": pydantic.VERSION},
    })


if __name__ == "__main__":
    main()
