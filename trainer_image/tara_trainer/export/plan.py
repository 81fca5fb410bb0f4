"""Pure decisions of the GGUF build: which artifacts, how much disk, which quantization passes.

Nothing here touches the filesystem or a subprocess, so the rules users rely on (what is built for
each merge strategy, what the quality gate accepts, what ``auto`` serves) are unit-tested as tables.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from tara_api.ggufphase import ArtifactKind, GGUFPhaseSpec, MergeStrategy, PhaseGate
from tara_api.quant import QUANT_TYPES, QuantType

__all__ = [
    "F16",
    "ArtifactPlan",
    "BuildPlan",
    "GateVerdict",
    "choose_served",
    "disk_needed",
    "evaluate_gate",
    "perplexity_context",
    "plan_build",
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
    if strategy == MergeStrategy.ADAPTERS:
        artifacts += [ArtifactPlan(ArtifactKind.LORA, F16, f"lora-{d.domain}-F16.gguf", domain=d.domain) for d in spec.domains]
    return BuildPlan(
        strategy=strategy,
        domains=tuple(d.domain for d in spec.domains),
        weights=tuple(d.weight for d in spec.domains),
        quantizations=tuple(spec.quantization),
        artifacts=tuple(artifacts),
    )


def disk_needed(plan: BuildPlan, base_parameters: int, lora_parameters: Mapping[str, int]) -> int:
    """Bytes the build writes at its peak, with 10% headroom.

    A merge also writes the merged Hugging Face model (F32) before converting it.
    """
    total = 0.0
    for a in plan.artifacts:
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


def choose_served(requested: str | None, order: Sequence[QuantType], verdicts: Sequence[GateVerdict]) -> QuantType | None:
    """The type to serve: ``auto`` = the smallest (fewest bits per weight) that passes; otherwise the
    requested type, or the first listed, provided it passed. None when nothing acceptable is left.
    """
    passed = {v.quantization for v in verdicts if v.passed}
    if requested == "auto":
        candidates = sorted(passed, key=lambda q: QUANT_TYPES[q].nominal_bits_per_weight)
        return candidates[0] if candidates else None
    chosen = QuantType(requested) if requested else order[0]
    return chosen if chosen in passed else None


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
