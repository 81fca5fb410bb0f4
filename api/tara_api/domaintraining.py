"""``DomainTraining``: LoRA/QLoRA fine-tuning of a base model on one domain's data.

Spec models validate themselves with the same cross-field rules the CRD states in CEL (see
``cel_rules`` on each model); defaults are those a practitioner expects (LoRA r=8, alpha=16,
dropout 0.05, learning rate 2e-4, save and eval every 100 steps, keep 3 checkpoints).
"""

from __future__ import annotations

import enum
import re
from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, WithJsonSchema, model_validator

from tara_api.meta import (
    API_VERSION,
    ApiModel,
    CelRule,
    Condition,
    DnsLabel,
    DnsSubdomain,
    ObjectMeta,
    Quantity,
)

__all__ = [
    "Accelerator",
    "BaseModelSource",
    "BaseModelStatus",
    "BuiltinDataset",
    "DataStatus",
    "DatasetColumns",
    "DatasetFormat",
    "DatasetSource",
    "DatasetSplit",
    "DomainTraining",
    "DomainTrainingSpec",
    "DomainTrainingStatus",
    "GgufBaseStatus",
    "GgufVerification",
    "GpuSpec",
    "HuggingFaceDataset",
    "LoraSpec",
    "Precision",
    "PreemptionStatus",
    "QualityGate",
    "Resources",
    "RetentionPolicy",
    "SchedulerType",
    "SchedulingSpec",
    "StorageSpec",
    "TrainingPhase",
    "TrainingSpec",
    "VolumeSpec",
]


class Accelerator(enum.StrEnum):
    GPU = "gpu"
    CPU = "cpu"


class DatasetFormat(enum.StrEnum):
    AUTO = "auto"
    CHAT = "chat"
    INSTRUCTION = "instruction"
    TEXT = "text"


class DatasetSplit(enum.StrEnum):
    """How the trainer holds rows out for evaluation (``tara_trainer.split`` implements each)."""

    GROUPED = "grouped"  # rows that share or nearly share an answer or a user turn stay on one side
    CONTENT = "content"  # each row by its own content hash: the split of runs made before kinds existed


class BuiltinDataset(enum.StrEnum):
    HEALTHCARE = "healthcare"
    BUSINESS = "business"
    EDUCATION = "education"
    CREATIVE = "creative"
    LEADERSHIP = "leadership"


class Precision(enum.StrEnum):
    AUTO = "auto"
    BF16 = "bf16"
    FP16 = "fp16"
    FP32 = "fp32"


class SchedulerType(enum.StrEnum):
    LINEAR = "linear"
    COSINE = "cosine"
    CONSTANT = "constant"
    CONSTANT_WITH_WARMUP = "constant_with_warmup"


class RetentionPolicy(enum.StrEnum):
    RETAIN = "Retain"
    DELETE = "Delete"


class TrainingPhase(enum.StrEnum):
    PENDING = "Pending"
    QUEUED = "Queued"  # the Job waits in a Kueue queue (suspended until Kueue admits it)
    RUNNING = "Running"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    SUSPENDED = "Suspended"


_GGUF_FOLDER = re.compile(r"[.]gguf/+$", re.IGNORECASE)
_GGUF_SPLIT = re.compile(r"-[0-9]{5}-of-[0-9]{5}[.]gguf$", re.IGNORECASE)


class SecretKeyRef(ApiModel):
    """A key in a Secret of the resource's namespace."""

    name: DnsSubdomain = Field(description="Secret name.")
    key: str = Field(default="token", min_length=1, max_length=253, description="Key inside the Secret.")


class ConfigMapKeyRef(ApiModel):
    """A key in a ConfigMap of the resource's namespace."""

    name: DnsSubdomain = Field(description="ConfigMap name.")
    key: str = Field(min_length=1, max_length=253, description="Key inside the ConfigMap holding the JSONL data.")


