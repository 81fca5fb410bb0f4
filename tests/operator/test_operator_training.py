"""The real operator (a ``tara-operator`` process running kopf, with the chart's RBAC) against the
real control plane: DomainTrainings created with the official client, Jobs run by the real Job
controller, pods placed by the real scheduler and started by kwok, containers ending as each test
decides, the trainer's own status patcher with the trainer's ServiceAccount, and children, status,
conditions and Events asserted."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from cluster_support import chart_credentials
from kubernetes import client
from kubernetes.client.rest import ApiException
from operator_support import GROUP, VERSION, Operator, trainer_patcher, wait_for

from tara_trainer.progress import Progress, status_patch

pytestmark = pytest.mark.slow


def _dt(name: str, **spec) -> dict:
    body = {"domain": "healthcare", "baseModel": {"repo": "Qwen/Qwen2.5-3B-Instruct"}, "dataset": {"builtin": "healthcare"},
            "resources": {"accelerator": "cpu", "cpu": "2"}, **spec}
    return {"apiVersion": f"{GROUP}/{VERSION}", "kind": "DomainTraining", "metadata": {"name": name}, "spec": body}


def _create(cluster, ns: str, body: dict) -> dict:
    cluster.namespace(ns)
    return cluster.custom.create_namespaced_custom_object(GROUP, VERSION, ns, "domaintrainings", body)


def _job_of(cluster, ns: str, name: str, attempt: int):
    def find():
        jobs = [j for j in cluster.jobs(ns, f"tara.dev/domaintraining={name}") if j.metadata.labels.get("tara.dev/attempt") == str(attempt)]
        return jobs[0] if jobs else None
    return wait_for(f"Job of attempt {attempt}", find)


def _phase(cluster, ns: str, name: str, phase: str, timeout: float = 30) -> dict:
    return wait_for(f"{name} phase {phase}", lambda: (s := cluster.status(ns, name)).get("phase") == phase and s, timeout)


def _running(cluster, ns: str, **spec) -> str:
    """Create DomainTraining hc, start its first attempt's pod, wait for Running; the Job's name."""
    _create(cluster, ns, _dt("hc", **spec))
    job = _job_of(cluster, ns, "hc", 1).metadata.name
    cluster.run_pod(ns, job)
    _phase(cluster, ns, "hc", "Running")
    return job


def test_happy_path_children_status_events_and_cost(operator: Operator, cluster, control_plane, tmp_path) -> None:
    ns = "happy"
    _create(cluster, ns, _dt("hc"))
    job = _job_of(cluster, ns, "hc", 1)
    # kwok starts the pod at once, so the first phase seen may already be Running
    status = wait_for("Pending or Running", lambda: (s := cluster.status(ns, "hc")).get("phase") in ("Pending", "Running") and s)
    assert status["attempts"] == 1 and status["jobName"] == job.metadata.name
    # children: created claim, trainer RBAC, owned Job carrying the spec (no ConfigMap: the spec is the
    # pod's annotation, a downward-API file at the path the trainer reads, which the server accepted)
    assert "domain: healthcare" in job.spec.template.metadata.annotations["tara.dev/spec"]
    spec_volume = next(v for v in job.spec.template.spec.volumes if v.name == "spec")
    assert spec_volume.downward_api.items[0].field_ref.field_path == "metadata.annotations['tara.dev/spec']"
    assert not [c for c in cluster.core.list_namespaced_config_map(ns).items if c.metadata.name != "kube-root-ca.crt"]
    assert cluster.core.read_namespaced_persistent_volume_claim("hc-checkpoints", ns).spec.resources.requests["storage"] == "10Gi"
    role = client.RbacAuthorizationV1Api(cluster.core.api_client).read_namespaced_role("tara-trainer", ns)
    assert role.rules[0].resources == ["domaintrainings/status", "ggufphases/status"] and role.rules[0].verbs == ["patch"]
    assert job.metadata.owner_references[0].kind == "DomainTraining"
    pod = job.spec.template.spec
    assert pod.containers[0].security_context.read_only_root_filesystem and pod.service_account_name == "tara-trainer"

    cluster.run_pod(ns, job.metadata.name)
    status = _phase(cluster, ns, "hc", "Running")
    ready = {c["type"]: c for c in status["conditions"]}
    assert ready["Progressing"]["status"] == "True" and ready["Ready"]["status"] == "False"
    assert ready["Ready"]["observedGeneration"] == 1
    # the trainer reports progress into status with its own code and token; the operator exports it
    patcher = trainer_patcher(control_plane, ns, "hc", tmp_path / "sa")
    progress = Progress("healthcare", "Running", step=40, total_steps=100, loss=2.5, eval_loss=2.75,
                        checkpoint="/mnt/tara/output/hc/checkpoints/checkpoint-40", checkpoint_step=40,
                        checkpoint_time="2026-01-02T03:04:00Z", metrics={"baseEvalLoss": 3.1},
                        updated_at="2026-01-02T03:04:05Z")
    assert patcher.patch(status_patch(progress)) and patcher.failures == 0
    # strict field validation is on: a field the schema lacks is refused, not silently dropped
    assert not patcher.patch({"status": {"progress": {"stepz": 41}}}) and patcher.failures == 1
    stored = cluster.status(ns, "hc")
    assert stored["progress"]["step"] == 40 and stored["checkpoint"]["step"] == 40  # nothing pruned by the schema
    wait_for("progress metric", lambda: 'tara_training_progress_percent{domain="healthcare",name="hc",namespace="happy"} 40.0' in operator.metrics())
    text = operator.metrics()
    series = '{domain="healthcare",name="hc",namespace="happy"}'
    assert f"tara_training_loss{series} 2.5" in text and f"tara_training_eval_loss{series} 2.75" in text
    assert f"tara_training_last_progress_timestamp_seconds{series} 1.767323045e+09" in text  # the trainer's updatedAt
    assert 'tara_resource_phase{kind="DomainTraining",name="hc",namespace="happy",phase="Running"} 1.0' in text

    # the finished run reports the rows it trained on and its adapter's sha256 (Strict: the schema has them)
    data = {"rows": 270, "badRows": 0, "train": 241, "eval": 29, "rowsSha256": "e" * 64}
    assert patcher.patch(status_patch(replace(progress, status="Succeeded", data=data, artifacts={"sha256": "a" * 64})))
    cluster.end_pod(ns, job.metadata.name, 0)
    status = _phase(cluster, ns, "hc", "Succeeded")
    assert status["artifacts"] == {"adapterPath": "/mnt/tara/output/hc/adapter", "sha256": "a" * 64,
                                   "manifestPath": "/mnt/tara/output/hc/adapter/manifest.json"}  # the trainer's hash kept
    assert status["data"]["rowsSha256"] == "e" * 64
    assert status["completionTime"] and status["cost"]["cpuHours"] >= 0 and status["progress"]["step"] == 40
    assert {c["type"]: c["status"] for c in status["conditions"]} == {"Ready": "True", "Progressing": "False", "Degraded": "False"}
    # a run without trouble has one Event, at its end; starting and running are in the status
    assert [r for r, _ in cluster.events_with(ns, "hc", "Trained")] == ["Trained"]
    text = operator.metrics()
    assert 'tara_operator_reconciles_total{kind="DomainTraining",result="ok"}' in text
    assert 'tara_operator_resources{kind="DomainTraining",phase="Succeeded"}' in text
    assert "tara_operator_reconcile_seconds_bucket" in text
    # the phase series moves with the resource: the old phase's series is gone, not left at 1
    assert [line for line in text.splitlines() if line.startswith("tara_resource_phase") and 'namespace="happy"' in line] == [
        'tara_resource_phase{kind="DomainTraining",name="hc",namespace="happy",phase="Succeeded"} 1.0']


def test_preemption_resumes_then_permanent_failure_ends_failed(operator: Operator, cluster) -> None:
    ns = "preempt"
    first = _running(cluster, ns)
    cluster.end_pod(ns, first, 75, json.dumps({"reason": "Preempted", "message": "saved checkpoint-40"}), disrupted=True)
    second = _job_of(cluster, ns, "hc", 2).metadata.name
    status = wait_for("attempt 2", lambda: (s := cluster.status(ns, "hc")).get("attempts") == 2 and s)
    assert status["lastFailureReason"] == "Preempted" and status["jobName"] == second
    started = [m for r, m in cluster.events_with(ns, "hc", "AttemptStarted") if r == "AttemptStarted"]
    assert started == [f"attempt 2: created Job {second}, resuming from the latest checkpoint"]  # the first is routine: none
    # an evicted, then OOM-killed pod also resume
    cluster.run_pod(ns, second)
    cluster.end_pod(ns, second, 137, reason="OOMKilled")
    third = _job_of(cluster, ns, "hc", 3).metadata.name
    cluster.run_pod(ns, third)
    cluster.end_pod(ns, third, 5, json.dumps({"reason": "QualityGateFailed", "message": "eval loss improved by 0.001"}))
    status = _phase(cluster, ns, "hc", "Failed")
    assert status["lastFailureReason"] == "QualityGateFailed" and "0.001" in status["lastFailureMessage"]
    assert status["attempts"] == 3 and len(cluster.jobs(ns, "tara.dev/domaintraining=hc")) == 3  # no fourth attempt
    degraded = next(c for c in status["conditions"] if c["type"] == "Degraded")
    assert degraded["status"] == "True" and degraded["reason"] == "QualityGateFailed"
    assert ("QualityGateFailed", "eval loss improved by 0.001") in cluster.events_with(ns, "hc", "QualityGateFailed")
    failures = {line.split("{")[1].split("}")[0]: line.rsplit(" ", 1)[1] for line in operator.metrics().splitlines()
                if line.startswith("tara_training_attempt_failures_total{") and 'namespace="preempt"' in line}
    assert {k.split('reason="')[1].rstrip('"'): float(v) for k, v in failures.items()} == {
        "Preempted": 1.0, "OOMKilled": 1.0, "QualityGateFailed": 1.0}


def test_retries_are_bounded(operator: Operator, cluster) -> None:
    ns = "bounded"
    _create(cluster, ns, _dt("hc", maxAttempts=2))
    for attempt in (1, 2):
        job = _job_of(cluster, ns, "hc", attempt).metadata.name
        cluster.run_pod(ns, job)
        cluster.end_pod(ns, job, 1, "Traceback: boom")
    status = _phase(cluster, ns, "hc", "Failed")
    assert status["lastFailureReason"] == "RetriesExhausted" and "maxAttempts 2" in status["lastFailureMessage"]


def test_suspend_keeps_checkpoints_and_resume_recreates_the_attempt(operator: Operator, cluster) -> None:
    ns = "suspend"
    job = _running(cluster, ns)
    cluster.custom.patch_namespaced_custom_object(GROUP, VERSION, ns, "domaintrainings", "hc", {"spec": {"suspend": True}})
    _phase(cluster, ns, "hc", "Suspended")
    wait_for("Job deleted", lambda: not cluster.jobs(ns, "tara.dev/domaintraining=hc"))
    assert cluster.core.read_namespaced_persistent_volume_claim("hc-checkpoints", ns)  # checkpoints kept
    cluster.custom.patch_namespaced_custom_object(GROUP, VERSION, ns, "domaintrainings", "hc", {"spec": {"suspend": False}})
    again = _job_of(cluster, ns, "hc", 1)
    assert again.metadata.name == job and cluster.status(ns, "hc")["attempts"] == 1


def test_spec_change_starts_a_new_run_and_says_so(operator: Operator, cluster) -> None:
    ns = "update"
    old = _running(cluster, ns)
    cluster.custom.patch_namespaced_custom_object(GROUP, VERSION, ns, "domaintrainings", "hc", {"spec": {"lora": {"r": 16}}})
    status = wait_for("new run", lambda: (s := cluster.status(ns, "hc")).get("jobName") not in (None, old) and s)
    changed = next(c for c in status["conditions"] if c["type"] == "SpecChanged")
    assert changed["status"] == "True" and changed["observedGeneration"] == 2
    names_now = [j.metadata.name for j in cluster.jobs(ns, "tara.dev/domaintraining=hc")]
    assert old not in names_now and len(names_now) == 1
    assert "r: 16" in _job_of(cluster, ns, "hc", 1).spec.template.metadata.annotations["tara.dev/spec"]
    assert cluster.events_with(ns, "hc", "SpecChanged")


def test_invalid_spec_is_refused_by_the_server_with_the_rule_message(operator: Operator, cluster) -> None:
    ns = "invalid"
    with pytest.raises(ApiException) as refused:
        _create(cluster, ns, _dt("bad", lora={"qlora": True}))  # QLoRA on CPU: the CRD's CEL rule refuses it
    assert refused.value.status == 422 and "qlora" in refused.value.body.lower()
    with pytest.raises(ApiException) as refused:
        _create(cluster, ns, _dt("bad", training={"learningRate": -1}))  # the schema's minimum
    assert refused.value.status == 422 and "learningRate" in refused.value.body
    assert not cluster.jobs(ns) and not cluster.custom.list_namespaced_custom_object(GROUP, VERSION, ns, "domaintrainings")["items"]


@pytest.mark.parametrize("retention", ["Retain", "Delete"])
def test_deletion_cascades_without_a_finalizer_and_honours_retention(operator: Operator, cluster, retention: str) -> None:
    """No finalizer and no kopf annotation on a training: the garbage collector deletes its Job, pods and
    (with retention Delete) claims through their owner references; an Event says what went or stayed."""
    ns = f"delete-{retention.lower()}"
    _create(cluster, ns, _dt("hc", storage={"retention": retention}))
    _job_of(cluster, ns, "hc", 1)
    wait_for("a status", lambda: cluster.status(ns, "hc").get("phase"))
    meta = cluster.training(ns, "hc")["metadata"]
    assert not meta.get("finalizers") and not any(k.startswith("tara.dev/") for k in meta.get("annotations") or {}), meta
    cluster.custom.delete_namespaced_custom_object(GROUP, VERSION, ns, "domaintrainings", "hc")
    wait_for("resource gone", lambda: not cluster.custom.list_namespaced_custom_object(GROUP, VERSION, ns, "domaintrainings")["items"])
    wait_for("Job and pods gone", lambda: not cluster.jobs(ns) and not cluster.core.list_namespaced_pod(ns).items)
    def claims():  # a claim in use by a pod is deleted only when the pod is gone (the protection finalizer)
        return [c.metadata.name for c in cluster.core.list_namespaced_persistent_volume_claim(ns).items]
    wait_for(f"claims {retention}", lambda: claims() == (["hc-checkpoints"] if retention == "Retain" else []) or None)
    reason = "Retained" if retention == "Retain" else "Deleted"
    wait_for(f"Event {reason}", lambda: [e for e in cluster.core.list_namespaced_event(ns).items
                                         if e.involved_object.name == "hc" and e.reason == reason])


def test_operator_restart_mid_flight_creates_no_duplicates(operator: Operator, control_plane, tmp_path, cluster) -> None:
    """An operator installed for one namespace (the chart's RBAC with watchNamespaces) starts a training,
    stops mid-attempt, and its restart adopts the running Job: no second Job, no ConfigMap, one attempt.
    The module's operator watches every namespace: it is stopped meanwhile, so the work is these two's."""
    ns = cluster.namespace("restart")
    kubeconfig = chart_credentials(control_plane, tmp_path / "restart.kubeconfig", {"watchNamespaces": [ns]},
                                   release="tara-restart")
    operator.stop()
    try:
        op = Operator(kubeconfig, tmp_path / "op.log", {"TARA_NAMESPACES": ns}).start()
        try:
            job = _running(cluster, ns)
        finally:
            op.stop()
        op = Operator(kubeconfig, tmp_path / "op2.log", {"TARA_NAMESPACES": ns}).start()
        try:
            import time

            time.sleep(3)  # several resyncs
            assert [j.metadata.name for j in cluster.jobs(ns)] == [job]
            assert not [c for c in cluster.core.list_namespaced_config_map(ns).items if c.metadata.name != "kube-root-ca.crt"]
            cluster.end_pod(ns, job, 0)
            _phase(cluster, ns, "hc", "Succeeded")
            assert cluster.status(ns, "hc")["attempts"] == 1
        finally:
            op.stop()
        for log in ("op.log", "op2.log"):  # the chart lets kopf list and watch namespaces: no fallback to assuming
            assert "Not enough permissions" not in (tmp_path / log).read_text(), log
    finally:
        operator.start()


def test_two_replicas_elect_one_leader_through_peering(control_plane, tmp_path, cluster) -> None:
    ns = cluster.namespace("peering")
    # the chart's RBAC for two replicas with leader election in this namespace
    kubeconfig = chart_credentials(control_plane, tmp_path / "peering.kubeconfig",
                                   {"replicas": 2, "leaderElection": {"enabled": True}, "watchNamespaces": [ns]},
                                   release="tara-peering")
    cluster.custom.create_namespaced_custom_object("kopf.dev", "v1", ns, "kopfpeerings",
                                                   {"apiVersion": "kopf.dev/v1", "kind": "KopfPeering", "metadata": {"name": "tara"}})
    common = {"TARA_NAMESPACES": ns, "TARA_PEERING": "tara"}
    leader = Operator(kubeconfig, tmp_path / "leader.log", {**common, "TARA_PRIORITY": "200"}).start()
    standby = Operator(kubeconfig, tmp_path / "standby.log", {**common, "TARA_PRIORITY": "100"}).start()
    try:
        # kopf starts paused and resumes only the replica no higher priority outranks
        wait_for("the leader resumes", lambda: "Resuming operations" in (tmp_path / "leader.log").read_text(), timeout=20)
        _create(cluster, ns, _dt("one"))
        wait_for("one Job", lambda: cluster.jobs(ns, "tara.dev/domaintraining=one"))
        assert "Resuming operations" not in (tmp_path / "standby.log").read_text()
        leader.stop()  # a clean exit removes it from the peering; the standby resumes
        _create(cluster, ns, _dt("two"))
        wait_for("the standby took over", lambda: cluster.jobs(ns, "tara.dev/domaintraining=two"), timeout=40)
        assert len(cluster.jobs(ns, "tara.dev/domaintraining=one")) == 1
    finally:
        leader.stop()
        standby.stop()


def test_gpu_training_is_scheduled_on_the_gpu_node(operator: Operator, cluster) -> None:
    ns = "gpu"
    _create(cluster, ns, _dt("hc", resources={"accelerator": "gpu", "gpu": {"count": 2}}))
    job = _job_of(cluster, ns, "hc", 1).metadata.name
    pod = cluster.core.read_namespaced_pod(cluster.run_pod(ns, job), ns)
    assert pod.spec.node_name == "gpu-0"  # the scheduler placed it where nvidia.com/gpu is allocatable
    assert pod.spec.containers[0].resources.limits["nvidia.com/gpu"] == "2"
    _phase(cluster, ns, "hc", "Running")
    # more GPUs than any node has: the scheduler leaves the pod Pending, and the training says why
    _create(cluster, ns, _dt("big", resources={"accelerator": "gpu", "gpu": {"count": 16}}))
    status = wait_for("Unschedulable", lambda: (s := cluster.status(ns, "big")).get("phase") == "Pending" and any(
        c["reason"] == "Unschedulable" for c in s.get("conditions") or []) and s)
    progressing = next(c for c in status["conditions"] if c["reason"] == "Unschedulable")
    assert "Insufficient nvidia.com/gpu" in progressing["message"], progressing
