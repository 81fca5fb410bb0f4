"""Queues, preemption and multi-node trainings with the real operator on the real control plane.

Kueue's Workload CRD (from the pinned ``sigs.k8s.io/kueue`` module, ``tests/cluster/kueue.py``) is installed
while the operator runs, as an admin would install Kueue next to it; the tests then do what Kueue's
controller does to a Job it manages (create its Workload, leave it waiting for quota, admit it by
unsuspending the Job, evict it by suspending it again), with the server enforcing Kueue's own
schema on every Workload. The Job controller, scheduler and kwok do the rest for real: pods of a
suspended Job are deleted and terminated, an Indexed Job's pods get their hostnames and indexes.
"""

from __future__ import annotations

import hashlib
import json
import time
from datetime import UTC, datetime

import pytest
from kubernetes.client import ApiClient
from kueue import ensure_kueue_crds
from operator_support import GROUP, VERSION, Operator, wait_for

pytestmark = pytest.mark.slow

KUEUE, KUEUE_VERSION = "kueue.x-k8s.io", "v1beta2"
PREEMPTED_BY = ("Preempted to accommodate a workload (UID: 9f0c, JobUID: 77aa) due to prioritization in the ClusterQueue; "
                "preemptor path: /team-a; preemptee path: /team-a")


def _dt(name: str, **spec) -> dict:
    body = {"domain": "healthcare", "baseModel": {"repo": "Qwen/Qwen2.5-3B-Instruct"}, "dataset": {"builtin": "healthcare"},
            "resources": {"accelerator": "cpu", "cpu": "2"}, **spec}
    return {"apiVersion": f"{GROUP}/{VERSION}", "kind": "DomainTraining", "metadata": {"name": name}, "spec": body}


def _create(cluster, ns: str, body: dict) -> None:
    cluster.namespace(ns)
    cluster.custom.create_namespaced_custom_object(GROUP, VERSION, ns, "domaintrainings", body)


def _job(cluster, ns: str, name: str, attempt: int):
    def find():
        jobs = [j for j in cluster.jobs(ns, f"tara.dev/domaintraining={name}") if j.metadata.labels.get("tara.dev/attempt") == str(attempt)]
        return jobs[0] if jobs else None
    return wait_for(f"Job of attempt {attempt}", find)


def _status_where(cluster, ns: str, name: str, what: str, check, timeout: float = 30) -> dict:
    return wait_for(f"{name}: {what}", lambda: (s := cluster.status(ns, name)) and check(s) and s, timeout)


def _progressing(status: dict) -> dict:
    return next(c for c in status.get("conditions") or [] if c["type"] == "Progressing")


