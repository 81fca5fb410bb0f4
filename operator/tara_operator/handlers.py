"""kopf handlers: thin. Each one finds the resource to reconcile and calls the reconciler.

DomainTraining events (create, resume, spec updates) and events of the Jobs and Pods it owns all
lead to ``reconcile_training``; a resync timer covers what no event announces (a retry whose
backoff has passed). Status updates by the trainer only refresh the progress metrics.
"""

from __future__ import annotations

import logging
from collections import Counter as Tally
from typing import Any

import kopf

from tara_operator import k8s, metrics, names
from tara_operator.settings import OperatorSettings
from tara_operator.training import PLURAL, TERMINAL, reconcile_training

log = logging.getLogger(__name__)
SETTINGS = OperatorSettings.from_env()
_phases: dict[tuple[str, str], str] = {}
MANAGED = {"app.kubernetes.io/managed-by": names.MANAGED_BY, "app.kubernetes.io/component": "trainer"}


@kopf.on.startup()
def configure(settings: kopf.OperatorSettings, **_: Any) -> None:
    settings.persistence.finalizer = f"{names.GROUP}/cleanup"
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=names.GROUP)
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(prefix=names.GROUP)
    settings.posting.level = logging.INFO
    settings.watching.server_timeout = 300
    settings.execution.max_workers = 16
    if SETTINGS.metrics_port:
        from prometheus_client import start_http_server

        start_http_server(SETTINGS.metrics_port)
    k8s.configure()


@kopf.on.login()
def login(**kwargs: Any) -> kopf.ConnectionInfo | None:
    return kopf.login_via_client(**kwargs)


def _track(body: kopf.Body | dict[str, Any]) -> None:
    key = (body["metadata"]["namespace"], body["metadata"]["name"])
    phase = (body.get("status") or {}).get("phase") or "Pending"
    _phases[key] = phase
    for phase_name, n in Tally(_phases.values()).items():
        metrics.RESOURCES.labels("DomainTraining", phase_name).set(n)


def _reconcile(body: dict[str, Any]) -> None:
    with metrics.timed("DomainTraining"):
        patch = reconcile_training(body, SETTINGS)
    if patch.get("phase"):
        _track({"metadata": body["metadata"], "status": {"phase": patch["phase"]}})


@kopf.on.create(names.GROUP, "v1alpha1", PLURAL)
@kopf.on.resume(names.GROUP, "v1alpha1", PLURAL)
@kopf.on.update(names.GROUP, "v1alpha1", PLURAL, field="spec")
def training_changed(body: kopf.Body, **_: Any) -> None:
    _reconcile(dict(body))


@kopf.on.event(names.GROUP, "v1alpha1", PLURAL)
def training_observed(body: kopf.Body, type: str | None, **_: Any) -> None:
    if type == "DELETED":
        _phases.pop((body["metadata"]["namespace"], body["metadata"]["name"]), None)
        return
    _track(body)
    progress = (body.get("status") or {}).get("progress") or {}
    labels = (body["metadata"]["namespace"], body["metadata"]["name"], (body.get("spec") or {}).get("domain", ""))
    if "percent" in progress:
        metrics.TRAINING_PERCENT.labels(*labels).set(float(progress["percent"]))
    if "step" in progress:
        metrics.TRAINING_STEP.labels(*labels).set(float(progress["step"]))


def _owner(body: kopf.Body) -> dict[str, Any] | None:
    for ref in body["metadata"].get("ownerReferences") or []:
        if ref.get("kind") == "DomainTraining":
            return {"metadata": {"namespace": body["metadata"]["namespace"], "name": ref["name"]}}
    name = (body["metadata"].get("labels") or {}).get(f"{names.GROUP}/domaintraining")
    return {"metadata": {"namespace": body["metadata"]["namespace"], "name": name}} if name else None


@kopf.on.event("batch", "v1", "jobs", labels=MANAGED)
@kopf.on.event("", "v1", "pods", labels=MANAGED)
def child_changed(body: kopf.Body, **_: Any) -> None:
    owner = _owner(body)
    if owner is not None:
        _reconcile(owner)


@kopf.timer(names.GROUP, "v1alpha1", PLURAL, interval=SETTINGS.resync_s, initial_delay=SETTINGS.resync_s, idle=None,
            when=lambda status, **_: (status or {}).get("phase") not in TERMINAL)
def training_resync(body: kopf.Body, **_: Any) -> None:
    _reconcile(dict(body))


@kopf.on.delete(names.GROUP, "v1alpha1", PLURAL)
def training_deleted(body: kopf.Body, spec: kopf.Spec, **_: Any) -> None:
    """Stop the run; keep or delete the claims the operator created, as storage.retention says."""
    ns, name = body["metadata"]["namespace"], body["metadata"]["name"]
    for job in k8s.list_jobs(ns, f"{names.GROUP}/domaintraining={name[:63]}"):
        k8s.delete("Job", ns, job["metadata"]["name"])
    storage = spec.get("storage") or {}
    created = [names.checkpoint_claim(name)] if not (storage.get("checkpoints") or {}).get("claimName") else []
    if storage.get("artifacts") is not None and not storage["artifacts"].get("claimName"):
        created.append(names.child_name(name, "artifacts", 253))
    if storage.get("retention", "Retain") == "Delete":
        for claim in created:
            k8s.delete("PersistentVolumeClaim", ns, claim)
        kopf.info(body, reason="Deleted", message=f"deleted claims {', '.join(created) or '(none created)'}")
    elif created:
        kopf.info(body, reason="Retained", message=f"kept claims {', '.join(created)} (storage.retention: Retain)")
