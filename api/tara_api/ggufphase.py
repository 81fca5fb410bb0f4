"""``GGUFPhase``: a group of trained domains turned into GGUF files and served.

The original design's "phase": convert the domains' adapters with llama.cpp, keep them as
per-domain LoRAs or merge them into one universal model, quantize, validate against a perplexity
gate, then roll out llama-server with the router sidecar. Only a build that passes every gate
replaces what is serving.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any, ClassVar, Literal

from pydantic import Field, model_validator

from tara_api.domaintraining import Accelerator, RetentionPolicy
from tara_api.meta import (
    API_VERSION,
    ApiModel,
    ByteQuantity,
    CelRule,
    Condition,
    DnsLabel,
    DnsSubdomain,
    ObjectMeta,
    Quantity,
)
from tara_api.quant import QUANT_TYPES, QuantType

__all__ = [
    "ArtifactKind",
    "BuildSpec",
    "DomainLineage",
    "CostFigures",
    "DomainCost",
    "DomainRef",
    "DomainPerformance",
    "DomainState",
    "GGUFArtifact",
    "GGUFPhase",
    "GGUFPhaseSpec",
    "GGUFPhaseStatus",
    "LineageFile",
    "MergeCheck",
    "MergeSpec",
    "MergeStrategy",
    "PhaseCost",
    "PhaseGate",
    "PhaseState",
    "PhaseStorage",
    "QualityGateSpec",
    "RouterWeights",
    "ServingCost",
    "ServingSpec",
    "ServingTargets",
]


class MergeStrategy(enum.StrEnum):
    ADAPTERS = "adapters"
    LINEAR = "linear"
    TIES = "ties"
    DARE_TIES = "dare_ties"
    SVD = "svd"


class PhaseState(enum.StrEnum):
    PLANNING = "Planning"
    TRAINING = "Training"
    MERGING = "Merging"
    COMPRESSING = "Compressing"
    DEPLOYING = "Deploying"
    DEPLOYED = "Deployed"
    FAILED = "Failed"


class DomainState(enum.StrEnum):
    PENDING = "Pending"
    TRAINING = "Training"
    COMPLETE = "Complete"
    FAILED = "Failed"


class ArtifactKind(enum.StrEnum):
    BASE = "base"
    LORA = "lora"
    MERGED = "merged"


class DomainRef(ApiModel):
    """One domain of the phase and the DomainTraining that produces its adapter."""

    domain: DnsLabel = Field(description="Domain name; the router serves it as model tara-<domain>.")
    training: DnsSubdomain | None = Field(
        default=None, description="DomainTraining in the same namespace (default: a resource named like the domain)."
    )
    weight: float = Field(default=1.0, gt=0, le=10, description="Weight of this domain in a merged model.")


class MergeSpec(ApiModel):
    """Keep one LoRA per domain (adapters) or merge them into one universal model."""

    cel_rules: ClassVar[tuple[CelRule, ...]] = (
        CelRule(
            rule="!has(self.density) || self.strategy == 'ties' || self.strategy == 'dare_ties'",
            message="density applies only to ties and dare_ties",
        ),
        CelRule(rule="!has(self.svdRank) || self.strategy == 'svd'", message="svdRank applies only to svd"),
    )

    strategy: MergeStrategy = Field(
        default=MergeStrategy.ADAPTERS,
        description="adapters: one base GGUF plus one LoRA GGUF per domain, picked per request; "
        "linear, ties, dare_ties, svd: PEFT weighted adapter merge into one universal model.",
    )
    density: float | None = Field(default=None, gt=0, le=1, description="Fraction of weights kept (ties, dare_ties).")
    svd_rank: int | None = Field(default=None, ge=1, le=1024, description="Rank of the merged adapter (svd).")

    @model_validator(mode="after")
    def _strategy_options(self) -> MergeSpec:
        if self.density is not None and self.strategy not in (MergeStrategy.TIES, MergeStrategy.DARE_TIES):
            raise ValueError("density applies only to ties and dare_ties")
        if self.svd_rank is not None and self.strategy != MergeStrategy.SVD:
            raise ValueError("svdRank applies only to svd")
        return self


class PhaseGate(ApiModel):
    """Per-type limits on the perplexity increase over the F16 model (fractions, 0.10 = +10%)."""

    q2_k: float = Field(
        default=QUANT_TYPES[QuantType.Q2_K].default_max_perplexity_increase, alias="Q2_K", ge=0, le=10,
        description="Max perplexity increase of Q2_K.",
    )
    q4_k_m: float = Field(
        default=QUANT_TYPES[QuantType.Q4_K_M].default_max_perplexity_increase, alias="Q4_K_M", ge=0, le=10,
        description="Max perplexity increase of Q4_K_M.",
    )
    q5_k_m: float = Field(
        default=QUANT_TYPES[QuantType.Q5_K_M].default_max_perplexity_increase, alias="Q5_K_M", ge=0, le=10,
        description="Max perplexity increase of Q5_K_M.",
    )
    q8_0: float = Field(
        default=QUANT_TYPES[QuantType.Q8_0].default_max_perplexity_increase, alias="Q8_0", ge=0, le=10,
        description="Max perplexity increase of Q8_0.",
    )

    def limit(self, quant: QuantType) -> float:
        return float(getattr(self, quant.value.lower()))


class QualityGateSpec(ApiModel):
    """Checks every artifact must pass before it is served."""

    max_perplexity_increase: PhaseGate = Field(
        default_factory=PhaseGate,
        description="Per quantization type, the largest allowed perplexity increase over F16.",
        json_schema_extra={"default": {}},
    )
    logit_tolerance: float = Field(
        default=0.1, gt=0, le=10,
        description=("Max absolute difference between llama.cpp's and Hugging Face's next-token logits (F16; "
                     "F16 rounding alone gives about 0.05 on a 30-layer model, a conversion bug whole logits)."),
    )
    # No default: stored phases get no new gate (a default would also change every phase's build inputs).
    max_merge_loss: float | None = Field(
        default=None, ge=0, le=10,
        description="Merge strategies only: per domain, the largest allowed perplexity increase of the merged F16 "
        "model over the base with that domain's own adapter, on the domain's eval text (0.05 = +5%). "
        "Unset: the comparison is measured and reported, not enforced.",
    )


class RouterWeights(ApiModel):
    """How the router scores domains for tara-auto requests."""

    cel_rules: ClassVar[tuple[CelRule, ...]] = (
        CelRule(rule="self.content + self.emotion + self.speed + self.quality > 0.0", message="weights must not all be zero"),
    )

    content: float = Field(default=0.4, ge=0, le=1, description="Weight of content relevance.")
    emotion: float = Field(default=0.3, ge=0, le=1, description="Weight of emotional compatibility.")
    speed: float = Field(default=0.2, ge=0, le=1, description="Weight of urgency/response speed.")
    quality: float = Field(default=0.1, ge=0, le=1, description="Weight of the domain's measured quality.")

    @model_validator(mode="after")
    def _not_all_zero(self) -> RouterWeights:
        if self.content + self.emotion + self.speed + self.quality <= 0:
            raise ValueError("weights must not all be zero")
        return self


class ServingResources(ApiModel):
    """Size of the serving pod."""

    cel_rules: ClassVar[tuple[CelRule, ...]] = (
        CelRule(rule="!has(self.gpuCount) || self.accelerator == 'gpu'", message="gpuCount needs accelerator: gpu"),
    )

    accelerator: Accelerator = Field(default=Accelerator.CPU, description="cpu or gpu.")
    gpu_count: int | None = Field(default=None, ge=1, le=16, description="nvidia.com/gpu per pod.")
    cpu: Quantity | None = Field(default=None, description="CPU request and limit.")
    memory: Quantity | None = Field(default=None, description="Memory request and limit.")

    @model_validator(mode="after")
    def _gpu_count(self) -> ServingResources:
        if self.gpu_count is not None and self.accelerator != Accelerator.GPU:
            raise ValueError("gpuCount needs accelerator: gpu")
        return self


class ServingTargets(ApiModel):
    """Limits the served file must meet, on top of the quality gate; unset fields are no limit."""

    max_file_size: ByteQuantity | None = Field(
        default=None,
        description="Largest size of the files llama-server loads: the model GGUF plus, for adapters, every "
        "domain's LoRA (a Kubernetes quantity, e.g. 2Gi).",
    )
    max_memory: ByteQuantity | None = Field(
        default=None,
        description="Largest estimated serving memory: those files plus the F16 KV cache at serving.contextSize "
        "(2 x layers x contextSize x KV heads x head size x 2 bytes); compute buffers are not counted.",
    )
    max_quality_loss: float | None = Field(
        default=None, ge=0, le=10,
        description="Largest perplexity increase over the F16 model on the worst domain (0.05 = +5%).",
    )


GPU_LAYERS_NEED_A_GPU = ("gpuLayers above 0 offloads layers to a GPU: set resources.accelerator: gpu, "
                         "or gpuLayers: 0 to serve on the CPU")


class ServingSpec(ApiModel):
    """The llama.cpp inference Deployment and its router sidecar."""

    cel_rules: ClassVar[tuple[CelRule, ...]] = (
        CelRule(rule="!has(self.gpuLayers) || self.gpuLayers == 0 || "
                "(has(self.resources) && has(self.resources.accelerator) && self.resources.accelerator == 'gpu')",
                message=GPU_LAYERS_NEED_A_GPU, field_path=".gpuLayers"),
    )

    enabled: bool = Field(default=True, description="Roll out a Deployment once the build passes its gates.")
    replicas: int = Field(default=1, ge=0, le=100, description="Serving replicas.")
    image: str | None = Field(default=None, min_length=1, max_length=512, description="llama-server image override.")
    resources: ServingResources = Field(
        default_factory=ServingResources, description="Serving pod size.", json_schema_extra={"default": {}}
    )
    progress_deadline_seconds: int = Field(
        default=600, ge=5, le=86_400,
        description="Seconds a rollout may go without progress before it counts as failed and the previous "
        "revision is restored (the Deployment's progressDeadlineSeconds; raise it for models that load slowly).",
    )
    context_size: int = Field(default=2048, ge=128, le=1_048_576, description="llama-server context size (-c).")
    gpu_layers: int = Field(default=0, ge=0, le=1000,
                            description="Layers offloaded to the GPU (-ngl); above 0 needs resources.accelerator: gpu.")
    quantization: QuantType | Literal["auto"] | None = Field(
        default=None,
        description="Type to serve: one of spec.quantization, or auto for the smallest that passes the gate and "
        "meets serving.targets (default: the first listed).",
    )
    targets: ServingTargets | None = Field(
        default=None,
        description="File size, memory and quality limits the served type must meet (a type that misses one is not "
        "served; with auto the smallest type within all of them serves). Unset: no limits.",
    )
    default_domain: DnsLabel | None = Field(
        default=None, description="Domain used when routing confidence is low (default: the base model alone)."
    )
    confidence_threshold: float = Field(
        default=0.35, ge=0, le=1, description="Below this weighted routing score the default domain is used, when routing "
        "by keywords (a build without a routing index); a build's index carries its own calibrated similarity threshold."
    )
    router_weights: RouterWeights = Field(
        default_factory=RouterWeights, description="Routing score weights.", json_schema_extra={"default": {}}
    )

    @model_validator(mode="after")
    def _gpu_layers_need_a_gpu(self) -> ServingSpec:
        if self.gpu_layers > 0 and self.resources.accelerator != Accelerator.GPU:
            raise ValueError(GPU_LAYERS_NEED_A_GPU)
        return self


class BuildSpec(ApiModel):
    """The build Job (convert, merge, quantize, validate)."""

    cpu: Quantity | None = Field(default=None, description="CPU request and limit of the build pod.")
    memory: Quantity | None = Field(default=None, description="Memory request and limit of the build pod.")
    image: str | None = Field(default=None, min_length=1, max_length=512, description="Trainer image override.")


class PhaseStorage(ApiModel):
    """The phase's folders on the namespace's artifacts claim: how many builds stay, and what deletion does."""

    keep_revisions: int = Field(
        default=2, ge=1, le=100,
        description="Build revisions kept on the artifacts claim: the newest N revision numbers (the one just built "
        "included); older folders are removed after each successful build. The revision serving and any newer one "
        "are never removed.",
    )
    retention: RetentionPolicy = Field(
        default=RetentionPolicy.RETAIN,
        description="Retain keeps the phase's folders when the resource is deleted; Delete removes them (a cleanup "
        "Job) before the resource goes.",
    )


class GGUFPhaseSpec(ApiModel):
    """Desired state of a GGUFPhase."""

    cel_rules: ClassVar[tuple[CelRule, ...]] = (
        CelRule(
            rule="self.domains.all(d, self.domains.exists_one(e, e.domain == d.domain))",
            message="domains must be unique",
            field_path=".domains",
        ),
        CelRule(
            rule="has(self.serving.defaultDomain) ? self.domains.exists(d, d.domain == self.serving.defaultDomain) : true",
            message="serving.defaultDomain must be one of the phase's domains",
            field_path=".serving.defaultDomain",
        ),
        CelRule(
            rule="!has(self.serving.quantization) || self.serving.quantization == 'auto'"
            " || self.serving.quantization in self.quantization",
            message="serving.quantization must be auto or one of spec.quantization",
            field_path=".serving.quantization",
        ),
        CelRule(
            rule="!has(self.qualityGate.maxMergeLoss) || self.merge.strategy != 'adapters'",
            message="qualityGate.maxMergeLoss applies only to a merge strategy (linear, ties, dare_ties, svd)",
            field_path=".qualityGate.maxMergeLoss",
        ),
    )

    phase_number: int = Field(ge=1, le=1000, description="The phase's number in the rollout plan (1, 2, ...).")
    domains: list[DomainRef] = Field(
        min_length=1, max_length=64, description="Domains built and served together (they must share a base model)."
    )
    quantization: list[QuantType] = Field(
        default_factory=lambda: [QuantType.Q4_K_M],
        min_length=1,
        max_length=4,
        description="GGUF quantization types to build; the first is served unless serving.quantization says otherwise.",
        json_schema_extra={"x-kubernetes-list-type": "set"},
    )
    merge: MergeSpec = Field(default_factory=MergeSpec, description="Merge strategy.", json_schema_extra={"default": {}})
    quality_gate: QualityGateSpec = Field(
        default_factory=QualityGateSpec, description="Artifact checks.", json_schema_extra={"default": {}}
    )
    build: BuildSpec = Field(default_factory=BuildSpec, description="Build Job resources.", json_schema_extra={"default": {}})
    serving: ServingSpec = Field(
        default_factory=ServingSpec, description="Inference Deployment.", json_schema_extra={"default": {}}
    )
    storage: PhaseStorage = Field(
        default_factory=PhaseStorage, description="Revisions kept, and what deletion does to the phase's folders.",
        json_schema_extra={"default": {}},
    )

    @model_validator(mode="after")
    def _cross_field(self) -> GGUFPhaseSpec:
        names = [d.domain for d in self.domains]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"domains must be unique (repeated: {', '.join(duplicates)})")
        if len(set(self.quantization)) != len(self.quantization):
            raise ValueError("quantization types must be unique")
        if self.serving.default_domain is not None and self.serving.default_domain not in names:
            raise ValueError("serving.defaultDomain must be one of the phase's domains")
        served = self.serving.quantization
        if served is not None and served != "auto" and served not in self.quantization:
            raise ValueError("serving.quantization must be auto or one of spec.quantization")
        if self.quality_gate.max_merge_loss is not None and self.merge.strategy == MergeStrategy.ADAPTERS:
            raise ValueError("qualityGate.maxMergeLoss applies only to a merge strategy (linear, ties, dare_ties, svd)")
        return self


class DomainStatus(ApiModel):
    """State of one domain of the phase."""

    domain: DnsLabel = Field(description="Domain name.")
    training: str | None = Field(default=None, max_length=253, description="DomainTraining resource.")
    state: DomainState = Field(description="Pending, Training, Complete or Failed.")
    message: str | None = Field(default=None, max_length=4096, description="Why, when not Complete.")
    adapter_path: str | None = Field(default=None, description="Trained adapter.")
    eval_loss: float | None = Field(default=None, description="Tuned eval loss reported by the training.")


class GGUFArtifact(ApiModel):
    """One GGUF file the build produced and validated."""

    kind: ArtifactKind = Field(description="base, lora or merged.")
    quantization: Literal["F16", "Q2_K", "Q4_K_M", "Q5_K_M", "Q8_0"] = Field(description="Tensor type.")
    domain: str | None = Field(default=None, description="Domain of a LoRA artifact.")
    path: str = Field(description="File path on the artifact volume.")
    bytes: int = Field(ge=0, description="File size.")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="sha256 of the file.")
    bits_per_weight: float | None = Field(default=None, ge=0, description="Measured bits per weight.")
    perplexity: float | None = Field(default=None, ge=0, description="Perplexity on the domains' eval text.")
    perplexity_increase: float | None = Field(default=None, description="Relative increase over F16.")


class MergeCheck(ApiModel):
    """The merge gate's reading of one domain: the merged model against the domain's own adapter."""

    domain: str = Field(max_length=63, description="Domain whose eval text was measured.")
    adapter_perplexity: float = Field(ge=0, description="Perplexity of the base F16 model with this domain's LoRA.")
    merged_perplexity: float = Field(ge=0, description="Perplexity of the merged F16 model.")
    loss: float = Field(description="Relative increase of the merged model over the adapter (0.05 = +5%).")
    allowed: float | None = Field(default=None, description="qualityGate.maxMergeLoss (unset: reported only).")
    passed: bool = Field(description="Whether the loss is within the allowed value.")


class LineageFile(ApiModel):
    """A GGUF file made from a domain's adapter (its LoRA, or a merged model that includes it)."""

    kind: ArtifactKind = Field(description="lora or merged.")
    quantization: Literal["F16", "Q2_K", "Q4_K_M", "Q5_K_M", "Q8_0"] = Field(description="Tensor type.")
    path: str = Field(max_length=4096, description="File path on the artifact volume.")
    bytes: int = Field(ge=0, description="File size.")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="sha256 of the file.")


