"""Pure decisions of the GGUF build: which artifacts, how much disk, which quantization passes,
whether a merge kept each domain's quality, and which type serves.

Nothing here touches the filesystem or a subprocess, so the rules users rely on (what is built for
each merge strategy, what the quality gate and the merge gate accept, what ``auto`` serves under
``serving.targets``) are unit-tested as tables.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from tara_api.ggufphase import ArtifactKind, GGUFPhaseSpec, MergeStrategy, PhaseGate, ServingTargets
from tara_api.meta import quantity_bytes
from tara_api.quant import QUANT_TYPES, QuantType

__all__ = [
    "F16",
    "ArtifactPlan",
    "BuildPlan",
    "Candidate",
    "GateVerdict",
    "KvShape",
    "MergeVerdict",
    "ServedChoice",
    "choose_served",
    "disk_needed",
    "evaluate_gate",
    "evaluate_merge",
    "kv_cache_bytes",
    "merge_failure",
    "perplexity_context",
    "plan_build",
    "target_misses",
]

F16 = "F16"
# Bits per weight assumed for disk estimates: the nominal table plus a margin for F32 norms.
_ESTIMATE_BITS = {F16: 16.0, **{q.value: info.nominal_bits_per_weight for q, info in QUANT_TYPES.items()}}


@dataclass(frozen=True)
class ArtifactPlan:
    """One GGUF file the build will produce."""

    kind: ArtifactKind
    quantization: str  # F16 or a QuantType value
    filename: str
    domain: str | None = None  # the LoRA's domain; None for base and merged models
    source: str | None = None  # filename of the F16 artifact a quantized one is made from


@dataclass(frozen=True)
class BuildPlan:
    strategy: MergeStrategy
    domains: tuple[str, ...]
    weights: tuple[float, ...]
    quantizations: tuple[QuantType, ...]
    artifacts: tuple[ArtifactPlan, ...]
    # A merge's yardstick, built in scratch space and never shipped: the base in F16 and each
    # domain's LoRA, so the merge gate can measure every domain with its own adapter.
    references: tuple[ArtifactPlan, ...] = ()

    @property
    def model_kind(self) -> ArtifactKind:
        """The kind of the full model served: the base (with LoRAs) or the merged universal model."""
        return ArtifactKind.BASE if self.strategy == MergeStrategy.ADAPTERS else ArtifactKind.MERGED

    def model(self, quantization: str) -> ArtifactPlan:
        return next(a for a in self.artifacts if a.kind == self.model_kind and a.quantization == quantization)

    def loras(self) -> tuple[ArtifactPlan, ...]:
        return tuple(a for a in self.artifacts if a.kind == ArtifactKind.LORA)


def plan_build(spec: GGUFPhaseSpec) -> BuildPlan:
    """The artifacts a phase needs, F16 first so every quantization has its source.

    ``adapters``: the base model in F16 and every requested type, plus one F16 LoRA per domain
    (llama.cpp applies F16 LoRAs to any quantized base). A merge strategy: one universal model in
    F16 and every requested type, no LoRAs.
    """
    strategy = spec.merge.strategy
    stem = "base" if strategy == MergeStrategy.ADAPTERS else f"universal-{strategy.value.replace('_', '-')}"
    kind = ArtifactKind.BASE if strategy == MergeStrategy.ADAPTERS else ArtifactKind.MERGED
    f16 = ArtifactPlan(kind, F16, f"{stem}-F16.gguf")
    artifacts = [f16]
    artifacts += [ArtifactPlan(kind, q.value, f"{stem}-{q.value}.gguf", source=f16.filename) for q in spec.quantization]
    loras = [ArtifactPlan(ArtifactKind.LORA, F16, f"lora-{d.domain}-F16.gguf", domain=d.domain) for d in spec.domains]
    adapters = strategy == MergeStrategy.ADAPTERS
    return BuildPlan(
        strategy=strategy,
        domains=tuple(d.domain for d in spec.domains),
        weights=tuple(d.weight for d in spec.domains),
        quantizations=tuple(spec.quantization),
        artifacts=tuple(artifacts + loras if adapters else artifacts),
        references=() if adapters else (ArtifactPlan(ArtifactKind.BASE, F16, "base-F16.gguf"), *loras),
    )


def disk_needed(plan: BuildPlan, base_parameters: int, lora_parameters: Mapping[str, int]) -> int:
    """Bytes the build writes at its peak, with 10% headroom.

    A merge also writes the merged Hugging Face model (F32) before converting it, and its
    references (the base in F16 and every LoRA).
    """
    total = 0.0
    for a in (*plan.artifacts, *plan.references):
        if a.kind == ArtifactKind.LORA:
            total += lora_parameters.get(a.domain or "", 0) * 2
        else:
            total += base_parameters * _ESTIMATE_BITS[a.quantization] / 8
    if plan.strategy != MergeStrategy.ADAPTERS:
        total += base_parameters * 4
    return int(math.ceil(total * 1.10))


@dataclass(frozen=True)
class GateVerdict:
    """The quality gate's reading of one quantization type (worst domain decides)."""

    quantization: QuantType
    f16_perplexity: float
    perplexity: float
    increase: float  # relative: 0.08 = 8% above F16
    allowed: float
    worst_domain: str

    @property
    def passed(self) -> bool:
        return self.increase <= self.allowed

    def describe(self) -> str:
        verdict = "passes" if self.passed else "FAILS"
        return (f"{self.quantization.value} {verdict}: perplexity {self.perplexity:.4f} vs F16 {self.f16_perplexity:.4f} "
                f"on {self.worst_domain} = {self.increase:+.2%} (allowed {self.allowed:+.2%})")


