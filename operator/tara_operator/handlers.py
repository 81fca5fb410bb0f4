"""kopf handlers: thin. Each one finds the resource to reconcile and calls the reconciler.

DomainTraining handlers are level-triggered and keep no state on the resource: a training's
event reconciles it when this process has not yet reconciled its generation (its creation, the
operator's start, a spec change), and the events of the Jobs it owns reconcile it too; a resync
every ``TARA_RESYNC_SECONDS`` covers what no event announces (a retry whose backoff has passed, a
pod that stays pending: see below). So kopf writes nothing on a DomainTraining: no finalizer (the
garbage collector deletes its Jobs, pods and ``storage.retention: Delete`` claims through their
owner references; kopf removes the finalizer an older operator put there when it sees one) and no
progress or last-handled annotations; the first write a training gets is its status. Status
updates by the trainer only refresh the progress metrics. A kopf index of GGUFPhases by the
trainings they use (filled by kopf from the phases' watch before any handler runs) turns a
training's phase change into reconciles of the phases that use it, without a LIST.

The other indexes are what the reconcilers read instead of the API (``observed``): the trainings,
the trainer's Jobs, Kueue's Workloads of those Jobs, and the objects a reconcile creates (the
trainer's ServiceAccount, Role and RoleBinding, claims, our ConfigMaps, the ranks' Services).
The trainer's pods are not watched: a Job's status counts its pods that are active, ready,
succeeded and failed, so a Job event marks every moment of an attempt but one, a pod that stays
pending; a reconcile reads the pods only when the Job cannot say what the status needs
(``status.pods_needed``). A pod's events were a third of a burst's watch events (3 of 9.5 per new
training, benchmarks/bench_operator.py at 200), each decoded, indexed and filtered in kopf's event
loop, while the Job says what the status needs at one event per moment. Why a pod waits
(``Unschedulable``, ``ImagePullBackOff``) shows at the first reconcile ``training.PENDING_READ_S``
or more after its Job started: usually the next resync's.
The Workloads' kind exists only where Kueue is installed: kopf serves a kind once its CRD appears
and waits for nothing before, so the operator runs the same without Kueue. Index functions are coroutines: kopf runs them in its
event loop for every event of their kinds, where a sync function would take a worker thread.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import Counter as Tally
from concurrent.futures import Executor
from typing import Any

import kopf

from tara_api.crd import DOMAIN_TRAINING, GGUF_PHASE
from tara_api.meta import GROUP, VERSION
from tara_operator import k8s, metrics, names, reconciler
from tara_operator import status as st
from tara_operator.observed import Observed
from tara_operator.phase import reconcile_phase
from tara_operator.phase_cleanup import finalize_phase
from tara_operator.settings import OperatorSettings
from tara_operator.training import TERMINAL, reconcile_training

log = logging.getLogger(__name__)
SETTINGS = OperatorSettings.from_env()
MANAGED = {"app.kubernetes.io/managed-by": names.MANAGED_BY, "app.kubernetes.io/component": "trainer"}
BUILDER = {"app.kubernetes.io/managed-by": names.MANAGED_BY, "app.kubernetes.io/component": "builder"}
SERVER = {"app.kubernetes.io/managed-by": names.MANAGED_BY, "app.kubernetes.io/component": "server"}
RANKS = {"app.kubernetes.io/managed-by": names.MANAGED_BY, "app.kubernetes.io/component": "trainer-ranks"}
KUEUE = "kueue.x-k8s.io"
PhaseIndex = kopf.Index[tuple[str, str], str]


class ChangeHandledDiffBase(kopf.AnnotationsDiffBaseStorage):
    """kopf's last-handled-configuration annotation, for the one kind with change handlers (GGUFPhase).

    kopf builds the "essence" of every event's object (a deep copy of the whole body, then a second one
    without its progress) to detect changes, whatever the kind and whether or not a change handler would
    read them: a quarter of its event loop's CPU in a burst of new trainings, mostly copying pods. For
    every other kind there is no essence (None, which kopf takes as "nothing stored"): no copies."""

    def fetch(self, *, body: kopf.Body) -> Any:
        return super().fetch(body=body) if body.get("kind") == GGUF_PHASE.kind else None

    def build(self, *, body: kopf.Body, extra_fields: Any = None) -> Any:
        return super().build(body=body, extra_fields=extra_fields) if body.get("kind") == GGUF_PHASE.kind else None


@kopf.on.startup()
def configure(settings: kopf.OperatorSettings, **_: Any) -> None:
    settings.persistence.finalizer = f"{GROUP}/cleanup"
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=GROUP)
    settings.persistence.diffbase_storage = ChangeHandledDiffBase(prefix=GROUP)
    # kopf would post an Event for every handler it runs; ours are explicit and say more.
    settings.posting.level = logging.WARNING
    settings.watching.server_timeout = 300
    settings.execution.max_workers = k8s.WORKERS
    start_workers(settings.execution.executor, k8s.WORKERS - 1)  # this handler holds one
    if SETTINGS.metrics_port:
        from prometheus_client import start_http_server

        start_http_server(SETTINGS.metrics_port)
    k8s.configure_writes(SETTINGS.field_validation)
    k8s.warm_up()


def start_workers(executor: Executor, count: int, timeout: float = 2.0) -> None:
    """Have ``count`` of the executor's threads started now, without waiting for them. A
    ThreadPoolExecutor starts a thread per submit while none is idle, in the submitting thread,
    which for kopf's sync handlers is its event loop: a burst of new trainings otherwise starts the
    48 worker threads one by one in the loop (0.3 s of its time in a profiled burst of 200, each start
    waiting for the new thread to run). Each task waits until all ``count`` run, so none is idle
    when the next is submitted; after ``timeout`` (a thread busy elsewhere) they give up."""
    barrier = threading.Barrier(count)

    def hold() -> None:
        try:
            barrier.wait(timeout)
        except threading.BrokenBarrierError:
            pass

    for _ in range(count):
        executor.submit(hold)


@kopf.on.login()
def login(**kwargs: Any) -> kopf.ConnectionInfo | None:
    return kopf.login_via_client(**kwargs)


class _Phases:
    """The last known phase of every resource of a kind, published as ``tara_operator_resources``.
    The counts change by one at a time: an event publishes the two phases it moves between, not a
    recount of every resource (each of a burst's events would walk all of them)."""

    def __init__(self, kind: str, default: str) -> None:
        self.kind, self.default = kind, default
        self.by_key: dict[tuple[str, str], str] = {}
        self.counts: Tally[str] = Tally()

    def get(self, key: tuple[str, str]) -> str | None:
        return self.by_key.get(key)

    def track(self, body: kopf.Body | dict[str, Any], phase: str | None = None) -> None:
        key = (body["metadata"]["namespace"], body["metadata"]["name"])
        new = phase or (body.get("status") or {}).get("phase") or self.default
        old = self.by_key.get(key)
        if old == new:
            return
        if old is not None:
            metrics.RESOURCE_PHASE.remove(self.kind, *key, old)
            self._count(old, -1)
        metrics.RESOURCE_PHASE.labels(self.kind, *key, new).set(1)
        self.by_key[key] = new
        self._count(new, +1)

    def forget(self, key: tuple[str, str]) -> None:
        old = self.by_key.pop(key, None)
        if old is not None:
            metrics.RESOURCE_PHASE.remove(self.kind, *key, old)
            self._count(old, -1)

    def _count(self, phase: str, delta: int) -> None:
        self.counts[phase] += delta  # a phase nobody is in any more reads 0, not its last count
        metrics.RESOURCES.labels(self.kind, phase).set(self.counts[phase])


TRAININGS = _Phases("DomainTraining", "Pending")
PHASE_STATES = _Phases("GGUFPhase", "Planning")
SERIES = metrics.TrainingSeries()


def _seen(indexes: dict[str, Any]) -> Observed:
    """The reconcilers' view of the indexes a handler receives (by their ids, as keyword arguments)."""
    return Observed(trainings=indexes["trainings"], owned=indexes["owned"], jobs=indexes["trainer_jobs"],
                    workloads=indexes["trainer_workloads"])


def _run(kind: str, tally: _Phases, reconcile: Any, body: dict[str, Any], seen: Observed) -> None:
    with metrics.timed(kind):
        patch = reconcile(body, SETTINGS, seen)
    if patch.get("phase"):
        tally.track(body, patch["phase"])


def _reconcile(body: dict[str, Any], seen: Observed, resync: bool = False) -> None:
    """Reconcile a training; only a resync writes a status whose sole change is the running cost."""
    def reconcile(b: dict[str, Any], settings: OperatorSettings, s: Observed) -> dict[str, Any]:
        return reconcile_training(b, settings, s, running_cost=resync)

    _run("DomainTraining", TRAININGS, reconcile, body, seen)


def _on_spec(plural: str, reconcile: Any) -> None:
    """Reconcile on creation, on operator start (resume) and on every spec change of ``plural``."""

    def changed(body: kopf.Body, **kwargs: Any) -> None:
        reconcile(dict(body), _seen(kwargs))

    handler_id = f"{plural}_changed"  # kopf keeps each handler's progress under its id: one per kind
    kopf.on.create(GROUP, VERSION, plural, id=handler_id)(changed)
    kopf.on.resume(GROUP, VERSION, plural, id=handler_id)(changed)
    kopf.on.update(GROUP, VERSION, plural, field="spec", id=handler_id)(changed)


def _key(body: kopf.Body | dict[str, Any]) -> tuple[str, str]:
    return body["metadata"]["namespace"], body["metadata"]["name"]


def _version(body: kopf.Body | dict[str, Any]) -> tuple[str, int | None]:
    return body["metadata"].get("uid", ""), body["metadata"].get("generation")


_HANDLED: dict[tuple[str, str], tuple[str, int | None]] = {}  # training -> (uid, generation) this process reconciled


def _unhandled(body: kopf.Body, type: str | None, **_: Any) -> bool:
    """A training whose generation this process has not reconciled: new, seen first at start, or its spec changed."""
    return type != "DELETED" and _HANDLED.get(_key(body)) != _version(body)


@kopf.on.event(GROUP, VERSION, DOMAIN_TRAINING.plural, when=_unhandled)
def training_changed(body: kopf.Body, **kwargs: Any) -> None:
    """Reconcile a training created, changed or seen first (in a worker thread). Its generation counts as
    handled once a reconcile succeeds or the API server refuses a child as invalid (the same spec would be
    refused again: a permanent error); after any other error the next event or resync tries again."""
    try:
        _reconcile(dict(body), _seen(kwargs))
    except kopf.PermanentError:
        _HANDLED[_key(body)] = _version(body)
        raise
    _HANDLED[_key(body)] = _version(body)


class _Resync:
    """One timer per unfinished training, in kopf's loop: every ``resync_s`` its reconcile runs in a worker
    thread, from the training's body in the index. kopf's own timers would put kopf's finalizer on every
    training; these keep nothing on the resource. A training that finishes, or is deleted, drops its timer.

    Unlike kopf's timers these do not stop while peering pauses this replica: one outranked after it
    led keeps resyncing the trainings it saw until it exits. Harmless, not free: creates are answered
    409 and a status write made from an older version is refused (it carries the resourceVersion)."""

    def __init__(self) -> None:
        self.timers: dict[tuple[str, str], asyncio.TimerHandle] = {}
        self.running: set[asyncio.Task[None]] = set()  # referenced until done (the loop keeps only weak ones)
        self.indexes: dict[str, Any] = {}

    def watch(self, key: tuple[str, str], phase: str | None, indexes: dict[str, Any]) -> None:
        self.indexes = indexes  # kopf's indexes are live views: the same objects at every event
        if phase in TERMINAL:
            self.drop(key)
        elif key not in self.timers:
            loop = asyncio.get_running_loop()
            self.timers[key] = loop.call_later(SETTINGS.resync_s, self._start, key)

    def _start(self, key: tuple[str, str]) -> None:
        task = asyncio.get_running_loop().create_task(self._fire(key))
        self.running.add(task)
        task.add_done_callback(self.running.discard)

    def drop(self, key: tuple[str, str]) -> None:
        timer = self.timers.pop(key, None)
        if timer is not None:
            timer.cancel()

    async def _fire(self, key: tuple[str, str]) -> None:
        self.timers.pop(key, None)
        seen = _seen(self.indexes)
        body = seen.training(*key)
        if body is None or (body.get("status") or {}).get("phase") in TERMINAL:
            return
        try:
            await asyncio.to_thread(_reconcile, body, seen, True)
        except Exception as exc:  # noqa: BLE001 - logged like kopf logs a failed handler; the next resync retries
            log.warning("DomainTraining %s/%s: resync failed: %s", *key, getattr(exc, "message", None) or exc)
        fresh = seen.training(*key)
        if fresh is not None:
            self.watch(key, (fresh.get("status") or {}).get("phase"), self.indexes)


RESYNC = _Resync()


def _retained(body: dict[str, Any]) -> None:
    """A training is gone: the claims the operator created go with ``storage.retention: Delete`` (the garbage
    collector deletes those it owns; this also catches a claim made while the retention was Retain), and an
    Event says which claims went or stayed."""
    ns, name = _key(body)
    storage = (body.get("spec") or {}).get("storage") or {}
    created = [names.checkpoint_claim(name)] if not (storage.get("checkpoints") or {}).get("claimName") else []
    if storage.get("artifacts") is not None and not storage["artifacts"].get("claimName"):
        created.append(names.child_name(name, "artifacts", 253))
    if storage.get("retention", "Retain") == "Delete":
        for claim in created:
            k8s.delete("PersistentVolumeClaim", ns, claim)
        kopf.event(body, type="Normal", reason="Deleted", message=f"deleted claims {', '.join(created) or '(none created)'}")
    elif created:
        kopf.event(body, type="Normal", reason="Retained", message=f"kept claims {', '.join(created)} (storage.retention: Retain)")


@kopf.on.event(GROUP, VERSION, DOMAIN_TRAINING.plural)
async def training_observed(body: kopf.Body, type: str | None, phases_by_training: PhaseIndex, **kwargs: Any) -> None:
    """Metrics of every training event, in kopf's loop (no worker thread for the many that change no
    phase); the phases that use a training whose phase moved are reconciled in a thread."""
    key = _key(body)
    before = TRAININGS.get(key)
    if type == "DELETED":
        reconciler.forget(DOMAIN_TRAINING.plural, *key)
        _HANDLED.pop(key, None)
        RESYNC.drop(key)
        TRAININGS.forget(key)
        SERIES.forget(key, str((body.get("spec") or {}).get("domain", "")))
        await asyncio.to_thread(_retained, dict(body))
    else:
        TRAININGS.track(body)
        SERIES.observe(body)
        RESYNC.watch(key, (body.get("status") or {}).get("phase"), {"phases_by_training": phases_by_training, **kwargs})
    if (type == "DELETED" or TRAININGS.get(key) != before) and key in phases_by_training:
        # a phase transition may move the GGUFPhases that use this training
        await asyncio.to_thread(_phases_using, phases_by_training, key, _seen(kwargs))


def _owner(body: kopf.Body) -> dict[str, Any] | None:
    for ref in body["metadata"].get("ownerReferences") or []:
        if ref.get("kind") == "DomainTraining":
            return {"metadata": {"namespace": body["metadata"]["namespace"], "name": ref["name"]}}
    return None


_JOBS: dict[tuple[str, str], st.JobObservation] = {}  # (namespace, name) -> what its last reconciled event showed


def _job_key(body: kopf.Body) -> tuple[str, str]:
    return body["metadata"]["namespace"], body["metadata"]["name"]


def _job_moved(body: kopf.Body, type: str | None, **_: Any) -> bool:
    """A trainer Job's event that can change its training's status: not the first sight of one we just
    created (nothing has happened to it yet), nor one that shows what the last reconcile already saw
    (most of a Job's events change fields the status does not read). Evaluated in kopf's loop, so the
    skipped events take no worker thread."""
    if type == "DELETED":
        return True
    if type == "ADDED" and not body.get("status"):
        return False
    return _JOBS.get(_job_key(body)) != st.observe_job(body)


@kopf.on.event("batch", "v1", "jobs", labels=MANAGED, when=_job_moved)
def job_changed(body: kopf.Body, type: str | None, **kwargs: Any) -> None:
    key = _job_key(body)
    if type == "DELETED":
        _JOBS.pop(key, None)
    owner = _owner(body)
    if owner is not None:
        _reconcile(owner, _seen(kwargs))
    if type != "DELETED":  # after the reconcile succeeded: a failed one is tried again at the next event
        _JOBS[key] = st.observe_job(body)


@kopf.index(GROUP, VERSION, GGUF_PHASE.plural, id="phases_by_training")
def phases_by_training(namespace: str, name: str, spec: kopf.Spec, **_: Any) -> dict[tuple[str, str], str]:
    """GGUFPhases by the DomainTrainings they use: ``(namespace, training) -> phase name``, a domain's
    ``training`` or, by default, the training named like the domain. kopf keeps it from the phases'
    events and passes it to every handler as ``phases_by_training``."""
    return {(namespace, d.get("training") or d.get("domain")): name for d in spec.get("domains") or []}


@kopf.index(GROUP, VERSION, DOMAIN_TRAINING.plural, id="trainings")
async def trainings(namespace: str, name: str, body: kopf.Body, **_: Any) -> dict[tuple[str, str], dict[str, Any]]:
    """Every DomainTraining as last seen: ``(namespace, name) -> body``; a Job's or Pod's event
    reconciles its training from here instead of reading it."""
    return {(namespace, name): dict(body)}


def _trainer_identity(name: str, **_: Any) -> bool:
    return name == SETTINGS.trainer_service_account  # the chart may have made them (labelled by Helm)


@kopf.index("", "v1", "serviceaccounts", id="owned", when=_trainer_identity)
@kopf.index("rbac.authorization.k8s.io", "v1", "roles", id="owned", when=_trainer_identity)
@kopf.index("rbac.authorization.k8s.io", "v1", "rolebindings", id="owned", when=_trainer_identity)
@kopf.index("", "v1", "persistentvolumeclaims", id="owned")  # claims a user made too: the artifacts claim may be one
@kopf.index("", "v1", "configmaps", id="owned", labels={"app.kubernetes.io/managed-by": names.MANAGED_BY})
@kopf.index("", "v1", "services", id="owned", labels=RANKS)
async def owned(namespace: str, name: str, body: kopf.Body, resource: kopf.Resource, **_: Any) -> dict[tuple[str, str, str], Any]:
    """The objects a reconcile creates, that exist: ``(namespace, plural, name) -> True``, or a
    ConfigMap's data (compared with the data it should have)."""
    value = dict(body.get("data") or {}) if resource.plural == "configmaps" else True
    return {(namespace, resource.plural, name): value}


@kopf.index("batch", "v1", "jobs", id="trainer_jobs", labels=MANAGED)
async def trainer_jobs(namespace: str, body: kopf.Body, **_: Any) -> dict[tuple[str, str], st.JobObservation]:
    """The trainer's Jobs by training: ``(namespace, training) -> what the Job's status says``."""
    owner = _owner(body)
    return {(namespace, owner["metadata"]["name"]): st.observe_job(body)} if owner else {}


@kopf.index("batch", "v1", "jobs", id="trainer_job_owners", labels=MANAGED)
async def trainer_job_owners(namespace: str, name: str, body: kopf.Body, **_: Any) -> dict[tuple[str, str], str]:
    """The training of each trainer Job: ``(namespace, Job name) -> training``, for the Workloads' events."""
    owner = _owner(body)
    return {(namespace, name): owner["metadata"]["name"]} if owner else {}


def _workload_job(body: kopf.Body | dict[str, Any]) -> str | None:
    return next((r["name"] for r in body["metadata"].get("ownerReferences") or [] if r.get("kind") == "Job"), None)


def _of_trainer_job(body: kopf.Body, **_: Any) -> bool:
    """A Workload Kueue made for one of our training Jobs (their names have ``-train-``)."""
    return "-train-" in (_workload_job(body) or "")


# No version: the one the cluster prefers (v1beta2 with Kueue 0.15 and later, v1beta1 before); the
# conditions read are the same in both.
@kopf.index(KUEUE, "workloads", id="trainer_workloads", when=_of_trainer_job)
async def trainer_workloads(namespace: str, body: kopf.Body, **_: Any) -> dict[tuple[str, str], st.WorkloadObservation]:
    """Kueue's Workloads by Job: ``(namespace, Job name) -> whether it is admitted, and why not``."""
    seen = st.observe_workload(body)
    return {(namespace, seen.job): seen} if seen else {}


@kopf.on.event(KUEUE, "workloads", when=_of_trainer_job)
def workload_changed(body: kopf.Body, trainer_job_owners: kopf.Index[tuple[str, str], str], **kwargs: Any) -> None:
    """Kueue admitted, queued or evicted a training's Job: reconcile the training."""
    ns = body["metadata"]["namespace"]
    for training in set(trainer_job_owners.get((ns, _workload_job(body) or ""), ())):
        _reconcile({"metadata": {"namespace": ns, "name": training}}, _seen({"trainer_job_owners": trainer_job_owners, **kwargs}))


def _phases_using(index: PhaseIndex, key: tuple[str, str], seen: Observed) -> None:
    for name in sorted(set(index.get(key, ()))):
        try:
            _reconcile_phase({"metadata": {"namespace": key[0], "name": name}}, seen)
        except k8s.Refused as exc:  # in that phase's status already; the other phases still get their turn
            log.warning("GGUFPhase %s/%s: %s", key[0], name, exc.message)


def _reconcile_phase(body: dict[str, Any], seen: Observed) -> None:
    _run("GGUFPhase", PHASE_STATES, reconcile_phase, body, seen)


_on_spec(GGUF_PHASE.plural, _reconcile_phase)


@kopf.on.event("batch", "v1", "jobs", labels=BUILDER)
@kopf.on.event("apps", "v1", "deployments", labels=SERVER)
def phase_child_changed(body: kopf.Body, **kwargs: Any) -> None:
    for ref in body["metadata"].get("ownerReferences") or []:
        if ref.get("kind") == "GGUFPhase":
            _reconcile_phase({"metadata": {"namespace": body["metadata"]["namespace"], "name": ref["name"]}}, _seen(kwargs))


@kopf.timer(GROUP, VERSION, GGUF_PHASE.plural, interval=SETTINGS.resync_s, initial_delay=SETTINGS.resync_s, idle=None,
            when=lambda status, **_: (status or {}).get("phase") not in ("Deployed", "Failed"))
def phase_resync(body: kopf.Body, **kwargs: Any) -> None:
    _reconcile_phase(dict(body), _seen(kwargs))


@kopf.on.event(GROUP, VERSION, GGUF_PHASE.plural)
def phase_observed(body: kopf.Body, type: str | None, **_: Any) -> None:
    if type == "DELETED":
        reconciler.forget(GGUF_PHASE.plural, body["metadata"]["namespace"], body["metadata"]["name"])
        PHASE_STATES.forget((body["metadata"]["namespace"], body["metadata"]["name"]))
    else:
        PHASE_STATES.track(body)


@kopf.on.delete(GROUP, VERSION, GGUF_PHASE.plural, id="phase_deleted")
def phase_deleted(body: kopf.Body, **kwargs: Any) -> None:
    """Stop the builds; keep or remove the phase's folders as storage.retention says. Registering it puts
    kopf's finalizer on every GGUFPhase; it stays until this returns (a cleanup Job may take a while)."""
    reason, message = finalize_phase(dict(body), SETTINGS, _seen(kwargs))
    kopf.event(body, type="Normal", reason=reason, message=message)  # kopf.info obeys posting.level (WARNING): never posted
