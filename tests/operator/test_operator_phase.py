"""GGUFPhase end to end through the real operator and the real control plane: waiting on trainings,
the build Job per revision (run by the Job controller, its pod by kwok), the serving Deployment
rolled out by the Deployment controller with kwok pods becoming Ready, rebuilds, and failures (a
quality gate, a rollout that cannot progress) that leave the previous revision serving."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException
from operator_support import (
    GROUP,
    VERSION,
    Operator,
    deployment_ready,
    finish_training,
    trainer_patcher,
    wait_for,
)

pytestmark = pytest.mark.slow


def _dt(name: str) -> dict:
    return {"apiVersion": f"{GROUP}/{VERSION}", "kind": "DomainTraining", "metadata": {"name": name},
            "spec": {"domain": name, "baseModel": {"repo": "Qwen/Qwen2.5-3B-Instruct"}, "dataset": {"builtin": name},
                     "resources": {"accelerator": "cpu"}}}


def _phase(domains: list[str], **spec) -> dict:
    return {"apiVersion": f"{GROUP}/{VERSION}", "kind": "GGUFPhase", "metadata": {"name": "phase-1"},
            "spec": {"phaseNumber": 1, "domains": [{"domain": d} for d in domains], **spec}}


def _status(cluster, ns: str) -> dict:
    return cluster.custom.get_namespaced_custom_object(GROUP, VERSION, ns, "ggufphases", "phase-1").get("status") or {}


def _until(cluster, ns: str, what: str, pred, timeout: float = 30) -> dict:
    return wait_for(what, lambda: (s := _status(cluster, ns)) and pred(s) and s, timeout)


def _build_job(cluster, ns: str, revision: int):
    return wait_for(f"build Job {revision}", lambda: [j for j in cluster.jobs(ns, f"tara.dev/ggufphase=phase-1,tara.dev/revision={revision}")])[0]


def _cond(status: dict, type_: str) -> dict:
    return next(c for c in status["conditions"] if c["type"] == type_)


def _cordon(cluster, unschedulable: bool) -> None:
    """No node takes new pods (a full cluster), or they take them again."""
    for node in cluster.core.list_node().items:
        cluster.core.patch_node(node.metadata.name, {"spec": {"unschedulable": unschedulable}})


def test_phase_waits_builds_deploys_rebuilds_and_keeps_serving_on_failure(operator: Operator, cluster) -> None:
    ns = cluster.namespace("phases")
    custom = cluster.custom
    custom.create_namespaced_custom_object(GROUP, VERSION, ns, "domaintrainings", _dt("healthcare"))
    custom.create_namespaced_custom_object(GROUP, VERSION, ns, "ggufphases",
                                           _phase(["healthcare", "business"], serving={"progressDeadlineSeconds": 8}))
    # a missing DomainTraining is a condition with a reason, not a crash
    s = _until(cluster, ns, "Planning", lambda s: s.get("phase") == "Planning")
    assert _cond(s, "DomainsReady")["reason"] == "MissingTraining" and "business" in _cond(s, "DomainsReady")["message"]
    custom.create_namespaced_custom_object(GROUP, VERSION, ns, "domaintrainings", _dt("business"))
    s = _until(cluster, ns, "Training", lambda s: s.get("phase") == "Training")
    assert s["domainsReady"] == "0/2" and {d["state"] for d in s["domains"]} <= {"Pending", "Training"}
    finish_training(cluster, ns, "healthcare")
    _until(cluster, ns, "1/2", lambda s: s.get("domainsReady") == "1/2")
    finish_training(cluster, ns, "business")

    # revision 1: the build Job reads both trainings' claims and writes to the artifacts claim
    job = _build_job(cluster, ns, 1)
    s = _until(cluster, ns, "Compressing", lambda s: s.get("phase") == "Compressing")
    assert s["revision"] == 1 and s["buildJobName"] == job.metadata.name
    command = job.spec.template.spec.containers[0].command
    assert command[:2] == ["tara-trainer", "build"] and "healthcare=/mnt/tara/claims/healthcare-checkpoints/healthcare" in command
    assert {v.persistent_volume_claim.claim_name for v in job.spec.template.spec.volumes if v.persistent_volume_claim} == {
        "healthcare-checkpoints", "business-checkpoints", "tara-artifacts"}
    assert cluster.core.read_namespaced_persistent_volume_claim("tara-artifacts", ns)
    cluster.run_pod(ns, job.metadata.name)
    cluster.end_pod(ns, job.metadata.name, 0)

    # deploying: llama-server + router sidecar, Service, router config mapping domains to adapter ids
    apps = client.AppsV1Api(cluster.core.api_client)
    # kwok makes the pod Ready at once, so Deploying may already have become Deployed
    s = _until(cluster, ns, "Deploying", lambda s: s.get("phase") in ("Deploying", "Deployed"))
    d = apps.read_namespaced_deployment("phase-1-serve", ns)
    assert [c.name for c in d.spec.template.spec.containers] == ["llama-server", "router"]
    assert "/mnt/tara/phases/phase-1/rev-1" in d.spec.template.spec.containers[0].command
    assert d.spec.template.spec.security_context.run_as_non_root
    router = json.loads(cluster.core.read_namespaced_config_map("phase-1-router", ns).data["router.json"])
    assert [(x["name"], x["adapterId"]) for x in router["domains"]] == [("healthcare", 0), ("business", 1)]
    assert cluster.core.read_namespaced_service("phase-1-serve", ns).spec.ports[0].port == 80
    deployment_ready(cluster, ns, "phase-1-serve")
    s = _until(cluster, ns, "Deployed", lambda s: s.get("phase") == "Deployed")
    assert s["servedRevision"] == 1 and s["endpoint"] == "http://phase-1-serve.phases.svc:80" and s["servedQuantization"] == "Q4_K_M"
    assert _cond(s, "Ready")["status"] == "True"
    wait_for("phase series", lambda: 'tara_resource_phase{kind="GGUFPhase",name="phase-1",namespace="phases",phase="Deployed"} 1.0'
             in operator.metrics())

    # a serving-only change updates the Deployment without a rebuild
    custom.patch_namespaced_custom_object(GROUP, VERSION, ns, "ggufphases", "phase-1", {"spec": {"serving": {"replicas": 2}}})
    wait_for("2 replicas", lambda: apps.read_namespaced_deployment("phase-1-serve", ns).spec.replicas == 2)
    deployment_ready(cluster, ns, "phase-1-serve")
    _until(cluster, ns, "Deployed again", lambda s: s.get("phase") == "Deployed")
    assert not cluster.jobs(ns, "tara.dev/ggufphase=phase-1,tara.dev/revision=2") and _status(cluster, ns)["revision"] == 1

    # adding a domain triggers revision 2; its quality gate fails: revision 1 keeps serving
    custom.create_namespaced_custom_object(GROUP, VERSION, ns, "domaintrainings", _dt("education"))
    finish_training(cluster, ns, "education")
    custom.patch_namespaced_custom_object(GROUP, VERSION, ns, "ggufphases", "phase-1",
                                          {"spec": {"domains": [{"domain": d} for d in ("healthcare", "business", "education")]}})
    job2 = _build_job(cluster, ns, 2)
    cluster.run_pod(ns, job2.metadata.name)
    cluster.end_pod(ns, job2.metadata.name, 5, json.dumps({"reason": "QualityGateFailed", "message": "Q4_K_M FAILS: +14% (allowed +10%)"}))
    s = _until(cluster, ns, "Failed", lambda s: s.get("phase") == "Failed")
    assert s["servedRevision"] == 1 and s["revision"] == 2
    assert _cond(s, "Ready")["status"] == "True" and _cond(s, "Ready")["reason"] == "PreviousRevisionServing"
    assert _cond(s, "QualityGatePassed")["status"] == "False" and "+14%" in _cond(s, "Built")["message"]
    assert apps.read_namespaced_deployment("phase-1-serve", ns).spec.template.metadata.annotations["tara.dev/revision"] == "1"

    # another quantization is revision 3; the cluster is full, so its pods never start, the Deployment
    # controller reports ProgressDeadlineExceeded after 8 s, and the operator rolls back to revision 1
    custom.patch_namespaced_custom_object(GROUP, VERSION, ns, "ggufphases", "phase-1", {"spec": {"quantization": ["Q5_K_M"]}})
    job3 = _build_job(cluster, ns, 3)
    cluster.run_pod(ns, job3.metadata.name)
    _cordon(cluster, True)
    try:
        cluster.end_pod(ns, job3.metadata.name, 0)
        wait_for("revision 3 rolling out", lambda: apps.read_namespaced_deployment("phase-1-serve", ns)
                 .spec.template.metadata.annotations["tara.dev/revision"] == "3")
        s = _until(cluster, ns, "rolled back", lambda s: _cond(s, "Ready").get("reason") == "RolloutFailed", timeout=60)
        assert s["phase"] == "Failed" and s["servedRevision"] == 1
        assert apps.read_namespaced_deployment("phase-1-serve", ns).spec.template.metadata.annotations["tara.dev/revision"] == "1"
        serving = [p for p in cluster.core.list_namespaced_pod(ns, label_selector="app.kubernetes.io/component=server").items
                   if p.status.phase == "Running"]
        assert [p.metadata.annotations["tara.dev/revision"] for p in serving] == ["1", "1"]  # never stopped serving
    finally:
        _cordon(cluster, False)
    reasons = [r for r, _ in cluster.events_with(ns, "phase-1", "Deployed", "QualityGateFailed", "RolloutFailed")]
    assert reasons.count("BuildStarted") == 3 and "Deployed" in reasons and "QualityGateFailed" in reasons and "RolloutFailed" in reasons


def _build_manifest(domain: str, quantizations: list[str], chosen: str) -> dict:
    """What a finished build's manifest says (export.build): base files, the domain's LoRA with its lineage."""
    lineage = {"domains": {domain: {"adapterManifestSha256": "a" * 64, "datasetSha256": "d" * 64, "training": domain,
                                    "runId": "0123456789abcdef"}}}
    files = [{"kind": "base", "quantization": q, "domain": None, "path": f"base-{q}.gguf", "bytes": 1000 + i,
              "sha256": f"{i}" * 64, "domains": [domain], "lineage": lineage} for i, q in enumerate(["F16", *quantizations])]
    files.append({"kind": "lora", "quantization": "F16", "domain": domain, "path": f"lora-{domain}.gguf", "bytes": 34000,
                  "sha256": "c" * 64, "domains": [domain], "lineage": lineage})
    return {"domains": [domain], "artifacts": files, "served": {"quantization": chosen, "reason": f"auto: {chosen} passes"}}


def test_auto_reports_the_type_its_revision_serves_and_each_domains_lineage(operator: Operator, cluster, control_plane,
                                                                            tmp_path) -> None:
    from tara_trainer.export.build import phase_status

    ns = cluster.namespace("auto-serving")
    cluster.custom.create_namespaced_custom_object(GROUP, VERSION, ns, "domaintrainings", _dt("healthcare"))
    finish_training(cluster, ns, "healthcare")
    cluster.custom.create_namespaced_custom_object(GROUP, VERSION, ns, "ggufphases", _phase(
        ["healthcare"], quantization=["Q4_K_M", "Q5_K_M"], serving={"quantization": "auto"}))

    # revision 1: its build reports what it chose (Strict: the schema has every field), then ends
    job = _build_job(cluster, ns, 1)
    cluster.run_pod(ns, job.metadata.name)
    report = phase_status(_build_manifest("healthcare", ["Q4_K_M", "Q5_K_M"], "Q5_K_M"), Path("/mnt/tara/phases/phase-1/rev-1"))
    assert trainer_patcher(control_plane, ns, "phase-1", tmp_path / "sa", plural="ggufphases").patch({"status": report})
    s = _status(cluster, ns)
    assert s["builtRevision"] == 1 and s["builtQuantization"] == "Q5_K_M" and s["builtReason"] == "auto: Q5_K_M passes"
    assert "servedQuantization" not in s and "servedReason" not in s  # not serving yet
    cluster.end_pod(ns, job.metadata.name, 0)
    deployment_ready(cluster, ns, "phase-1-serve")
    s = _until(cluster, ns, "Deployed", lambda s: s.get("phase") == "Deployed" and s.get("servedRevision") == 1)
    assert s["servedQuantization"] == "Q5_K_M" and "auto" not in json.dumps(_cond(s, "Ready"))
    assert s["servedReason"] == "auto: Q5_K_M passes"
    assert s["lineage"] == [{"domain": "healthcare", "training": "healthcare", "datasetSha256": "d" * 64, "adapterSha256": "a" * 64,
                             "runId": "0123456789abcdef", "revision": 1,
                             "files": [{"kind": "lora", "quantization": "F16", "path": "/mnt/tara/phases/phase-1/rev-1/lora-healthcare.gguf",
                                        "bytes": 34000, "sha256": "c" * 64}]}]

    # revision 2's build ends without reporting its choice: once it serves, no type is claimed and Ready says why
    cluster.custom.patch_namespaced_custom_object(GROUP, VERSION, ns, "ggufphases", "phase-1", {"spec": {"quantization": ["Q8_0"]}})
    job2 = _build_job(cluster, ns, 2)
    cluster.run_pod(ns, job2.metadata.name)
    cluster.end_pod(ns, job2.metadata.name, 0)
    deployment_ready(cluster, ns, "phase-1-serve")
    s = _until(cluster, ns, "revision 2 Deployed", lambda s: s.get("phase") == "Deployed" and s.get("servedRevision") == 2)
    assert "servedQuantization" not in s and "servedReason" not in s and s["builtRevision"] == 1
    assert "the type serving.quantization auto chose is unknown" in _cond(s, "Ready")["message"]


def test_a_phase_with_serving_disabled_is_built_and_serves_nothing_until_enabled(operator: Operator, cluster, control_plane,
                                                                                 tmp_path) -> None:
    from tara_trainer.export.build import phase_status

    ns = cluster.namespace("no-serving")
    apps = client.AppsV1Api(cluster.core.api_client)
    cluster.custom.create_namespaced_custom_object(GROUP, VERSION, ns, "domaintrainings", _dt("healthcare"))
    finish_training(cluster, ns, "healthcare")
    cluster.custom.create_namespaced_custom_object(GROUP, VERSION, ns, "ggufphases", _phase(
        ["healthcare"], quantization=["Q4_K_M", "Q5_K_M"], serving={"enabled": False, "quantization": "auto"}))
    job = _build_job(cluster, ns, 1)
    cluster.run_pod(ns, job.metadata.name)
    report = phase_status(_build_manifest("healthcare", ["Q4_K_M", "Q5_K_M"], "Q4_K_M"), Path("/mnt/tara/phases/phase-1/rev-1"))
    assert trainer_patcher(control_plane, ns, "phase-1", tmp_path / "sa", plural="ggufphases").patch({"status": report})
    cluster.end_pod(ns, job.metadata.name, 0)

    # built and validated: Deployed with Ready=True (reason Built), the artifacts reported, nothing serving
    s = _until(cluster, ns, "Deployed", lambda s: s.get("phase") == "Deployed")
    ready = _cond(s, "Ready")
    assert (ready["status"], ready["reason"]) == ("True", "Built") and "serving is disabled" in ready["message"]
    assert _cond(s, "Built")["status"] == "True" and _cond(s, "QualityGatePassed")["status"] == "True"
    assert s["revision"] == 1 and s["builtRevision"] == 1 and s["artifacts"]
    assert not {"servedRevision", "endpoint", "deploymentName", "servedQuantization", "servedReason"} & set(s), s
    assert not apps.list_namespaced_deployment(ns).items
    assert [x.metadata.name for x in cluster.core.list_namespaced_service(ns).items] == []
    assert "phase-1-router" not in [c.metadata.name for c in cluster.core.list_namespaced_config_map(ns).items]
    assert "Deploying" not in [r for r, _ in cluster.events_with(ns, "phase-1", "BuildStarted")]

    # turning serving on is a serving change: no rebuild, revision 1 rolls out and reports its type and reason
    cluster.custom.patch_namespaced_custom_object(GROUP, VERSION, ns, "ggufphases", "phase-1", {"spec": {"serving": {"enabled": True}}})
    deployment_ready(cluster, ns, "phase-1-serve")
    s = _until(cluster, ns, "serving", lambda s: s.get("phase") == "Deployed" and s.get("servedRevision") == 1)
    assert s["revision"] == 1 and not cluster.jobs(ns, "tara.dev/ggufphase=phase-1,tara.dev/revision=2")
    assert (s["servedQuantization"], s["servedReason"]) == ("Q4_K_M", "auto: Q4_K_M passes")
    assert cluster.core.read_namespaced_service("phase-1-serve", ns).spec.ports[0].port == 80

    # turning it off again does not stop what serves: the Ready message says so instead of claiming nothing serves
    cluster.custom.patch_namespaced_custom_object(GROUP, VERSION, ns, "ggufphases", "phase-1", {"spec": {"serving": {"enabled": False}}})
    s = _until(cluster, ns, "disabled while serving", lambda s: "still serves" in _cond(s, "Ready")["message"])
    assert "serving is disabled; artifacts are ready; revision 1 still serves from Deployment phase-1-serve" in _cond(s, "Ready")["message"]
    assert s["phase"] == "Deployed" and s["servedRevision"] == 1 and apps.read_namespaced_deployment("phase-1-serve", ns)


def test_invalid_phase_is_refused_by_the_server(operator: Operator, cluster) -> None:
    ns = cluster.namespace("bad-phase")
    body = _phase(["healthcare"], serving={"defaultDomain": "poetry"})
    with pytest.raises(ApiException) as refused:
        cluster.custom.create_namespaced_custom_object(GROUP, VERSION, ns, "ggufphases", body)
    assert refused.value.status == 422 and "defaultDomain" in refused.value.body
    with pytest.raises(ApiException) as refused:
        cluster.custom.create_namespaced_custom_object(GROUP, VERSION, ns, "ggufphases", _phase(["healthcare"], quantization=["Q3_X"]))
    assert refused.value.status == 422 and "Q3_X" in refused.value.body
    with pytest.raises(ApiException) as refused:  # GPU layers in a pod without a GPU: refused here, not at pod start
        cluster.custom.create_namespaced_custom_object(GROUP, VERSION, ns, "ggufphases", _phase(["healthcare"], serving={"gpuLayers": 99}))
    assert refused.value.status == 422 and "spec.serving.gpuLayers" in refused.value.body
    assert "gpuLayers above 0 offloads layers to a GPU: set resources.accelerator: gpu" in refused.value.body
    assert not cluster.jobs(ns)


def _gone(cluster, ns: str, name: str) -> bool:
    try:
        cluster.custom.get_namespaced_custom_object(GROUP, VERSION, ns, "ggufphases", name)
    except ApiException as exc:
        return exc.status == 404
    return False


def _flag(command: list[str], flag: str) -> list[str]:
    return [command[i + 1] for i, c in enumerate(command) if c == flag]


def test_revisions_are_pruned_and_a_deleted_phase_is_cleaned_through_its_finalizer(operator: Operator, cluster) -> None:
    """keepRevisions reaches the build with the serving revision protected; deleting a phase with
    retention Delete holds it with the finalizer until the cleanup Job succeeded, a failed cleanup Job
    is a condition and a Warning and is tried again; retention Retain lets the phase go at once."""
    ns = cluster.namespace("phase-storage")
    custom = cluster.custom
    custom.create_namespaced_custom_object(GROUP, VERSION, ns, "domaintrainings", _dt("healthcare"))
    custom.create_namespaced_custom_object(GROUP, VERSION, ns, "ggufphases",
                                           _phase(["healthcare"], storage={"keepRevisions": 1, "retention": "Delete"}))
    finish_training(cluster, ns, "healthcare")
    job1 = _build_job(cluster, ns, 1)
    command = job1.spec.template.spec.containers[0].command
    assert _flag(command, "--keep-revisions") == ["1"] and _flag(command, "--protect-revision") == []
    assert "--keep-training-outputs" in command and "--no-cleanup" not in command
    assert "tara.dev/cleanup" in custom.get_namespaced_custom_object(GROUP, VERSION, ns, "ggufphases", "phase-1")["metadata"]["finalizers"]
    cluster.run_pod(ns, job1.metadata.name)
    cluster.end_pod(ns, job1.metadata.name, 0)
    deployment_ready(cluster, ns, "phase-1-serve")
    _until(cluster, ns, "Deployed", lambda s: s.get("phase") == "Deployed" and s.get("servedRevision") == 1)

    # revision 2 may prune revision 1's folder only once revision 1 no longer serves: it is protected
    custom.patch_namespaced_custom_object(GROUP, VERSION, ns, "ggufphases", "phase-1", {"spec": {"quantization": ["Q8_0"]}})
    job2 = _build_job(cluster, ns, 2)
    command = job2.spec.template.spec.containers[0].command
    assert _flag(command, "--keep-revisions") == ["1"] and _flag(command, "--protect-revision") == ["1"]
    cluster.run_pod(ns, job2.metadata.name)  # still building when the phase is deleted

    # delete: the build stops, the cleanup Job runs; its failure holds the phase and says why
    custom.delete_namespaced_custom_object(GROUP, VERSION, ns, "ggufphases", "phase-1")
    cleanup = wait_for("cleanup Job", lambda: [j for j in cluster.jobs(ns, "tara.dev/ggufphase=phase-1,app.kubernetes.io/component=cleanup")])[0]
    c = cleanup.spec.template.spec.containers[0]
    assert c.command == ["tara-trainer", "remove-phase", "--phases-dir", "/mnt/tara/phases", "--phase", "phase-1"]
    assert [v.persistent_volume_claim.claim_name for v in cleanup.spec.template.spec.volumes if v.persistent_volume_claim] == ["tara-artifacts"]
    wait_for("build Job 2 deleted", lambda: not cluster.jobs(ns, "tara.dev/ggufphase=phase-1,tara.dev/revision=2"))
    cluster.end_pod(ns, cleanup.metadata.name, 1, "rm: cannot remove '/mnt/tara/phases/phase-1': Device or resource busy")
    s = _until(cluster, ns, "CleanupFailed", lambda s: _cond(s, "StorageCleaned").get("reason") == "CleanupFailed"
               if any(c["type"] == "StorageCleaned" for c in s.get("conditions") or []) else False)
    message = _cond(s, "StorageCleaned")["message"]
    assert "Device or resource busy" in message and '{"metadata":{"finalizers":null}}' in message
    assert not _gone(cluster, ns, "phase-1")
    assert "CleanupFailed" in [r for r, _ in cluster.events_with(ns, "phase-1", "CleanupFailed")]

    # the next try: a fresh Job; it succeeds, the finalizer goes, and with the phase its children
    def fresh_job():
        jobs = cluster.jobs(ns, "tara.dev/ggufphase=phase-1,app.kubernetes.io/component=cleanup")
        return [j for j in jobs if j.metadata.uid != cleanup.metadata.uid]
    again = wait_for("a fresh cleanup Job", fresh_job)[0]
    cluster.run_pod(ns, again.metadata.name)
    cluster.end_pod(ns, again.metadata.name, 0)
    wait_for("phase deleted", lambda: _gone(cluster, ns, "phase-1"))
    assert any("removed /mnt/tara/phases/phase-1" in m for r, m in cluster.events_with(ns, "phase-1", "Deleted") if r == "Deleted")
    wait_for("serving Deployment collected", lambda: not cluster.apps.list_namespaced_deployment(ns).items, timeout=60)

    # retention Retain (the default): the phase goes at once and no cleanup Job is made
    custom.create_namespaced_custom_object(GROUP, VERSION, ns, "ggufphases", {**_phase(["healthcare"]), "metadata": {"name": "phase-2"}})
    wait_for("phase-2 finalizer", lambda: custom.get_namespaced_custom_object(GROUP, VERSION, ns, "ggufphases", "phase-2")
             ["metadata"].get("finalizers"))
    custom.delete_namespaced_custom_object(GROUP, VERSION, ns, "ggufphases", "phase-2")
    wait_for("phase-2 deleted", lambda: _gone(cluster, ns, "phase-2"))
    assert not cluster.jobs(ns, "tara.dev/ggufphase=phase-2,app.kubernetes.io/component=cleanup")
    assert any("storage.retention: Retain" in m for r, m in cluster.events_with(ns, "phase-2", "Retained") if r == "Retained")
