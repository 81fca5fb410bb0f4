"""Multi-GPU and multi-node rendering, and Kueue's queue label: table-driven, no mocks, every body
loaded through the official client's models. A single-process training renders exactly the Job
the operator rendered before these features (a golden copy), so no running training changes. One
change since, on purpose: a pod whose spec sets no cpu requests TARA_DEFAULT_CPU_REQUEST (1), so the
cost counts CPU-hours it really holds. A second: the spec file comes from the pod's annotation (a
downward-API volume at the same path) instead of the ConfigMap ``<name>-spec``. A Job already created
keeps its template and its name (no restart); a later attempt of a training an older operator started
gets the new template and reads the same spec."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from kubernetes.client import ApiClient

from tara_api import DomainTraining
from tara_operator import names
from tara_operator.render.training import render_training
from tara_operator.settings import OperatorSettings
from tara_operator.training import run_spec_hash

SETTINGS = OperatorSettings(trainer_image="registry.example/tara-trainer:1")
GOLDEN = Path(__file__).resolve().parent / "golden" / "single-pod-jobs.json"
DIST_ENV = {"TARA_NNODES", "TARA_NPROC_PER_NODE", "TARA_MASTER_ADDR", "TARA_MASTER_PORT", "TARA_DIST_BACKEND"}
SHARED = {"storage": {"checkpoints": {"claimName": "shared-rwx"}}}
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS_1035 = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")


def _res(name: str = "hc", **spec: Any) -> DomainTraining:
    body = {"domain": "healthcare", "baseModel": {"repo": "Qwen/Qwen2.5-3B-Instruct"}, "dataset": {"builtin": "healthcare"}, **spec}
    return DomainTraining.model_validate({"metadata": {"name": name, "namespace": "ml"}, "spec": body})


def _load(body: dict[str, Any], kind: str) -> Any:
    return ApiClient().deserialize(json.dumps(body), kind, "application/json")


def _env(job: dict[str, Any]) -> dict[str, str]:
    return {e["name"]: e.get("value") for e in job["spec"]["template"]["spec"]["containers"][0]["env"]}


@pytest.mark.parametrize("case", ["cpu", "gpu"])
@pytest.mark.parametrize("written_out", [False, True], ids=["defaults-absent", "defaults-written"])
def test_single_process_renders_the_job_as_before(case: str, written_out: bool) -> None:
    golden = json.loads(GOLDEN.read_text())[case]
    spec = json.loads(json.dumps(golden["spec"]))
    if written_out:  # what the API server stores once the new CRD fills the new defaults in
        spec["resources"]["nodes"] = 1
        spec["scheduling"] = {}
    res = _res(**spec)
    children = render_training(res, SETTINGS, attempt=2, uid="u-1", run="abcdef0123")
    assert children["job"] == golden["job"] and children["service"] is None
    assert not DIST_ENV & set(_env(children["job"]))
    # and the run's hash (hence its Job name) does not move either: no running training restarts
    assert run_spec_hash(res.spec) == run_spec_hash(_res(**golden["spec"]).spec)


@pytest.mark.parametrize(
    ("resources", "nproc", "backend"),
    [({"accelerator": "gpu", "gpu": {"count": 4}}, "4", "nccl"),
     ({"accelerator": "gpu", "gpu": {"count": 8, "product": "NVIDIA-H100-80GB-HBM3"}}, "8", "nccl")],
    ids=["4-gpus", "8-gpus-product"],
)
def test_several_gpus_in_one_pod_use_every_gpu_without_a_service(resources, nproc, backend) -> None:
    children = render_training(_res(resources=resources), SETTINGS, attempt=1, uid="u-1", run="abcdef0123")
    job = children["job"]
    assert children["service"] is None and "completionMode" not in job["spec"]
    assert job["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == nproc
    assert {k: v for k, v in _env(job).items() if k in DIST_ENV} == {
        "TARA_NNODES": "1", "TARA_NPROC_PER_NODE": nproc, "TARA_MASTER_ADDR": "127.0.0.1", "TARA_MASTER_PORT": "29500",
        "TARA_DIST_BACKEND": backend}
    assert job["spec"]["template"]["spec"]["containers"][0]["command"][:2] == ["tara-trainer", "train"]


@pytest.mark.parametrize(
    ("resources", "nproc", "backend"),
    [({"accelerator": "gpu", "gpu": {"count": 2}, "nodes": 3}, "2", "nccl"),
     ({"accelerator": "cpu", "cpu": "4", "nodes": 2}, "1", "gloo")],
    ids=["3-nodes-2-gpus", "2-cpu-nodes"],
)
def test_several_nodes_render_an_indexed_job_and_a_headless_service(resources, nproc, backend) -> None:
    nodes = resources["nodes"]
    children = render_training(_res(resources=resources, **SHARED), SETTINGS, attempt=2, uid="u-1", run="abcdef0123")
    job, service = children["job"], children["service"]
    assert job["spec"]["completionMode"] == "Indexed"
    assert job["spec"]["completions"] == job["spec"]["parallelism"] == nodes and job["spec"]["backoffLimit"] == 0
    pod = job["spec"]["template"]["spec"]
    assert pod["subdomain"] == service["metadata"]["name"] and pod["restartPolicy"] == "Never"
    spread = pod["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"][0]["podAffinityTerm"]
    assert spread["topologyKey"] == "kubernetes.io/hostname"
    assert spread["labelSelector"]["matchLabels"] == {"batch.kubernetes.io/job-name": job["metadata"]["name"]}
    assert service["spec"]["clusterIP"] == "None" and service["spec"]["publishNotReadyAddresses"] is True
    assert service["spec"]["selector"] == {"batch.kubernetes.io/job-name": job["metadata"]["name"]}
    assert service["metadata"]["ownerReferences"][0]["kind"] == "DomainTraining"  # garbage-collected with the training
    assert service["metadata"]["labels"]["app.kubernetes.io/component"] == "trainer-ranks"
    env = _env(job)
    assert {k: env[k] for k in DIST_ENV} == {
        "TARA_NNODES": str(nodes), "TARA_NPROC_PER_NODE": nproc, "TARA_MASTER_ADDR": f"{job['metadata']['name']}-0.{service['metadata']['name']}",
        "TARA_MASTER_PORT": "29500", "TARA_DIST_BACKEND": backend}
    assert {"name": "rendezvous", "containerPort": 29500} in pod["containers"][0]["ports"]
    volumes = {v["name"]: v.get("persistentVolumeClaim", {}).get("claimName") for v in pod["volumes"]}
    assert volumes["output"] == "shared-rwx" and children["claims"] == []  # every rank mounts the shared claim
    _load(job, "V1Job")
    _load(service, "V1Service")


@pytest.mark.parametrize("owner", ["hc", "a" * 63, "team.healthcare.v2", "9lives", "x" * 200 + ".y"])
@pytest.mark.parametrize("nodes", [2, 64])
def test_rank_hostnames_and_the_service_name_are_valid_dns_labels(owner: str, nodes: int) -> None:
    job = names.training_job_name(owner, 12, "abcdef0123", nodes)
    service = names.ranks_service_name(owner, 12, "abcdef0123")
    last_hostname = f"{job}-{nodes - 1}"
    assert len(last_hostname) <= 63 and DNS_LABEL.match(last_hostname), last_hostname
    assert len(service) <= 63 and DNS_1035.match(service), service
    assert job != names.training_job_name(owner + "z", 12, "abcdef0123", nodes)
    assert names.training_job_name(owner, 12, "abcdef0123") == names.child_name(owner, "abcdef-train-12")  # one node: as before
    if "." in owner:
        assert job != names.training_job_name(owner.replace(".", "-"), 12, "abcdef0123", nodes)


@pytest.mark.parametrize(
    ("scheduling", "labels", "suspended"),
    [({"queueName": "team-a"}, {"kueue.x-k8s.io/queue-name": "team-a"}, True),
     ({"queueName": "team-a", "workloadPriorityClassName": "high"},
      {"kueue.x-k8s.io/queue-name": "team-a", "kueue.x-k8s.io/priority-class": "high"}, True),
     ({}, {}, False)],
    ids=["queue", "queue-and-priority", "none"],
)
def test_a_queued_training_job_carries_kueues_labels_and_starts_suspended(scheduling, labels, suspended) -> None:
    job = render_training(_res(scheduling=scheduling, resources={"accelerator": "cpu"}), SETTINGS, attempt=1, uid="u")["job"]
    assert {k: v for k, v in job["metadata"]["labels"].items() if k.startswith("kueue.x-k8s.io/")} == labels
    assert job["spec"].get("suspend", False) is suspended
    _load(job, "V1Job")


def test_the_queue_is_not_part_of_the_run() -> None:
    """Moving a training to another queue does not start it afresh (its checkpoints stay in use)."""
    base = {"resources": {"accelerator": "cpu"}}
    assert run_spec_hash(_res(**base).spec) == run_spec_hash(_res(**base, scheduling={"queueName": "team-b"}).spec)
    assert run_spec_hash(_res(**base).spec) != run_spec_hash(_res(resources={"accelerator": "cpu", "nodes": 2}, **SHARED).spec)


def test_the_trainer_reads_the_spec_the_operator_writes() -> None:
    """The pod's spec annotation round-trips with the new fields (the trainer validates it with the same types)."""
    import yaml

    from tara_operator.render.training import SPEC_ANNOTATION

    res = _res(resources={"accelerator": "gpu", "gpu": {"count": 2}, "nodes": 2}, scheduling={"queueName": "q"}, **SHARED)
    job = render_training(res, SETTINGS, attempt=1)["job"]
    again = DomainTraining.model_validate(yaml.safe_load(job["spec"]["template"]["metadata"]["annotations"][SPEC_ANNOTATION]))
    assert again.spec.resources.nodes == 2 and again.spec.scheduling.queue_name == "q"
