"""The operator's settings: one object per process, read from the environment once.

Every variable is prefixed ``TARA_``. Nothing else in the operator reads ``os.environ``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = ["OperatorSettings"]

_FIELDS = {
    "namespaces": "TARA_NAMESPACES",
    "trainer_image": "TARA_TRAINER_IMAGE",
    "server_image": "TARA_SERVER_IMAGE",
    "router_image": "TARA_ROUTER_IMAGE",
    "image_pull_policy": "TARA_IMAGE_PULL_POLICY",
    "storage_class": "TARA_STORAGE_CLASS",
    "artifacts_claim": "TARA_ARTIFACTS_CLAIM",
    "artifacts_size": "TARA_ARTIFACTS_SIZE",
    "metrics_port": "TARA_METRICS_PORT",
    "liveness_port": "TARA_LIVENESS_PORT",
    "peering": "TARA_PEERING",
    "trainer_metrics_port": "TARA_TRAINER_METRICS_PORT",
    "backoff_base_s": "TARA_BACKOFF_BASE",
    "backoff_max_s": "TARA_BACKOFF_MAX",
    "gpu_hour_price": "TARA_GPU_HOUR_PRICE",
    "cpu_hour_price": "TARA_CPU_HOUR_PRICE",
    "currency": "TARA_CURRENCY",
    "service_monitor": "TARA_SERVICE_MONITOR",
    "trainer_service_account": "TARA_TRAINER_SERVICE_ACCOUNT",
    "resync_s": "TARA_RESYNC_SECONDS",
    "priority": "TARA_PRIORITY",
    "field_validation": "TARA_FIELD_VALIDATION",
    "pod_name": "HOSTNAME",
}


class OperatorSettings(BaseModel):
    """Process settings of ``tara-operator`` (environment variable in brackets)."""

    model_config = ConfigDict(frozen=True)

    namespaces: tuple[str, ...] = Field(default=(), description="Namespaces to watch, comma-separated; empty = all [TARA_NAMESPACES].")
    trainer_image: str = Field(default="ghcr.io/tara-dev/tara-trainer:0.1.0", description="Trainer and build image [TARA_TRAINER_IMAGE].")
    server_image: str = Field(default="ghcr.io/tara-dev/tara-trainer:0.1.0",
                              description="Image with llama-server for the serving Deployment [TARA_SERVER_IMAGE].")
    router_image: str = Field(default="", description="Router sidecar image; empty: the serving image, whose llama.cpp embeds "
                                                      "requests for semantic routing [TARA_ROUTER_IMAGE].")
    image_pull_policy: str = Field(default="IfNotPresent", pattern="^(Always|IfNotPresent|Never)$",
                                   description="Pull policy of every container [TARA_IMAGE_PULL_POLICY].")
    storage_class: str | None = Field(default=None, description="StorageClass of claims the operator creates [TARA_STORAGE_CLASS].")
    artifacts_claim: str = Field(default="tara-artifacts",
                                 description="Claim per namespace holding training outputs and builds [TARA_ARTIFACTS_CLAIM].")
    artifacts_size: str = Field(default="50Gi", description="Size of that claim when the operator creates it [TARA_ARTIFACTS_SIZE].")
    metrics_port: int = Field(default=8080, ge=0, le=65535, description="Prometheus port, 0 = off [TARA_METRICS_PORT].")
    liveness_port: int = Field(default=8081, ge=0, le=65535, description="kopf liveness endpoint port [TARA_LIVENESS_PORT].")
    peering: str | None = Field(default=None, description="kopf peering name for leader election; unset = standalone [TARA_PEERING].")
    trainer_metrics_port: int = Field(default=9400, ge=1, le=65535, description="Port of the trainer's metrics [TARA_TRAINER_METRICS_PORT].")
    backoff_base_s: float = Field(default=10.0, ge=0, description="First retry delay after a recoverable failure [TARA_BACKOFF_BASE].")
    backoff_max_s: float = Field(default=600.0, ge=0, description="Largest retry delay [TARA_BACKOFF_MAX].")
    gpu_hour_price: float = Field(default=0.0, ge=0, description="Price of one GPU-hour, 0 = no estimate [TARA_GPU_HOUR_PRICE].")
    cpu_hour_price: float = Field(default=0.0, ge=0, description="Price of one CPU core-hour [TARA_CPU_HOUR_PRICE].")
    currency: str = Field(default="USD", max_length=8, description="Currency of the estimates [TARA_CURRENCY].")
    service_monitor: bool = Field(default=False, description="Create a ServiceMonitor per serving phase [TARA_SERVICE_MONITOR].")
    trainer_service_account: str = Field(default="tara-trainer",
                                         description="Service account of training pods (may only patch DomainTraining status) [TARA_TRAINER_SERVICE_ACCOUNT].")

    priority: int | None = Field(default=None, ge=0, le=1_000_000, description="Peering priority; the highest active "
                                 "replica leads. Default: derived from the pod name, so replicas differ [TARA_PRIORITY].")
    pod_name: str = Field(default="", description="This replica's pod name, set by Kubernetes [HOSTNAME].")
    resync_s: float = Field(default=15.0, gt=0, description="Seconds between resyncs of unfinished trainings [TARA_RESYNC_SECONDS].")
    field_validation: Literal["Strict", "Warn", "Ignore"] = Field(
        default="Warn", description="How the API server treats fields of our writes that the schema lacks: Strict refuses "
        "the write (the tests run so), Warn drops them, which keeps an operator newer than its CRDs working [TARA_FIELD_VALIDATION].")

    @field_validator("namespaces", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(ns.strip() for ns in value.split(",") if ns.strip())
        return value

    @property
    def effective_priority(self) -> int:
        """kopf pauses every replica when two share a priority, so replicas must differ: the pod name
        (unique per pod) picks one unless TARA_PRIORITY does."""
        if self.priority is not None:
            return self.priority
        import zlib

        return 100 + zlib.crc32(self.pod_name.encode()) % 100_000

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> OperatorSettings:
        env = os.environ if env is None else env
        return cls.model_validate({field: env[var] for field, var in _FIELDS.items() if env.get(var)})