class BaseModelSource(ApiModel):
    """The model to fine-tune: a Hugging Face repository, or a folder on a volume or local disk."""

    cel_rules: ClassVar[tuple[CelRule, ...]] = (
        CelRule(rule="has(self.repo) != has(self.path)", message="set exactly one of repo or path"),
        CelRule(
            rule="has(self.repo) || (!has(self.revision) && !has(self.tokenSecret))",
            message="revision and tokenSecret apply only to a Hugging Face repo",
        ),
        CelRule(rule="!has(self.claimName) || has(self.path)", message="claimName needs path"),
        CelRule(rule="!has(self.path) || !self.path.matches('(?i)[.]gguf/+$')",
                message="a .gguf path names a file: drop the trailing /", field_path=".path"),
        CelRule(rule="!has(self.path) || !self.path.matches('(?i)-[0-9]{5}-of-[0-9]{5}[.]gguf$')",
                message="a split GGUF file is not supported: merge its parts into one file (llama-gguf-split --merge)",
                field_path=".path"),
    )

    repo: str | None = Field(
        default=None,
        min_length=3,
        max_length=200,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$",
        description="Hugging Face repository id, e.g. Qwen/Qwen2.5-3B-Instruct.",
    )
    revision: str | None = Field(
        default=None, min_length=1, max_length=255, description="Branch, tag or commit of the repo (default main)."
    )
    token_secret: SecretKeyRef | None = Field(
        default=None, description="Secret holding a Hugging Face token, mounted read-only for gated models."
    )
    path: str | None = Field(
        default=None,
        min_length=1,
        max_length=4096,
        description="Folder holding a saved model (config.json, weights, tokenizer), or a .gguf file, which the "
        "trainer dequantizes once into a cached Hugging Face folder and trains on (lora.qlora then re-quantizes it "
        "to 4-bit). Inside claimName when set, otherwise a path on the node or, locally, relative to the manifest.",
    )
    claim_name: DnsSubdomain | None = Field(default=None, description="PersistentVolumeClaim that holds path.")
    cache_dir: str | None = Field(
        default=None, min_length=1, max_length=4096, description="Hugging Face cache folder (default: the work volume)."
    )

    @model_validator(mode="after")
    def _one_source(self) -> BaseModelSource:
        if (self.repo is None) == (self.path is None):
            raise ValueError("set exactly one of repo or path")
        if self.repo is None and (self.revision is not None or self.token_secret is not None):
            raise ValueError("revision and tokenSecret apply only to a Hugging Face repo")
        if self.claim_name is not None and self.path is None:
            raise ValueError("claimName needs path")
        if self.path is not None and _GGUF_FOLDER.search(self.path):
            raise ValueError("a .gguf path names a file: drop the trailing /")
        if self.path is not None and _GGUF_SPLIT.search(self.path):
            raise ValueError("a split GGUF file is not supported: merge its parts into one file (llama-gguf-split --merge)")
        return self


class DatasetColumns(ApiModel):
    """Which of the dataset's columns hold the fields the trainer reads (each defaults to its own name)."""

    messages: str | None = Field(default=None, min_length=1, max_length=200, description="Column of chat messages.")
    text: str | None = Field(default=None, min_length=1, max_length=200, description="Column of plain text.")
    instruction: str | None = Field(default=None, min_length=1, max_length=200, description="Column of instructions.")
    input: str | None = Field(default=None, min_length=1, max_length=200, description="Column of instruction inputs.")
    output: str | None = Field(default=None, min_length=1, max_length=200, description="Column of instruction outputs.")


class HuggingFaceDataset(ApiModel):
    """A dataset read with the Hugging Face ``datasets`` package: a local copy, or a Hub id."""

    name: str = Field(
        min_length=1,
        max_length=4096,
        description="A folder written by save_to_disk, or a folder or file of data files (jsonl, json, csv, parquet): "
        "inside dataset.claimName when set, otherwise a path on the node or, locally, relative to the manifest. A name "
        "that is no such path is a Hub dataset id (org/dataset), read from the Hugging Face datasets cache "
        "(HF_DATASETS_OFFLINE=1 reads only the cache; otherwise it downloads, which needs network access).",
    )
    config: str | None = Field(default=None, max_length=200, description="Configuration name (a Hub id or data folder).")
    split: str = Field(default="train", min_length=1, max_length=200, description="Split to train on.")
    revision: str | None = Field(default=None, max_length=255, description="Branch, tag or commit (a Hub id only).")
    columns: DatasetColumns | None = Field(
        default=None, description="Map the dataset's column names onto messages, text, instruction, input and output."
    )


def _exactly_one(*flags: bool) -> bool:
    return sum(flags) == 1


