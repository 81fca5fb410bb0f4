"""Pure status logic: what a training attempt's Job and Pods mean and what to do next (what it cost: ``cost``).

The operator reads the Job, its Pods and, with Kueue, the Job's Workload, turns them into small
observations, and asks this module for an ``Outcome`` (queued, running, pending, succeeded,
preempted, retry with a reason, or a permanent failure) and for the next ``Decision``. It watches
the Jobs, not their pods: ``pods_needed`` says when the Job's status (active, ready, succeeded,
failed pods, its conditions) cannot say what the outcome needs, and only then are the pods read. Conditions
follow Kubernetes API conventions; ``phase`` is their summary. Nothing here performs I/O or reads
the clock: ``now`` is passed in.

An attempt may have several pods (one per rank of a multi-node training): it succeeds when the Job
completes (every index succeeded), runs when rank 0 runs, and fails with the first pod that failed
on its own (the Job controller then stops the others, which end after it). A suspended Job is
queued (Kueue admits it by unsuspending it, preempts it by suspending it); the pods a suspension
deletes are not failures, and neither is a preemption (a Kueue eviction, a pod's DisruptionTarget
condition): it resumes from the checkpoint without counting against ``maxAttempts``.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tara_api.reasons import Reason
from tara_operator.cost import PodUsage, pod_usage

__all__ = [
    "Decision",
    "JobObservation",
    "Outcome",
    "OutcomeKind",
    "PodObservation",
    "Preemption",
    "WorkloadObservation",
    "backoff_seconds",
    "classify",
    "condition",
    "decide",
    "merge_conditions",
    "observe_job",
    "observe_pod",
    "observe_workload",
    "pods_needed",
]

# Container waiting reasons that never fix themselves. The trainer's exit codes and whether a
# retry can help are tara_api.reasons' table.
PERMANENT_WAITING = {"ImagePullBackOff": Reason.IMAGE_PULL_FAILED, "ErrImagePull": Reason.IMAGE_PULL_FAILED,
                     "InvalidImageName": Reason.IMAGE_PULL_FAILED, "CreateContainerConfigError": Reason.CONTAINER_CONFIG_INVALID}


class OutcomeKind(enum.StrEnum):
    PENDING = "Pending"
    QUEUED = "Queued"  # the Job is suspended: Kueue has not admitted it (or evicted it)
    RUNNING = "Running"
    SUCCEEDED = "Succeeded"
    PREEMPTED = "Preempted"  # a new attempt resumes; not counted against maxAttempts
    RETRY = "Retry"
    FAILED = "Failed"


JOB_COMPLETION_INDEX = "batch.kubernetes.io/job-completion-index"


@dataclass(frozen=True)
class PodObservation:
    name: str
    phase: str  # Pending, Running, Succeeded, Failed, Unknown
    reason: str | None = None  # pod status reason, e.g. Evicted
    waiting_reason: str | None = None  # container waiting reason, e.g. ImagePullBackOff
    waiting_message: str | None = None
    exit_code: int | None = None
    terminated_reason: str | None = None  # e.g. OOMKilled, Error, Completed
    termination_message: str | None = None
    disrupted: bool = False  # a DisruptionTarget condition: preemption, eviction, node drain
    unschedulable: str | None = None  # the scheduler's message when no node can take the pod
    started_at: datetime | None = None
    finished_at: datetime | None = None
    index: int | None = None  # the rank: an Indexed Job's completion index
    deleting: bool = False  # has a deletionTimestamp (deleted by a suspension, a failed Job, a person)
    disruption_reason: str | None = None  # the DisruptionTarget condition's reason, e.g. PreemptionByScheduler
    disruption_message: str | None = None
    disrupted_at: datetime | None = None


@dataclass(frozen=True)
class JobObservation:
    name: str
    active: int = 0
    ready: int = 0  # active pods whose Ready condition is True (the trainer has no readiness probe: it runs)
    succeeded: int = 0
    failed: int = 0
    complete: bool = False
    failed_condition: str | None = None  # reason of a Failed condition, e.g. BackoffLimitExceeded
    suspended: bool = False
    start_time: datetime | None = None
    completion_time: datetime | None = None
    completions: int = 1  # pods that must succeed (one per rank)
    queue: str | None = None  # the kueue.x-k8s.io/queue-name label
    usage: PodUsage | None = None  # what its pods request (cost), from the Job's own pod template
    ended_at: datetime | None = None  # completionTime, or when a failed Job failed (it has no completionTime)


@dataclass(frozen=True)
class WorkloadObservation:
    """What Kueue's Workload of a Job says: whether it holds quota, and why not or why it lost it."""

    name: str
    job: str  # the owning Job's name
    admitted: bool = False
    waiting_reason: str | None = None  # QuotaReserved=False: Pending, Inadmissible, ...
    waiting_message: str | None = None  # e.g. couldn't assign flavors to pod set main: insufficient quota ...
    evicted_reason: str | None = None  # Evicted=True: Preempted, PodsReadyTimeout, ClusterQueueStopped, ...
    evicted_message: str | None = None
    evicted_at: datetime | None = None
    preempted_reason: str | None = None  # Preempted=True: InClusterQueue, InCohortReclamation, ...
    preempted_message: str | None = None


