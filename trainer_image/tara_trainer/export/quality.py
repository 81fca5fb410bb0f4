"""The build's measured quality: perplexities, the gates read from them, and the type that serves.

``measure`` runs ``llama-perplexity`` on each domain's eval text: the F16 model and every
quantized type (each with the domain's LoRA for ``adapters``); for a merge also the base F16 with
the domain's own LoRA and the base alone, the yardstick of the merge gate. ``decide`` turns those
numbers, the files' sizes and the served model's attention shape (from its GGUF metadata) into
verdicts with ``plan``'s pure functions, and a failure message the user can act on. Nothing here
deletes, renames or raises for a failed gate: the build records the readings first, then acts.

``measure_serving`` loads the served type once per domain (with the domain's LoRA, or the merged
model once), each time in a fresh process (``serveprobe``), and records, per domain, its bytes
against the same files in F16 (the compression ratio), load time, time to a first token, decode
speed and the resident memory that process took for the model; ``performance_report``
compares them with the original design's serving targets (load under 5 s, a response under 1 s,
under 2 GB of memory for the small models). Those are reported, never gated: they were written for
the original's small models, and a spec sets its own limits with ``serving.targets``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tara_api.ggufphase import GGUFPhaseSpec
from tara_api.quant import QuantType
from tara_trainer.errors import ArtifactInvalid
from tara_trainer.export import plan, serveprobe, tools, verify
from tara_trainer.llamacpp import LlamaCpp

__all__ = ["ORIGIN_TARGETS", "Decision", "OriginTargets", "Perplexities", "compression_ratio", "decide", "kv_shape", "measure",
           "measure_serving", "performance_entry", "performance_report"]


@dataclass(frozen=True)
class Perplexities:
    """Perplexity per domain of each measured model (F16 = the served family: base + LoRA, or merged)."""

    context: int
    eval_tokens: Mapping[str, int]
    f16: Mapping[str, float]
    quantized: Mapping[QuantType, Mapping[str, float]]
    adapter: Mapping[str, float]  # a merge: base F16 + the domain's own LoRA; empty for adapters
    base: Mapping[str, float]  # a merge: base F16 alone; empty for adapters

    def of(self, quantization: str) -> Mapping[str, float]:
        return self.f16 if quantization == plan.F16 else self.quantized[QuantType(quantization)]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"context": self.context, "evalTokens": dict(self.eval_tokens), plan.F16: dict(self.f16),
                               **{q.value: dict(v) for q, v in self.quantized.items()}}
        if self.adapter:
            out["baseWithAdapter"], out["base"] = dict(self.adapter), dict(self.base)
        return out


def measure(tc: LlamaCpp, the_plan: plan.BuildPlan, files: Mapping[str, Path], eval_files: Mapping[str, Path],
            token_counts: Mapping[str, int], threads: int) -> Perplexities:
    """Every perplexity the gates need. Raises ArtifactInvalid when an eval text is too short."""
    shortest = min(token_counts.values())
    ctx = plan.perplexity_context(shortest)
    if ctx is None:
        short = min(token_counts, key=lambda d: token_counts[d])
        raise ArtifactInvalid(f"domain {short}: the eval text has {shortest} tokens; perplexity needs at least 128")
    loras = {a.domain: files[a.filename] for a in (*the_plan.loras(), *the_plan.references) if a.domain}

    def ppl(model_file: Path, domain: str, lora: Path | None) -> float:
        return tools.perplexity(tc, model_file, eval_files[domain], ctx, threads, lora=lora)

    served_loras = {a.domain: files[a.filename] for a in the_plan.loras()}
    by_type = {q: {d: ppl(files[the_plan.model(q).filename], d, served_loras.get(d)) for d in the_plan.domains}
               for q in (plan.F16, *[q.value for q in the_plan.quantizations])}
    adapter: dict[str, float] = {}
    base: dict[str, float] = {}
    if the_plan.references:
        base_f16 = files[next(a.filename for a in the_plan.references if a.domain is None)]
        adapter = {d: ppl(base_f16, d, loras[d]) for d in the_plan.domains}
        base = {d: ppl(base_f16, d, None) for d in the_plan.domains}
    return Perplexities(context=ctx, eval_tokens=dict(token_counts), f16=by_type.pop(plan.F16),
                        quantized={QuantType(q): v for q, v in by_type.items()}, adapter=adapter, base=base)


def kv_shape(model: Path) -> plan.KvShape:
    """The attention shape llama.cpp sizes its KV cache by, from the GGUF's metadata
    (``<arch>.block_count``, ``.attention.head_count_kv``, ``.attention.key_length``/``value_length``,
    which default to ``embedding_length / head_count``). Raises ArtifactInvalid when they are missing."""
    from gguf import GGUFReader

    fields = GGUFReader(str(model)).fields

    def value(key: str) -> Any:
        field = fields.get(key)
        return None if field is None else field.contents()

    arch = value("general.architecture")
    layers, heads = value(f"{arch}.block_count"), value(f"{arch}.attention.head_count")
    kv_heads, width = value(f"{arch}.attention.head_count_kv"), value(f"{arch}.embedding_length")
    if not layers or not heads or not width:
        raise ArtifactInvalid(f"{model.name}: no {arch}.block_count, attention.head_count or embedding_length in its metadata")
    per_layer = [int(h) for h in kv_heads] if isinstance(kv_heads, list) else [int(kv_heads or _first(heads))] * int(layers)
    head_size = int(width) // _first(heads)
    return plan.KvShape(tuple(per_layer), int(value(f"{arch}.attention.key_length") or head_size),
                        int(value(f"{arch}.attention.value_length") or head_size))


def _first(heads: Any) -> int:
    return int(heads[0]) if isinstance(heads, list) else int(heads)


@dataclass(frozen=True)
class Decision:
    """What the measured quality allows: the gates' readings and the type that serves."""

    gate: list[plan.GateVerdict]
    merge: list[plan.MergeVerdict]
    candidates: list[plan.Candidate]
    choice: plan.ServedChoice
    kv_cache_bytes: int
    failure: str | None  # why nothing may serve: the build fails with QualityGateFailed and this message

    @property
    def rejected(self) -> list[plan.GateVerdict]:
        """Types that failed the perplexity gate while another serves (auto): deleted, never served."""
        return [v for v in self.gate if not v.passed]

    def serving_report(self, spec: GGUFPhaseSpec) -> dict[str, Any]:
        """``checks.serving`` of the manifest: the targets, the memory formula's inputs, every candidate."""
        targets = spec.serving.targets
        return {
            "requested": spec.serving.quantization, "targets": targets.to_wire() if targets is not None else None,
            "contextSize": spec.serving.context_size, "kvCacheBytes": self.kv_cache_bytes,
            "memoryEstimate": "served files + F16 KV cache at serving.contextSize; compute buffers not counted",
            "candidates": [{"quantization": c.quantization.value, "bytes": c.bytes, "memoryBytes": c.memory,
                            "qualityLoss": round(c.verdict.increase, 6), "gatePassed": c.verdict.passed,
                            "misses": list(self.choice.misses[c.quantization])} for c in self.candidates],
        }

    def merge_report(self, spec: GGUFPhaseSpec) -> dict[str, Any] | None:
        """``checks.merge`` of the manifest: each domain's merged vs own-adapter perplexity (None for adapters)."""
        if not self.merge:
            return None
        return {"strategy": spec.merge.strategy.value, "maxMergeLoss": spec.quality_gate.max_merge_loss,
                "worstLoss": round(max(m.loss for m in self.merge), 6), "passed": all(m.passed for m in self.merge),
                "domains": [m.to_dict() for m in self.merge]}