class DatasetSource(ApiModel):
    """Where the domain's training data comes from, and how to read and split it."""

    cel_rules: ClassVar[tuple[CelRule, ...]] = (
        CelRule(
            rule="(has(self.path) ? 1 : 0) + (has(self.configMap) ? 1 : 0) + (has(self.huggingFace) ? 1 : 0)"
            " + (has(self.builtin) ? 1 : 0) == 1",
            message="set exactly one of path, configMap, huggingFace or builtin",
        ),
        CelRule(rule="!has(self.claimName) || has(self.path) || has(self.huggingFace)",
                message="claimName needs path or huggingFace"),
    )

    path: str | None = Field(
        default=None,
        min_length=1,
        max_length=4096,
        description="JSONL (chat, instruction or text rows) or .txt file. Inside claimName when set; "
        "locally, relative to the manifest.",
    )
    claim_name: DnsSubdomain | None = Field(
        default=None, description="PersistentVolumeClaim that holds path, or the folder or file huggingFace.name names."
    )
    config_map: ConfigMapKeyRef | None = Field(default=None, description="ConfigMap key holding JSONL rows.")
    hugging_face: HuggingFaceDataset | None = Field(default=None, description="Hugging Face dataset by name.")
    builtin: BuiltinDataset | None = Field(
        default=None, description="A small sample dataset bundled in the trainer image (for demos and tests)."
    )
    format: DatasetFormat = Field(
        default=DatasetFormat.AUTO,
        description="Row format: chat (messages with roles), instruction (instruction/input/output), "
        "text, or auto (detected from the first row).",
    )
    eval_fraction: float = Field(
        default=0.1,
        ge=0.0,
        le=0.5,
        description="Fraction of rows held out for evaluation, chosen deterministically by a hash (see split).",
    )
    split: DatasetSplit | None = Field(
        default=None,
        description="How rows are held out for evaluation. grouped: rows that share an answer or a user turn, or "
        "whose answers or user turns are near-duplicates, form one group, and each group lands on one side (by a hash "
        "of the seed and the group), so eval loss does not reward memorised answers. content: each row by a hash of "
        "the seed and its own content, the split of runs started before this field existed. Unset: the kind of the "
        "checkpoint the run resumes, else grouped. A kind other than the checkpoints' starts the run afresh.",
    )
    max_bad_row_fraction: float = Field(
        default=0.1,
        ge=0.0,
        le=1.0,
        description="Fail when more than this fraction of rows is malformed (bad rows are always counted and reported).",
    )

    @model_validator(mode="after")
    def _one_source(self) -> DatasetSource:
        sources = (self.path, self.config_map, self.hugging_face, self.builtin)
        if not _exactly_one(*(s is not None for s in sources)):
            raise ValueError("set exactly one of path, configMap, huggingFace or builtin")
        if self.claim_name is not None and self.path is None and self.hugging_face is None:
            raise ValueError("claimName needs path or huggingFace")
        return self


class LoraSpec(ApiModel):
    """LoRA adapter shape; ``qlora`` loads the base in 4-bit (NF4) and needs a GPU."""

    r: int = Field(default=8, ge=1, le=256, description="LoRA rank.")
    alpha: int = Field(default=16, ge=1, le=1024, description="LoRA scaling numerator (scale = alpha / r).")
    dropout: float = Field(default=0.05, ge=0.0, lt=1.0, description="Dropout on the LoRA path.")
    target_modules: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(
        default_factory=lambda: ["all-linear"],
        min_length=1,
        max_length=64,
        description="Module names to adapt, or [all-linear] for every linear layer except the output head.",
        json_schema_extra={"x-kubernetes-list-type": "set"},
    )
    qlora: bool = Field(default=False, description="Quantize the frozen base to 4-bit (QLoRA). Needs accelerator gpu.")


BatchSize = Annotated[
    Annotated[int, Field(ge=1, le=4096)] | Literal["auto"],
    WithJsonSchema(
        {
            "anyOf": [{"type": "integer"}, {"type": "string"}],
            "x-kubernetes-int-or-string": True,
            "x-kubernetes-validations": [
                {
                    "rule": "type(self) == int ? (self >= 1 && self <= 4096) : self == 'auto'",
                    "message": "must be an integer from 1 to 4096, or auto",
                }
            ],
        }
    ),
]


