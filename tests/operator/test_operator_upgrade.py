"""An operator upgrade on the real control plane: what an older operator left on the DomainTrainings
(kopf's finalizer ``tara.dev/cleanup``) goes when this one sees it; what it started (a Job mounting
the spec ConfigMap) runs on."""

from __future__ import annotations

import json

import pytest
from kubernetes import client
from operator_support import GROUP, VERSION, Operator, wait_for

from tara_api import DomainTraining
from tara_operator.render.rbac import render_trainer_rbac
from tara_operator.render.training import SPEC_ANNOTATION, render_training
from tara_operator.settings import OperatorSettings
from tara_operator.training import run_spec_hash

pytestmark = pytest.mark.slow


def _dt(name: str) -> dict:
    spec = {"domain": "healthcare", "baseModel": {"repo": "Qwen/Qwen2.5-3B-Instruct"}, "dataset": {"builtin": "healthcare"},
            "resources": {"accelerator": "cpu", "cpu": "2"}}
    return {"apiVersion": f"{GROUP}/{VERSION}", "kind": "DomainTraining", "metadata": {"name": name}, "spec": spec}


def _create(cluster, ns: str, body: dict) -> dict:
    cluster.namespace(ns)
    return cluster.custom.create_namespaced_custom_object(GROUP, VERSION, ns, "domaintrainings", body)


def _job_of(cluster, ns: str, name: str, attempt: int):
    return wait_for(f"{name}'s Job of attempt {attempt}", lambda: [j for j in cluster.jobs(ns, f"tara.dev/domaintraining={name}")
                                                                 if j.metadata.labels.get("tara.dev/attempt") == str(attempt)])[0]


def test_an_older_operators_finalizer_is_removed(operator_kubeconfig, tmp_path, cluster) -> None:
    """Trainings an older operator served carry kopf's finalizer: this one removes it when it sees it, so a
    training deleted while no operator ran goes once the operator runs, and its Job with it. (Its own module:
    no operator of another test may watch the namespace while the deletion waits.)"""
    ns = "old-finalizer"
    op = Operator(operator_kubeconfig, tmp_path / "op.log", {}).start()
    try:
        _create(cluster, ns, _dt("hc"))
        _create(cluster, ns, _dt("kept"))
        _job_of(cluster, ns, "hc", 1)
        _job_of(cluster, ns, "kept", 1)
    finally:
        op.stop()
    old = {"metadata": {"finalizers": ["tara.dev/cleanup"]}}
    for name in ("hc", "kept"):
        cluster.custom.patch_namespaced_custom_object(GROUP, VERSION, ns, "domaintrainings", name, old)
    cluster.custom.delete_namespaced_custom_object(GROUP, VERSION, ns, "domaintrainings", "hc")
    assert cluster.training(ns, "hc")["metadata"]["deletionTimestamp"]  # held by the finalizer: no operator runs
    op = Operator(operator_kubeconfig, tmp_path / "op2.log", {}).start()
    try:
        wait_for("the deleted training gone", lambda: not [t for t in cluster.custom.list_namespaced_custom_object(
            GROUP, VERSION, ns, "domaintrainings")["items"] if t["metadata"]["name"] == "hc"])
        wait_for("its Job collected", lambda: not cluster.jobs(ns, "tara.dev/domaintraining=hc"))
        wait_for("the finalizer removed from the other", lambda: not cluster.training(ns, "kept")["metadata"].get("finalizers"))
        assert len(cluster.jobs(ns, "tara.dev/domaintraining=kept")) == 1
    finally:
        op.stop()


def test_a_training_an_older_operator_started_keeps_its_spec_configmap_and_job(operator_kubeconfig, tmp_path, cluster) -> None:
    """Older operators put the spec in a ConfigMap ``<name>-spec`` that the Job mounts. A training one of
    them started (its ConfigMap, its Job, its status) keeps all three: the attempt runs on, not restarted,
    and the ConfigMap stays while that Job may mount it (the garbage collector deletes it with the
    training). The next attempt reads the same spec from its pod's annotation."""
    ns = "old-configmap"
    created = _create(cluster, ns, _dt("hc"))
    res = DomainTraining.model_validate(created)
    run = run_spec_hash(res.spec)
    children = render_training(res, OperatorSettings(), attempt=1, uid=created["metadata"]["uid"], run=run)
    job = children["job"]
    template = job["spec"]["template"]
    spec_yaml = template["metadata"]["annotations"].pop(SPEC_ANNOTATION)  # the older operator's Job
    template["spec"]["volumes"][0] = {"name": "spec", "configMap": {"name": "hc-spec"}}
    rbac = client.RbacAuthorizationV1Api(cluster.core.api_client)
    account, role, binding = render_trainer_rbac(ns, OperatorSettings())  # what the older operator created too
    cluster.core.create_namespaced_service_account(ns, account)
    rbac.create_namespaced_role(ns, role)
    rbac.create_namespaced_role_binding(ns, binding)
    cluster.core.create_namespaced_config_map(ns, {"metadata": {**job["metadata"], "name": "hc-spec"},
                                                   "data": {"domaintraining.yaml": spec_yaml}})
    old = cluster.batch.create_namespaced_job(ns, job)
    cluster.custom.patch_namespaced_custom_object_status(GROUP, VERSION, ns, "domaintrainings", "hc", {"status": {
        "phase": "Pending", "attempts": 1, "jobName": old.metadata.name, "specHash": run}})
    op = Operator(operator_kubeconfig, tmp_path / "op.log", {}).start()
    try:
        cluster.run_pod(ns, old.metadata.name)
        wait_for("Running", lambda: cluster.status(ns, "hc").get("phase") == "Running")
        assert [j.metadata.uid for j in cluster.jobs(ns)] == [old.metadata.uid]  # not restarted
        cluster.end_pod(ns, old.metadata.name, 75, json.dumps({"reason": "Preempted", "message": "saved"}), disrupted=True)
        second = _job_of(cluster, ns, "hc", 2)
        assert second.spec.template.metadata.annotations[SPEC_ANNOTATION] == spec_yaml
        assert next(v for v in second.spec.template.spec.volumes if v.name == "spec").downward_api is not None
        assert cluster.core.read_namespaced_config_map("hc-spec", ns).data == {"domaintraining.yaml": spec_yaml}
    finally:
        op.stop()
