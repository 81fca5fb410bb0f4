"""The trainer's settings: one object per process, read from the environment once.

Every variable is prefixed ``TARA_`` except the ones Kubernetes itself sets
(``KUBERNETES_SERVICE_HOST``/``_PORT``, ``JOB_COMPLETION_INDEX``) and the ones
``torch.distributed.run`` sets in each worker it starts (``RANK``, ``LOCAL_RANK``, ``WORLD_SIZE``,
``LOCAL_WORLD_SIZE``). Nothing else in the trainer reads ``os.environ``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from tara_api.crd import DOMAIN_TRAINING, KINDS
from tara_trainer.faults import Fault, FaultPoint

__all__ = ["TrainerSettings"]


class TrainerSettings(BaseModel):
    """Process settings of ``tara-trainer`` (environment variable in brackets)."""

    model_config = ConfigDict(frozen=True)

    resource_name: str | None = Field(default=None, description="DomainTraining name [TARA_RESOURCE_NAME].")
    namespace: str | None = Field(default=None, description="DomainTraining namespace [TARA_NAMESPACE].")
    resource_plural: str = Field(default=DOMAIN_TRAINING.plural, pattern=f"^({'|'.join(k.plural for k in KINDS)})$",
                                 description="Kind of the resource whose status the pod patches [TARA_RESOURCE_PLURAL].")
    api_host: str | None = Field(default=None, description="Kubernetes API host [KUBERNETES_SERVICE_HOST].")
    api_port: str = Field(default="443", description="Kubernetes API port [KUBERNETES_SERVICE_PORT].")
    api_url: str | None = Field(
        default=None, description="API base URL overriding https://host:port, e.g. a local proxy [TARA_API_URL]."
    )
    service_account_dir: Path = Field(
        default=Path("/var/run/secrets/kubernetes.io/serviceaccount"),
        description="Mounted service-account token and CA [TARA_SERVICE_ACCOUNT_DIR].",
    )
    status_interval_s: float = Field(default=10.0, ge=0, description="Min seconds between status patches [TARA_STATUS_INTERVAL].")
    field_validation: Literal["Strict", "Warn", "Ignore"] = Field(
        default="Warn", description="How the API server treats status fields its schema lacks: Strict refuses the patch "
        "(the tests run so), Warn drops them [TARA_FIELD_VALIDATION].")
    state_interval_s: float = Field(default=3.0, ge=0, description="Min seconds between state-file writes [TARA_STATE_INTERVAL].")
    metrics_port: int = Field(default=0, ge=0, le=65535, description="Prometheus port, 0 = off [TARA_METRICS_PORT].")
    termination_log: Path | None = Field(
        default=None, description="File for the failure reason, e.g. /dev/termination-log [TARA_TERMINATION_LOG]."
    )
    mounts_root: Path = Field(
        default=Path("/mnt/tara"),
        description="Where the operator mounts claims/<name>, configmaps/<name>, secrets/<name> [TARA_MOUNTS_ROOT].",
    )
    progress_bar: bool | None = Field(default=None, description="Show a progress bar; default when stderr is a terminal [TARA_PROGRESS_BAR].")
    probe_max_batch: int = Field(default=256, ge=1, description="Largest batch tried by batchSize: auto [TARA_PROBE_MAX_BATCH].")
    cpu_auto_batch: int = Field(default=8, ge=1, description="Batch used for batchSize: auto on CPU [TARA_CPU_AUTO_BATCH].")
    cache_dir: Path = Field(
        default_factory=lambda: Path.home() / ".cache" / "tara",
        description="Cache of the llama.cpp build [TARA_CACHE_DIR; default $XDG_CACHE_HOME/tara or ~/.cache/tara].",
    )
    gguf_cache_dir: Path | None = Field(
        default=None,
        description="Where a GGUF baseModel is dequantized to a Hugging Face folder, reused by later runs; the operator "
        "points it at the training's output volume [TARA_GGUF_CACHE_DIR; default <cache dir>/gguf-base].",
    )
    build_toolchain: bool = Field(
        default=True, description="Build llama.cpp into the cache when missing; off in images that ship it [TARA_BUILD_TOOLCHAIN]."
    )
    ggml_native: bool = Field(default=True, description="Build llama.cpp for this CPU; false: portable, as images ship [TARA_GGML_NATIVE].")
    ggml_cuda: bool = Field(default=False, description="`tara-trainer llama-build` builds llama.cpp with CUDA (GGML_CUDA=ON; "
                            "needs nvcc), as the trainer image does for serving with GPU layers [TARA_GGML_CUDA].")
    threads: int = Field(default_factory=lambda: os.cpu_count() or 2, ge=1, description="CPU threads for llama.cpp tools [TARA_THREADS].")
    fault_point: FaultPoint | None = Field(
        default=None, description="Tests only: SIGKILL the trainer at this point of finishing a checkpoint: "
        f"{', '.join(p.value for p in FaultPoint)} [TARA_FAULT_POINT].")
    fault_step: int = Field(default=1, ge=1, description="Tests only: with a fault point, the first checkpoint step "
                            "(or optimizer step, for after-step) it may fire at [TARA_FAULT_STEP].")
    fault_rank: int | None = Field(default=None, ge=0, description="Tests only: the global rank the fault fires in; "
                                   "unset: every rank [TARA_FAULT_RANK].")
    # Data-parallel training (``distributed``): the launch the operator asks for, one pod per node.
    nnodes: int = Field(default=1, ge=1, le=1024, description="Pods (nodes) of one training [TARA_NNODES].")
    nproc_per_node: int = Field(default=1, ge=1, le=64, description="Training processes per pod: the GPU count on "
                                "GPU pods [TARA_NPROC_PER_NODE].")
    node_rank: int = Field(default=0, ge=0, description="This pod's index among the nodes [TARA_NODE_RANK; else "
                           "JOB_COMPLETION_INDEX, which Kubernetes sets in an Indexed Job; else 0].")
    master_addr: str = Field(default="127.0.0.1", min_length=1, description="Address of the node-rank-0 pod, e.g. its "
                             "DNS name in the headless Service [TARA_MASTER_ADDR].")
    master_port: int = Field(default=29500, ge=1, le=65535, description="Rendezvous port on that pod [TARA_MASTER_PORT].")
    dist_backend: Literal["nccl", "gloo"] | None = Field(default=None, description="torch.distributed backend; default "
                                                         "nccl when training on CUDA, else gloo [TARA_DIST_BACKEND].")
    dist_shutdown_timeout_s: int = Field(default=120, ge=1, description="Seconds the launcher gives its workers to exit "
                                         "(a checkpoint on SIGTERM) before SIGKILL [TARA_DIST_SHUTDOWN_TIMEOUT].")
    rank_reports: Path | None = Field(default=None, description="Set by the launcher in its workers: the folder each "
                                      "writes its outcome to [TARA_RANK_REPORTS].")
    rank: int | None = Field(default=None, ge=0, description="Global rank of a torch.distributed worker [RANK].")
    local_rank: int | None = Field(default=None, ge=0, description="Rank within the pod: the GPU it uses [LOCAL_RANK].")
    world_size: int = Field(default=1, ge=1, description="Processes of the training [WORLD_SIZE].")
    local_world_size: int = Field(default=1, ge=1, description="Processes in this pod [LOCAL_WORLD_SIZE].")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> TrainerSettings:
        env = os.environ if env is None else env
        mapping = {
            "resource_name": "TARA_RESOURCE_NAME",
            "namespace": "TARA_NAMESPACE",
            "resource_plural": "TARA_RESOURCE_PLURAL",
            "api_host": "KUBERNETES_SERVICE_HOST",
            "api_port": "KUBERNETES_SERVICE_PORT",
            "api_url": "TARA_API_URL",
            "service_account_dir": "TARA_SERVICE_ACCOUNT_DIR",
            "status_interval_s": "TARA_STATUS_INTERVAL",
            "field_validation": "TARA_FIELD_VALIDATION",
            "state_interval_s": "TARA_STATE_INTERVAL",
            "metrics_port": "TARA_METRICS_PORT",
            "termination_log": "TARA_TERMINATION_LOG",
            "mounts_root": "TARA_MOUNTS_ROOT",
            "progress_bar": "TARA_PROGRESS_BAR",
            "probe_max_batch": "TARA_PROBE_MAX_BATCH",
            "cpu_auto_batch": "TARA_CPU_AUTO_BATCH",
            "cache_dir": "TARA_CACHE_DIR",
            "gguf_cache_dir": "TARA_GGUF_CACHE_DIR",
            "build_toolchain": "TARA_BUILD_TOOLCHAIN",
            "threads": "TARA_THREADS",
            "ggml_native": "TARA_GGML_NATIVE",
            "ggml_cuda": "TARA_GGML_CUDA",
            "fault_point": "TARA_FAULT_POINT",
            "fault_step": "TARA_FAULT_STEP",
            "fault_rank": "TARA_FAULT_RANK",
            "nnodes": "TARA_NNODES",
            "nproc_per_node": "TARA_NPROC_PER_NODE",
            "master_addr": "TARA_MASTER_ADDR",
            "master_port": "TARA_MASTER_PORT",
            "dist_backend": "TARA_DIST_BACKEND",
            "dist_shutdown_timeout_s": "TARA_DIST_SHUTDOWN_TIMEOUT",
            "rank_reports": "TARA_RANK_REPORTS",
            "rank": "RANK",
            "local_rank": "LOCAL_RANK",
            "world_size": "WORLD_SIZE",
            "local_world_size": "LOCAL_WORLD_SIZE",
        }
        values = {field: env[var] for field, var in mapping.items() if env.get(var)}
        node_rank = env.get("TARA_NODE_RANK") or env.get("JOB_COMPLETION_INDEX")
        if node_rank:
            values["node_rank"] = node_rank
        if "cache_dir" not in values and env.get("XDG_CACHE_HOME"):
            values["cache_dir"] = str(Path(env["XDG_CACHE_HOME"]) / "tara")
        return cls.model_validate(values)

    @model_validator(mode="after")
    def _node_rank_in_range(self) -> TrainerSettings:
        if self.node_rank >= self.nnodes:
            raise ValueError(f"node rank {self.node_rank} (TARA_NODE_RANK or JOB_COMPLETION_INDEX) must be below "
                             f"TARA_NNODES {self.nnodes}")
        return self

    @property
    def is_worker(self) -> bool:
        """True in a process ``torch.distributed.run`` started (it sets RANK and LOCAL_RANK)."""
        return self.rank is not None or self.local_rank is not None

    @property
    def api_base(self) -> str:
        return self.api_url.rstrip("/") if self.api_url else f"https://{self.api_host}:{self.api_port}"

    @property
    def gguf_base_cache(self) -> Path:
        """The folder GGUF base models are dequantized into."""
        return self.gguf_cache_dir or self.cache_dir / "gguf-base"

    @property
    def fault(self) -> Fault | None:
        """The injected fault, if a test asked for one."""
        if self.fault_point is None or (self.fault_rank is not None and self.fault_rank != (self.rank or 0)):
            return None
        return Fault(self.fault_point, self.fault_step)

    def shows_progress_bar(self, stream: IO[str]) -> bool:
        """``progress_bar`` when set, else whether ``stream`` (the trainer's stderr) is a terminal."""
        return self.progress_bar if self.progress_bar is not None else stream.isatty()

    @property
    def in_cluster(self) -> bool:
        """True when the trainer can and should patch its DomainTraining's status."""
        token = self.service_account_dir / "token"
        return bool((self.api_host or self.api_url) and self.resource_name and self.namespace and token.is_file())
