"""Spec fields the renderers copy into Kubernetes objects, each set off its default and found where
the object's consumer (the scheduler, the claim binder, the kubelet, llama-server, the router)
reads it. Pure renderers, no cluster; every body is loaded into the official client's models."""

from __future__ import annotations

import json
from typing import Any

from kubernetes.client import ApiClient
from specs import with_fields

from tara_api import DomainTraining, GGUFPhase
from tara_operator.render.phase import DomainOutput, render_build, render_serving
from tara_operator.render.training import render_training
from tara_operator.settings import OperatorSettings

SETTINGS = OperatorSettings(trainer_image="reg/trainer:1", server_image="reg/server:1", router_image="reg/router:1",
                            storage_class="standard")


def _load(body: dict[str, Any], kind: str) -> Any:
    return ApiClient().deserialize(json.dumps(body), kind, "application/json")


def _training(**spec: Any) -> DomainTraining:
    body = with_fields({"domain": "healthcare", "baseModel": {"repo": "Qwen/Qwen2.5-3B-Instruct"},
                        "dataset": {"builtin": "healthcare"}}, **spec)
    return DomainTraining.model_validate({"apiVersion": "tara.dev/v1alpha1", "kind": "DomainTraining",
                                          "metadata": {"name": "hc", "namespace": "ml"}, "spec": body})


def _phase(**spec: Any) -> GGUFPhase:
    body = with_fields({"phaseNumber": 1, "domains": [{"domain": "healthcare"}, {"domain": "business"}]}, **spec)
    return GGUFPhase.model_validate({"apiVersion": "tara.dev/v1alpha1", "kind": "GGUFPhase",
                                     "metadata": {"name": "phase-1", "namespace": "ml"}, "spec": body})


def test_every_toleration_field_reaches_the_pod() -> None:
    own = {"key": "spot", "operator": "Equal", "value": "true", "effect": "NoExecute", "tolerationSeconds": 300}
    pod = render_training(_training(**{"resources.tolerations": [own]}), SETTINGS, attempt=1)["job"]["spec"]["template"]["spec"]
    assert pod["tolerations"] == [own, {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    assert _load(pod, "V1PodSpec").tolerations[0].toleration_seconds == 300


def test_claim_sizes_and_storage_classes_reach_the_claims() -> None:
    storage = {"checkpoints": {"size": "120Gi", "storageClassName": "fast-ssd"}, "artifacts": {"size": "7Gi", "storageClassName": "nfs"}}
    claims = {c["metadata"]["name"]: c["spec"] for c in render_training(_training(storage=storage), SETTINGS, attempt=1)["claims"]}
    assert claims["hc-checkpoints"]["resources"]["requests"]["storage"] == "120Gi"
    assert claims["hc-checkpoints"]["storageClassName"] == "fast-ssd"  # the spec's class over the operator's default
    assert claims["hc-artifacts"]["resources"]["requests"]["storage"] == "7Gi"
    assert claims["hc-artifacts"]["storageClassName"] == "nfs"
    [default] = render_training(_training(), SETTINGS, attempt=1)["claims"]
    assert default["spec"]["storageClassName"] == "standard"  # unset: TARA_STORAGE_CLASS
    named = render_training(_training(storage={"artifacts": {"claimName": "shared-art"}}), SETTINGS, attempt=1)
    command = named["job"]["spec"]["template"]["spec"]["containers"][0]["command"]
    assert [c["metadata"]["name"] for c in named["claims"]] == ["hc-checkpoints"] and "--artifacts" in command


def test_build_resources_and_image_reach_the_build_job() -> None:
    phase = _phase(build={"cpu": "6", "memory": "24Gi", "image": "reg/trainer:gpu-2"})
    outputs = [DomainOutput("healthcare", "healthcare", "healthcare-checkpoints", "healthcare"),
               DomainOutput("business", "business", "business-checkpoints", "business")]
    job = render_build(phase, SETTINGS, revision=1, outputs=outputs)["job"]
    container = job["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "reg/trainer:gpu-2"
    assert container["resources"]["limits"] == {"cpu": "6", "memory": "24Gi"}
    _load(job, "V1Job")


def test_serving_fields_reach_the_deployment_and_the_router() -> None:
    phase = _phase(serving={
        "replicas": 3, "progressDeadlineSeconds": 240, "contextSize": 8192, "gpuLayers": 33,
        "resources": {"accelerator": "gpu", "gpuCount": 1, "cpu": "4", "memory": "12Gi"},
        "defaultDomain": "business", "confidenceThreshold": 0.55,
        "routerWeights": {"content": 0.7, "emotion": 0.1, "speed": 0.1, "quality": 0.1}})
    out = render_serving(phase, SETTINGS, revision=4)
    spec = out["deployment"]["spec"]
    assert (spec["replicas"], spec["progressDeadlineSeconds"]) == (3, 240)
    server = spec["template"]["spec"]["containers"][0]
    command = server["command"]
    assert command[command.index("--ctx-size") + 1] == "8192" and command[command.index("--gpu-layers") + 1] == "33"
    assert server["resources"]["limits"] == {"cpu": "4", "memory": "12Gi", "nvidia.com/gpu": "1"}
    config = json.loads(out["configMap"]["data"]["router.json"])
    assert (config["defaultDomain"], config["confidenceThreshold"]) == ("business", 0.55)
    assert config["weights"] == {"content": 0.7, "emotion": 0.1, "speed": 0.1, "quality": 0.1}
    _load(out["deployment"], "V1Deployment")