@dataclass(frozen=True)
class Preemption:
    """Who preempted an attempt: Kueue (its Workload was evicted) or Kubernetes (a pod was disrupted)."""

    source: str  # Kueue or Pod
    reason: str
    message: str
    time: datetime | None = None


@dataclass(frozen=True)
class Outcome:
    kind: OutcomeKind
    reason: str = ""
    message: str = ""
    preemption: Preemption | None = None


def _time(value: Any) -> datetime | None:
    if isinstance(value, datetime) or value is None:
        return value
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def observe_job(body: Mapping[str, Any]) -> JobObservation:
    status = body.get("status") or {}
    conditions = {c.get("type"): c for c in status.get("conditions") or [] if c.get("status") == "True"}
    return JobObservation(
        name=body["metadata"]["name"],
        active=int(status.get("active") or 0),
        ready=int(status.get("ready") or 0),
        succeeded=int(status.get("succeeded") or 0),
        failed=int(status.get("failed") or 0),
        complete="Complete" in conditions,
        failed_condition=(conditions.get("Failed") or {}).get("reason") if "Failed" in conditions else None,
        suspended=bool((body.get("spec") or {}).get("suspend")),
        start_time=_time(status.get("startTime")),
        completion_time=_time(status.get("completionTime")),
        usage=_job_usage(body.get("spec") or {}),
        ended_at=_time(status.get("completionTime") or (conditions.get("Failed") or {}).get("lastTransitionTime")),
        completions=int((body.get("spec") or {}).get("completions") or 1),
        queue=(body["metadata"].get("labels") or {}).get("kueue.x-k8s.io/queue-name"),
    )


def _condition(conditions: Sequence[Mapping[str, Any]], type_: str) -> Mapping[str, Any] | None:
    return next((c for c in conditions if c.get("type") == type_), None)


def observe_workload(body: Mapping[str, Any]) -> WorkloadObservation | None:
    """A Kueue Workload (any served version: the conditions are the same); None unless a Job owns it."""
    job = next((r["name"] for r in body["metadata"].get("ownerReferences") or []
                if r.get("kind") == "Job" and str(r.get("apiVersion", "")).startswith("batch/")), None)
    if job is None:
        return None
    conditions = (body.get("status") or {}).get("conditions") or []
    quota, admitted = _condition(conditions, "QuotaReserved"), _condition(conditions, "Admitted")
    evicted, preempted = _condition(conditions, "Evicted"), _condition(conditions, "Preempted")
    evicted = evicted if evicted and evicted.get("status") == "True" else None
    preempted = preempted if preempted and preempted.get("status") == "True" else None
    waiting = quota if quota and quota.get("status") == "False" else None
    return WorkloadObservation(
        name=body["metadata"]["name"], job=job,
        admitted=bool(admitted and admitted.get("status") == "True"),
        waiting_reason=(waiting or {}).get("reason"), waiting_message=(waiting or {}).get("message"),
        evicted_reason=(evicted or {}).get("reason"), evicted_message=(evicted or {}).get("message"),
        evicted_at=_time((evicted or {}).get("lastTransitionTime")),
        preempted_reason=(preempted or {}).get("reason"), preempted_message=(preempted or {}).get("message"),
    )


def _job_usage(spec: Mapping[str, Any]) -> PodUsage | None:
    template = (spec.get("template") or {}).get("spec")
    if not template:
        return None
    parallel = [int(v) for v in (spec.get("parallelism"), spec.get("completions")) if v is not None]
    return pod_usage(template, min(parallel) if parallel else 1)