def evaluate_gate(
    f16: Mapping[str, float], quantized: Mapping[QuantType, Mapping[str, float]], gate: PhaseGate
) -> list[GateVerdict]:
    """One verdict per quantization type from per-domain perplexities (F16 and quantized).

    The largest relative increase over the domains is the type's measured value.
    Raises ValueError when a type lacks a domain that F16 has (a bug in the caller).
    """
    verdicts = []
    for quant, per_domain in quantized.items():
        missing = set(f16) - set(per_domain)
        if missing:
            raise ValueError(f"{quant.value}: no perplexity for {sorted(missing)}")
        worst = max(f16, key=lambda d: per_domain[d] / f16[d])
        verdicts.append(GateVerdict(
            quantization=quant,
            f16_perplexity=f16[worst],
            perplexity=per_domain[worst],
            increase=per_domain[worst] / f16[worst] - 1.0,
            allowed=gate.limit(quant),
            worst_domain=worst,
        ))
    return verdicts


# What to change when a merge loses a domain's quality, per strategy (besides the strategy itself).
_MERGE_KNOBS: dict[MergeStrategy, str] = {
    MergeStrategy.LINEAR: "raise the weight of {domains}",
    MergeStrategy.TIES: "raise merge.density (keep more of each adapter) or the weight of {domains}",
    MergeStrategy.DARE_TIES: "raise merge.density (drop less of each adapter) or the weight of {domains}",
    MergeStrategy.SVD: "raise merge.svdRank (up to the sum of the adapters' ranks) or the weight of {domains}",
}


