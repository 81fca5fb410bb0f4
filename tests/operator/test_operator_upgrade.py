"""An operator upgrade on the real control plane: what an older operator left on the DomainTrainings
(kopf's finalizer ``tara.dev/cleanup``) goes when this one sees it."""

from __future__ import annotations

import pytest
from operator_support import GROUP, VERSION, Operator, wait_for

pytestmark = pytest.mark.slow


def _dt(name: str) -> dict:
    spec = {"domain": "healthcare", "baseModel": {"repo": "Qwen/Qwen2.5-3B-Instruct"}, "dataset": {"builtin": "healthcare"},
            "resources": {"accelerator": "cpu", "cpu": "2"}}
    return {"apiVersion": f"{GROUP}/{VERSION}", "kind": "DomainTraining", "metadata": {"name": name}, "spec": spec}


def _create(cluster, ns: str, body: dict) -> dict:
    cluster.namespace(ns)
    return cluster.custom.create_namespaced_custom_object(GROUP, VERSION, ns, "domaintrainings", body)


def _job_of(cluster, ns: str, name: str, attempt: int):
    return wait_for(f"{name}'s Job", lambda: cluster.jobs(ns, f"tara.dev/domaintraining={name}"))[0]


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
