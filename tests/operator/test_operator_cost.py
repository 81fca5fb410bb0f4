"""Cost on the real control plane, with prices set: a training's cost counts the CPU its pods
requested (the default request when the spec sets none), and a GGUFPhase's status carries each
domain's cost (its training, its share of the build and of serving) and a total that they add up to,
with the currency."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from operator_support import GROUP, VERSION, Operator, deployment_ready, finish_training, wait_for

pytestmark = pytest.mark.slow
PRICES = {"TARA_GPU_HOUR_PRICE": "2.0", "TARA_GPU_HOUR_PRICES": json.dumps({"NVIDIA-H100-80GB-HBM3": 4.0}),
          "TARA_CPU_HOUR_PRICE": "36", "TARA_CURRENCY": "EUR", "TARA_DEFAULT_CPU_REQUEST": "2"}


@pytest.fixture(scope="module")
def operator(operator_kubeconfig: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Operator]:
    """This module's operator: the shared one's settings plus prices (36 per core-hour: a second of one core is 0.01)."""
    op = Operator(operator_kubeconfig, tmp_path_factory.mktemp("operator-cost") / "operator.log", PRICES).start()
    yield op
    op.stop()


def _dt(name: str, **resources) -> dict:
    return {"apiVersion": f"{GROUP}/{VERSION}", "kind": "DomainTraining", "metadata": {"name": name},
            "spec": {"domain": name, "baseModel": {"repo": "Qwen/Qwen2.5-3B-Instruct"}, "dataset": {"builtin": name},
                     "resources": {"accelerator": "cpu", **resources}}}


def _training_cost(cluster, ns: str, name: str) -> dict:
    return cluster.custom.get_namespaced_custom_object(GROUP, VERSION, ns, "domaintrainings", name)["status"]["cost"]


def _phase_status(cluster, ns: str) -> dict:
    return cluster.custom.get_namespaced_custom_object(GROUP, VERSION, ns, "ggufphases", "phase-1").get("status") or {}


def test_phase_status_carries_cost_per_domain_and_a_total_that_adds_up(operator: Operator, cluster) -> None:
    ns = cluster.namespace("cost")
    custom = cluster.custom
    custom.create_namespaced_custom_object(GROUP, VERSION, ns, "domaintrainings", _dt("healthcare"))  # cpu unset
    custom.create_namespaced_custom_object(GROUP, VERSION, ns, "domaintrainings", _dt("business", cpu="500m"))
    custom.create_namespaced_custom_object(GROUP, VERSION, ns, "ggufphases", {
        "apiVersion": f"{GROUP}/{VERSION}", "kind": "GGUFPhase", "metadata": {"name": "phase-1"},
        "spec": {"phaseNumber": 1, "domains": [{"domain": "healthcare"}, {"domain": "business"}]}})
    finish_training(cluster, ns, "healthcare")
    finish_training(cluster, ns, "business")
    job = cluster.jobs(ns, "tara.dev/domaintraining=healthcare")[0]
    assert job.spec.template.spec.containers[0].resources.requests == {"cpu": "2"}  # the default request, rendered
    for name in ("healthcare", "business"):  # cpu unset (the default 2 cores) or 500m: CPU-hours either way
        c = wait_for(f"{name}'s final cost", lambda n=name: (c := _training_cost(cluster, ns, n)) and c.get("cpuHours", 0) > 0 and c)
        assert c["currency"] == "EUR" and c["acceleratorHours"] == 0
        assert c["estimatedCost"] == pytest.approx(c["cpuHours"] * 36, abs=1e-3)

    build = wait_for("build Job", lambda: cluster.jobs(ns, "tara.dev/ggufphase=phase-1,tara.dev/revision=1"))[0]
    cluster.run_pod(ns, build.metadata.name)
    cluster.end_pod(ns, build.metadata.name, 0)
    deployment_ready(cluster, ns, "phase-1-serve")
    wait_for("Deployed", lambda: _phase_status(cluster, ns).get("phase") == "Deployed")
    # serving time accrues between observations: a rollout (2 replicas) makes the operator look again
    custom.patch_namespaced_custom_object(GROUP, VERSION, ns, "ggufphases", "phase-1", {"spec": {"serving": {"replicas": 2}}})
    deployment_ready(cluster, ns, "phase-1-serve")
    s = wait_for("serving cost", lambda: (s := _phase_status(cluster, ns)) and ((s.get("cost") or {}).get("serving") or {})
                 .get("cpuHours", 0) > 0 and s, timeout=60)
    c = s["cost"]
    assert c["currency"] == "EUR" and [d["domain"] for d in c["domains"]] == ["healthcare", "business"]
    assert c["build"]["cpuHours"] > 0 and c["serving"]["readyReplicas"] >= 1 and c["serving"]["observedAt"]
    for key in ("acceleratorHours", "cpuHours", "estimatedCost"):
        assert abs(sum(d[key] for d in c["domains"]) - c["total"][key]) < 1e-9, key
        for d in c["domains"]:
            assert abs(d["training"][key] + d["build"][key] + d["serving"][key] - d[key]) < 1e-9, (d["domain"], key)
    for d in c["domains"]:  # the training part is the training's own status.cost
        own = _training_cost(cluster, ns, d["domain"])
        assert d["training"] == {k: own[k] for k in ("acceleratorHours", "cpuHours", "estimatedCost")}
    assert c["domains"][0]["build"] == c["domains"][1]["build"]  # an equal share each