@dataclass(frozen=True)
class MergeVerdict:
    """The merge gate's reading of one domain: the merged F16 model against base F16 + the domain's own LoRA."""

    domain: str
    strategy: MergeStrategy
    adapter: float  # perplexity of the base with this domain's adapter
    merged: float  # perplexity of the merged model
    base: float  # perplexity of the base alone: how much there was to keep
    allowed: float | None  # qualityGate.maxMergeLoss; None = report only

    @property
    def loss(self) -> float:
        return self.merged / self.adapter - 1.0

    @property
    def gain_kept(self) -> float | None:
        """Share of the adapter's perplexity gain over the base that the merge kept (1 = all of it);
        None when the adapter did not lower the base's perplexity on this text."""
        gain = self.base - self.adapter
        return (self.base - self.merged) / gain if gain > 0 else None

    @property
    def passed(self) -> bool:
        return self.allowed is None or self.loss <= self.allowed

    def describe(self) -> str:
        limit = "report only" if self.allowed is None else f"allowed {self.allowed:+.2%}"
        return (f"{self.domain}: merged ({self.strategy.value}) perplexity {self.merged:.4f} vs {self.adapter:.4f} with its own "
                f"adapter = {self.loss:+.2%} ({limit})")

    def to_dict(self) -> dict[str, object]:
        return {"domain": self.domain, "adapterPerplexity": round(self.adapter, 4), "mergedPerplexity": round(self.merged, 4),
                "basePerplexity": round(self.base, 4), "loss": round(self.loss, 6),
                "gainKept": None if self.gain_kept is None else round(self.gain_kept, 4),
                "allowed": self.allowed, "passed": self.passed}


def evaluate_merge(strategy: MergeStrategy, adapter: Mapping[str, float], merged: Mapping[str, float],
                   base: Mapping[str, float], allowed: float | None) -> list[MergeVerdict]:
    """One verdict per domain of ``adapter``. Raises ValueError when ``merged`` or ``base`` lacks one."""
    missing = (set(adapter) - set(merged)) | (set(adapter) - set(base))
    if missing:
        raise ValueError(f"no merged or base perplexity for {sorted(missing)}")
    return [MergeVerdict(d, strategy, adapter[d], merged[d], base[d], allowed) for d in adapter]


def merge_failure(verdicts: Sequence[MergeVerdict]) -> str | None:
    """The build's failure message when a domain lost more than allowed (None when all passed): each
    failing domain with both perplexities, then what to change."""
    failed = [v for v in verdicts if not v.passed]
    if not failed:
        return None
    strategy = failed[0].strategy
    others = ", ".join(s.value for s in MergeStrategy if s not in (strategy, MergeStrategy.ADAPTERS))
    worst = max(failed, key=lambda v: v.loss)
    return (f"merge gate failed: the {strategy.value} universal model loses more than qualityGate.maxMergeLoss "
            f"{worst.allowed:+.2%} against the domains' own adapters: " + "; ".join(v.describe() for v in failed)
            + f". To fix: {_MERGE_KNOBS[strategy].format(domains=', '.join(v.domain for v in failed))}; or try merge.strategy "
            f"{others}; or serve per-domain adapters (merge.strategy: adapters, no merge loss); or raise "
            "qualityGate.maxMergeLoss.")


@dataclass(frozen=True)
class KvShape:
    """What llama.cpp's KV cache grows with, from the GGUF metadata of the served model."""

    kv_heads: tuple[int, ...]  # per layer (grouped-query attention: fewer than the query heads)
    key_length: int  # head size of keys
    value_length: int  # head size of values


def kv_cache_bytes(shape: KvShape, context: int, bytes_per_value: int = 2) -> int:
    """llama.cpp's KV cache for ``context`` tokens with F16 keys and values: every layer stores
    ``context x kv_heads x (key_length + value_length)`` values; with one head size that is the
    familiar ``2 x n_layers x n_ctx x n_kv_heads x head_dim x 2`` bytes."""
    return context * sum(shape.kv_heads) * (shape.key_length + shape.value_length) * bytes_per_value


@dataclass(frozen=True)
class Candidate:
    """A quantization type as a serving choice: the gate's reading, what the server loads, its memory."""

    verdict: GateVerdict
    bytes: int  # the model file plus, for adapters, every LoRA file
    memory: int  # bytes + the KV cache at serving.contextSize

    @property
    def quantization(self) -> QuantType:
        return self.verdict.quantization

    def summary(self) -> str:
        return (f"{self.quantization.value} {_size(self.bytes)}, memory {_size(self.memory)}, "
                f"quality loss {self.verdict.increase:+.2%}")