class TrainingSpec(ApiModel):
    """Optimisation schedule. Set maxSteps or epochs (3 epochs when neither is set)."""

    cel_rules: ClassVar[tuple[CelRule, ...]] = (
        CelRule(rule="!(has(self.maxSteps) && has(self.epochs))", message="set maxSteps or epochs, not both"),
    )

    max_steps: int | None = Field(default=None, ge=1, le=10_000_000, description="Optimizer steps to run.")
    epochs: float | None = Field(default=None, gt=0, le=1000, description="Passes over the training split.")
    batch_size: BatchSize = Field(
        default=4,
        description="Batch size of one training process, or auto to probe the largest that fits in GPU memory (8 on CPU). With several processes the global batch batchSize x gradientAccumulation is kept: gradient accumulation (then, if it cannot, the per-process batch) is divided by the number of processes.",
    )
    gradient_accumulation: int = Field(default=4, ge=1, le=1024, description="Micro-batches per optimizer step.")
    learning_rate: float = Field(default=2e-4, gt=0, le=1, description="Peak learning rate.")
    lr_scheduler: SchedulerType = Field(default=SchedulerType.LINEAR, description="Learning-rate schedule.")
    warmup_ratio: float = Field(default=0.1, ge=0, le=0.5, description="Fraction of steps spent warming up.")
    weight_decay: float = Field(default=0.01, ge=0, le=1, description="AdamW weight decay.")
    max_grad_norm: float = Field(default=1.0, gt=0, le=1000, description="Gradient clipping norm.")
    sequence_length: int = Field(default=512, ge=16, le=131072, description="Tokens per example (longer rows are truncated).")
    save_steps: int = Field(default=100, ge=1, le=1_000_000, description="Checkpoint every this many steps.")
    eval_steps: int = Field(default=100, ge=1, le=1_000_000, description="Evaluate every this many steps.")
    logging_steps: int = Field(default=10, ge=1, le=1_000_000, description="Log loss every this many steps.")
    keep_checkpoints: int = Field(default=3, ge=1, le=100, description="Checkpoints kept; older ones are deleted.")
    seed: int = Field(default=42, ge=0, le=2**31 - 1, description="Random seed (data order, LoRA init, eval split).")
    gradient_checkpointing: bool = Field(default=True, description="Trade compute for memory.")
    precision: Precision = Field(
        default=Precision.AUTO, description="auto: bf16 on GPUs that support it, else fp16 on GPU; fp32 on CPU."
    )

    @model_validator(mode="after")
    def _steps_or_epochs(self) -> TrainingSpec:
        if self.max_steps is not None and self.epochs is not None:
            raise ValueError("set maxSteps or epochs, not both")
        return self


class GpuSpec(ApiModel):
    """GPUs for the training pod."""

    count: int = Field(default=1, ge=1, le=16, description="nvidia.com/gpu per pod.")
    product: str | None = Field(
        default=None,
        min_length=1,
        max_length=63,
        pattern=r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$",
        description="GPU product label value (nvidia.com/gpu.product), e.g. NVIDIA-A100-SXM4-40GB.",
    )


class Toleration(ApiModel):
    """A pod toleration (core/v1 Toleration)."""

    key: str | None = Field(default=None, max_length=317, description="Taint key.")
    operator: Literal["Exists", "Equal"] | None = Field(default=None, description="Exists or Equal.")
    value: str | None = Field(default=None, max_length=63, description="Taint value.")
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] | None = Field(default=None, description="Taint effect.")
    toleration_seconds: int | None = Field(default=None, ge=0, description="For NoExecute: how long to stay bound.")


MAX_NODES = 64


