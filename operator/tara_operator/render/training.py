"""DomainTraining → the objects that run it: checkpoint (and artifact) claims and one Job per attempt
running ``tara-trainer train``.

The trainer reads the spec from a file, ``/etc/tara/spec/domaintraining.yaml``: a downward-API file
of the pod's annotation ``tara.dev/spec``, which holds the spec as YAML, so one Job create carries
it (no second object to create, watch and keep in step). A spec whose YAML is larger than
``SPEC_ANNOTATION_MAX_BYTES`` (a pod's annotations may hold 256 KiB in all; only an outsized
``nodeSelector`` gets there) is put in a ConfigMap ``<name>-spec`` mounted at the same path, as
every spec was before: the trainer reads the same file either way.

Pure functions of the validated resource and the operator's settings: no API calls, no clock.
The pod is restricted (non-root, read-only root filesystem, no capabilities, no privilege
escalation, RuntimeDefault seccomp) and writes only to its volumes and an emptyDir ``/tmp``. The
Job never retries by itself (``backoffLimit: 0``): the operator decides, because only it can tell
a preemption (resume) from a permanent failure (stop).

Distributed training (``resources.nodes`` > 1) is an Indexed Job, not Kubeflow Trainer's TrainJob:
no other operator to install, it works on a bare cluster. Completions = parallelism = nodes, so
each rank is one pod whose index Kubernetes sets as ``JOB_COMPLETION_INDEX``; ``backoffLimit: 0``
fails the whole attempt when one rank fails, and the operator's next attempt resumes every rank
from the shared checkpoint. A headless Service (``publishNotReadyAddresses``) gives each pod the
DNS name ``<job>-<index>.<service>``: rank 0's is the rendezvous address. The trainer's contract
is the environment: ``TARA_NNODES``, ``TARA_NPROC_PER_NODE`` (the pod's GPUs, 1 on CPU),
``TARA_MASTER_ADDR``, ``TARA_MASTER_PORT`` and ``TARA_DIST_BACKEND`` (nccl on GPUs, gloo on CPU),
set only when there is more than one process; a single-process pod renders exactly as before
(the same Job, so no running training changes).

With ``scheduling.queueName`` the Job carries Kueue's queue label and is created suspended: Kueue
admits it by unsuspending it, and preempts it by suspending it again.
"""

from __future__ import annotations

import functools
import json
from typing import Any

import yaml

from tara_api import DomainTraining
from tara_api.domaintraining import Accelerator, VolumeSpec
from tara_api.meta import GROUP
from tara_operator import names
from tara_operator.settings import OperatorSettings

__all__ = [
    "MOUNTS",
    "SPEC_ANNOTATION",
    "SPEC_ANNOTATION_MAX_BYTES",
    "dump_yaml",
    "OUTPUT_DIR",
    "KUEUE_PRIORITY_LABEL",
    "KUEUE_QUEUE_LABEL",
    "MASTER_PORT",
    "TrainingChildren",
    "restricted_container_security",
    "restricted_pod_security",
    "processes_per_pod",
    "render_training",
]

MOUNTS = "/mnt/tara"  # the trainer's TARA_MOUNTS_ROOT
OUTPUT_DIR = f"{MOUNTS}/output"
ARTIFACTS_DIR = f"{MOUNTS}/artifacts"
SPEC_DIR = "/etc/tara/spec"
SPEC_KEY = "domaintraining.yaml"
SPEC_ANNOTATION = f"{GROUP}/spec"
SPEC_ANNOTATION_MAX_BYTES = 128 * 1024
GPU_RESOURCE = "nvidia.com/gpu"
GPU_PRODUCT_LABEL = "nvidia.com/gpu.product"
GRACE_SECONDS = 180  # SIGTERM → the trainer saves a checkpoint, then exits 75
MASTER_PORT = 29500  # torch.distributed's default rendezvous port
KUEUE_QUEUE_LABEL = "kueue.x-k8s.io/queue-name"
KUEUE_PRIORITY_LABEL = "kueue.x-k8s.io/priority-class"

TrainingChildren = dict[str, Any]  # configMap (None unless the spec is outsized), claims[], job, service (None unless nodes > 1)
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # libyaml when present: ~20x faster at 500 resources


def dump_yaml(body: dict[str, Any]) -> str:
    return yaml.dump(body, Dumper=_DUMPER, sort_keys=False)


@functools.lru_cache(maxsize=1024)
def _spec_yaml(spec_json: str) -> str:
    """The spec file's YAML, remembered by the spec's JSON: every reconcile of a training renders its
    Job, and YAML is slow to write (0.4 ms for a small spec, even with libyaml; JSON 0.01 ms). Not
    JSON itself: a YAML 1.1 reader takes JSON's ``1e-05`` for a string, YAML writes ``1.0e-05``."""
    return dump_yaml(json.loads(spec_json))


