"""GGUFPhase → build Job, serving Deployment, Service, router ConfigMap, ServiceMonitor: tables, no
mocks, every body loaded into the official client's models."""

from __future__ import annotations

import json
from typing import Any

import pytest
from kubernetes.client import ApiClient
from specs import with_fields

from tara_api import GGUFPhase
from tara_operator.phase import domain_outputs, inputs_hash, served_quantization, served_reason
from tara_operator.render.phase import DomainOutput, render_build, render_cleanup, render_serving
from tara_operator.settings import OperatorSettings

SETTINGS = OperatorSettings(trainer_image="reg/trainer:1", server_image="reg/server:1", router_image="reg/router:1")
OUTPUTS = [DomainOutput("healthcare", "healthcare", "healthcare-checkpoints", "healthcare"),
           DomainOutput("business", "biz", "shared", "biz", base_claim="models")]


def _phase(**spec: Any) -> GGUFPhase:
    body = with_fields({"phaseNumber": 1, "domains": [{"domain": "healthcare"}, {"domain": "business", "training": "biz"}]}, **spec)
    return GGUFPhase.model_validate({"apiVersion": "tara.dev/v1alpha1", "kind": "GGUFPhase",
                                     "metadata": {"name": "phase-1", "namespace": "ml"}, "spec": body})


def _load(body: dict[str, Any], kind: str) -> Any:
    return ApiClient().deserialize(json.dumps(body), kind, "application/json")


def test_build_job_mounts_every_training_claim_and_writes_the_revision() -> None:
    out = render_build(_phase(), SETTINGS, revision=3, outputs=OUTPUTS, uid="u")
    job = out["job"]
    assert job["metadata"]["name"] == "phase-1-build-3" and job["metadata"]["labels"]["tara.dev/revision"] == "3"
    pod = job["spec"]["template"]["spec"]
    c = pod["containers"][0]
    assert c["command"][:2] == ["tara-trainer", "build"] and "/mnt/tara/phases/phase-1/rev-3" in c["command"]
    assert "healthcare=/mnt/tara/claims/healthcare-checkpoints/healthcare" in c["command"]
    assert "business=/mnt/tara/claims/shared/biz" in c["command"]
    claims = {v["persistentVolumeClaim"]["claimName"]: v["persistentVolumeClaim"].get("readOnly", False)
              for v in pod["volumes"] if "persistentVolumeClaim" in v}
    assert claims == {"healthcare-checkpoints": True, "shared": True, "models": True, "tara-artifacts": False}
    env = {e["name"]: e.get("value") for e in c["env"]}
    assert env["TARA_BUILD_TOOLCHAIN"] == "false" and env["HF_HUB_OFFLINE"] == "1"
    assert c["securityContext"]["readOnlyRootFilesystem"] and job["spec"]["backoffLimit"] == 0
    assert "domains:" in out["configMap"]["data"]["ggufphase.yaml"]
    _load(job, "V1Job")
    _load(out["configMap"], "V1ConfigMap")