class Resources(ApiModel):
    """Where and how big the training pods run: ``nodes`` pods of this size, each using all its GPUs."""

    cel_rules: ClassVar[tuple[CelRule, ...]] = (
        CelRule(rule="!has(self.gpu) || self.accelerator == 'gpu'", message="gpu needs accelerator: gpu"),
    )

    accelerator: Accelerator = Field(default=Accelerator.GPU, description="gpu or cpu.")
    gpu: GpuSpec | None = Field(default=None, description="GPU count and product (only with accelerator gpu).")
    cpu: Quantity | None = Field(default=None, description="CPU request and limit, e.g. 4 or 3500m.")
    memory: Quantity | None = Field(default=None, description="Memory request and limit, e.g. 16Gi.")
    node_selector: dict[str, str] | None = Field(default=None, description="Node labels the pod must match.")
    tolerations: list[Toleration] | None = Field(default=None, max_length=32, description="Pod tolerations.")
    priority_class_name: DnsSubdomain | None = Field(default=None, description="PriorityClass of the training pod.")
    nodes: int = Field(
        default=1,
        ge=1,
        le=MAX_NODES,
        description="Pods that train together (torch.distributed, one pod per node, each with every GPU of gpu.count): "
        "more than 1 renders an Indexed Job and a headless Service for the ranks to meet, and needs "
        "storage.checkpoints.claimName (an existing ReadWriteMany claim every pod can mount).",
    )

    @model_validator(mode="after")
    def _gpu_needs_gpu(self) -> Resources:
        if self.gpu is not None and self.accelerator != Accelerator.GPU:
            raise ValueError("gpu needs accelerator: gpu")
        return self


class SchedulingSpec(ApiModel):
    """Queueing with Kueue (kueue.x-k8s.io): the Job waits, suspended, until Kueue admits it."""

    cel_rules: ClassVar[tuple[CelRule, ...]] = (
        CelRule(rule="!has(self.workloadPriorityClassName) || has(self.queueName)",
                message="workloadPriorityClassName needs queueName (Kueue reads it)"),
    )

    queue_name: DnsLabel | None = Field(
        default=None,
        description="Kueue LocalQueue in the resource's namespace: the Job gets the label kueue.x-k8s.io/queue-name and "
        "is created suspended; Kueue admits (unsuspends) it when the queue has quota. Without Kueue installed the Job "
        "stays suspended (phase Queued). A change moves a Job still waiting to the new queue (the operator recreates "
        "it); a running Job keeps its queue until its attempt ends.",
    )
    workload_priority_class_name: DnsSubdomain | None = Field(
        default=None,
        description="Kueue WorkloadPriorityClass (label kueue.x-k8s.io/priority-class): the priority Kueue queues and "
        "preempts by; without it Kueue uses resources.priorityClassName.",
    )

    @model_validator(mode="after")
    def _priority_needs_queue(self) -> SchedulingSpec:
        if self.workload_priority_class_name is not None and self.queue_name is None:
            raise ValueError("workloadPriorityClassName needs queueName (Kueue reads it)")
        return self


class VolumeSpec(ApiModel):
    """A volume for checkpoints or artifacts: an existing claim, or one the operator creates."""

    claim_name: DnsSubdomain | None = Field(
        default=None, description="Existing PersistentVolumeClaim. When omitted the operator creates one."
    )
    size: Quantity = Field(default="10Gi", description="Size of the claim the operator creates.")
    storage_class_name: DnsSubdomain | None = Field(default=None, description="StorageClass of a created claim.")


class StorageSpec(ApiModel):
    """Volumes for checkpoints and artifacts, and what happens to them on deletion."""

    checkpoints: VolumeSpec = Field(
        default_factory=VolumeSpec,
        description="Checkpoint volume (also holds the adapter unless artifacts is set).",
        json_schema_extra={"default": {}},
    )
    artifacts: VolumeSpec | None = Field(default=None, description="Separate volume for the final adapter.")
    retention: RetentionPolicy = Field(
        default=RetentionPolicy.RETAIN,
        description="Retain keeps created claims when the resource is deleted; Delete removes them.",
    )


class QualityGate(ApiModel):
    """Fail the run when the tuned adapter does not beat the base model on the eval split."""

    enabled: bool = Field(default=True, description="Evaluate the base and the tuned model and enforce the gate.")
    min_eval_loss_improvement: float = Field(
        default=0.01,
        ge=-1.0,
        le=1.0,
        description="Minimum relative eval-loss improvement over the base model ((base - tuned) / base).",
    )


_MULTI_NODE_STORAGE = ("resources.nodes > 1 needs storage.checkpoints.claimName (and storage.artifacts.claimName when "
                       "artifacts is set): an existing ReadWriteMany claim every node's pod can mount; a claim the "
                       "operator creates is ReadWriteOnce")


