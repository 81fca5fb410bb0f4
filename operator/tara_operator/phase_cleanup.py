"""A deleted GGUFPhase: stop its builds, then keep or remove its folders as ``spec.storage.retention`` says.

kopf's finalizer (``tara.dev/cleanup``) holds the resource until ``finalize_phase`` returns. With
``Retain`` that is at once: the build Jobs are deleted, the folders stay, an Event says where. With
``Delete`` the operator, which mounts no volume, runs a small cleanup Job (``render_cleanup``:
``tara-trainer remove-phase``) and returns only once it succeeded; until then it raises
``kopf.TemporaryError`` and says why in the condition ``StorageCleaned`` (the Job's pod waiting to
start, or the Job failed: reason ``CleanupFailed``, the failed Job deleted so the next try, after
``retry_failed_s``, starts a fresh one). A finalizer that cannot finish is therefore always explained in the resource's status;
docs/troubleshooting.md gives the patch that releases it by hand.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import kopf

from tara_api.crd import GGUF_PHASE
from tara_api.reasons import Reason
from tara_operator import k8s, names
from tara_operator import status as st
from tara_operator.observed import Observed
from tara_operator.render.phase import PHASES_DIR, cleanup_job_name, render_cleanup
from tara_operator.settings import OperatorSettings

__all__ = ["CONDITION", "RETRY_WAITING_S", "finalize_phase", "retry_failed_s"]

CONDITION = "StorageCleaned"
RETRY_WAITING_S = 3


def retry_failed_s(settings: OperatorSettings) -> float:
    """Delay before a failed cleanup Job is tried again: 3 x TARA_BACKOFF_BASE (30 s by default), at least 1 s."""
    return max(1.0, min(settings.backoff_max_s, 3 * settings.backoff_base_s))


def _now() -> str:
    return datetime.now(tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _say(body: dict[str, Any], reason: str, message: str) -> None:
    """The condition that explains a finalizer still held (written only when it changes)."""
    old = body.get("status") or {}
    conditions = st.merge_conditions(old.get("conditions"), [
        st.condition(CONDITION, False, reason, message, body["metadata"].get("generation"), _now())])
    if conditions != old.get("conditions"):
        k8s.patch_custom_status(GGUF_PHASE.plural, body["metadata"]["namespace"], body["metadata"]["name"], {"conditions": conditions})


def finalize_phase(body: dict[str, Any], settings: OperatorSettings, seen: Observed) -> tuple[str, str]:
    """Stop the phase's builds and apply its retention; returns what was done as an Event's (reason, message).

    Raises kopf.TemporaryError while the cleanup Job has not succeeded (the finalizer stays)."""
    ns, name = body["metadata"]["namespace"], body["metadata"]["name"]
    folder = f"{PHASES_DIR}/{name}"
    for job in k8s.list_jobs(ns, names.selector("GGUFPhase", name)):
        if (job["metadata"].get("labels") or {}).get("app.kubernetes.io/component") == "builder":
            k8s.delete("Job", ns, job["metadata"]["name"])  # a build must not write into a folder being removed
    if ((body.get("spec") or {}).get("storage") or {}).get("retention", "Retain") != "Delete":
        return "Retained", f"kept {folder} on claim {settings.artifacts_claim} (storage.retention: Retain)"
    if (ns, "persistentvolumeclaims", settings.artifacts_claim) not in seen.owned:
        return "Deleted", f"no claim {settings.artifacts_claim} in {ns}: nothing to remove"
    job_name = cleanup_job_name(name)
    job = k8s.get("Job", ns, job_name)
    if job is None:
        k8s.create_if_missing(render_cleanup(ns, name, settings, body["metadata"].get("uid")))
        _say(body, "CleaningUp", f"Job {job_name} removes {folder} from claim {settings.artifacts_claim}")
        raise kopf.TemporaryError(f"cleanup Job {job_name} started", delay=RETRY_WAITING_S)
    outcome = st.classify(st.observe_job(job), [st.observe_pod(p) for p in k8s.list_pods(ns, names.job_pods_selector(job_name))])
    if outcome.kind == st.OutcomeKind.SUCCEEDED:
        return "Deleted", f"removed {folder} from claim {settings.artifacts_claim} (storage.retention: Delete)"
    if outcome.kind in (st.OutcomeKind.PENDING, st.OutcomeKind.RUNNING):
        reason = outcome.reason if outcome.kind == st.OutcomeKind.PENDING else "CleaningUp"
        _say(body, reason, f"Job {job_name} removes {folder}: {outcome.message}")
        raise kopf.TemporaryError(outcome.message, delay=RETRY_WAITING_S)
    delay = retry_failed_s(settings)
    message = (f"Job {job_name} could not remove {folder}: {outcome.reason}: {outcome.message}; retried in {delay:.0f} s. "
               "To delete the phase without it: kubectl patch ggufphase " + name
               + " --type=merge -p '{\"metadata\":{\"finalizers\":null}}'")
    _say(body, Reason.CLEANUP_FAILED, message)
    kopf.event(body, type="Warning", reason=Reason.CLEANUP_FAILED, message=message[:1024])
    k8s.delete("Job", ns, job_name)  # the next try starts a fresh one
    raise kopf.TemporaryError(message, delay=delay)
