"""The operator's Prometheus metrics (served on ``TARA_METRICS_PORT``).

Training gauges come from what the trainer reports in ``status.progress``; the Helm chart's
dashboard and alerts (``helm/tara``) use these names, and a test there checks every name they use
is exported here. Per-resource series are removed when their resource goes, so a deleted training
never lingers on a dashboard.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from prometheus_client import Counter, Gauge, Histogram

__all__ = ["RECONCILES", "RECONCILE_SECONDS", "RESOURCES", "RESOURCE_PHASE", "ATTEMPT_FAILURES", "TRAINING_GAUGES",
           "TRAINING_PERCENT", "TRAINING_STEP", "TrainingSeries", "timed"]

RECONCILES = Counter("tara_operator_reconciles_total", "Reconciles by kind and result (ok, error, retry).",
                     ["kind", "result"])
RECONCILE_SECONDS = Histogram("tara_operator_reconcile_seconds", "Time to reconcile one resource.", ["kind"],
                              buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
RESOURCES = Gauge("tara_operator_resources", "Resources by kind and phase.", ["kind", "phase"])
RESOURCE_PHASE = Gauge("tara_resource_phase", "1 for the current phase of each resource.", ["kind", "namespace", "name", "phase"])
ATTEMPT_FAILURES = Counter("tara_training_attempt_failures_total",
                           "Training attempts that ended in a failure (retryable or not), by reason.",
                           ["namespace", "name", "domain", "reason"])

_LABELS = ["namespace", "name", "domain"]
TRAINING_PERCENT = Gauge("tara_training_progress_percent", "Training progress reported by the trainer.", _LABELS)
TRAINING_STEP = Gauge("tara_training_step", "Optimizer step reported by the trainer.", _LABELS)
TRAINING_LOSS = Gauge("tara_training_loss", "Latest training loss reported by the trainer.", _LABELS)
TRAINING_EVAL_LOSS = Gauge("tara_training_eval_loss", "Latest eval loss reported by the trainer.", _LABELS)
TRAINING_TOKENS = Gauge("tara_training_tokens_per_second", "Training throughput reported by the trainer.", _LABELS)
TRAINING_PROGRESSED = Gauge("tara_training_last_progress_timestamp_seconds",
                            "Unix time at which the reported step last changed (stall detection).", _LABELS)
# status.progress field -> gauge
TRAINING_GAUGES: dict[str, Gauge] = {"percent": TRAINING_PERCENT, "step": TRAINING_STEP, "loss": TRAINING_LOSS,
                                     "evalLoss": TRAINING_EVAL_LOSS, "tokensPerSecond": TRAINING_TOKENS}


def _when(progress: Mapping[str, Any], now: float) -> float:
    try:
        return datetime.fromisoformat(str(progress["updatedAt"]).replace("Z", "+00:00")).timestamp()
    except (KeyError, ValueError):
        return now


class TrainingSeries:
    """Publishes each DomainTraining's progress gauges; remembers the last step seen per resource so
    that the stall timestamp moves only when the step does (the trainer's ``updatedAt`` when it
    moved, so an operator restart does not reset it)."""

    def __init__(self) -> None:
        self.steps: dict[tuple[str, str], float] = {}

    def observe(self, body: Mapping[str, Any], now: float | None = None) -> None:
        meta = body["metadata"]
        key = (meta["namespace"], meta["name"])
        labels = (*key, str((body.get("spec") or {}).get("domain", "")))
        progress = (body.get("status") or {}).get("progress") or {}
        for field, gauge in TRAINING_GAUGES.items():
            if isinstance(progress.get(field), int | float):
                gauge.labels(*labels).set(float(progress[field]))
        if "step" in progress:
            step = float(progress["step"])
            if self.steps.get(key) != step:
                TRAINING_PROGRESSED.labels(*labels).set(_when(progress, time.time() if now is None else now))
            self.steps[key] = step

    def forget(self, key: tuple[str, str], domain: str) -> None:
        labels = (*key, domain)
        self.steps.pop(key, None)
        for gauge in (*TRAINING_GAUGES.values(), TRAINING_PROGRESSED):
            try:
                gauge.remove(*labels)
            except KeyError:
                pass


@contextmanager
def timed(kind: str) -> Iterator[None]:
    started = time.perf_counter()
    result = "error"
    try:
        yield
        result = "ok"
    except Exception as exc:
        result = "retry" if type(exc).__name__ == "TemporaryError" else "error"
        raise
    finally:
        RECONCILES.labels(kind, result).inc()
        RECONCILE_SECONDS.labels(kind).observe(time.perf_counter() - started)