class DomainTrainingSpec(ApiModel):
    """Desired state of a DomainTraining."""

    cel_rules: ClassVar[tuple[CelRule, ...]] = (
        CelRule(
            rule="!self.lora.qlora || self.resources.accelerator == 'gpu'",
            message="lora.qlora (4-bit) needs resources.accelerator: gpu",
            field_path=".lora.qlora",
        ),
        CelRule(
            rule="!has(self.resources.nodes) || self.resources.nodes == 1 || (has(self.storage.checkpoints.claimName)"
            " && (!has(self.storage.artifacts) || has(self.storage.artifacts.claimName)))",
            message=_MULTI_NODE_STORAGE,
            field_path=".resources.nodes",
        ),
    )

    domain: DnsLabel = Field(description="Domain name (DNS-1123 label), e.g. healthcare. Names the adapter.")
    base_model: BaseModelSource = Field(description="The model to fine-tune.")
    dataset: DatasetSource = Field(description="Training data.")
    lora: LoraSpec = Field(default_factory=LoraSpec, description="LoRA/QLoRA settings.", json_schema_extra={"default": {}})
    training: TrainingSpec = Field(
        default_factory=TrainingSpec, description="Optimisation schedule.", json_schema_extra={"default": {}}
    )
    resources: Resources = Field(
        default_factory=Resources, description="Pod placement and size.", json_schema_extra={"default": {}}
    )
    storage: StorageSpec = Field(
        default_factory=StorageSpec, description="Checkpoint and artifact volumes.", json_schema_extra={"default": {}}
    )
    quality_gate: QualityGate = Field(
        default_factory=QualityGate, description="Eval-loss gate.", json_schema_extra={"default": {}}
    )
    max_attempts: int = Field(
        default=5, ge=1, le=100,
        description="Attempts that may fail before the run fails; preemptions (a Kueue eviction, a pod's DisruptionTarget) "
        "do not count. Every new attempt resumes from the latest valid checkpoint."
    )
    suspend: bool = Field(default=False, description="Stop the training Job and keep checkpoints; false resumes.")
    scheduling: SchedulingSpec = Field(
        default_factory=SchedulingSpec, description="Kueue queue and priority.", json_schema_extra={"default": {}}
    )

    @model_validator(mode="after")
    def _qlora_needs_gpu(self) -> DomainTrainingSpec:
        if self.lora.qlora and self.resources.accelerator != Accelerator.GPU:
            raise ValueError("lora.qlora (4-bit) needs resources.accelerator: gpu")
        return self

    @model_validator(mode="after")
    def _multi_node_needs_shared_storage(self) -> DomainTrainingSpec:
        storage = self.storage
        if self.resources.nodes > 1 and (storage.checkpoints.claim_name is None
                                         or (storage.artifacts is not None and storage.artifacts.claim_name is None)):
            raise ValueError(_MULTI_NODE_STORAGE)
        return self


class TrainingProgress(ApiModel):
    """Live progress reported by the trainer."""

    step: int = Field(default=0, ge=0, description="Optimizer steps done.")
    total_steps: int = Field(default=0, ge=0, description="Optimizer steps planned.")
    percent: float = Field(default=0.0, ge=0, le=100, description="step / totalSteps in percent.")
    epoch: float | None = Field(default=None, ge=0, description="Epochs done (fractional).")
    loss: float | None = Field(default=None, description="Latest training loss.")
    eval_loss: float | None = Field(default=None, description="Latest eval loss.")
    learning_rate: float | None = Field(default=None, ge=0, description="Current learning rate.")
    tokens_per_second: float | None = Field(default=None, ge=0, description="Training throughput in tokens/s.")
    eta_seconds: int | None = Field(default=None, ge=0, description="Estimated seconds to completion.")
    updated_at: datetime | None = Field(default=None, description="When the trainer last reported.")


class CheckpointStatus(ApiModel):
    """The latest valid checkpoint."""

    path: str = Field(description="Checkpoint folder on the checkpoint volume.")
    step: int = Field(ge=0, description="Global step the checkpoint was saved at.")
    time: datetime | None = Field(default=None, description="When it was saved.")


class EvalMetrics(ApiModel):
    """Base versus tuned model on the eval split."""

    base_eval_loss: float | None = Field(default=None, description="Eval loss of the base model.")
    tuned_eval_loss: float | None = Field(default=None, description="Eval loss with the adapter.")
    base_perplexity: float | None = Field(default=None, description="exp(baseEvalLoss).")
    tuned_perplexity: float | None = Field(default=None, description="exp(tunedEvalLoss).")
    improvement: float | None = Field(default=None, description="(base - tuned) / base eval loss.")