def observe_pod(body: Mapping[str, Any]) -> PodObservation:
    status = body.get("status") or {}
    containers = status.get("containerStatuses") or []
    state = (containers[0].get("state") or {}) if containers else {}
    waiting = state.get("waiting") or {}
    terminated = state.get("terminated") or {}
    conditions = status.get("conditions") or []
    disruption = next((c for c in conditions if c.get("type") == "DisruptionTarget" and c.get("status") == "True"), None)
    meta = body["metadata"]
    index = (meta.get("annotations") or {}).get(JOB_COMPLETION_INDEX) or (meta.get("labels") or {}).get(JOB_COMPLETION_INDEX)
    unschedulable = next((c.get("message") or "no node can take it" for c in conditions if c.get("type") == "PodScheduled"
                          and c.get("status") == "False" and c.get("reason") == "Unschedulable"), None)
    return PodObservation(
        name=body["metadata"]["name"],
        phase=status.get("phase") or "Pending",
        reason=status.get("reason"),
        waiting_reason=waiting.get("reason"),
        waiting_message=waiting.get("message"),
        exit_code=terminated.get("exitCode"),
        terminated_reason=terminated.get("reason"),
        termination_message=terminated.get("message"),
        disrupted=disruption is not None,
        unschedulable=unschedulable,
        started_at=_time(terminated.get("startedAt") or (state.get("running") or {}).get("startedAt") or status.get("startTime")),
        finished_at=_time(terminated.get("finishedAt")),
        index=int(index) if index is not None and str(index).isdigit() else None,
        deleting=bool(meta.get("deletionTimestamp")),
        disruption_reason=(disruption or {}).get("reason"),
        disruption_message=(disruption or {}).get("message"),
        disrupted_at=_time((disruption or {}).get("lastTransitionTime")),
    )


def _trainer_message(pod: PodObservation) -> tuple[str | None, str]:
    """The trainer writes {"reason", "message"} as JSON to the termination log."""
    text = (pod.termination_message or "").strip()
    if text.startswith("{"):
        try:
            body = json.loads(text)
            return body.get("reason"), str(body.get("message") or "")
        except ValueError:
            pass
    return None, text[-1024:]


def _queued(job: JobObservation, workload: WorkloadObservation | None) -> Outcome:
    """A suspended Job: waiting for Kueue's admission, or evicted by Kueue (a preemption)."""
    if workload is None:
        where = f"LocalQueue {job.queue!r} in this namespace" if job.queue else "a queue label on the Job"
        return Outcome(OutcomeKind.QUEUED, Reason.QUEUED, f"Job {job.name} waits, suspended, for Kueue to admit it; no "
                       f"Workload yet (is Kueue installed, with {where}?)")
    if workload.evicted_reason:
        who = workload.preempted_message or workload.evicted_message or ""
        detail = f"{workload.preempted_reason or workload.evicted_reason}: {who}".rstrip(": ")
        said = f": {who}" if who else ""
        message = (f"Kueue evicted Workload {workload.name} ({workload.evicted_reason}){said}; the Job waits to be "
                   "admitted again and resumes from the checkpoint")
        preemption = Preemption("Kueue", workload.preempted_reason or workload.evicted_reason, detail, workload.evicted_at)
        return Outcome(OutcomeKind.QUEUED, Reason.PREEMPTED, message, preemption)
    if workload.admitted:
        return Outcome(OutcomeKind.QUEUED, Reason.QUEUED, f"Workload {workload.name} is admitted; Kueue starts Job {job.name}")
    why = f"{workload.waiting_reason}: {workload.waiting_message}" if workload.waiting_reason else "waiting for quota"
    return Outcome(OutcomeKind.QUEUED, Reason.QUEUED, f"Workload {workload.name} in queue {job.queue or '?'}: {why}")


def _root_cause(job: JobObservation, pods: Sequence[PodObservation]) -> PodObservation | None:
    """The failed pod that ended the attempt. A pod being deleted counts only once the Job failed: a
    suspension deletes pods without failing the Job (their tracking finalizer is removed first). Of
    several, the first to end on its own: the Job controller stops the other ranks after it."""
    job_failed = bool(job.failed_condition) or job.failed > 0
    failed = [p for p in pods if p.phase == "Failed" and (job_failed or not p.deleting)]
    if not failed:
        return None
    latest = datetime.max.replace(tzinfo=UTC)
    return min(failed, key=lambda p: (p.deleting and not p.disrupted, p.finished_at or latest, p.name))