def restricted_pod_security() -> dict[str, Any]:
    return {"runAsNonRoot": True, "runAsUser": 1000, "runAsGroup": 1000, "fsGroup": 1000,
            "seccompProfile": {"type": "RuntimeDefault"}}


def restricted_container_security() -> dict[str, Any]:
    return {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True, "runAsNonRoot": True,
            "capabilities": {"drop": ["ALL"]}}


def _owner(res: DomainTraining, uid: str | None) -> list[dict[str, Any]]:
    if not uid:
        return []
    return [{"apiVersion": res.api_version, "kind": res.kind, "name": res.metadata.name, "uid": uid,
             "controller": True, "blockOwnerDeletion": True}]


def _meta(res: DomainTraining, name: str, component: str, uid: str | None, **extra: str) -> dict[str, Any]:
    return {"name": name, "namespace": res.metadata.namespace,
            "labels": names.labels("DomainTraining", res.metadata.name or "", component, **extra),
            "ownerReferences": _owner(res, uid)}


def _claim(res: DomainTraining, name: str, vol: VolumeSpec, settings: OperatorSettings, uid: str | None,
           retain: bool) -> dict[str, Any]:
    spec: dict[str, Any] = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": str(vol.size)}}}
    storage_class = vol.storage_class_name or settings.storage_class
    if storage_class:
        spec["storageClassName"] = storage_class
    # Retain: no owner reference, so deleting the resource leaves the claim (and its checkpoints).
    meta = _meta(res, name, "checkpoints", None if retain else uid)
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": meta, "spec": spec}


def _resources(res: DomainTraining, default_cpu: str | None = None) -> dict[str, Any]:
    r = res.spec.resources
    requests: dict[str, str] = {}
    limits: dict[str, str] = {}
    if r.cpu is not None:
        requests["cpu"] = limits["cpu"] = str(r.cpu)
    elif default_cpu:  # requested, not limited: reserved by the scheduler and counted by the cost
        requests["cpu"] = default_cpu
    if r.memory is not None:
        requests["memory"] = limits["memory"] = str(r.memory)
    if r.accelerator == Accelerator.GPU:
        limits[GPU_RESOURCE] = str(r.gpu.count if r.gpu else 1)
    out: dict[str, Any] = {}
    if requests:
        out["requests"] = requests
    if limits:
        out["limits"] = limits
    return out


def _scheduling(res: DomainTraining) -> dict[str, Any]:
    r = res.spec.resources
    pod: dict[str, Any] = {}
    selector = dict(r.node_selector or {})
    if r.accelerator == Accelerator.GPU and r.gpu and r.gpu.product:
        selector[GPU_PRODUCT_LABEL] = r.gpu.product
    if selector:
        pod["nodeSelector"] = selector
    tolerations = [t.model_dump(by_alias=True, exclude_none=True) for t in r.tolerations or []]
    if r.accelerator == Accelerator.GPU and not any(t.get("key") == GPU_RESOURCE for t in tolerations):
        tolerations.append({"key": GPU_RESOURCE, "operator": "Exists", "effect": "NoSchedule"})
    if tolerations:
        pod["tolerations"] = tolerations
    if r.priority_class_name:
        pod["priorityClassName"] = r.priority_class_name
    return pod


def _spec_source(spec_yaml: str, config_map: str) -> dict[str, Any]:
    """The spec volume's source: the pod's annotation as a file, or the ConfigMap of an outsized spec."""
    if _fits_annotation(spec_yaml):
        path = f"metadata.annotations['{SPEC_ANNOTATION}']"
        return {"downwardAPI": {"items": [{"path": SPEC_KEY, "fieldRef": {"fieldPath": path}}]}}
    return {"configMap": {"name": config_map}}


def _fits_annotation(spec_yaml: str) -> bool:
    return len(spec_yaml.encode()) <= SPEC_ANNOTATION_MAX_BYTES


