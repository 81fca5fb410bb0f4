"""What the operator's watches show of the objects it owns: the reconcilers' read-only view of kopf's
indexes (``handlers`` declares them), in place of a GET or LIST per reconcile.

This is how controller-runtime reads, from informer caches: kopf fills every index from a watch
before any handler runs and keeps it current from the watch's events. A reconcile reads its
children here and writes only what differs from what it wants: a child missing from its index is
created, a ConfigMap whose data differs is patched. A child deleted by hand leaves its index, so
the next reconcile creates it again: level-based, nothing remembered beyond what the watches show.
An index may lag a write by the time its watch event takes; a create the index has not caught up
with yet is answered 409 and counts as done, and a status computed from a training the index has
not caught up with is refused by the server's resourceVersion check (``reconciler``).

No I/O and no kopf here: the indexes are plain mappings of keys to collections of values.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tara_operator.status import JobObservation, WorkloadObservation

__all__ = ["OWNED_PLURALS", "Observed"]

# Kinds the ``owned`` index holds, by the plural its keys use.
OWNED_PLURALS = {"ServiceAccount": "serviceaccounts", "Role": "roles", "RoleBinding": "rolebindings",
                 "PersistentVolumeClaim": "persistentvolumeclaims", "ConfigMap": "configmaps", "Service": "services"}

Index = Mapping[Any, Collection[Any]]


def _first(index: Index, key: Any) -> Any:
    return next(iter(index.get(key, ())), None)


@dataclass(frozen=True)
class Observed:
    """The indexes, by what they hold:

    - ``trainings``: ``(namespace, name)`` → the DomainTraining's body as last seen;
    - ``owned``: ``(namespace, plural, name)`` → a ConfigMap's data, or ``True`` for the trainer's
      ServiceAccount, Role and RoleBinding, every claim and the ranks' Services;
    - ``jobs``: ``(namespace, training)`` → the observations of that training's Jobs;
    - ``workloads``: ``(namespace, job name)`` → Kueue's Workload of that Job (empty without Kueue).
    """

    trainings: Index = field(default_factory=dict)
    owned: Index = field(default_factory=dict)
    jobs: Index = field(default_factory=dict)
    workloads: Index = field(default_factory=dict)

    def training(self, namespace: str, name: str) -> dict[str, Any] | None:
        return _first(self.trainings, (namespace, name))

    def exists(self, body: Mapping[str, Any]) -> bool:
        meta = body["metadata"]
        return (meta["namespace"], OWNED_PLURALS[body["kind"]], meta["name"]) in self.owned

    def missing(self, bodies: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        """The objects of ``bodies`` the watches have not seen (to be created)."""
        return [b for b in bodies if not self.exists(b)]

    def config_data(self, namespace: str, name: str) -> dict[str, str] | None:
        """The data of the ConfigMap, None when the watch has not seen it."""
        return _first(self.owned, (namespace, "configmaps", name))

    def jobs_of(self, namespace: str, training: str) -> list[JobObservation]:
        return sorted(self.jobs.get((namespace, training), ()), key=lambda j: j.name)

    def job(self, namespace: str, training: str, name: str) -> JobObservation | None:
        return next((j for j in self.jobs_of(namespace, training) if j.name == name), None)

    def workload_of(self, namespace: str, job: str) -> WorkloadObservation | None:
        """Kueue's Workload of the Job (Kueue makes one per Job); None without Kueue or before it made it."""
        return _first(self.workloads, (namespace, job))
