"""The shape every reconcile shares: serialize per resource, read the latest version, compute the
status patch from it, apply the patch. Events for one resource may arrive from several watches
(its own, its Jobs', its Pods') at once; the lock keeps their reconciles from interleaving.

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

__all__ = ["reconcile_latest"]

log = logging.getLogger(__name__)
_locks: defaultdict[tuple[str, str, str], threading.Lock] = defaultdict(threading.Lock)

Compute = Callable[[dict[str, Any]], dict[str, Any]]
Refusal = Callable[[dict[str, Any], k8s.Refused], dict[str, Any]]


def reconcile_latest(plural: str, body: dict[str, Any], compute: Compute, refused: Refusal) -> dict[str, Any]:
    """Run ``compute`` on the freshest version of the resource; returns the status patch applied.

    Raises ``k8s.Forbidden`` (temporary) or ``k8s.Invalid`` (permanent) after reporting them, and
    whatever else ``compute`` raises.
    """
    ns, name = body["metadata"]["namespace"], body["metadata"]["name"]
    with _locks[(plural, ns, name)]:
        fresh = k8s.get_custom(plural, ns, name)
        if fresh is None or fresh["metadata"].get("deletionTimestamp"):
            return {}
        try:
            patch = compute(fresh)
        except k8s.Refused as exc:
            patch = refused(fresh, exc)
            if patch:  # the status changes: a new refusal, not the same one again
                reason = Reason.FORBIDDEN if isinstance(exc, k8s.Forbidden) else Reason.CHILD_INVALID
                kopf.event(fresh, type="Warning", reason=reason, message=exc.message[:1024])
            _write_status(plural, fresh, patch)
            raise
        _write_status(plural, fresh, patch)
        return patch


def _write_status(plural: str, fresh: dict[str, Any], patch: dict[str, Any]) -> None:
    if not patch:
        return
    ns, name = fresh["metadata"]["namespace"], fresh["metadata"]["name"]
    try:
        k8s.patch_custom_status(plural, ns, name, patch)
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