@dataclass(frozen=True)
class ServedChoice:
    quantization: QuantType | None  # None: nothing may serve, ``reason`` says why
    reason: str
    misses: Mapping[QuantType, tuple[str, ...]]  # per type, each gate or target it misses (empty: qualifies)


def _size(n: int) -> str:
    return f"{n / 2**30:.2f} GiB" if n >= 2**30 else f"{n / 2**20:.2f} MiB"


def target_misses(c: Candidate, targets: ServingTargets | None) -> tuple[str, ...]:
    """Each way ``c`` falls short: the quality gate, then every target it exceeds."""
    out = [] if c.verdict.passed else [f"quality gate {c.verdict.increase:+.2%} > allowed {c.verdict.allowed:+.2%}"]
    if targets is None:
        return tuple(out)
    if targets.max_file_size is not None and c.bytes > quantity_bytes(targets.max_file_size):
        out.append(f"files {_size(c.bytes)} > maxFileSize {targets.max_file_size}")
    if targets.max_memory is not None and c.memory > quantity_bytes(targets.max_memory):
        out.append(f"memory {_size(c.memory)} > maxMemory {targets.max_memory}")
    if targets.max_quality_loss is not None and c.verdict.increase > targets.max_quality_loss:
        out.append(f"quality loss {c.verdict.increase:+.2%} > maxQualityLoss {targets.max_quality_loss:+.2%}")
    return tuple(out)


def choose_served(requested: str | None, order: Sequence[QuantType], candidates: Sequence[Candidate],
                  targets: ServingTargets | None = None) -> ServedChoice:
    """The type to serve and why.

    ``auto``: the smallest type (fewest bytes loaded) that passes the quality gate and meets every
    target. Otherwise the requested type, or the first listed, provided it passes the gate and
    meets every target. The choice is None when nothing qualifies; the reason then lists each
    type's size, memory and loss against the gate and the targets.
    """
    misses = {c.quantization: target_misses(c, targets) for c in candidates}
    limits = "passes the quality gate" + (" and meets serving.targets" if targets is not None else "")
    if requested == "auto":
        ok = sorted((c for c in candidates if not misses[c.quantization]),
                    key=lambda c: (c.bytes, QUANT_TYPES[c.quantization].nominal_bits_per_weight))
        if not ok:
            return ServedChoice(None, f"auto: no type {limits}: " + _listing(candidates, misses), misses)
        chosen, others = ok[0], [c for c in candidates if c is not ok[0]]
        reason = f"auto: {chosen.summary()} is the smallest type that {limits}"
        return ServedChoice(chosen.quantization, reason + (f"; not chosen: {_listing(others, misses)}" if others else ""),
                            misses)
    quant = QuantType(requested) if requested else order[0]
    how = "serving.quantization" if requested else "the first of spec.quantization"
    chosen = next(c for c in candidates if c.quantization == quant)
    if misses[quant]:
        return ServedChoice(None, f"{how} {quant.value} is not served: it must pass the quality gate"
                            + (" and meet serving.targets" if targets is not None else "") + f": {_listing([chosen], misses)}",
                            misses)
    return ServedChoice(quant, f"{how}: {chosen.summary()} {limits}", misses)


def _listing(candidates: Sequence[Candidate], misses: Mapping[QuantType, tuple[str, ...]]) -> str:
    return "; ".join(c.summary() + (f" ({', '.join(misses[c.quantization])})" if misses[c.quantization] else " (larger)")
                     for c in candidates)


def perplexity_context(tokens: int, largest: int = 512, smallest: int = 64) -> int | None:
    """The context for llama-perplexity: the largest power of two that leaves it two chunks.

    llama-perplexity needs at least ``2 * ctx`` tokens; None when the text is shorter than that
    for the smallest context.
    """
    ctx = largest
    while ctx >= smallest:
        if tokens >= 2 * ctx:
            return ctx
        ctx //= 2
    return None