def _volumes(res: DomainTraining, checkpoints: str, artifacts: str | None, spec_source: dict[str, Any]) -> tuple[list[dict], list[dict]]:
    spec = res.spec
    volumes: list[dict[str, Any]] = [
        {"name": "spec", **spec_source},
        {"name": "output", "persistentVolumeClaim": {"claimName": checkpoints}},
        {"name": "tmp", "emptyDir": {}},
    ]
    mounts: list[dict[str, Any]] = [
        {"name": "spec", "mountPath": SPEC_DIR, "readOnly": True},
        {"name": "output", "mountPath": OUTPUT_DIR},
        {"name": "tmp", "mountPath": "/tmp"},
    ]
    if artifacts:
        volumes.append({"name": "artifacts", "persistentVolumeClaim": {"claimName": artifacts}})
        mounts.append({"name": "artifacts", "mountPath": ARTIFACTS_DIR})
    claims = {c for c in (spec.base_model.claim_name, spec.dataset.claim_name) if c}
    for claim in sorted(claims):
        volumes.append({"name": f"claim-{claim}"[:63], "persistentVolumeClaim": {"claimName": claim, "readOnly": True}})
        mounts.append({"name": f"claim-{claim}"[:63], "mountPath": f"{MOUNTS}/claims/{claim}", "readOnly": True})
    if spec.dataset.config_map:
        cm = spec.dataset.config_map.name
        volumes.append({"name": f"cm-{cm}"[:63], "configMap": {"name": cm}})
        mounts.append({"name": f"cm-{cm}"[:63], "mountPath": f"{MOUNTS}/configmaps/{cm}", "readOnly": True})
    if spec.base_model.token_secret:
        secret = spec.base_model.token_secret.name
        volumes.append({"name": f"secret-{secret}"[:63], "secret": {"secretName": secret, "defaultMode": 0o440}})
        mounts.append({"name": f"secret-{secret}"[:63], "mountPath": f"{MOUNTS}/secrets/{secret}", "readOnly": True})
    return volumes, mounts


def processes_per_pod(res: DomainTraining) -> int:
    """One process per GPU of the pod; one on CPU."""
    r = res.spec.resources
    return (r.gpu.count if r.gpu else 1) if r.accelerator == Accelerator.GPU else 1


def _distributed_env(res: DomainTraining, job_name: str, service: str | None) -> list[dict[str, Any]]:
    """The trainer's torch.distributed contract; nothing for a single process (the Job stays as it was)."""
    nodes, nproc = res.spec.resources.nodes, processes_per_pod(res)
    if nodes * nproc == 1:
        return []
    gpu = res.spec.resources.accelerator == Accelerator.GPU
    return [
        {"name": "TARA_NNODES", "value": str(nodes)},
        {"name": "TARA_NPROC_PER_NODE", "value": str(nproc)},
        # rank 0's pod: <hostname>.<subdomain>, resolved through the pod's search path (<namespace>.svc.<domain>)
        {"name": "TARA_MASTER_ADDR", "value": f"{job_name}-0.{service}" if service else "127.0.0.1"},
        {"name": "TARA_MASTER_PORT", "value": str(MASTER_PORT)},
        {"name": "TARA_DIST_BACKEND", "value": "nccl" if gpu else "gloo"},
    ]


def _ranks_service(res: DomainTraining, name: str, job_name: str, uid: str | None) -> dict[str, Any]:
    """Headless: no virtual IP, one DNS record per pod, published before the pods are ready (rank 0
    must be found while every rank waits for the others)."""
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": _meta(res, name, "trainer-ranks", uid),
            "spec": {"clusterIP": "None", "publishNotReadyAddresses": True,
                     "selector": {names.JOB_NAME_LABEL: job_name},
                     "ports": [{"name": "rendezvous", "port": MASTER_PORT, "targetPort": MASTER_PORT, "protocol": "TCP"}]}}


def _spread(job_name: str) -> dict[str, Any]:
    """Ranks on different nodes when the cluster can (preferred, not required: a rank that fits beside
    another still runs rather than waiting for an empty node)."""
    return {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{
        "weight": 100, "podAffinityTerm": {"topologyKey": "kubernetes.io/hostname",
                                           "labelSelector": {"matchLabels": {names.JOB_NAME_LABEL: job_name}}}}]}}


def _queue_labels(res: DomainTraining) -> dict[str, str]:
    scheduling = res.spec.scheduling
    labels = {}
    if scheduling.queue_name:
        labels[KUEUE_QUEUE_LABEL] = scheduling.queue_name
    if scheduling.workload_priority_class_name:
        labels[KUEUE_PRIORITY_LABEL] = scheduling.workload_priority_class_name
    return labels