def decide(spec: GGUFPhaseSpec, the_plan: plan.BuildPlan, ppl: Perplexities, files: Mapping[str, Path]) -> Decision:
    """Read the merge gate, the perplexity gate and serving.targets. ``failure`` names what failed
    first (the merge, then a requested type's gate, then the choice), the measured and allowed
    values, and what to change. Raises ArtifactInvalid when the model's metadata lacks its shape."""
    gate = plan.evaluate_gate(ppl.f16, ppl.quantized, spec.quality_gate.max_perplexity_increase)
    merge = (plan.evaluate_merge(the_plan.strategy, ppl.adapter, ppl.f16, ppl.base, spec.quality_gate.max_merge_loss)
             if ppl.adapter else [])
    lora_bytes = sum(files[a.filename].stat().st_size for a in the_plan.loras())
    kv = plan.kv_cache_bytes(kv_shape(files[the_plan.model(plan.F16).filename]), spec.serving.context_size)
    candidates = []
    for v in gate:
        size = files[the_plan.model(v.quantization.value).filename].stat().st_size + lora_bytes
        candidates.append(plan.Candidate(v, size, size + kv))
    requested = spec.serving.quantization
    choice = plan.choose_served(requested, the_plan.quantizations, candidates, spec.serving.targets)
    failed = [v for v in gate if not v.passed]
    failure = plan.merge_failure(merge)
    if failure is None and failed and requested != "auto":
        failure = "quality gate failed: " + "; ".join(v.describe() for v in failed)
    if failure is None and choice.quantization is None:
        failure = choice.reason
    return Decision(gate, merge, candidates, choice, kv, failure)


