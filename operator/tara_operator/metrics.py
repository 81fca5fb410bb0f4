"""The operator's Prometheus metrics (served on ``TARA_METRICS_PORT``)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from prometheus_client import Counter, Gauge, Histogram

__all__ = ["RECONCILES", "RECONCILE_SECONDS", "RESOURCES", "TRAINING_PERCENT", "TRAINING_STEP", "timed"]

RECONCILES = Counter("tara_operator_reconciles_total", "Reconciles by kind and result (ok, error, retry).",
                     ["kind", "result"])
RECONCILE_SECONDS = Histogram("tara_operator_reconcile_seconds", "Time to reconcile one resource.", ["kind"],
                              buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
RESOURCES = Gauge("tara_operator_resources", "Resources by kind and phase.", ["kind", "phase"])
TRAINING_PERCENT = Gauge("tara_training_progress_percent", "Training progress reported by the trainer.",
                         ["namespace", "name", "domain"])
TRAINING_STEP = Gauge("tara_training_step", "Optimizer step reported by the trainer.", ["namespace", "name", "domain"])


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
