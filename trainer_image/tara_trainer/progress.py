"""Progress reporting: the JSON state file, the DomainTraining status patch and Prometheus metrics.

The state file is the original design's per-domain state file, made atomic (written to a
temporary name, then renamed) so a reader never sees half a file. In a cluster the same
progress is merge-patched into the resource's ``status`` (rate-limited; an API failure is
logged and never stops training). Metrics are served on a port when one is configured.
"""

from __future__ import annotations

import json
import logging
import math
import os
import ssl
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, Gauge, start_http_server

from tara_api.meta import GROUP, VERSION
from tara_trainer.settings import TrainerSettings

__all__ = ["Progress", "ProgressReporter", "StatusPatcher", "TrainerMetrics", "status_patch", "write_json_atomic"]

log = logging.getLogger(__name__)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def write_json_atomic(path: Path, payload: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(payload, indent=2, sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)


def _finite(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else round(float(value), 6)


@dataclass(frozen=True)
class Progress:
    """Everything the trainer reports; ``state.json`` holds exactly this."""

    domain: str
    status: str = "Pending"  # Pending, Running, Succeeded, Failed, Preempted
    step: int = 0
    total_steps: int = 0
    epoch: float | None = None
    loss: float | None = None
    eval_loss: float | None = None
    learning_rate: float | None = None
    tokens_per_second: float | None = None
    eta_seconds: int | None = None
    checkpoint: str | None = None
    checkpoint_step: int | None = None
    checkpoint_time: str | None = None
    resumed_from: str | None = None
    no_resume_reason: str | None = None  # checkpoints were there, none was usable: which and why
    base_model: str | None = None
    base_gguf: dict[str, Any] = field(default_factory=dict)  # a GGUF base: what it was dequantized to (ggufbase)
    output_dir: str | None = None
    metrics: dict[str, float | None] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    artifacts: dict[str, Any] = field(default_factory=dict)  # the finished adapter: {"sha256": of its manifest.json}
    reason: str | None = None
    message: str | None = None
    updated_at: str = field(default_factory=_now)

    @property
    def percent(self) -> float:
        return round(100.0 * self.step / self.total_steps, 2) if self.total_steps else 0.0

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["percent"] = self.percent
        return out


def status_patch(progress: Progress) -> dict[str, Any]:
    """The merge-patch body for the DomainTraining's status (pure; camelCase like the CRD)."""
    body: dict[str, Any] = {
        "progress": {
            k: v
            for k, v in {
                "step": progress.step,
                "totalSteps": progress.total_steps,
                "percent": progress.percent,
                "epoch": _finite(progress.epoch),
                "loss": _finite(progress.loss),
                "evalLoss": _finite(progress.eval_loss),
                "learningRate": _finite(progress.learning_rate),
                "tokensPerSecond": _finite(progress.tokens_per_second),
                "etaSeconds": progress.eta_seconds,
                "updatedAt": progress.updated_at,
            }.items()
            if v is not None
        }
    }
    if progress.checkpoint is not None and progress.checkpoint_step is not None:
        body["checkpoint"] = {"path": progress.checkpoint, "step": progress.checkpoint_step}
        if progress.checkpoint_time:
            body["checkpoint"]["time"] = progress.checkpoint_time
    elif progress.no_resume_reason:
        body["checkpoint"] = None  # merge patch: drop the refused checkpoint an earlier attempt reported
    if progress.base_gguf:
        body["baseModel"] = {"path": progress.base_model, "gguf": progress.base_gguf}
    metrics = {k: _finite(v) for k, v in progress.metrics.items() if _finite(v) is not None}
    if metrics:
        body["metrics"] = metrics
    data = {k: progress.data[k] for k in ("rows", "badRows", "train", "eval", "split", "rowsSha256")
            if progress.data.get(k) is not None}
    if {"rows", "train", "eval"} <= data.keys():  # the data summary (train._load_data) as status.data
        body["data"] = data
    if progress.artifacts.get("sha256"):  # merged with the adapter's paths, which the operator writes
        body["artifacts"] = {"sha256": progress.artifacts["sha256"]}
    return {"status": body}


class StatusPatcher:
    """Merge-patches ``status`` of our resource (a DomainTraining, or the GGUFPhase a build runs for)
    with the pod's service-account token.

    Plain HTTPS (the in-cluster CA and token), so the trainer image needs no client library to do
    it; failures are logged and counted, never raised.
    """

    def __init__(self, settings: TrainerSettings, timeout_s: float = 5.0) -> None:
        sa = settings.service_account_dir
        self._url = (
            f"{settings.api_base}/apis/{GROUP}/{VERSION}/namespaces/"
            f"{settings.namespace}/{settings.resource_plural}/{settings.resource_name}/status"
            f"?fieldValidation={settings.field_validation}"
        )
        self._token_file = sa / "token"
        ca = sa / "ca.crt"
        self._context = ssl.create_default_context(cafile=str(ca)) if ca.is_file() else ssl.create_default_context()
        self._timeout = timeout_s
        self.failures = 0

    def patch(self, body: dict[str, Any]) -> bool:
        request = urllib.request.Request(
            self._url,
            data=json.dumps(body).encode(),
            method="PATCH",
            headers={
                "Content-Type": "application/merge-patch+json",
                "Authorization": f"Bearer {self._token_file.read_text().strip()}",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self._timeout, context=self._context):
                return True
        except (urllib.error.URLError, OSError, ValueError) as exc:
            self.failures += 1
            log.warning("status patch failed (training continues): %s", exc)
            return False


class TrainerMetrics:
    """Prometheus gauges of one training run's process (``rank``: its global rank in a data-parallel run)."""

    def __init__(self, domain: str, registry: CollectorRegistry | None = None, rank: int = 0) -> None:
        self.registry = registry or CollectorRegistry()
        labels = ("domain", "rank")
        self._gauges = {
            name: Gauge(f"tara_trainer_{name}", text, labels, registry=self.registry).labels(domain, str(rank))
            for name, text in (
                ("step", "Optimizer steps done."),
                ("total_steps", "Optimizer steps planned."),
                ("loss", "Latest training loss."),
                ("eval_loss", "Latest eval loss."),
                ("learning_rate", "Current learning rate."),
                ("tokens_per_second", "Training throughput in tokens per second."),
                ("checkpoint_step", "Step of the latest valid checkpoint."),
            )
        }

    def update(self, progress: Progress) -> None:
        for name, value in (
            ("step", progress.step),
            ("total_steps", progress.total_steps),
            ("loss", progress.loss),
            ("eval_loss", progress.eval_loss),
            ("learning_rate", progress.learning_rate),
            ("tokens_per_second", progress.tokens_per_second),
            ("checkpoint_step", progress.checkpoint_step),
        ):
            if value is not None and math.isfinite(value):
                self._gauges[name].set(value)

    def serve(self, port: int, addr: str = "0.0.0.0") -> Any:
        """Serve /metrics on a daemon thread; returns the server (call ``shutdown()`` to stop it)."""
        server, _thread = start_http_server(port, addr=addr, registry=self.registry)
        return server


class ProgressReporter:
    """Fans progress out to the state file, the status patcher and the metrics, each rate-limited."""

    def __init__(
        self,
        state_file: Path,
        initial: Progress,
        settings: TrainerSettings,
        patcher: StatusPatcher | None = None,
        metrics: TrainerMetrics | None = None,
        clock=time.monotonic,
    ) -> None:
        self.state_file = state_file
        self.current = initial
        self._settings = settings
        self._patcher = patcher
        self._metrics = metrics
        self._clock = clock
        self._last_state = -math.inf
        self._last_status = -math.inf
        self.state_writes = 0
        self.status_patches = 0

    def update(self, force: bool = False, **changes: Any) -> Progress:
        self.current = replace(self.current, updated_at=_now(), **changes)
        now = self._clock()
        if self._metrics is not None:
            self._metrics.update(self.current)
        if force or now - self._last_state >= self._settings.state_interval_s:
            write_json_atomic(self.state_file, self.current.to_json())
            self._last_state = now
            self.state_writes += 1
        if self._patcher is not None and (force or now - self._last_status >= self._settings.status_interval_s):
            if self._patcher.patch(status_patch(self.current)):
                self.status_patches += 1
            self._last_status = now
        return self.current