class DomainLineage(ApiModel):
    """Where one domain's served files came from: dataset rows → adapter → GGUF files → build revision."""

    domain: DnsLabel = Field(description="Domain name.")
    training: str | None = Field(default=None, max_length=253, description="DomainTraining that trained the adapter.")
    dataset_sha256: str | None = Field(
        default=None, pattern=r"^[0-9a-f]{64}$",
        description="The training's status.data.rowsSha256: sha256 of the rows it trained on.",
    )
    adapter_sha256: str = Field(
        pattern=r"^[0-9a-f]{64}$",
        description="sha256 of the adapter's manifest.json (the training's status.artifacts.sha256).",
    )
    run_id: str | None = Field(default=None, max_length=64, description="The training run's identity (checkpoints).")
    files: list[LineageFile] = Field(default_factory=list, max_length=64, description="GGUF files made from the adapter.")
    revision: int | None = Field(default=None, ge=0, description="Build revision that made the files.")


class CostFigures(ApiModel):
    """GPU-hours, CPU core-hours and their estimated price."""

    accelerator_hours: float = Field(default=0.0, ge=0, description="GPU-hours.")
    cpu_hours: float = Field(default=0.0, ge=0, description="CPU core-hours requested.")
    estimated_cost: float | None = Field(default=None, ge=0, description="Price at the operator's rates (unset: no prices).")


