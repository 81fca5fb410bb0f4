"""Deterministic names and labels of every child object.

The same resource always gets the same child names, so re-applying a manifest or restarting the
operator finds the existing children instead of creating duplicates. Names longer than a
Kubernetes limit are shortened with a hash of the full name, never just cut.
"""

from __future__ import annotations

import hashlib

from tara_api.meta import GROUP

__all__ = [
    "MANAGED_BY",
    "build_job_name",
    "checkpoint_claim",
    "child_name",
    "deployment_name",
    "labels",
    "router_config_name",
    "spec_config_name",
    "training_job_name",
]

MANAGED_BY = "tara-operator"
_LABEL_MAX = 63


def child_name(owner: str, suffix: str, limit: int = _LABEL_MAX) -> str:
    """``<owner>-<suffix>``, shortened to ``limit`` with an 8-character hash when longer."""
    full = f"{owner}-{suffix}"
    if len(full) <= limit:
        return full
    digest = hashlib.sha256(full.encode()).hexdigest()[:8]
    keep = limit - len(suffix) - len(digest) - 2
    return f"{owner[:keep].rstrip('-')}-{digest}-{suffix}"


def training_job_name(owner: str, attempt: int, run: str | None = None) -> str:
    """``<owner>-<run>-train-<attempt>``: ``run`` (a spec hash) makes a changed spec's Jobs new names."""
    return child_name(owner, f"{run[:6]}-train-{attempt}" if run else f"train-{attempt}")


def spec_config_name(owner: str) -> str:
    return child_name(owner, "spec", 253)


def checkpoint_claim(owner: str) -> str:
    return child_name(owner, "checkpoints", 253)


def build_job_name(owner: str, revision: int) -> str:
    return child_name(owner, f"build-{revision}")


def deployment_name(owner: str) -> str:
    return child_name(owner, "serve")


def router_config_name(owner: str) -> str:
    return child_name(owner, "router", 253)


def labels(kind: str, owner: str, component: str, **extra: str) -> dict[str, str]:
    """Recommended labels plus ``tara.dev/<kind>: <owner>`` so children are found by selector."""
    base = {
        "app.kubernetes.io/name": "tara",
        "app.kubernetes.io/component": component,
        "app.kubernetes.io/managed-by": MANAGED_BY,
        f"{GROUP}/{kind.lower()}": owner[:_LABEL_MAX].rstrip("-.") or "x",
    }
    return {**base, **{f"{GROUP}/{k}": v for k, v in extra.items()}}
