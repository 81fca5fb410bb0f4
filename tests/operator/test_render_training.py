"""DomainTraining → claims and Job (and the ConfigMap of an outsized spec): table-driven, no mocks, checked against the official
Kubernetes client models so every body is a valid object."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from kubernetes.client import ApiClient
from specs import with_fields

from tara_api import DomainTraining
from tara_operator import names
from tara_operator.render.rbac import render_trainer_rbac
from tara_operator.render.training import SPEC_ANNOTATION, SPEC_ANNOTATION_MAX_BYTES, render_training
from tara_operator.settings import OperatorSettings

SETTINGS = OperatorSettings(trainer_image="registry.example/tara-trainer:1", storage_class="fast")


def _res(**spec: Any) -> DomainTraining:
    body = with_fields({"domain": "healthcare", "baseModel": {"repo": "Qwen/Qwen2.5-3B-Instruct"},
                        "dataset": {"builtin": "healthcare"}}, **spec)
    return DomainTraining.model_validate({"apiVersion": "tara.dev/v1alpha1", "kind": "DomainTraining",
                                          "metadata": {"name": "hc", "namespace": "ml"}, "spec": body})


def _load(body: dict[str, Any], kind: str) -> Any:
    """Deserialize through the official client's models (fails on wrong types or unknown shapes)."""
    return ApiClient().deserialize(json.dumps(body), kind, "application/json")


def _pod(children) -> dict[str, Any]:
    return children["job"]["spec"]["template"]["spec"]


@pytest.mark.parametrize(
    ("spec", "limits", "requests", "selector", "tolerations"),
    [
        # an unset cpu is requested at TARA_DEFAULT_CPU_REQUEST (1), never limited
        ({}, {"nvidia.com/gpu": "1"}, {"cpu": "1"}, None, [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]),
        ({"resources.gpu": {"count": 2, "product": "NVIDIA-A100-SXM4-80GB"}, "resources.memory": "64Gi"},
         {"nvidia.com/gpu": "2", "memory": "64Gi"}, {"memory": "64Gi", "cpu": "1"}, {"nvidia.com/gpu.product": "NVIDIA-A100-SXM4-80GB"},
         [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]),
        ({"resources.accelerator": "cpu", "resources.cpu": "3500m", "resources.memory": "8Gi"},
         {"cpu": "3500m", "memory": "8Gi"}, {"cpu": "3500m", "memory": "8Gi"}, None, None),
        ({"resources.accelerator": "cpu", "resources.nodeSelector": {"pool": "batch"},
          "resources.tolerations": [{"key": "batch", "operator": "Exists", "effect": "NoSchedule"}]},
         None, {"cpu": "1"}, {"pool": "batch"}, [{"key": "batch", "operator": "Exists", "effect": "NoSchedule"}]),
    ],
    ids=["gpu-default", "gpu-product-memory", "cpu-sized", "cpu-scheduling"],
)
def test_resources_and_scheduling(spec, limits, requests, selector, tolerations) -> None:
    pod = _pod(render_training(_res(**spec), SETTINGS, attempt=1))
    resources = pod["containers"][0]["resources"]
    assert resources.get("limits") == limits and resources.get("requests") == requests
    assert pod.get("nodeSelector") == selector and pod.get("tolerations") == tolerations