class DomainCost(CostFigures):
    """One domain's cost: its training, and an equal share of the phase's build and serving."""

    domain: str = Field(max_length=63, description="Domain.")
    training: CostFigures | None = Field(default=None, description="The domain's DomainTraining (its status.cost).")
    build: CostFigures | None = Field(default=None, description="Its share of the phase's build Jobs.")
    serving: CostFigures | None = Field(default=None, description="Its share of the phase's serving Deployment.")


class ServingCost(CostFigures):
    """Serving replica time so far, integrated at each reconcile."""

    ready_replicas: int | None = Field(default=None, ge=0, description="Ready replicas at the last observation.")
    observed_at: datetime | None = Field(default=None, description="When serving time was last added up.")


class PhaseCost(ApiModel):
    """What the phase cost: per domain and in total (the domains' figures add up to the total)."""

    currency: str | None = Field(default=None, max_length=8, description="Currency of every estimatedCost, e.g. USD.")
    domains: list[DomainCost] | None = Field(default=None, max_length=64, description="Per domain.")
    build: CostFigures | None = Field(default=None, description="Every build Job of the phase that exists.")
    serving: ServingCost | None = Field(default=None, description="The serving Deployment.")
    total: CostFigures | None = Field(default=None, description="Trainings, builds and serving together.")