class TrainingArtifacts(ApiModel):
    """Where the trained adapter is."""

    adapter_path: str | None = Field(default=None, description="Adapter folder (safetensors + config + tokenizer).")
    manifest_path: str | None = Field(default=None, description="Manifest with sha256 of every file.")
    sha256: str | None = Field(
        default=None, pattern=r"^[0-9a-f]{64}$",
        description="sha256 of the adapter's manifest.json, which lists the sha256 of every adapter file (so this one "
        "hash covers them all); written by the trainer when the adapter passed the quality gate.",
    )


class CostStatus(ApiModel):
    """What the run consumed so far."""

    accelerator_hours: float = Field(default=0.0, ge=0, description="GPU-hours used by all attempts.")
    cpu_hours: float = Field(default=0.0, ge=0, description="CPU core-hours requested by all attempts.")
    estimated_cost: float | None = Field(default=None, ge=0, description="Estimated price from the operator's rates.")
    currency: str | None = Field(default=None, max_length=8, description="Currency of estimatedCost, e.g. USD.")


class GgufVerification(ApiModel):
    """The dequantized model next to llama.cpp running the original file, on a few short texts."""

    passed: bool | None = Field(default=None, description="Mean KL divergence within tolerance and the same tokens.")
    skipped: str | None = Field(default=None, max_length=4096, description="Why nothing was compared (llama.cpp missing).")
    tolerance: float | None = Field(default=None, ge=0, description="Largest mean KL divergence accepted, nats per token.")
    texts: int | None = Field(default=None, ge=0, description="Texts compared.")
    tokens: int | None = Field(default=None, ge=0, description="Token positions compared.")
    mean_kl_divergence: float | None = Field(default=None, ge=0, description="KL(llama.cpp || dequantized), mean per token.")
    max_kl_divergence: float | None = Field(default=None, ge=0, description="Largest KL divergence at one position.")
    top1_agreement: float | None = Field(default=None, ge=0, le=1, description="Share of positions with the same top token.")
    max_abs_logit_diff: float | None = Field(default=None, ge=0, description="Largest logit difference.")
    perplexity_llama_cpp: float | None = Field(default=None, ge=0, description="Perplexity of the texts in llama.cpp.")
    perplexity_dequantized: float | None = Field(default=None, ge=0, description="Perplexity with the dequantized model.")
    tokenizer_mismatches: list[Annotated[str, Field(max_length=1024)]] | None = Field(
        default=None, max_length=16, description="Texts the two tokenize differently.")
    seconds: float | None = Field(default=None, ge=0, description="Time the comparison took.")


class GgufBaseStatus(ApiModel):
    """A GGUF base model and the Hugging Face folder the trainer dequantized it to."""

    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="sha256 of the GGUF file.")
    file_type: str | None = Field(default=None, max_length=64, description="The file's quantization, e.g. Q4_K_M.")
    quant_types: dict[str, int] | None = Field(default=None, description="Tensor type -> number of tensors in the file.")
    architecture: str | None = Field(default=None, max_length=253, description="general.architecture, e.g. llama.")
    parameters: int | None = Field(default=None, ge=0, description="Weights in the file.")
    dtype: str | None = Field(default=None, max_length=32, description="dtype of the dequantized weights.")
    dequantized_to: str = Field(max_length=4096, description="Cached folder the run trains on.")
    seconds: float | None = Field(default=None, ge=0, description="Time the dequantization took.")
    reused: bool | None = Field(default=None, description="The folder was already in the cache.")
    verification: GgufVerification | None = Field(default=None, description="Agreement with llama.cpp.")


class BaseModelStatus(ApiModel):
    """The base model the trainer started from, when it is more than the spec says."""

    path: str | None = Field(default=None, max_length=4096, description="The spec's baseModel.path.")
    gguf: GgufBaseStatus | None = Field(default=None, description="The GGUF file, dequantized before training.")


class SplitStatus(ApiModel):
    """How the rows were held out for evaluation."""

    kind: DatasetSplit = Field(description="The split used: the spec's, or when unset the resumed run's, else grouped.")
    groups: int = Field(ge=0, description="Groups the usable rows formed (content: distinct rows).")
    largest_group: int = Field(ge=0, description="Rows in the largest group.")
    rows_moved: int = Field(
        ge=0, description="Rows on the other side than the content split would put them (0 for content)."
    )