def test_job_is_restricted_deterministic_and_owned() -> None:
    res = _res(**{"resources.priorityClassName": "training"})
    children = render_training(res, SETTINGS, attempt=3, uid="u-1")
    assert children == render_training(res, SETTINGS, attempt=3, uid="u-1")  # pure
    job = children["job"]
    assert job["metadata"]["name"] == "hc-train-3" and job["metadata"]["namespace"] == "ml"
    assert job["metadata"]["ownerReferences"] == [{"apiVersion": "tara.dev/v1alpha1", "kind": "DomainTraining", "name": "hc",
                                                   "uid": "u-1", "controller": True, "blockOwnerDeletion": True}]
    assert job["spec"]["backoffLimit"] == 0
    pod = _pod(children)
    assert pod["restartPolicy"] == "Never" and pod["serviceAccountName"] == "tara-trainer"
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["priorityClassName"] == "training"
    c = pod["containers"][0]
    assert c["securityContext"] == {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True, "runAsNonRoot": True,
                                    "capabilities": {"drop": ["ALL"]}}
    env = {e["name"]: e.get("value", e.get("valueFrom")) for e in c["env"]}
    assert env["TARA_RESOURCE_NAME"] == "hc" and env["TARA_NAMESPACE"] == {"fieldRef": {"fieldPath": "metadata.namespace"}}
    assert env["TARA_TERMINATION_LOG"] == "/dev/termination-log"
    assert c["command"][:2] == ["tara-trainer", "train"] and "/mnt/tara/output/hc" in c["command"]
    assert c["image"] == "registry.example/tara-trainer:1"
    assert {"name": "tmp", "mountPath": "/tmp"} in c["volumeMounts"]  # the only writable path besides the volumes
    assert pod["terminationGracePeriodSeconds"] >= 120  # time to save a checkpoint on SIGTERM
    assert job["metadata"]["labels"]["tara.dev/domaintraining"] == "hc" and job["metadata"]["labels"]["tara.dev/attempt"] == "3"
    v1job = _load(job, "V1Job")
    assert v1job.spec.template.spec.containers[0].security_context.read_only_root_filesystem is True


def _spec_file(children: dict[str, Any], tmp_path) -> Any:
    """What the kubelet writes at the spec mount: the downward-API file of the pod's annotation, or the
    ConfigMap's key; the path the trainer is told to read."""
    pod = _pod(children)
    volume = next(v for v in pod["volumes"] if v["name"] == "spec")
    mount = next(m for m in pod["containers"][0]["volumeMounts"] if m["name"] == "spec")
    command = pod["containers"][0]["command"]
    if "downwardAPI" in volume:
        (item,) = volume["downwardAPI"]["items"]
        key = re.fullmatch(r"metadata\.annotations\['(.+)'\]", item["fieldRef"]["fieldPath"]).group(1)
        path, text = item["path"], children["job"]["spec"]["template"]["metadata"]["annotations"][key]
    else:
        assert volume["configMap"]["name"] == children["configMap"]["metadata"]["name"]
        ((path, text),) = children["configMap"]["data"].items()
    assert command[command.index("--spec") + 1] == f"{mount['mountPath']}/{path}" and mount["readOnly"]
    (tmp_path / path).write_text(text)
    return tmp_path / path


def test_the_pod_carries_a_spec_the_trainer_accepts(tmp_path) -> None:
    """The spec travels in the Job (a downward-API file of the pod's annotation): no ConfigMap; the
    trainer's own reader loads the file the pod sees."""
    from tara_trainer.cli import load_spec

    res = _res(**{"training.maxSteps": 50, "training.learningRate": 1e-5})  # YAML 1.1 reads JSON's 1e-05 as a string
    children = render_training(res, SETTINGS, attempt=1)
    assert children["configMap"] is None
    again = load_spec(_spec_file(children, tmp_path))
    assert again.spec.training.max_steps == 50 and again.spec.training.learning_rate == 1e-5 and again.metadata.name == "hc"
    assert render_training(res, SETTINGS, attempt=2)["job"]["spec"]["template"]["metadata"]["annotations"] == \
        children["job"]["spec"]["template"]["metadata"]["annotations"]  # the same spec file for every attempt
    _load(children["job"], "V1Job")


