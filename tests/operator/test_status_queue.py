"""What an attempt with several pods, a suspended (queued) Job, Kueue's Workload and a preemption
mean, and what happens next: tables, no I/O."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tara_operator.status import (
    JobObservation,
    Outcome,
    OutcomeKind,
    PodObservation,
    WorkloadObservation,
    classify,
    decide,
    observe_job,
    observe_pod,
    observe_workload,
)

T0 = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
T1 = datetime(2026, 11, 30, 10, 0, 5, tzinfo=UTC)
RANKS = JobObservation("hc-abcdef-train-1", active=3, completions=3)
FAILED_RANKS = JobObservation("hc-abcdef-train-1", failed=1, completions=3, failed_condition="BackoffLimitExceeded")
QUEUED = JobObservation("hc-abcdef-train-1", suspended=True, queue="team-a")


def _pod(name: str, phase: str, index: int | None = None, **kw) -> PodObservation:
    return PodObservation(name=name, phase=phase, index=index, **kw)


WAITING = WorkloadObservation("job-hc-abcdef-train-1-1a2b3", "hc-abcdef-train-1", waiting_reason="Pending",
                              waiting_message="couldn't assign flavors to pod set main: insufficient quota for cpu in flavor "
                                              "default-flavor, 4 more needed")
EVICTED = WorkloadObservation("job-hc-abcdef-train-1-1a2b3", "hc-abcdef-train-1", waiting_reason="Pending", evicted_reason="Preempted",
                              evicted_message="Preempted to accommodate a workload (UID: u-9, JobUID: j-9) due to prioritization "
                                              "in the ClusterQueue", evicted_at=T1, preempted_reason="InClusterQueue",
                              preempted_message="Preempted to accommodate a workload (UID: u-9, JobUID: j-9) due to prioritization "
                                                "in the ClusterQueue")


@pytest.mark.parametrize(
    ("job", "pods", "workload", "kind", "reason", "says"),
    [
        # several ranks: running when rank 0 runs; one failed rank fails the attempt; all succeeded is done
        (RANKS, [_pod("r0", "Running", 0), _pod("r1", "Running", 1), _pod("r2", "Pending", 2)], None,
         OutcomeKind.RUNNING, "Training", "is running"),
        (RANKS, [_pod("r0", "Pending", 0), _pod("r1", "Running", 1)], None, OutcomeKind.PENDING, "Scheduling", "rank 0"),
        (JobObservation("j", succeeded=2, completions=3, active=1), [_pod("r0", "Succeeded", 0), _pod("r1", "Running", 1)], None,
         OutcomeKind.RUNNING, "Training", "is running"),  # two of three ranks done is not done
        (JobObservation("j", succeeded=3, completions=3, complete=True), [], None, OutcomeKind.SUCCEEDED, "Trained", "completed"),
        # rank 2 OOM-killed first; the Job controller then stopped ranks 0 and 1 (SIGTERM: exit 75 after a checkpoint)
        (FAILED_RANKS, [_pod("r0", "Failed", 0, exit_code=75, deleting=True, finished_at=T1),
                        _pod("r1", "Failed", 1, exit_code=75, deleting=True, finished_at=T1),
                        _pod("r2", "Failed", 2, exit_code=137, terminated_reason="OOMKilled", finished_at=T0)], None,
         OutcomeKind.RETRY, "OOMKilled", "pod r2"),
        # a permanent trainer error on rank 1 fails the run, whatever the stopped ranks said
        (FAILED_RANKS, [_pod("r0", "Failed", 0, exit_code=75, deleting=True, finished_at=T1),
                        _pod("r1", "Failed", 1, exit_code=3, termination_message='{"reason": "DatasetInvalid", "message": "row 7"}',
                             finished_at=T1)], None, OutcomeKind.FAILED, "DatasetInvalid", "row 7"),
        # a rank preempted off its node: the attempt ends preempted, naming who
        (FAILED_RANKS, [_pod("r0", "Failed", 0, exit_code=75, deleting=True, finished_at=T1),
                        _pod("r1", "Failed", 1, exit_code=143, disrupted=True, deleting=True, disruption_reason="PreemptionByScheduler",
                             disruption_message="preempted by ml/urgent on node gpu-3", finished_at=T0)], None,
         OutcomeKind.PREEMPTED, "Preempted", "PreemptionByScheduler: preempted by ml/urgent on node gpu-3"),
        # a suspended Job is queued: Kueue's message, or a hint when there is no Workload
        (QUEUED, [], None, OutcomeKind.QUEUED, "Queued", "LocalQueue 'team-a'"),
        (QUEUED, [], WAITING, OutcomeKind.QUEUED, "Queued", "insufficient quota for cpu"),
        (QUEUED, [], WorkloadObservation("w", "hc-abcdef-train-1", admitted=True), OutcomeKind.QUEUED, "Queued", "admitted"),
        # evicted by Kueue: the deleted pods of the suspension are not failures
        (QUEUED, [_pod("r0", "Failed", 0, exit_code=75, deleting=True, finished_at=T1)], EVICTED, OutcomeKind.QUEUED, "Preempted",
         "prioritization in the ClusterQueue"),
        # admitted again: a pod the suspension deleted, still terminating, is no failure of the resumed Job
        (JobObservation("hc-abcdef-train-1", active=1, queue="team-a"),
         [_pod("old", "Failed", exit_code=75, deleting=True, finished_at=T0), _pod("new", "Running")], None,
         OutcomeKind.RUNNING, "Training", "is running"),
    ],
    ids=["rank0-running", "rank0-pending", "two-of-three", "all-succeeded", "oom-rank-first", "permanent-rank",
         "rank-preempted", "no-workload", "waiting-quota", "admitted", "kueue-evicted", "resumed-after-eviction"],
)
def test_classify_ranks_and_queues(job, pods, workload, kind, reason, says) -> None:
    outcome = classify(job, pods, workload)
    assert (outcome.kind, outcome.reason) == (kind, reason)
    assert says in outcome.message, outcome.message


def test_a_preemption_says_who() -> None:
    kueue = classify(QUEUED, [], EVICTED).preemption
    assert (kueue.source, kueue.reason, kueue.time) == ("Kueue", "InClusterQueue", T1)
    assert "JobUID: j-9" in kueue.message
    pod = classify(FAILED_RANKS, [_pod("r1", "Failed", 1, disrupted=True, disruption_reason="DeletionByTaintManager",
                                       disruption_message="Taint manager: deleting due to NoExecute taint", disrupted_at=T0)]).preemption
    assert (pod.source, pod.reason, pod.time) == ("Pod", "DeletionByTaintManager", T0) and "NoExecute" in pod.message
    assert classify(FAILED_RANKS, [_pod("r1", "Failed", 1, exit_code=1)]).preemption is None


@pytest.mark.parametrize(
    ("kind", "attempt", "preemptions", "max_attempts", "phase", "start", "delay"),
    [
        (OutcomeKind.PREEMPTED, 5, 0, 5, "Pending", 6, 0.0),  # preemptions never exhaust maxAttempts, nor wait
        (OutcomeKind.RETRY, 5, 3, 5, "Pending", 6, 20.0),  # 2 failures of 5: retried, the backoff of the 3rd failure
        (OutcomeKind.RETRY, 5, 0, 5, "Failed", None, 0.0),
        (OutcomeKind.RETRY, 8, 3, 5, "Failed", None, 0.0),
        (OutcomeKind.QUEUED, 2, 1, 5, "Queued", None, 0.0),
    ],
)
def test_decide_does_not_count_preemptions(kind, attempt, preemptions, max_attempts, phase, start, delay) -> None:
    d = decide(Outcome(kind, "r", "m"), attempt, max_attempts, False, base=10, cap=600, preemptions=preemptions)
    assert (d.phase, d.start_attempt, d.delay_s) == (phase, start, delay)


def test_observe_bodies_of_ranks_and_of_kueues_workload() -> None:
    job = observe_job({"metadata": {"name": "j", "labels": {"kueue.x-k8s.io/queue-name": "team-a"}},
                       "spec": {"suspend": True, "completions": 3, "completionMode": "Indexed"}, "status": {}})
    assert (job.suspended, job.completions, job.queue) == (True, 3, "team-a")
    pod = observe_pod({"metadata": {"name": "p", "deletionTimestamp": "2026-11-30T10:00:00Z",
                                    "annotations": {"batch.kubernetes.io/job-completion-index": "2"}},
                       "status": {"phase": "Failed", "conditions": [
                           {"type": "DisruptionTarget", "status": "True", "reason": "PreemptionByScheduler",
                            "message": "preempted by urgent", "lastTransitionTime": "2026-11-30T10:00:05Z"}]}})
    assert (pod.index, pod.deleting, pod.disrupted, pod.disruption_reason, pod.disrupted_at) == (
        2, True, True, "PreemptionByScheduler", T1)
    owner = [{"apiVersion": "batch/v1", "kind": "Job", "name": "j", "uid": "u", "controller": True}]
    workload = observe_workload({"metadata": {"name": "job-j-1a2b3", "ownerReferences": owner}, "status": {"conditions": [
        {"type": "QuotaReserved", "status": "False", "reason": "Pending", "message": "insufficient quota"},
        {"type": "Evicted", "status": "True", "reason": "Preempted", "message": "by w2", "lastTransitionTime": "2026-11-30T10:00:05Z"},
        {"type": "Preempted", "status": "True", "reason": "InCohortReclamation", "message": "by w2"},
        {"type": "Admitted", "status": "False", "reason": "NoReservation", "message": ""}]}})
    assert workload == WorkloadObservation("job-j-1a2b3", "j", admitted=False, waiting_reason="Pending", waiting_message="insufficient quota",
                                           evicted_reason="Preempted", evicted_message="by w2", evicted_at=T1,
                                           preempted_reason="InCohortReclamation", preempted_message="by w2")
    admitted = observe_workload({"metadata": {"name": "w", "ownerReferences": owner}, "status": {"conditions": [
        {"type": "QuotaReserved", "status": "True", "reason": "QuotaReserved"}, {"type": "Admitted", "status": "True", "reason": "Admitted"},
        {"type": "Evicted", "status": "False", "reason": "QuotaReserved"}]}})
    assert admitted.admitted and admitted.evicted_reason is None and admitted.waiting_reason is None
    assert observe_workload({"metadata": {"name": "w", "ownerReferences": [{"apiVersion": "v1", "kind": "Pod", "name": "p"}]}}) is None