@pytest.mark.parametrize(
    ("spec", "gpus", "monitor", "adapter_ids"),
    [
        ({}, 0, False, [0, 1]),
        ({"serving.resources": {"accelerator": "gpu", "gpuCount": 2}, "serving.gpuLayers": 99}, 2, False, [0, 1]),
        ({"merge": {"strategy": "ties"}}, 0, True, [None, None]),
    ],
    ids=["cpu-adapters", "gpu", "merged-with-monitor"],
)
def test_serving_objects(spec, gpus, monitor, adapter_ids) -> None:
    settings = SETTINGS.model_copy(update={"service_monitor": monitor})
    out = render_serving(_phase(**spec), settings, revision=2, uid="u")
    d = out["deployment"]
    pod = d["spec"]["template"]["spec"]
    server, router = pod["containers"]
    assert d["spec"]["template"]["metadata"]["annotations"]["tara.dev/revision"] == "2"
    assert d["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0  # old pods serve until new ones are ready
    assert server["command"][:4] == ["tara-trainer", "serve", "--build", "/mnt/tara/phases/phase-1/rev-2"]
    assert server["resources"].get("limits", {}).get("nvidia.com/gpu") == (str(gpus) if gpus else None)
    assert router["readinessProbe"]["httpGet"]["path"] == "/readyz" and router["image"] == "reg/router:1"
    assert pod["automountServiceAccountToken"] is False and pod["securityContext"]["runAsNonRoot"]
    config = json.loads(out["configMap"]["data"]["router.json"])
    assert [x["adapterId"] for x in config["domains"]] == adapter_ids
    assert config["weights"] == {"content": 0.4, "emotion": 0.3, "speed": 0.2, "quality": 0.1}
    # semantic routing: the index and embedding model the build of this revision shipped, read from the build volume
    assert config["semantic"] == {"index": "/mnt/tara/phases/phase-1/rev-2/router/index.npz",
                                  "model": "/mnt/tara/phases/phase-1/rev-2/router/embedder.gguf"}
    mounts = {m["mountPath"]: m for m in router["volumeMounts"]}
    assert mounts["/mnt/tara/phases"]["readOnly"] and mounts["/mnt/tara/phases"]["subPath"] == "phases"
    assert {e["name"]: e["value"] for e in router["env"]}["OPENBLAS_NUM_THREADS"] == "1"
    assert out["service"]["spec"]["selector"] == d["spec"]["selector"]["matchLabels"]
    assert ("serviceMonitor" in out) is monitor
    if monitor:  # scrapes what the router serves: its own metrics and llama-server's passed through
        assert [e["path"] for e in out["serviceMonitor"]["spec"]["endpoints"]] == ["/metrics", "/metrics/server"]
        assert {p["name"] for p in router["ports"]} >= {e["port"] for e in out["serviceMonitor"]["spec"]["endpoints"]}
    _load(d, "V1Deployment")
    _load(out["service"], "V1Service")


def test_the_router_runs_the_serving_image_unless_one_is_set() -> None:
    """Semantic routing embeds requests with llama.cpp, which the serving image carries."""
    default = SETTINGS.model_copy(update={"router_image": ""})
    (_server, router) = render_serving(_phase(), default, revision=1)["deployment"]["spec"]["template"]["spec"]["containers"]
    assert router["image"] == "reg/server:1"
    (_server, router) = render_serving(_phase(serving={"image": "reg/own:2"}), default, revision=1)[
        "deployment"]["spec"]["template"]["spec"]["containers"]
    assert router["image"] == "reg/own:2"


def test_inputs_hash_ignores_serving_but_not_domains_or_retraining() -> None:
    t = {"healthcare": {"metadata": {"uid": "a"}, "status": {"specHash": "s", "completionTime": "t1"}}}
    spec = {"phaseNumber": 1, "domains": [{"domain": "healthcare"}], "serving": {"replicas": 1}}
    base = inputs_hash(spec, t)
    assert inputs_hash({**spec, "serving": {"replicas": 3}}, t) == base
    assert inputs_hash({**spec, "quantization": ["Q8_0"]}, t) != base
    retrained = {"healthcare": {"metadata": {"uid": "a"}, "status": {"specHash": "s", "completionTime": "t2"}}}
    assert inputs_hash(spec, retrained) != base
    # serving.targets choose what the build serves: they count when set, and the context size with a memory target
    size = {**spec, "serving": {"replicas": 1, "contextSize": 2048, "targets": {"maxFileSize": "2Gi"}}}
    memory = {**spec, "serving": {"replicas": 1, "contextSize": 2048, "targets": {"maxMemory": "8Gi"}}}
    assert inputs_hash(size, t) not in (base, inputs_hash(memory, t))
    assert inputs_hash({**size, "serving": {**size["serving"], "contextSize": 4096, "replicas": 2}}, t) == inputs_hash(size, t)
    assert inputs_hash({**memory, "serving": {**memory["serving"], "contextSize": 4096}}, t) != inputs_hash(memory, t)
    assert inputs_hash({**spec, "serving": {"replicas": 1, "contextSize": 4096}}, t) == base  # no targets: as before
    # auto is the build's choice: switching to or from it rebuilds; between built types it does not
    auto = {**spec, "serving": {"replicas": 1, "quantization": "auto"}}
    assert inputs_hash(auto, t) != base
    assert inputs_hash({**spec, "serving": {"replicas": 1, "quantization": "Q4_K_M"}}, t) == base
    # with targets, the requested type is checked against them by the build
    checked = {**size, "serving": {**size["serving"], "quantization": "Q4_K_M"}}
    assert inputs_hash(checked, t) != inputs_hash(size, t)


@pytest.mark.parametrize(
    ("serving", "old", "expected"),
    [({}, {}, "Q4_K_M"), ({"quantization": "Q8_0"}, {"servedQuantization": "Q4_K_M"}, "Q8_0"),
     # auto: what the build of the revision being served chose and patched
     ({"quantization": "auto"}, {"builtQuantization": "Q5_K_M", "builtRevision": 2}, "Q5_K_M"),
     # never the word auto, never another revision's choice, never a type the operator itself wrote before
     ({"quantization": "auto"}, {}, None),
     ({"quantization": "auto"}, {"builtQuantization": "Q5_K_M", "builtRevision": 1, "servedQuantization": "Q8_0"}, None),
     ({"quantization": "auto"}, {"builtQuantization": "Q5_K_M"}, None)],
    ids=["first-type", "named", "auto-built", "auto-unknown", "auto-other-revision", "auto-no-revision"],
)
def test_served_quantization(serving, old, expected) -> None:
    res = _phase(quantization=["Q4_K_M", "Q5_K_M", "Q8_0"], serving=serving)
    assert served_quantization(res, old, revision=2) == expected


@pytest.mark.parametrize(
    ("old", "expected"),
    [({"builtReason": "auto: Q5_K_M passes", "builtRevision": 2}, "auto: Q5_K_M passes"),
     # revision 3's build reported while 2 rolls out: its reason is not 2's
     ({"builtReason": "auto: Q8_0 passes", "builtRevision": 3, "servedReason": "auto: Q5_K_M passes"}, None),
     ({"servedReason": "auto: Q5_K_M passes"}, None), ({}, None)],
    ids=["built", "other-revision", "not-reported", "nothing"],
)
def test_served_reason_is_the_serving_revisions(old, expected) -> None:
    assert served_reason(old, revision=2) == expected


@pytest.mark.parametrize(
    ("storage", "claim"),
    [({}, "hc-checkpoints"), ({"checkpoints": {"claimName": "ckpt"}}, "ckpt"),
     ({"artifacts": {"size": "1Gi"}}, "hc-artifacts"), ({"artifacts": {"claimName": "art"}}, "art")],
)
def test_domain_outputs_find_the_adapter_claim(storage, claim) -> None:
    t = {"metadata": {"name": "hc"}, "spec": {"storage": storage, "baseModel": {"path": "m", "claimName": "models"}}}
    [o] = domain_outputs({"healthcare": t})
    assert (o.claim, o.subpath, o.base_claim) == (claim, "hc", "models")


@pytest.mark.parametrize(
    ("storage", "output_claim"),
    [({}, "hc-checkpoints"), ({"checkpoints": {"claimName": "ckpt"}, "artifacts": {"claimName": "art"}}, "ckpt")],
)
def test_a_gguf_base_dequantized_by_the_training_is_read_from_its_output_volume(storage, output_claim) -> None:
    """The training pod dequantized the GGUF base onto its output volume (the checkpoint claim), and
    its Hugging Face cache is there too, even when the adapter went to an artifacts claim: the build
    mounts that claim and reads the same folder there."""
    t = {"metadata": {"name": "hc"},
         "spec": {"storage": storage, "baseModel": {"path": "smollm2.gguf", "claimName": "models"}},
         "status": {"baseModel": {"gguf": {"dequantizedTo": "/mnt/tara/output/.cache/tara/gguf-base/0123abcd-float32"}}}}
    [o] = domain_outputs({"healthcare": t})
    assert o.output_claim == output_claim
    job = render_build(_phase(domains=[{"domain": "healthcare", "training": "hc"}]), SETTINGS, revision=1, outputs=[o])["job"]
    c = job["spec"]["template"]["spec"]["containers"][0]
    base = c["command"][c["command"].index("--base-model") + 1]
    assert base == f"/mnt/tara/claims/{output_claim}/.cache/tara/gguf-base/0123abcd-float32"
    assert {m["mountPath"] for m in c["volumeMounts"]} >= {f"/mnt/tara/claims/{output_claim}", "/mnt/tara/claims/models"}
    assert {e["name"]: e.get("value") for e in c["env"]}["HF_HOME"] == f"/mnt/tara/claims/{output_claim}/.cache/huggingface"
    # a Hub or folder base: no override, the build reads the manifests' base as before
    plain = domain_outputs({"healthcare": {**t, "status": {}}})
    assert "--base-model" not in render_build(_phase(), SETTINGS, revision=1, outputs=plain)["job"]["spec"]["template"]["spec"]["containers"][0]["command"]


def _flags(command: list[str], flag: str) -> list[str]:
    return [command[i + 1] for i, c in enumerate(command) if c == flag]


@pytest.mark.parametrize(
    ("spec", "revision", "protect", "keep", "protected"),
    [
        ({}, 1, (), ["2"], []),
        ({"storage": {"keepRevisions": 1}}, 4, (3, 0), ["1"], ["3"]),
        ({"storage": {"keepRevisions": 5}}, 4, (2, 3), ["5"], ["2", "3"]),
        ({}, 4, (4, 2, 2), ["2"], ["2"]),  # the revision being built is never named, a repeat once
    ],
    ids=["default", "serving-protected", "serving-and-rollout", "dedup"],
)
def test_build_prunes_older_revisions_and_leaves_training_outputs(spec, revision, protect, keep, protected) -> None:
    c = render_build(_phase(**spec), SETTINGS, revision=revision, outputs=OUTPUTS, protect=protect)["job"]["spec"]["template"]["spec"]["containers"][0]
    assert _flags(c["command"], "--keep-revisions") == keep and _flags(c["command"], "--protect-revision") == protected
    # the training claims are read-only here: their leftovers are their trainings' own
    assert "--keep-training-outputs" in c["command"] and "--no-cleanup" not in c["command"]


@pytest.mark.parametrize(
    ("build", "requests", "limits"),
    [({}, {"cpu": "1"}, None), ({"cpu": "4", "memory": "16Gi"}, {"cpu": "4", "memory": "16Gi"}, {"cpu": "4", "memory": "16Gi"}),
     ({"memory": "8Gi"}, {"memory": "8Gi", "cpu": "1"}, {"memory": "8Gi"})],
    ids=["default-cpu-requested-not-limited", "sized", "memory-only"],
)
def test_build_and_serving_request_a_cpu_by_default(build, requests, limits) -> None:
    c = render_build(_phase(build=build), SETTINGS, revision=1, outputs=OUTPUTS)["job"]["spec"]["template"]["spec"]["containers"][0]
    assert c["resources"].get("requests") == requests and c["resources"].get("limits") == limits
    server = render_serving(_phase(), OperatorSettings(default_cpu_request="250m"), 1)["deployment"]["spec"]["template"]["spec"]["containers"][0]
    assert server["resources"] == {"requests": {"cpu": "250m"}}


def test_cleanup_job_removes_only_the_phase_folder() -> None:
    job = render_cleanup("ml", "phase-1", SETTINGS, uid="u")
    assert job["metadata"]["name"] == "phase-1-cleanup" and job["metadata"]["labels"]["app.kubernetes.io/component"] == "cleanup"
    assert job["metadata"]["ownerReferences"][0]["uid"] == "u" and job["spec"]["backoffLimit"] == 0
    pod = job["spec"]["template"]["spec"]
    c = pod["containers"][0]
    assert c["command"] == ["tara-trainer", "remove-phase", "--phases-dir", "/mnt/tara/phases", "--phase", "phase-1"]
    assert c["image"] == "reg/trainer:1" and c["securityContext"]["readOnlyRootFilesystem"]
    assert [v["persistentVolumeClaim"]["claimName"] for v in pod["volumes"] if "persistentVolumeClaim" in v] == ["tara-artifacts"]
    assert {m["mountPath"]: m.get("subPath") for m in c["volumeMounts"]} == {"/mnt/tara/phases": "phases", "/tmp": None}
    assert pod["automountServiceAccountToken"] is False
    _load(job, "V1Job")


def test_storage_changes_no_revision() -> None:
    trainings = {"healthcare": {"metadata": {"uid": "a"}, "status": {"specHash": "h", "completionTime": "t"}}}
    spec = _phase().spec.model_dump(mode="json", by_alias=True, exclude_none=True)
    other = {**spec, "storage": {"keepRevisions": 7, "retention": "Delete"}}
    assert inputs_hash(spec, trainings) == inputs_hash(other, trainings)
    assert inputs_hash({k: v for k, v in spec.items() if k != "storage"}, trainings) == inputs_hash(spec, trainings)
