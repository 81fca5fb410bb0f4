"""Pure status logic: what a training attempt's Job and Pods mean and what to do next (what it cost: ``cost``).

The operator reads the Job and its Pods, turns them into small observations, and asks this module
for an ``Outcome`` (running, pending, succeeded, retry with a reason, or a permanent failure) and
for the next ``Decision``. Conditions follow Kubernetes API conventions; ``phase`` is their summary.
Nothing here performs I/O or reads the clock: ``now`` is passed in.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tara_api.reasons import Reason
from tara_operator.cost import PodUsage, pod_usage

__all__ = [
    "Decision",
    "JobObservation",
    "Outcome",
    "OutcomeKind",
    "PodObservation",
    "backoff_seconds",
    "classify",
    "condition",
    "decide",
    "merge_conditions",
    "observe_job",
    "observe_pod",
]

# Container waiting reasons that never fix themselves. The trainer's exit codes and whether a
# retry can help are tara_api.reasons' table.
PERMANENT_WAITING = {"ImagePullBackOff": Reason.IMAGE_PULL_FAILED, "ErrImagePull": Reason.IMAGE_PULL_FAILED,
                     "InvalidImageName": Reason.IMAGE_PULL_FAILED, "CreateContainerConfigError": Reason.CONTAINER_CONFIG_INVALID}


class OutcomeKind(enum.StrEnum):
    PENDING = "Pending"
    RUNNING = "Running"
    SUCCEEDED = "Succeeded"
    RETRY = "Retry"
    FAILED = "Failed"


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


@dataclass(frozen=True)
class JobObservation:
    name: str
    active: int = 0
    succeeded: int = 0
    failed: int = 0
    complete: bool = False
    failed_condition: str | None = None  # reason of a Failed condition, e.g. BackoffLimitExceeded
    suspended: bool = False
    start_time: datetime | None = None
    completion_time: datetime | None = None
    usage: PodUsage | None = None  # what its pods request (cost), from the Job's own pod template
    ended_at: datetime | None = None  # completionTime, or when a failed Job failed (it has no completionTime)


@dataclass(frozen=True)
class Outcome:
    kind: OutcomeKind
    reason: str = ""
    message: str = ""


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
        succeeded=int(status.get("succeeded") or 0),
        failed=int(status.get("failed") or 0),
        complete="Complete" in conditions,
        failed_condition=(conditions.get("Failed") or {}).get("reason") if "Failed" in conditions else None,
        suspended=bool((body.get("spec") or {}).get("suspend")),
        start_time=_time(status.get("startTime")),
        completion_time=_time(status.get("completionTime")),
        usage=_job_usage(body.get("spec") or {}),
        ended_at=_time(status.get("completionTime") or (conditions.get("Failed") or {}).get("lastTransitionTime")),
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
    disrupted = any(c.get("type") == "DisruptionTarget" and c.get("status") == "True" for c in conditions)
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
        disrupted=disrupted,
        unschedulable=unschedulable,
        started_at=_time(terminated.get("startedAt") or (state.get("running") or {}).get("startedAt") or status.get("startTime")),
        finished_at=_time(terminated.get("finishedAt")),
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


def classify(job: JobObservation | None, pods: Sequence[PodObservation]) -> Outcome:
    """What one attempt's Job and Pods mean.

    A preempted, evicted or OOM-killed pod is a retry (the next attempt resumes from the checkpoint);
    an exit code of a permanent trainer error, or an image that cannot be pulled, is a failure.
    """
    if job is None:
        return Outcome(OutcomeKind.PENDING, "JobMissing", "the attempt's Job does not exist yet")
    if job.complete or job.succeeded > 0:
        return Outcome(OutcomeKind.SUCCEEDED, "Trained", f"Job {job.name} completed")
    for pod in pods:
        if pod.waiting_reason in PERMANENT_WAITING:
            return Outcome(OutcomeKind.FAILED, PERMANENT_WAITING[pod.waiting_reason],
                           f"pod {pod.name}: {pod.waiting_reason}: {pod.waiting_message or ''}".strip())
    failed = [p for p in pods if p.phase == "Failed"]
    if failed:
        pod = failed[-1]
        reason, message = _trainer_message(pod)
        where = f"pod {pod.name}"
        if pod.terminated_reason == "OOMKilled":
            return Outcome(OutcomeKind.RETRY, Reason.OOM_KILLED, f"{where} ran out of memory (exit {pod.exit_code})")
        if pod.disrupted or pod.reason in ("Evicted", "Preempting", "DeadlineExceeded", "Shutdown", "Terminated"):
            return Outcome(OutcomeKind.RETRY, Reason.EVICTED if pod.reason == "Evicted" else Reason.PREEMPTED,
                           f"{where} was {pod.reason or 'disrupted'}; the next attempt resumes from the checkpoint")
        code = pod.exit_code
        known = Reason.for_exit_code(code)
        if known is not None:
            kind = OutcomeKind.RETRY if known.retryable else OutcomeKind.FAILED
            return Outcome(kind, reason or known, message or f"{where} exited {code}")
        return Outcome(OutcomeKind.RETRY, reason or Reason.POD_FAILED, message or f"{where} failed (exit {code})")
    if job.failed_condition or job.failed > 0:
        return Outcome(OutcomeKind.RETRY, job.failed_condition or Reason.JOB_FAILED, f"Job {job.name} failed")
    if any(p.phase == "Running" for p in pods):
        return Outcome(OutcomeKind.RUNNING, "Training", f"Job {job.name} is running")
    for pod in pods:
        if pod.unschedulable:
            return Outcome(OutcomeKind.PENDING, Reason.UNSCHEDULABLE, f"pod {pod.name} cannot be scheduled: {pod.unschedulable}")
    return Outcome(OutcomeKind.PENDING, Reason.SCHEDULING, f"Job {job.name} is waiting for its pod")


@dataclass(frozen=True)
class Decision:
    phase: str  # Pending, Running, Succeeded, Failed, Suspended
    start_attempt: int | None = None  # create the Job of this attempt
    delay_s: float = 0.0  # ... after this long
    reason: str = ""
    message: str = ""


def backoff_seconds(attempt: int, base: float, cap: float) -> float:
    """Delay before attempt ``attempt`` (2, 3, ...): base, 2*base, 4*base, ... capped."""
    return min(cap, base * 2 ** max(0, attempt - 2))


def decide(outcome: Outcome, attempt: int, max_attempts: int, suspended: bool, base: float = 10.0, cap: float = 600.0) -> Decision:
    """What to do after ``outcome`` of attempt ``attempt`` (1-based; 0 = none started yet)."""
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
    if outcome.kind == OutcomeKind.RETRY:
        if attempt >= max_attempts:
            return Decision("Failed", reason=Reason.RETRIES_EXHAUSTED,
                            message=f"{attempt} of maxAttempts {max_attempts} used; last: {outcome.reason}: {outcome.message}")
        return Decision("Pending", start_attempt=attempt + 1, delay_s=backoff_seconds(attempt + 1, base, cap),
                        reason=outcome.reason, message=outcome.message)
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