def test_an_outsized_spec_goes_in_a_configmap_at_the_same_path(tmp_path) -> None:
    """A pod's annotations hold 256 KiB in all: a spec past SPEC_ANNOTATION_MAX_BYTES (only a huge
    nodeSelector gets there) is the ConfigMap ``<name>-spec``, and the trainer reads the same file."""
    from tara_trainer.cli import load_spec

    selector = {f"example.com/label-{i}": "v" * 63 for i in range(SPEC_ANNOTATION_MAX_BYTES // 80)}
    children = render_training(_res(**{"resources.nodeSelector": selector}), SETTINGS, attempt=1, uid="u-1")
    cm = children["configMap"]
    assert cm["metadata"]["name"] == "hc-spec" and cm["metadata"]["ownerReferences"][0]["uid"] == "u-1"
    assert SPEC_ANNOTATION not in children["job"]["spec"]["template"]["metadata"]["annotations"]
    assert load_spec(_spec_file(children, tmp_path)).spec.resources.node_selector == selector
    _load(cm, "V1ConfigMap")


@pytest.mark.parametrize(
    ("storage", "created", "mounted", "owned"),
    [
        ({}, ["hc-checkpoints"], {"output": "hc-checkpoints"}, False),  # Retain: the claim outlives the resource
        ({"retention": "Delete"}, ["hc-checkpoints"], {"output": "hc-checkpoints"}, True),
        ({"checkpoints": {"claimName": "shared"}}, [], {"output": "shared"}, None),
        ({"artifacts": {"size": "5Gi"}}, ["hc-checkpoints", "hc-artifacts"], {"output": "hc-checkpoints", "artifacts": "hc-artifacts"}, False),
    ],
    ids=["created-retained", "created-deleted-with-owner", "existing-claim", "separate-artifacts"],
)
def test_claims(storage, created, mounted, owned) -> None:
    children = render_training(_res(storage=storage), SETTINGS, attempt=1, uid="u-1")
    assert [c["metadata"]["name"] for c in children["claims"]] == created
    for claim in children["claims"]:
        assert claim["spec"]["storageClassName"] == "fast"
        assert bool(claim["metadata"]["ownerReferences"]) is owned
        _load(claim, "V1PersistentVolumeClaim")
    volumes = {v["name"]: v["persistentVolumeClaim"]["claimName"] for v in _pod(children)["volumes"] if "persistentVolumeClaim" in v}
    assert volumes == mounted
    command = _pod(children)["containers"][0]["command"]
    assert ("--artifacts" in command) == ("artifacts" in mounted)


def test_sources_are_mounted_where_the_trainer_looks() -> None:
    res = _res(**{"baseModel": {"path": "models/qwen", "claimName": "models"},
                  "dataset": {"configMap": {"name": "hc-data", "key": "rows.jsonl"}}})
    pod = _pod(render_training(res, SETTINGS, attempt=1))
    mounts = {m["mountPath"]: m.get("readOnly", False) for m in pod["containers"][0]["volumeMounts"]}
    assert mounts["/mnt/tara/claims/models"] is True and mounts["/mnt/tara/configmaps/hc-data"] is True
    res = _res(**{"baseModel": {"repo": "meta-llama/Llama-3.2-1B-Instruct", "tokenSecret": {"name": "hf"}}})
    pod = _pod(render_training(res, SETTINGS, attempt=1))
    secret = next(v for v in pod["volumes"] if "secret" in v)
    assert secret["secret"] == {"secretName": "hf", "defaultMode": 0o440}
    assert any(m["mountPath"] == "/mnt/tara/secrets/hf" and m["readOnly"] for m in pod["containers"][0]["volumeMounts"])


@pytest.mark.parametrize(
    ("owner", "suffix", "limit"),
    [("hc", "train-1", 63), ("a" * 70, "train-12", 63), ("b" * 250, "spec", 253), ("x-" * 40, "serve", 63)],
)
def test_child_names_fit_and_stay_unique(owner: str, suffix: str, limit: int) -> None:
    name = names.child_name(owner, suffix, limit)
    assert len(name) <= limit and name.endswith(suffix) and not name.startswith("-")
    assert name == names.child_name(owner, suffix, limit)
    assert name != names.child_name(owner + "z", suffix, limit)


def test_trainer_rbac_patches_status_only() -> None:
    sa, role, binding = render_trainer_rbac("ml", SETTINGS)
    assert role["rules"] == [{"apiGroups": ["tara.dev"], "resources": ["domaintrainings/status", "ggufphases/status"],
                              "verbs": ["patch"]}]
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "tara-trainer", "namespace": "ml"}]
    _load(sa, "V1ServiceAccount")
    _load(role, "V1Role")
    _load(binding, "V1RoleBinding")