class DataStatus(ApiModel):
    """What the trainer read and held out."""

    rows: int = Field(ge=0, description="Rows in the dataset file.")
    bad_rows: int = Field(default=0, ge=0, description="Malformed rows, skipped and counted.")
    train: int = Field(ge=0, description="Examples trained on (after truncation).")
    eval: int = Field(ge=0, description="Examples held out for evaluation (after truncation).")
    split: SplitStatus | None = Field(default=None, description="How the eval rows were chosen.")
    rows_sha256: str | None = Field(
        default=None, pattern=r"^[0-9a-f]{64}$",
        description="sha256 of the rows in the training split, each as canonical JSON of its content, in dataset "
        "order: the same rows give the same hash whatever file format or source they came from.",
    )


class PreemptionStatus(ApiModel):
    """The latest preemption of the run: who took its pods or its quota."""

    reason: str = Field(max_length=1024, description="Kueue's Preempted or Evicted reason (e.g. InClusterQueue), or the "
                        "pod's DisruptionTarget reason (e.g. PreemptionByScheduler, DeletionByTaintManager).")
    message: str | None = Field(default=None, max_length=32768, description="Kueue's or Kubernetes' message: who preempted.")
    source: Literal["Kueue", "Pod"] = Field(description="Kueue: the Workload was evicted; Pod: a pod was disrupted.")
    time: datetime | None = Field(default=None, description="When it happened.")


class DomainTrainingStatus(ApiModel):
    """Observed state of a DomainTraining (written by the operator and the trainer)."""

    phase: TrainingPhase | None = Field(default=None, description="Summary of the conditions.")
    observed_generation: int | None = Field(default=None, ge=0, description="Generation last reconciled.")
    conditions: list[Condition] | None = Field(
        default=None,
        max_length=32,
        description="Ready, Progressing, Degraded, SpecChanged, ...",
        json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"]},
    )
    progress: TrainingProgress | None = Field(default=None, description="Live training progress.")
    base_model: BaseModelStatus | None = Field(
        default=None, description="What the trainer started from: for a GGUF file, its dequantized copy."
    )
    checkpoint: CheckpointStatus | None = Field(default=None, description="Latest valid checkpoint.")
    data: DataStatus | None = Field(default=None, description="Rows read, trained on and held out, and how.")
    attempts: int | None = Field(default=None, ge=0, description="Pod attempts so far.")
    last_failure_reason: str | None = Field(default=None, max_length=1024, description="Reason of the last failed attempt.")
    last_failure_message: str | None = Field(default=None, max_length=32768, description="Detail of the last failure.")
    preemptions: int | None = Field(default=None, ge=0, description="Times the run was preempted (not counted against "
                                    "maxAttempts).")
    last_preemption: PreemptionStatus | None = Field(default=None, description="The latest preemption.")
    metrics: EvalMetrics | None = Field(default=None, description="Base versus tuned eval loss.")
    artifacts: TrainingArtifacts | None = Field(default=None, description="Trained adapter.")
    cost: CostStatus | None = Field(default=None, description="Resources consumed and estimated price.")
    job_name: str | None = Field(default=None, max_length=253, description="Current training Job.")
    spec_hash: str | None = Field(default=None, max_length=64, description="Hash of the spec the run was started from.")
    start_time: datetime | None = Field(default=None, description="When the first attempt started.")
    completion_time: datetime | None = Field(default=None, description="When the run finished.")


class DomainTraining(ApiModel):
    """A LoRA/QLoRA fine-tuning run of a base model on one domain's data."""

    api_version: Literal["tara.dev/v1alpha1"] = Field(default=API_VERSION, description="tara.dev/v1alpha1")
    kind: Literal["DomainTraining"] = Field(default="DomainTraining", description="DomainTraining")
    metadata: ObjectMeta = Field(default_factory=ObjectMeta, description="Standard object metadata.")
    spec: DomainTrainingSpec = Field(description="Desired state.")
    status: DomainTrainingStatus | None = Field(default=None, description="Observed state.")

    @classmethod
    def from_manifest(cls, doc: dict[str, Any]) -> DomainTraining:
        """Validate a manifest (raises pydantic.ValidationError naming each bad field)."""
        return cls.model_validate(doc)