def _failed(pod: PodObservation) -> Outcome:
    reason, message = _trainer_message(pod)
    where = f"pod {pod.name}"
    if pod.terminated_reason == "OOMKilled":
        return Outcome(OutcomeKind.RETRY, Reason.OOM_KILLED, f"{where} ran out of memory (exit {pod.exit_code})")
    if pod.disrupted or pod.reason in ("Preempting", "Shutdown", "Terminated"):
        by = pod.disruption_reason or pod.reason or "disrupted"
        reason_ = Reason.EVICTED if pod.reason == "Evicted" else Reason.PREEMPTED
        detail = f"{by}: {pod.disruption_message}" if pod.disruption_message else by
        return Outcome(OutcomeKind.PREEMPTED, reason_, f"{where} was {detail}; the next attempt resumes from the checkpoint",
                       Preemption("Pod", by, f"{where}: {pod.disruption_message or by}", pod.disrupted_at or pod.finished_at))
    if pod.reason in ("Evicted", "DeadlineExceeded"):
        return Outcome(OutcomeKind.RETRY, Reason.EVICTED if pod.reason == "Evicted" else Reason.POD_FAILED,
                       f"{where} was {pod.reason}; the next attempt resumes from the checkpoint")
    code = pod.exit_code
    known = Reason.for_exit_code(code)
    if known is not None:
        kind = OutcomeKind.RETRY if known.retryable else OutcomeKind.FAILED
        return Outcome(kind, reason or known, message or f"{where} exited {code}")
    return Outcome(OutcomeKind.RETRY, reason or Reason.POD_FAILED, message or f"{where} failed (exit {code})")


def classify(job: JobObservation | None, pods: Sequence[PodObservation], workload: WorkloadObservation | None = None) -> Outcome:
    """What one attempt's Job, Pods and (with Kueue) Workload mean.

    A preempted pod (DisruptionTarget) is a preemption and an evicted or OOM-killed pod a retry: the
    next attempt resumes from the checkpoint; an exit code of a permanent trainer error, or an image
    that cannot be pulled, is a failure. A suspended Job is queued, whatever its deleted pods say.
    """
    if job is None:
        return Outcome(OutcomeKind.PENDING, "JobMissing", "the attempt's Job does not exist yet")
    if job.complete or job.succeeded >= max(1, job.completions):
        return Outcome(OutcomeKind.SUCCEEDED, "Trained", f"Job {job.name} completed")
    if job.suspended and not (job.failed_condition or job.failed > 0):
        return _queued(job, workload)
    live = [p for p in pods if not p.deleting]
    for pod in live:
        if pod.waiting_reason in PERMANENT_WAITING:
            return Outcome(OutcomeKind.FAILED, PERMANENT_WAITING[pod.waiting_reason],
                           f"pod {pod.name}: {pod.waiting_reason}: {pod.waiting_message or ''}".strip())
    root = _root_cause(job, pods)
    if root is not None:
        return _failed(root)
    if job.failed_condition or job.failed > 0:
        return Outcome(OutcomeKind.RETRY, job.failed_condition or Reason.JOB_FAILED, f"Job {job.name} failed")
    rank0 = {p.phase for p in live if p.index in (None, 0)}  # a single pod has no index
    single_ready = job.completions == 1 and job.ready > 0  # the Job says its one pod runs: no pod read
    if single_ready or "Running" in rank0 or ("Succeeded" in rank0 and any(p.phase == "Running" for p in live)):
        return Outcome(OutcomeKind.RUNNING, "Training", f"Job {job.name} is running")
    for pod in live:
        if pod.unschedulable:
            return Outcome(OutcomeKind.PENDING, Reason.UNSCHEDULABLE, f"pod {pod.name} cannot be scheduled: {pod.unschedulable}")
    if job.completions > 1:
        return Outcome(OutcomeKind.PENDING, Reason.SCHEDULING, f"Job {job.name} is waiting for its rank 0 pod")
    return Outcome(OutcomeKind.PENDING, Reason.SCHEDULING, f"Job {job.name} is waiting for its pod")


