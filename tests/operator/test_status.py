"""What a training attempt's Job and Pods mean, what happens next, and what it cost: tables."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from tara_operator.status import (
    JobObservation,
    OutcomeKind,
    PodObservation,
    backoff_seconds,
    classify,
    decide,
    merge_conditions,
    observe_job,
    observe_pod,
    pods_needed,
)

JOB = JobObservation(name="hc-train-1", active=1)
FAILED_JOB = JobObservation(name="hc-train-1", failed=1, failed_condition="BackoffLimitExceeded")


def _failed(**kw) -> PodObservation:
    return PodObservation(name="hc-train-1-x", phase="Failed", **kw)


def _msg(reason: str, message: str) -> str:
    return json.dumps({"reason": reason, "message": message})


@pytest.mark.parametrize(
    ("job", "pods", "kind", "reason"),
    [
        (None, [], OutcomeKind.PENDING, "JobMissing"),
        (JOB, [], OutcomeKind.PENDING, "Scheduling"),
        (JOB, [PodObservation("p", "Pending")], OutcomeKind.PENDING, "Scheduling"),
        (JOB, [PodObservation("p", "Pending", unschedulable="0/2 nodes are available")], OutcomeKind.PENDING, "Unschedulable"),
        (JOB, [PodObservation("p", "Running")], OutcomeKind.RUNNING, "Training"),
        (JobObservation("hc-train-1", active=1, ready=1), [], OutcomeKind.RUNNING, "Training"),  # the Job says so: no pod read
        (JobObservation("hc-train-1", active=2, ready=1, completions=2), [], OutcomeKind.PENDING, "Scheduling"),  # which rank?
        (JobObservation("j", succeeded=1, complete=True), [], OutcomeKind.SUCCEEDED, "Trained"),
        # preemption: the trainer saved a checkpoint and exited 75
        (FAILED_JOB, [_failed(exit_code=75, termination_message=_msg("Preempted", "saved checkpoint-40"))], OutcomeKind.RETRY, "Preempted"),
        # evicted or disrupted before the trainer could say anything
        (FAILED_JOB, [_failed(reason="Evicted")], OutcomeKind.RETRY, "Evicted"),
        (FAILED_JOB, [_failed(disrupted=True, exit_code=143)], OutcomeKind.PREEMPTED, "Preempted"),  # not counted
        (FAILED_JOB, [_failed(exit_code=137, terminated_reason="OOMKilled")], OutcomeKind.RETRY, "OOMKilled"),
        (FAILED_JOB, [_failed(exit_code=1, termination_message="Traceback ...")], OutcomeKind.RETRY, "Crashed"),
        (FAILED_JOB, [_failed(exit_code=10)], OutcomeKind.RETRY, "ToolFailed"),
        (FAILED_JOB, [], OutcomeKind.RETRY, "BackoffLimitExceeded"),
        # permanent: the trainer's reasons, by termination message or by exit code
        (FAILED_JOB, [_failed(exit_code=5, termination_message=_msg("QualityGateFailed", "eval loss improved by 0.001"))],
         OutcomeKind.FAILED, "QualityGateFailed"),
        (FAILED_JOB, [_failed(exit_code=2)], OutcomeKind.FAILED, "InvalidSpec"),
        (FAILED_JOB, [_failed(exit_code=3, termination_message=_msg("DatasetInvalid", "data.jsonl line 3: ..."))],
         OutcomeKind.FAILED, "DatasetInvalid"),
        (FAILED_JOB, [_failed(exit_code=6)], OutcomeKind.FAILED, "HardwareUnsupported"),
        (JOB, [PodObservation("p", "Pending", waiting_reason="ImagePullBackOff", waiting_message="not found")],
         OutcomeKind.FAILED, "ImagePullFailed"),
        (JOB, [PodObservation("p", "Pending", waiting_reason="CreateContainerConfigError")], OutcomeKind.FAILED, "ContainerConfigInvalid"),
    ],
)
def test_classify(job, pods, kind, reason) -> None:
    outcome = classify(job, pods)
    assert (outcome.kind, outcome.reason) == (kind, reason)
    assert outcome.message


T0 = datetime(2026, 11, 23, 10, tzinfo=UTC)


@pytest.mark.parametrize(
    ("job", "waited_s", "needed"),
    [
        (None, 60, False),
        (JobObservation("j"), 60, False),  # created, no pod yet
        (JobObservation("j", start_time=T0), 60, False),
        (JobObservation("j", active=1, start_time=T0), 4.9, False),  # its pod starting: the Job's next event says when it runs
        (JobObservation("j", active=1, start_time=T0), 5, True),  # still not ready: why does it wait?
        (JobObservation("j", active=1), 60, False),  # the Job controller has not started it
        (JobObservation("j", active=1, ready=1, start_time=T0), 60, False),  # running
        (JobObservation("j", active=3, ready=3, completions=3, start_time=T0), 0, True),  # does rank 0 run?
        (JobObservation("j", active=2, succeeded=1, completions=3, start_time=T0), 0, True),
        (JobObservation("j", active=3, completions=3, start_time=T0), 1, False),
        (JobObservation("j", failed=1, start_time=T0), 0, True),  # which pod failed, and how
        (JobObservation("j", failed_condition="BackoffLimitExceeded", start_time=T0), 0, True),
        (JobObservation("j", failed=1, suspended=True), 0, True),
        (JobObservation("j", active=1, suspended=True, start_time=T0), 60, False),  # queued: the Workload says why
        (JobObservation("j", succeeded=1, complete=True, start_time=T0), 60, False),
        (JobObservation("j", succeeded=1, start_time=T0), 60, False),
    ],
)
def test_pods_are_needed_only_for_what_the_job_cannot_say(job, waited_s, needed) -> None:
    from datetime import timedelta

    assert pods_needed(job, T0 + timedelta(seconds=waited_s), 5) is needed


def test_trainer_message_reaches_the_outcome() -> None:
    outcome = classify(FAILED_JOB, [_failed(exit_code=3, termination_message=_msg("DatasetInvalid", "rows.jsonl line 7: no messages"))])
    assert outcome.message == "rows.jsonl line 7: no messages"


@pytest.mark.parametrize(
    ("kind", "reason", "attempt", "max_attempts", "suspended", "phase", "start", "delay"),
    [
        (OutcomeKind.PENDING, "", 0, 5, False, "Pending", 1, 0.0),
        (OutcomeKind.RUNNING, "Training", 1, 5, False, "Running", None, 0.0),
        (OutcomeKind.RETRY, "Preempted", 1, 5, False, "Pending", 2, 10.0),
        (OutcomeKind.RETRY, "Preempted", 3, 5, False, "Pending", 4, 40.0),
        (OutcomeKind.RETRY, "OOMKilled", 5, 5, False, "Failed", None, 0.0),
        (OutcomeKind.FAILED, "QualityGateFailed", 1, 5, False, "Failed", None, 0.0),
        (OutcomeKind.SUCCEEDED, "Trained", 2, 5, False, "Succeeded", None, 0.0),
        (OutcomeKind.RUNNING, "Training", 1, 5, True, "Suspended", None, 0.0),
        (OutcomeKind.PENDING, "JobMissing", 3, 5, False, "Pending", 3, 0.0),  # resumed after suspend: same attempt
    ],
)
def test_decide(kind, reason, attempt, max_attempts, suspended, phase, start, delay) -> None:
    from tara_operator.status import Outcome

    d = decide(Outcome(kind, reason, "m"), attempt, max_attempts, suspended, base=10, cap=600)
    assert (d.phase, d.start_attempt, d.delay_s) == (phase, start, delay)
    if phase == "Failed" and kind == OutcomeKind.RETRY:
        assert d.reason == "RetriesExhausted" and "OOMKilled" in d.message


def test_backoff_is_capped() -> None:
    assert [backoff_seconds(a, 10, 60) for a in (2, 3, 4, 5, 6)] == [10, 20, 40, 60, 60]


def test_observe_job_and_pod_from_bodies() -> None:
    assert observe_job({"metadata": {"name": "j"}, "status": {"active": 1, "ready": 1}}).ready == 1
    job = observe_job({"metadata": {"name": "j"}, "spec": {},
                       "status": {"failed": 1, "startTime": "2026-11-23T10:00:00Z",
                                  "conditions": [{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded"}]}})
    assert job.failed == 1 and job.failed_condition == "BackoffLimitExceeded"
    assert job.start_time == datetime(2026, 11, 23, 10, tzinfo=UTC)
    pod = observe_pod({"metadata": {"name": "p"}, "status": {
        "phase": "Failed", "conditions": [{"type": "DisruptionTarget", "status": "True", "reason": "PreemptionByScheduler"}],
        "containerStatuses": [{"name": "trainer", "state": {"terminated": {
            "exitCode": 75, "reason": "Error", "message": _msg("Preempted", "saved"),
            "startedAt": "2026-11-23T10:00:00Z", "finishedAt": "2026-11-23T10:30:00Z"}}}]}})
    assert pod.disrupted and pod.exit_code == 75 and (pod.finished_at - pod.started_at).total_seconds() == 1800
    assert classify(job, [pod]).reason == "Preempted"


def test_merge_conditions_keeps_transition_time_when_status_is_unchanged() -> None:
    old = [{"type": "Ready", "status": "False", "reason": "Training", "message": "", "lastTransitionTime": "t0"}]
    same = merge_conditions(old, [{"type": "Ready", "status": "False", "reason": "Training", "message": "50%", "lastTransitionTime": "t1"}])
    assert same[0]["lastTransitionTime"] == "t0" and same[0]["message"] == "50%"
    flipped = merge_conditions(old, [{"type": "Ready", "status": "True", "reason": "Trained", "message": "", "lastTransitionTime": "t2"}])
    assert flipped[0]["lastTransitionTime"] == "t2"