class DomainPerformance(ApiModel):
    """What serving one domain costs, measured by the build on its CPU after the gates chose the type."""

    domain: str = Field(max_length=63, description="Domain measured (with its LoRA; a merged model is measured once).")
    quantization: str = Field(max_length=16, description="The served quantization type.")
    bytes: int = Field(ge=0, description="Bytes llama-server loads for this domain: the model plus its LoRA.")
    compression_ratio: float = Field(ge=0, description="The same files' bytes in F16 divided by bytes.")
    load_seconds: float = Field(ge=0, description="Seconds llama.cpp took to load them (page cache warm).")
    first_token_seconds: float = Field(ge=0, description="Seconds from a short prompt to its first generated token.")
    tokens_per_second: float = Field(ge=0, description="Greedy decode speed after the first token.")
    memory_bytes: int | None = Field(
        default=None, ge=0, description="Resident memory serving took, read in a fresh process that loaded only this: its peak resident set from the load to the last generated token minus its own after importing llama.cpp, at serving.contextSize (the mapped model pages touched, the LoRA, the KV cache, compute buffers; not the interpreter)."
    )
    meets_origin_targets: bool = Field(
        description="Load under 5 s, first token under 1 s and under 2 GB resident (the original design's targets; reported, never gated)."
    )


class GGUFPhaseStatus(ApiModel):
    """Observed state of a GGUFPhase."""

    phase: PhaseState | None = Field(default=None, description="Summary of the conditions.")
    observed_generation: int | None = Field(default=None, ge=0, description="Generation last reconciled.")
    conditions: list[Condition] | None = Field(
        default=None,
        max_length=32,
        description="DomainsReady, Built, QualityGatePassed, Ready, ...",
        json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"]},
    )
    domains: list[DomainStatus] | None = Field(default=None, max_length=64, description="Per-domain state.")
    domains_ready: str | None = Field(default=None, max_length=16, description="Complete domains, e.g. 2/3.")
    artifacts: list[GGUFArtifact] | None = Field(default=None, max_length=1024, description="Validated GGUF files.")
    revision: int | None = Field(default=None, ge=0, description="Build revision (increments on each rebuild).")
    served_revision: int | None = Field(default=None, ge=0, description="Revision currently serving.")
    served_quantization: str | None = Field(
        default=None, max_length=16,
        description="Quantization type servedRevision serves: the one serving.quantization (or the first of "
        "spec.quantization) names, or with auto builtQuantization of that revision; unset while it is not known.",
    )
    built_revision: int | None = Field(default=None, ge=0, description="Revision whose build reported artifacts and lineage.")
    built_quantization: str | None = Field(
        default=None, max_length=16,
        description="The type the build of builtRevision chose to serve (with auto, the smallest that passed).",
    )
    built_reason: str | None = Field(
        default=None, max_length=4096, description="Why the build of builtRevision chose builtQuantization (auto, serving.targets, the gate)."
    )
    lineage: list[DomainLineage] | None = Field(
        default=None, max_length=64, description="Per domain: dataset rows → adapter → GGUF files of builtRevision."
    )
    served_reason: str | None = Field(
        default=None, max_length=4096,
        description="Why servedQuantization serves: builtReason of servedRevision, set by the operator when that revision "
        "serves (while revision N+1 builds or rolls out it still explains N's type); unset while it is not known.",
    )
    merge_check: list[MergeCheck] | None = Field(
        default=None, max_length=64, description="Merge strategies: each domain's merged vs own-adapter perplexity."
    )
    performance: list[DomainPerformance] | None = Field(
        default=None, max_length=64, description="Per domain: the served type's size, compression ratio, load time, speed and memory."
    )
    endpoint: str | None = Field(default=None, max_length=2048, description="URL of the router Service.")
    build_job_name: str | None = Field(default=None, max_length=253, description="Current build Job.")
    deployment_name: str | None = Field(default=None, max_length=253, description="Serving Deployment.")
    last_transition_time: datetime | None = Field(default=None, description="When phase last changed.")
    cost: PhaseCost | None = Field(default=None, description="Training, build and serving cost, per domain and in total.")


class GGUFPhase(ApiModel):
    """A phase of domains converted to GGUF, quantized, validated and served by llama.cpp."""

    api_version: Literal["tara.dev/v1alpha1"] = Field(default=API_VERSION, description="tara.dev/v1alpha1")
    kind: Literal["GGUFPhase"] = Field(default="GGUFPhase", description="GGUFPhase")
    metadata: ObjectMeta = Field(default_factory=ObjectMeta, description="Standard object metadata.")
    spec: GGUFPhaseSpec = Field(description="Desired state.")
    status: GGUFPhaseStatus | None = Field(default=None, description="Observed state.")

    @classmethod
    def from_manifest(cls, doc: dict[str, Any]) -> GGUFPhase:
        """Validate a manifest (raises pydantic.ValidationError naming each bad field)."""
        return cls.model_validate(doc)

