"""The shape every reconcile shares: serialize per resource, start from the freshest body at hand,
compute the status from it, write the status only when it changed, then say what happened.

Events for one resource may arrive from several watches (its own, its Jobs', its Pods') at once;
the lock keeps their reconciles from interleaving. The body comes from the event or from kopf's
index of the resource (``observed``), not from a GET. The index lags the operator's own status
writes by the time their watch events take, so the body a write returned is kept until the index
shows that version or a newer one (client-go's MutationCache does the same): the newest of the
three is used (kube-apiserver's resourceVersions are etcd revisions, integers that only grow; one
that does not parse is treated as oldest, and the 409 below still guards the write). The status is written with the body's
``resourceVersion``, so a server that has a newer version answers 409; then the resource is read
once and the status computed again. A status equal to the current one is not written at all. Events that announce a transition (Trained,
an attempt that failed, a preemption) are posted once its status is written, so a computation from an
old body that the server refuses announces nothing.

When the API server refuses a request (``k8s.Refused``: 403 or 422), the refusal reaches the
resource: the reconciler's ``refused`` turns it into a status patch (a condition with the reason and
the server's message), a Warning Event says it once, and the error goes on to kopf, which retries
a 403 after a delay and gives up on a 422. A status the server refuses is reported the same way
with the one condition it can still write.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import kopf

from tara_api.reasons import Reason
from tara_operator import k8s
from tara_operator import status as st

__all__ = ["Announce", "forget", "reconcile_latest"]

log = logging.getLogger(__name__)
_locks: defaultdict[tuple[str, str, str], threading.Lock] = defaultdict(threading.Lock)
# Computations of one reconcile when the resource keeps changing under it: the trainer's status
# patches, kopf's own patches of a GGUFPhase (its finalizer, annotations) race our status writes; an
# event handler's failure is not retried by kopf.
_ATTEMPTS = 3
_written: dict[tuple[str, str, str], dict[str, Any]] = {}  # bodies our status writes returned, newer than the index

Announce = list[Callable[[], None]]  # what to post once the status is written
Compute = Callable[[dict[str, Any], Announce], dict[str, Any]]
Refusal = Callable[[dict[str, Any], k8s.Refused], dict[str, Any]]


def reconcile_latest(plural: str, body: dict[str, Any], compute: Compute, refused: Refusal,
                     known: dict[str, Any] | None = None) -> dict[str, Any]:
    """Run ``compute`` on the freshest version of the resource at hand: ``body`` when it is a whole
    one (an event's), else ``known`` (the index's), else a read; returns the status patch applied.

    Raises ``k8s.Forbidden`` (temporary) or ``k8s.Invalid`` (permanent) after reporting them,
    ``k8s.Conflict`` when the resource changed under ``_ATTEMPTS`` computations in a row, and whatever else
    ``compute`` raises.
    """
    ns, name = body["metadata"]["namespace"], body["metadata"]["name"]
    key = (plural, ns, name)
    with _locks[key]:
        fresh = _newest(key, body, known)
        for attempt in range(_ATTEMPTS):
            if fresh is None:
                fresh = k8s.get_custom(plural, ns, name)
            if fresh is None or fresh["metadata"].get("deletionTimestamp"):
                _written.pop(key, None)
                return {}
            try:
                return _compute_and_write(key, fresh, compute, refused)
            except k8s.Conflict:
                if attempt == _ATTEMPTS - 1:
                    raise
                fresh = None  # computed from an old version: read the current one, compute again
        return {}


def forget(plural: str, namespace: str, name: str) -> None:
    """The resource is gone: drop what its last status write returned."""
    _written.pop((plural, namespace, name), None)


def _version(body: dict[str, Any]) -> int:
    try:
        return int(body["metadata"].get("resourceVersion") or -1)
    except ValueError:
        return -1


def _newest(key: tuple[str, str, str], body: dict[str, Any], known: dict[str, Any] | None) -> dict[str, Any] | None:
    """The newest whole body at hand (None: read it); drops a written body the index has caught up with."""
    written = _written.get(key)
    if written is not None and known is not None and _version(known) >= _version(written):
        del _written[key]
        written = None
    whole = [b for b in (body, known, written) if b and "spec" in b and b["metadata"].get("resourceVersion")]
    return max(whole, key=_version) if whole else None


def _compute_and_write(key: tuple[str, str, str], fresh: dict[str, Any], compute: Compute, refused: Refusal) -> dict[str, Any]:
    announce: Announce = []
    try:
        patch = compute(fresh, announce)
    except k8s.Refused as exc:
        patch = refused(fresh, exc)
        _write_status(key, fresh, patch)
        if patch:  # the status changes: a new refusal, not the same one again
            reason = Reason.FORBIDDEN if isinstance(exc, k8s.Forbidden) else Reason.CHILD_INVALID
            kopf.event(fresh, type="Warning", reason=reason, message=exc.message[:1024])
        raise
    _write_status(key, fresh, patch)
    for say in announce:
        say()
    return patch


def _write_status(key: tuple[str, str, str], fresh: dict[str, Any], patch: dict[str, Any]) -> None:
    if not patch:
        return
    plural, ns, name = key
    try:
        written = k8s.patch_custom_status(plural, ns, name, patch, fresh["metadata"].get("resourceVersion"))
        if written and "spec" in written:
            _written[key] = written
    except k8s.Forbidden as exc:  # no condition can be written: the Event is all the resource shows
        kopf.event(fresh, type="Warning", reason=Reason.FORBIDDEN, message=exc.message[:1024])
        raise
    except k8s.Invalid as exc:
        # The status broke the CRD's schema (an operator bug): say so in the one condition we can write.
        old = fresh.get("status") or {}
        now = datetime.now(tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        ready = st.condition("Ready", False, Reason.STATUS_INVALID, exc.message, fresh["metadata"].get("generation"), now)
        conditions = st.merge_conditions(old.get("conditions"), [ready])
        if conditions != old.get("conditions"):
            kopf.event(fresh, type="Warning", reason=Reason.STATUS_INVALID, message=exc.message[:1024])
            try:
                k8s.patch_custom_status(plural, ns, name, {"conditions": conditions})
            except k8s.Refused as again:
                log.error("%s %s/%s: cannot write status: %s", plural, ns, name, again.message)
        raise