def pods_needed(job: JobObservation | None, now: datetime, pending_s: float) -> bool:
    """Whether ``classify`` needs the attempt's pods, beyond what the Job's status says:

    - the Job failed: which pod ended the attempt and how (exit code, the trainer's termination
      message, OOM kill, eviction, a ``DisruptionTarget`` preemption), and when it finished;
    - several ranks, one of them ready or done: whether rank 0 runs;
    - a pod not ready ``pending_s`` after the Job started: why it waits (``Unschedulable``, an image
      that cannot be pulled, a container config error).

    Not for a Job that is missing, done, suspended (queued: Kueue's Workload says why), not yet
    started, or whose one pod is ready (running). The Job's status changes when its pods start,
    become ready, succeed or fail, so its events carry those moments; a pod that stays pending
    changes nothing in the Job, so why it waits is read at the first reconcile ``pending_s`` after
    the Job started (the resync's, at the latest).
    """
    if job is None or job.complete or job.succeeded >= max(1, job.completions):
        return False
    if job.failed_condition or job.failed > 0:
        return True
    if job.suspended:
        return False
    if job.completions > 1 and (job.ready > 0 or job.succeeded > 0):
        return True
    waiting = job.active > job.ready
    return waiting and job.start_time is not None and (now - job.start_time).total_seconds() >= pending_s


@dataclass(frozen=True)
class Decision:
    phase: str  # Pending, Queued, Running, Succeeded, Failed, Suspended
    start_attempt: int | None = None  # create the Job of this attempt
    delay_s: float = 0.0  # ... after this long
    reason: str = ""
    message: str = ""


def backoff_seconds(attempt: int, base: float, cap: float) -> float:
    """Delay before attempt ``attempt`` (2, 3, ...): base, 2*base, 4*base, ... capped."""
    return min(cap, base * 2 ** max(0, attempt - 2))


def decide(outcome: Outcome, attempt: int, max_attempts: int, suspended: bool, base: float = 10.0, cap: float = 600.0,
           preemptions: int = 0) -> Decision:
    """What to do after ``outcome`` of attempt ``attempt`` (1-based; 0 = none started yet), of which
    ``preemptions`` ended preempted (they do not count against ``max_attempts``)."""
    if suspended:
        return Decision("Suspended", reason="Suspended", message="spec.suspend is true; checkpoints are kept")
    if attempt == 0:
        return Decision("Pending", start_attempt=1, reason="Starting", message="creating the first attempt")
    if outcome.kind == OutcomeKind.PENDING and outcome.reason == "JobMissing":
        # The attempt's Job is gone (suspended, or deleted by hand): recreate it; this is no new attempt.
        return Decision("Pending", start_attempt=attempt, reason="Recreating", message="the attempt's Job is missing; recreating it")
    if outcome.kind == OutcomeKind.SUCCEEDED:
        return Decision("Succeeded", reason=outcome.reason, message=outcome.message)
    if outcome.kind == OutcomeKind.FAILED:
        return Decision("Failed", reason=outcome.reason, message=outcome.message)
    if outcome.kind == OutcomeKind.PREEMPTED:  # resume at once: the scheduler or Kueue decides when it runs
        return Decision("Pending", start_attempt=attempt + 1, reason=outcome.reason, message=outcome.message)
    if outcome.kind == OutcomeKind.RETRY:
        failures = attempt - preemptions
        if failures >= max_attempts:
            return Decision("Failed", reason=Reason.RETRIES_EXHAUSTED,
                            message=f"{failures} of maxAttempts {max_attempts} used; last: {outcome.reason}: {outcome.message}")
        return Decision("Pending", start_attempt=attempt + 1, delay_s=backoff_seconds(failures + 1, base, cap),
                        reason=outcome.reason, message=outcome.message)
    if outcome.kind == OutcomeKind.QUEUED:
        return Decision("Queued", reason=outcome.reason, message=outcome.message)
    return Decision("Running" if outcome.kind == OutcomeKind.RUNNING else "Pending", reason=outcome.reason, message=outcome.message)


def condition(type_: str, status: bool, reason: str, message: str, generation: int | None, now: str) -> dict[str, Any]:
    return {"type": type_, "status": "True" if status else "False", "reason": str(reason), "message": message[:32768],
            "observedGeneration": generation, "lastTransitionTime": now}


def merge_conditions(old: Sequence[Mapping[str, Any]] | None, new: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Replace conditions by type; keep ``lastTransitionTime`` when the status did not change."""
    merged = {c["type"]: dict(c) for c in old or []}
    for c in new:
        prev = merged.get(c["type"])
        item = dict(c)
        if prev is not None and prev.get("status") == item["status"]:
            item["lastTransitionTime"] = prev.get("lastTransitionTime", item["lastTransitionTime"])
        merged[c["type"]] = item
    return sorted(merged.values(), key=lambda c: c["type"])