def render_training(res: DomainTraining, settings: OperatorSettings, attempt: int, uid: str | None = None,
                    run: str | None = None) -> TrainingChildren:
    """The claims to create, the Job of attempt ``attempt`` (1-based) of run ``run``, for several
    nodes the headless Service its pods meet through, and for an outsized spec its ConfigMap.

    ``res`` must be validated and carry ``metadata.name`` and ``metadata.namespace``.
    """
    name = res.metadata.name or ""
    spec = res.spec
    storage = spec.storage
    retain = storage.retention.value == "Retain"
    claims = []
    checkpoints = storage.checkpoints.claim_name
    if checkpoints is None:
        checkpoints = names.checkpoint_claim(name)
        claims.append(_claim(res, checkpoints, storage.checkpoints, settings, uid, retain))
    artifacts = None
    if storage.artifacts is not None:
        artifacts = storage.artifacts.claim_name
        if artifacts is None:
            artifacts = names.child_name(name, "artifacts", 253)
            claims.append(_claim(res, artifacts, storage.artifacts, settings, uid, retain))
    spec_body = {"apiVersion": res.api_version, "kind": res.kind, "metadata": {"name": name},
                 "spec": spec.model_dump(mode="json", by_alias=True, exclude_none=True)}
    spec_yaml = _spec_yaml(json.dumps(spec_body))
    config_map = None
    if not _fits_annotation(spec_yaml):
        config_map = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": _meta(res, names.spec_config_name(name), "spec", uid),
                      "data": {SPEC_KEY: spec_yaml}}
    volumes, mounts = _volumes(res, checkpoints, artifacts, _spec_source(spec_yaml, names.spec_config_name(name)))
    command = ["tara-trainer", "train", "--spec", f"{SPEC_DIR}/{SPEC_KEY}", "--output", f"{OUTPUT_DIR}/{name}", "--name", name,
               "--base-dir", OUTPUT_DIR]
    if artifacts:
        command += ["--artifacts", f"{ARTIFACTS_DIR}/{name}"]
    env = [
        {"name": "TARA_RESOURCE_NAME", "value": name},
        {"name": "TARA_NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
        {"name": "TARA_TERMINATION_LOG", "value": "/dev/termination-log"},
        {"name": "TARA_METRICS_PORT", "value": str(settings.trainer_metrics_port)},
        {"name": "TARA_MOUNTS_ROOT", "value": MOUNTS},
        {"name": "HOME", "value": "/tmp"},
        {"name": "HF_HOME", "value": spec.base_model.cache_dir or f"{OUTPUT_DIR}/.cache/huggingface"},
        # A GGUF base is dequantized once per run onto the output volume (the image's cache is read-only).
        {"name": "TARA_GGUF_CACHE_DIR", "value": f"{OUTPUT_DIR}/.cache/tara/gguf-base"},
        {"name": "PYTHONUNBUFFERED", "value": "1"},
    ]
    nodes = spec.resources.nodes
    job_name = names.training_job_name(name, attempt, run, nodes)
    service = names.ranks_service_name(name, attempt, run) if nodes > 1 else None
    env += _distributed_env(res, job_name, service)
    ports = [{"name": "metrics", "containerPort": settings.trainer_metrics_port}]
    if service:
        ports.append({"name": "rendezvous", "containerPort": MASTER_PORT})
    container = {
        "name": "trainer", "image": settings.trainer_image, "imagePullPolicy": settings.image_pull_policy,
        "command": command, "env": env, "volumeMounts": mounts, "resources": _resources(res, settings.default_cpu_request),
        "ports": ports,
        "securityContext": restricted_container_security(),
        "terminationMessagePolicy": "FallbackToLogsOnError",
    }
    job_labels = {"attempt": str(attempt), **({"run": run} if run else {})}
    pod_labels = names.labels("DomainTraining", name, "trainer", attempt=str(attempt))
    # The label value of a long name is shortened; the annotation names the owner in full.
    pod_annotations = {names.label_key("DomainTraining"): name}
    if config_map is None:
        pod_annotations[SPEC_ANNOTATION] = spec_yaml
    job_meta = _meta(res, job_name, "trainer", uid, **job_labels)
    job_meta["labels"].update(_queue_labels(res))
    job_spec: dict[str, Any] = {"backoffLimit": 0}
    if service:
        job_spec.update(completionMode="Indexed", completions=nodes, parallelism=nodes)
    if res.spec.scheduling.queue_name:
        job_spec["suspend"] = True  # Kueue admits it by unsuspending it
    job = {
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": job_meta,
        "spec": {
            **job_spec,
            "template": {
                "metadata": {"labels": pod_labels, "annotations": pod_annotations},
                "spec": {
                    "restartPolicy": "Never",
                    "serviceAccountName": settings.trainer_service_account,
                    "terminationGracePeriodSeconds": GRACE_SECONDS,
                    "securityContext": restricted_pod_security(),
                    "containers": [container],
                    "volumes": volumes,
                    **({"subdomain": service, "affinity": _spread(job_name)} if service else {}),
                    **_scheduling(res),
                },
            },
        },
    }
    return {"configMap": config_map, "claims": claims, "job": job,
            "service": _ranks_service(res, service, job_name, uid) if service else None}
