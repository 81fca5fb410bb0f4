"""The shape every reconcile shares: serialize per resource, read the latest version, compute the
status patch from it, apply the patch. Events for one resource may arrive from several watches
(its own, its Jobs', its Pods') at once; the lock keeps their reconciles from interleaving."""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from tara_operator import k8s

__all__ = ["reconcile_latest"]

_locks: defaultdict[tuple[str, str, str], threading.Lock] = defaultdict(threading.Lock)


def reconcile_latest(plural: str, body: dict[str, Any], compute: Callable[[dict[str, Any]], dict[str, Any]]) -> dict[str, Any]:
    """Run ``compute`` on the freshest version of the resource; returns the status patch applied."""
    ns, name = body["metadata"]["namespace"], body["metadata"]["name"]
    with _locks[(plural, ns, name)]:
        fresh = k8s.get_custom(plural, ns, name)
        if fresh is None or fresh["metadata"].get("deletionTimestamp"):
            return {}
        patch = compute(fresh)
        if patch:
            k8s.patch_custom_status(plural, ns, name, patch)
        return patch
