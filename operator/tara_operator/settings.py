"""The operator's settings: one object per process, read from the environment once.

Every variable is prefixed ``TARA_``. Nothing else in the operator reads ``os.environ``. A bad
value stops the operator at start (``SettingsError`` names the variable and what it needs), never
later in a reconcile.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from tara_operator.cost import Prices

__all__ = ["OperatorSettings", "SettingsError"]


class SettingsError(ValueError):
    """The environment holds a value the operator cannot run with; the message names each variable."""

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
    "gpu_hour_prices": "TARA_GPU_HOUR_PRICES",
    "default_cpu_request": "TARA_DEFAULT_CPU_REQUEST",
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
    gpu_hour_price: float = Field(default=0.0, ge=0, allow_inf_nan=False,
                                  description="Price of one GPU-hour of a GPU product not in TARA_GPU_HOUR_PRICES (and of "
                                  "pods that name no product), 0 = no estimate [TARA_GPU_HOUR_PRICE].")
    gpu_hour_prices: dict[str, float] = Field(
        default_factory=dict,
        description="Price of one GPU-hour per GPU product, as a JSON object of the node label nvidia.com/gpu.product's "
        "values, e.g. {\"NVIDIA-A100-SXM4-80GB\": 2.5} [TARA_GPU_HOUR_PRICES].")
    default_cpu_request: str = Field(
        default="1", description="CPU requested (not limited) by training, build and serving pods whose spec sets none; "
        "the cost counts it [TARA_DEFAULT_CPU_REQUEST].")
    cpu_hour_price: float = Field(default=0.0, ge=0, allow_inf_nan=False, description="Price of one CPU core-hour [TARA_CPU_HOUR_PRICE].")
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

    @field_validator("gpu_hour_prices", mode="before")
    @classmethod
    def _prices(cls, value: object) -> object:
        if isinstance(value, str):
            try:
                value = json.loads(value) if value.strip() else {}
            except ValueError as exc:
                raise ValueError(f"not JSON ({exc}); expected an object of GPU product to hourly price") from exc
        if not isinstance(value, Mapping):
            raise ValueError("expected a JSON object of GPU product to hourly price, e.g. {\"NVIDIA-H100-80GB-HBM3\": 4.0}")
        for product, price in value.items():
            if not isinstance(product, str) or not 0 < len(product) <= 63:
                raise ValueError(f"GPU product {product!r}: expected the node label's value (1 to 63 characters)")
            if isinstance(price, bool) or not isinstance(price, int | float) or not math.isfinite(price) or price < 0:
                raise ValueError(f"GPU product {product}: price {price!r} is not a number >= 0")
        return dict(value)

    @field_validator("default_cpu_request")
    @classmethod
    def _cpu(cls, value: str) -> str:
        text = value.strip()
        try:
            cores = float(text[:-1]) / 1000 if text.endswith("m") else float(text)
        except ValueError:
            cores = math.nan
        if not math.isfinite(cores) or cores <= 0:
            raise ValueError(f"{value!r} is not a CPU quantity above 0 (e.g. 1, 500m, 2.5)")
        return text

    def prices(self) -> Prices:
        """The cost estimates' prices: per GPU product (``gpu_hour_prices``, else ``gpu_hour_price``) and per core."""
        return Prices(gpu=self.gpu_hour_price, cpu=self.cpu_hour_price, gpu_by_product=self.gpu_hour_prices, currency=self.currency)

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
        """Raises SettingsError naming each variable whose value is invalid."""
        env = os.environ if env is None else env
        try:
            return cls.model_validate({field: env[var] for field, var in _FIELDS.items() if env.get(var)})
        except ValidationError as exc:
            problems = [f"{_FIELDS.get(str(e['loc'][0]), e['loc'][0]) if e['loc'] else 'settings'}: "
                        f"{e['msg'].removeprefix('Value error, ')} (got {env.get(_FIELDS.get(str(e['loc'][0]), ''), '')!r})"
                        for e in exc.errors()]
            raise SettingsError("invalid operator settings: " + "; ".join(problems)) from None