@dataclass(frozen=True)
class OriginTargets:
    """The original design's serving targets (../shared/ORIGIN.md, "Constraints and targets")."""

    load_seconds: float = 5.0
    first_token_seconds: float = 1.0  # "response under 1 s", read as the time to the first token
    memory_bytes: int = 2 * 10**9  # "under 2 GB RAM for the small models"

    def to_dict(self) -> dict[str, Any]:
        return {"loadSeconds": self.load_seconds, "firstTokenSeconds": self.first_token_seconds, "memoryBytes": self.memory_bytes}


ORIGIN_TARGETS = OriginTargets()


def compression_ratio(f16_bytes: int, served_bytes: int) -> float:
    """How many times smaller the served files are than the same files in F16 (1.0 for F16 itself)."""
    if served_bytes <= 0:
        raise ValueError(f"served bytes must be positive, got {served_bytes}")
    return round(f16_bytes / served_bytes, 3)


def performance_entry(domain: str, quantization: str, served_bytes: int, f16_bytes: int, probe: verify.ServingProbe,
                      targets: OriginTargets = ORIGIN_TARGETS) -> dict[str, Any]:
    """One domain's row of ``checks.performance``: what it costs to serve, and which original targets it misses."""
    misses = []
    if probe.load_seconds > targets.load_seconds:
        misses.append(f"load {probe.load_seconds:.2f} s > {targets.load_seconds:g} s")
    if probe.first_token_seconds > targets.first_token_seconds:
        misses.append(f"first token {probe.first_token_seconds:.2f} s > {targets.first_token_seconds:g} s")
    if probe.memory_bytes is not None and probe.memory_bytes > targets.memory_bytes:
        misses.append(f"memory {probe.memory_bytes / 2**20:.0f} MiB > {targets.memory_bytes / 10**9:g} GB")
    return {"domain": domain, "quantization": quantization, "bytes": served_bytes, "f16Bytes": f16_bytes,
            "compressionRatio": compression_ratio(f16_bytes, served_bytes), "loadSeconds": round(probe.load_seconds, 4),
            "firstTokenSeconds": round(probe.first_token_seconds, 4), "tokens": probe.tokens,
            "tokensPerSecond": round(probe.tokens_per_second, 2), "memoryBytes": probe.memory_bytes,
            "meetsOriginTargets": not misses, "misses": misses}


def performance_report(entries: list[dict[str, Any]], context: int, threads: int,
                       targets: OriginTargets = ORIGIN_TARGETS) -> dict[str, Any]:
    """``checks.performance`` of the manifest."""
    return {"contextSize": context, "threads": threads, "device": "cpu", "originTargets": targets.to_dict(),
            "meetsOriginTargets": all(e["meetsOriginTargets"] for e in entries), "domains": entries}


def measure_serving(tc: LlamaCpp, the_plan: plan.BuildPlan, served: QuantType, files: Mapping[str, Path],
                    prompt_ids: list[int], context: int, threads: int) -> dict[str, Any]:
    """Load the served type per domain in a fresh process (its LoRA attached; a merged model once, the
    same reading for every domain) and generate from PROMPT_IDS. Raises ArtifactInvalid when a load,
    a generation or the process fails."""
    model, f16 = files[the_plan.model(served.value).filename], files[the_plan.model(plan.F16).filename]
    loras = {a.domain: files[a.filename] for a in the_plan.loras() if a.domain}
    entries = []
    shared = None if loras else serveprobe.probe_in_child(tc, model, prompt_ids, context, threads=threads)
    for domain in the_plan.domains:
        lora = loras.get(domain)
        probe = shared or serveprobe.probe_in_child(tc, model, prompt_ids, context, lora=lora, threads=threads)
        extra = lora.stat().st_size if lora else 0
        entries.append(performance_entry(domain, served.value, model.stat().st_size + extra, f16.stat().st_size + extra, probe))
    return performance_report(entries, context, threads)