def _now() -> str:
    return datetime.now(tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _condition(type_: str, status: bool, reason: str, message: str = "") -> dict:
    return {"type": type_, "status": "True" if status else "False", "reason": reason, "message": message, "lastTransitionTime": _now()}


class FakeKueue:
    """What Kueue's job controller and scheduler do to a Job labelled with a queue, done by hand."""

    def __init__(self, cluster, ns: str, job) -> None:
        self.cluster, self.ns, self.job = cluster, ns, job
        # Kueue's name: job-<job name>-<first 5 hex of sha1(kind, group, name, uid)>
        digest = hashlib.sha1("\n".join(["Job", "batch", job.metadata.name, job.metadata.uid]).encode()).hexdigest()[:5]
        self.name = f"job-{job.metadata.name}-{digest}"

    def create_workload(self) -> None:
        template = ApiClient().sanitize_for_serialization(self.job.spec.template)
        body = {"apiVersion": f"{KUEUE}/{KUEUE_VERSION}", "kind": "Workload",
                "metadata": {"name": self.name, "labels": {"kueue.x-k8s.io/job-uid": self.job.metadata.uid},
                             "ownerReferences": [{"apiVersion": "batch/v1", "kind": "Job", "name": self.job.metadata.name,
                                                  "uid": self.job.metadata.uid, "controller": True, "blockOwnerDeletion": True}]},
                "spec": {"queueName": self.job.metadata.labels["kueue.x-k8s.io/queue-name"],
                         "podSets": [{"name": "main", "count": self.job.spec.parallelism or 1, "template": template}]}}
        self.cluster.custom.create_namespaced_custom_object(KUEUE, KUEUE_VERSION, self.ns, "workloads", body)

    def conditions(self, *conditions: dict) -> None:
        self.cluster.custom.patch_namespaced_custom_object_status(KUEUE, KUEUE_VERSION, self.ns, "workloads", self.name,
                                                                  {"status": {"conditions": list(conditions)}})

    def suspend(self, suspended: bool) -> None:
        self.cluster.batch.patch_namespaced_job(self.job.metadata.name, self.ns, {"spec": {"suspend": suspended}})

    def wait_for_quota(self) -> None:
        self.conditions(_condition("QuotaReserved", False, "Pending", "couldn't assign flavors to pod set main: insufficient "
                                   "quota for cpu in flavor default-flavor, 2 more needed"))

    def admit(self) -> None:
        self.conditions(_condition("QuotaReserved", True, "QuotaReserved", "Quota reserved in ClusterQueue team-a"),
                        _condition("Admitted", True, "Admitted", "The workload is admitted"),
                        _condition("Evicted", False, "QuotaReserved", ""), _condition("Preempted", False, "QuotaReserved", ""))
        self.suspend(False)

    def evict(self) -> None:
        """Kueue's preemption: the Evicted and Preempted conditions, then the Job suspended; once its pods
        are gone, the quota released and the Workload requeued (Evicted stays until readmission)."""
        evicted = _condition("Evicted", True, "Preempted", PREEMPTED_BY)
        preempted = _condition("Preempted", True, "InClusterQueue", PREEMPTED_BY)
        self.conditions(_condition("QuotaReserved", True, "QuotaReserved", "Quota reserved in ClusterQueue team-a"),
                        _condition("Admitted", True, "Admitted", "The workload is admitted"), evicted, preempted)
        self.suspend(True)
        wait_for("the suspended Job's pods gone", lambda: not self.cluster.pods(self.ns, self.job.metadata.name), timeout=60)
        self.conditions(_condition("QuotaReserved", False, "Pending", PREEMPTED_BY),
                        _condition("Admitted", False, "NoReservation", "The workload has no reservation"),
                        _condition("Requeued", True, "Preempted", PREEMPTED_BY), evicted, preempted)


def test_a_queued_training_without_kueue_waits_and_says_why(operator: Operator, cluster) -> None:
    """Without Kueue's CRDs the operator runs as ever; a queued training's Job waits, suspended."""
    ns = "queue-nokueue"
    _create(cluster, ns, _dt("hc", scheduling={"queueName": "team-a"}))
    job = _job(cluster, ns, "hc", 1)
    assert job.spec.suspend is True and job.metadata.labels["kueue.x-k8s.io/queue-name"] == "team-a"
    status = _status_where(cluster, ns, "hc", "Queued", lambda s: s.get("phase") == "Queued")
    assert _progressing(status)["reason"] == "Queued" and "is Kueue installed" in _progressing(status)["message"]
    assert not cluster.pods(ns, job.metadata.name)  # nothing runs while queued
    # another queue: the waiting Job is recreated there, the same attempt (nothing ran yet)
    cluster.custom.patch_namespaced_custom_object(GROUP, VERSION, ns, "domaintrainings", "hc",
                                                  {"spec": {"scheduling": {"queueName": "team-b"}}})
    wait_for("the Job in queue team-b", lambda: [j for j in cluster.jobs(ns, "tara.dev/domaintraining=hc")
                                                 if j.metadata.labels.get("kueue.x-k8s.io/queue-name") == "team-b"])
    status = _status_where(cluster, ns, "hc", "Queued in team-b", lambda s: "team-b" in _progressing(s)["message"])
    assert status["attempts"] == 1 and status["jobName"] == job.metadata.name
    assert not [c for c in status["conditions"] if c["type"] == "SpecChanged"]  # the queue is not part of the run
    assert cluster.events_with(ns, "hc", "QueueChanged")


@pytest.fixture(scope="module")
def kueue(control_plane, operator: Operator) -> None:
    """Kueue's Workload CRD, installed after the first test (which runs without it), then the operator restarted."""
    workloads = str(ensure_kueue_crds() / "kueue.x-k8s.io_workloads.yaml")  # the kind the operator reads
    control_plane.kubectl("apply", "--server-side", "--force-conflicts", "-f", workloads)
    # 1.4 MB of schema: a loaded 2-core machine took over a minute to establish it. Polled rather than
    # `kubectl wait`, which fails at once while the new CRD has no status.conditions yet.
    def established() -> bool:
        out = control_plane.kubectl("get", "crd", "workloads.kueue.x-k8s.io", "-o",
                                    "jsonpath={.status.conditions[?(@.type=='Established')].status}", check=False)
        return out.returncode == 0 and out.stdout.strip() == "True"

    wait_for("Kueue's Workload CRD established", established, timeout=180)
    # and served: until its storage is initialised the server answers 429, and kopf's watch backs off meanwhile
    wait_for("Workloads served", lambda: control_plane.kubectl("get", "workloads.kueue.x-k8s.io", "-A",
                                                               check=False).returncode == 0, timeout=180)
    # kopf learns of a kind created while it runs from its CRD watch, but on a busy machine its first
    # watch of the new kind can give up on the 429s above (its retries last about 90 s): the tests need
    # the watch, not that race, so the operator restarts with the kind in place (as after a Kueue install).
    operator.stop()
    operator.start()


def test_queued_then_admitted_runs_and_succeeds(kueue, operator: Operator, cluster) -> None:
    ns = "queue-admit"
    _create(cluster, ns, _dt("hc", scheduling={"queueName": "team-a"}))
    job = _job(cluster, ns, "hc", 1)
    fake = FakeKueue(cluster, ns, job)
    fake.create_workload()
    fake.wait_for_quota()
    # the first Workload event may wait for kopf to start watching the kind it just learned of
    status = _status_where(cluster, ns, "hc", "Queued with Kueue's reason",
                           lambda s: s.get("phase") == "Queued" and "insufficient quota" in _progressing(s)["message"], timeout=90)
    assert _progressing(status)["reason"] == "Queued" and fake.name in _progressing(status)["message"]
    assert _progressing(status)["status"] == "True" and status["attempts"] == 1

    fake.admit()
    pod = cluster.run_pod(ns, job.metadata.name)  # the Job controller starts the pod once the Job is unsuspended
    status = _status_where(cluster, ns, "hc", "Running", lambda s: s.get("phase") == "Running")
    cluster.end_pod(ns, job.metadata.name, 0)
    status = _status_where(cluster, ns, "hc", "Succeeded", lambda s: s.get("phase") == "Succeeded")
    assert status["attempts"] == 1 and not status.get("preemptions") and pod


def test_kueue_preemption_requeues_the_same_job_and_says_who(kueue, operator: Operator, cluster) -> None:
    ns = "queue-preempt"
    _create(cluster, ns, _dt("hc", scheduling={"queueName": "team-a", "workloadPriorityClassName": "low"}, maxAttempts=1))
    job = _job(cluster, ns, "hc", 1)
    assert job.metadata.labels["kueue.x-k8s.io/priority-class"] == "low"
    fake = FakeKueue(cluster, ns, job)
    fake.create_workload()
    fake.admit()
    first_pod = cluster.run_pod(ns, job.metadata.name)
    _status_where(cluster, ns, "hc", "Running", lambda s: s.get("phase") == "Running")

    fake.evict()
    status = _status_where(cluster, ns, "hc", "Queued after a preemption",
                           lambda s: s.get("phase") == "Queued" and s.get("preemptions") == 1)
    assert _progressing(status)["reason"] == "Preempted" and "prioritization in the ClusterQueue" in _progressing(status)["message"]
    last = status["lastPreemption"]
    assert last["source"] == "Kueue" and last["reason"] == "InClusterQueue" and "JobUID: 77aa" in last["message"]
    assert status["attempts"] == 1 and not status.get("lastFailureReason")  # no failed attempt, no new Job
    assert cluster.events_with(ns, "hc", "Preempted")

    fake.admit()
    second_pod = wait_for("a new pod of the same Job", lambda: [p.metadata.name for p in cluster.pods(ns, job.metadata.name)
                                                                 if p.status.phase == "Running" and p.metadata.name != first_pod])[0]
    status = _status_where(cluster, ns, "hc", "Running again", lambda s: s.get("phase") == "Running")
    assert status["preemptions"] == 1 and status["jobName"] == job.metadata.name
    cluster.end_pod(ns, job.metadata.name, 0)
    status = _status_where(cluster, ns, "hc", "Succeeded", lambda s: s.get("phase") == "Succeeded")
    # maxAttempts 1 and still done: the preemption was not a failed attempt
    assert status["attempts"] == 1 and status["preemptions"] == 1 and second_pod
    assert [j.metadata.name for j in cluster.jobs(ns, "tara.dev/domaintraining=hc")] == [job.metadata.name]


def test_a_disrupted_pod_resumes_without_counting_an_attempt(operator: Operator, cluster) -> None:
    ns = "node-preempt"
    _create(cluster, ns, _dt("hc", maxAttempts=1))
    first = _job(cluster, ns, "hc", 1).metadata.name
    cluster.run_pod(ns, first)
    _status_where(cluster, ns, "hc", "Running", lambda s: s.get("phase") == "Running")
    # the scheduler preempted the pod (kwok writes the DisruptionTarget condition); the trainer saved and exited 75
    cluster.end_pod(ns, first, 75, json.dumps({"reason": "Preempted", "message": "saved checkpoint-40"}), disrupted=True)
    second = _job(cluster, ns, "hc", 2).metadata.name
    status = _status_where(cluster, ns, "hc", "attempt 2", lambda s: s.get("attempts") == 2 and s.get("preemptions") == 1)
    last = status["lastPreemption"]
    assert last["source"] == "Pod" and last["reason"] == "PreemptionByScheduler" and "preempted by a test" in last["message"]
    cluster.run_pod(ns, second)
    cluster.end_pod(ns, second, 0)
    status = _status_where(cluster, ns, "hc", "Succeeded", lambda s: s.get("phase") == "Succeeded")
    assert status["attempts"] == 2  # maxAttempts 1, yet a second attempt ran: the preemption did not count


def _rank_pods(cluster, ns: str, job: str, count: int) -> dict[int, object]:
    def running():
        pods = {int(p.metadata.annotations["batch.kubernetes.io/job-completion-index"]): p for p in cluster.pods(ns, job)
                if p.status.phase == "Running" and not p.metadata.deletion_timestamp}
        return pods if len(pods) == count else None
    return wait_for(f"{count} running ranks of {job}", running)


def test_multi_node_training_runs_ranks_fails_together_and_resumes(operator: Operator, cluster) -> None:
    ns = "multinode"
    cluster.namespace(ns)
    cluster.core.create_namespaced_persistent_volume_claim(ns, {"metadata": {"name": "shared"}, "spec": {
        "accessModes": ["ReadWriteMany"], "resources": {"requests": {"storage": "1Gi"}}}})
    _create(cluster, ns, _dt("hc", resources={"accelerator": "cpu", "cpu": "2", "nodes": 2},
                             storage={"checkpoints": {"claimName": "shared"}}))
    job = _job(cluster, ns, "hc", 1)
    assert job.spec.completion_mode == "Indexed" and job.spec.completions == job.spec.parallelism == 2
    service = job.spec.template.spec.subdomain
    svc = wait_for("the ranks' Service", lambda: cluster.core.read_namespaced_service(service, ns))
    assert svc.spec.cluster_ip == "None" and svc.spec.publish_not_ready_addresses is True
    assert svc.metadata.owner_references[0].kind == "DomainTraining"
    ranks = _rank_pods(cluster, ns, job.metadata.name, 2)
    for index, pod in ranks.items():  # the Job controller named each rank's host; rank 0's is the rendezvous address
        assert pod.spec.hostname == f"{job.metadata.name}-{index}" and pod.spec.subdomain == service
    env = {e.name: e.value for e in ranks[1].spec.containers[0].env}
    assert env["TARA_MASTER_ADDR"] == f"{job.metadata.name}-0.{service}" and env["TARA_NNODES"] == "2"
    assert env["TARA_DIST_BACKEND"] == "gloo" and env["TARA_NPROC_PER_NODE"] == "1"
    _status_where(cluster, ns, "hc", "Running", lambda s: s.get("phase") == "Running")

    # rank 1 crashes: backoffLimit 0 fails the attempt, the Job controller stops rank 0, a new attempt resumes both
    from controlplane import annotate_exit

    annotate_exit(cluster.core, ns, ranks[1].metadata.name, 1, "Traceback: boom")
    status = _status_where(cluster, ns, "hc", "attempt 2", lambda s: s.get("attempts") == 2)
    assert status["lastFailureReason"] == "Crashed" and "boom" in status["lastFailureMessage"]
    second = _job(cluster, ns, "hc", 2)
    assert second.spec.template.spec.subdomain != service  # each attempt has its own Service
    wait_for("the second Service", lambda: cluster.core.read_namespaced_service(second.spec.template.spec.subdomain, ns))
    ranks = _rank_pods(cluster, ns, second.metadata.name, 2)
    annotate_exit(cluster.core, ns, ranks[1].metadata.name, 0)
    wait_for("rank 1 counted", lambda: (cluster.batch.read_namespaced_job(second.metadata.name, ns).status.succeeded or 0) == 1)
    time.sleep(2)  # the operator's reconciles of that Job event and a resync
    assert cluster.status(ns, "hc")["phase"] == "Running"  # one of two ranks done is not done
    annotate_exit(cluster.core, ns, ranks[0].metadata.name, 0)
    status = _status_where(cluster, ns, "hc", "Succeeded", lambda s: s.get("phase") == "Succeeded")
    assert status["attempts"] == 2
