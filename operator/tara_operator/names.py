"""Deterministic names and labels of every child object.

The same resource always gets the same child names, so re-applying a manifest or restarting the
operator finds the existing children instead of creating duplicates. Names longer than a
Kubernetes limit are shortened with a hash of the full name, never just cut. Label values are
names too: ``label_value`` builds them, and both the labels a child carries and the selectors that
find it use it, so the two cannot disagree.
"""

from __future__ import annotations

import hashlib

from tara_api.meta import GROUP

__all__ = [
    "JOB_NAME_LABEL",
    "MANAGED_BY",
    "build_job_name",
    "checkpoint_claim",
    "child_name",
    "deployment_name",
    "label_key",
    "job_pods_selector",
    "label_value",
    "labels",
    "owner_label",
    "ranks_service_name",
    "router_config_name",
    "selector",
    "spec_config_name",
    "training_job_name",
]

MANAGED_BY = "tara-operator"
# The Job controller's label on the pods of a Job, valued with the Job's name (Kubernetes 1.27 and
# newer; the unprefixed ``job-name`` it also sets is the deprecated form). The ranks Service selects
# an attempt's pods by it, and the reconcilers list a Job's pods by it.
JOB_NAME_LABEL = "batch.kubernetes.io/job-name"
_LABEL_MAX = 63


def child_name(owner: str, suffix: str, limit: int = _LABEL_MAX) -> str:
    """``<owner>-<suffix>``, shortened to ``limit`` with an 8-character hash when longer."""
    full = f"{owner}-{suffix}"
    if len(full) <= limit:
        return full
    digest = hashlib.sha256(full.encode()).hexdigest()[:8]
    keep = limit - len(suffix) - len(digest) - 2
    return f"{owner[:keep].rstrip('-')}-{digest}-{suffix}"


def _dns_label(owner: str) -> str:
    """A resource name (a DNS-1123 subdomain, dots allowed) as the start of a DNS label: dots become
    dashes, with a hash of the original when there were any, so ``a.b`` and ``a-b`` stay apart."""
    if "." not in owner:
        return owner
    digest = hashlib.sha256(owner.encode()).hexdigest()[:8]
    return f"{owner.replace('.', '-')}-{digest}"


def training_job_name(owner: str, attempt: int, run: str | None = None, nodes: int = 1) -> str:
    """``<owner>-<run>-train-<attempt>``: ``run`` (a spec hash) makes a changed spec's Jobs new names.

    With ``nodes`` > 1 the Job is Indexed and each pod's hostname is ``<job>-<index>``, a DNS label:
    the name then has no dots and leaves room for ``-<index>`` within 63 characters."""
    suffix = f"{run[:6]}-train-{attempt}" if run else f"train-{attempt}"
    if nodes <= 1:
        return child_name(owner, suffix)
    return child_name(_dns_label(owner), suffix, _LABEL_MAX - len(f"-{nodes - 1}"))


def ranks_service_name(owner: str, attempt: int, run: str | None = None) -> str:
    """The headless Service the pods of a multi-node attempt find each other through (their
    ``subdomain``): a DNS-1035 label, so it starts with a letter."""
    base = _dns_label(owner)
    if not base[0].isalpha():
        base = f"t{base}"
    return child_name(base, f"{run[:6]}-ranks-{attempt}" if run else f"ranks-{attempt}")


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


def label_value(name: str) -> str:
    """A resource name as a label value: the name itself when it fits in 63 characters; a longer one
    (names may have 253) cut, with an 8-character hash of the whole name, so that two long names with
    a common start never share a value, and the value ends in a letter or digit as label values must."""
    if len(name) <= _LABEL_MAX:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[:_LABEL_MAX - len(digest) - 1].rstrip('-.')}-{digest}"


def label_key(kind: str) -> str:
    """``tara.dev/<kind>``: the label that names a child's owning resource."""
    return f"{GROUP}/{kind.lower()}"


def owner_label(kind: str, owner: str) -> dict[str, str]:
    """The one label that ties a child to its owner; part of ``labels`` and of every selector."""
    return {label_key(kind): label_value(owner)}


def selector(kind: str, owner: str) -> str:
    """The label selector (``key=value``) of ``owner``'s children."""
    return ",".join(f"{k}={v}" for k, v in owner_label(kind, owner).items())


def job_pods_selector(job_name: str) -> str:
    """The label selector (``key=value``) of the pods the Job controller made for Job ``job_name``."""
    return f"{JOB_NAME_LABEL}={job_name}"


def labels(kind: str, owner: str, component: str, **extra: str) -> dict[str, str]:
    """Recommended labels plus ``tara.dev/<kind>: <owner>`` so children are found by selector."""
    base = {
        "app.kubernetes.io/name": "tara",
        "app.kubernetes.io/component": component,
        "app.kubernetes.io/managed-by": MANAGED_BY,
        **owner_label(kind, owner),
    }
    return {**base, **{f"{GROUP}/{k}": v for k, v in extra.items()}}
