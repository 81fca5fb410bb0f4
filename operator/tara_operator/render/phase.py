"""GGUFPhase → the build Job of a revision, and the serving Deployment, Service, router ConfigMap
and optional ServiceMonitor.

Pure functions of the validated resource, the settings, the revision and where each domain's
training output lives. The build writes ``<phases>/<phase>/rev-<N>/`` on the namespace's
artifacts claim; the server container (``tara-trainer serve``) re-checks that folder's sha256s and
starts llama-server with the base (or merged) model and one LoRA per domain; the router sidecar
in front of it picks the domain per request. A new revision changes the pod template (its
annotation), so the Deployment rolls out and the old pods serve until the new ones are ready.

Storage: a successful build removes the phase's older ``rev-<N>`` folders beyond
``spec.storage.keepRevisions``, never the revisions the operator names as protected (the one serving,
one a rollout is moving to). The training claims are mounted read-only (several phases may read one
training, and its files are its own: its checkpoints are rotated by the trainer, kept or deleted
with its ``storage.retention``), so the build leaves the training outputs alone
(``--keep-training-outputs``). A deleted phase with ``storage.retention: Delete`` gets a cleanup Job
(``render_cleanup``) that removes ``<phases>/<phase>``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from tara_api import GGUFPhase
from tara_api.crd import GGUF_PHASE
from tara_api.domaintraining import Accelerator
from tara_api.meta import GROUP
from tara_operator import names
from tara_operator.render.training import (
    MOUNTS,
    OUTPUT_DIR,
    dump_yaml,
    restricted_container_security,
    restricted_pod_security,
)
from tara_operator.settings import OperatorSettings

__all__ = ["HASH_ANNOTATION", "DomainOutput", "ROUTER_PORT", "SERVER_PORT", "build_dir", "cleanup_job_name", "render_build",
           "render_cleanup", "render_serving"]

PHASES_DIR = f"{MOUNTS}/phases"
HASH_ANNOTATION = f"{GROUP}/inputs-hash"
PHASE_KEY = "ggufphase.yaml"
ROUTER_KEY = "router.json"
SERVER_PORT = 8081
ROUTER_PORT = 8080


@dataclass(frozen=True)
class DomainOutput:
    """Where a domain's DomainTraining left its output: ``<claim>/<subpath>/adapter``.

    ``output_claim`` is the training's checkpoint claim, the root of its pod's output volume: the
    Hugging Face cache and a dequantized GGUF base live there even when the adapter went to an
    artifacts claim. ``base_folder`` is that dequantized base as the training pod saw it
    (``status.baseModel.gguf.dequantizedTo``)."""

    domain: str
    training: str
    claim: str
    subpath: str
    base_claim: str | None = None  # the claim holding a path-based base model
    output_claim: str | None = None
    base_folder: str | None = None

    def output_root(self) -> str:
        return f"{MOUNTS}/claims/{self.output_claim or self.claim}"

    def base_in_build(self) -> str | None:
        """The dequantized base's path in the build pod, when it lies on the training's output volume."""
        prefix = OUTPUT_DIR + "/"
        if self.base_folder and self.base_folder.startswith(prefix):
            return f"{self.output_root()}/{self.base_folder[len(prefix):]}"
        return None


def build_dir(phase: str, revision: int) -> str:
    return f"{PHASES_DIR}/{phase}/rev-{revision}"


def _owner(res: GGUFPhase, uid: str | None) -> list[dict[str, Any]]:
    return [{"apiVersion": res.api_version, "kind": res.kind, "name": res.metadata.name, "uid": uid,
             "controller": True, "blockOwnerDeletion": True}] if uid else []


def _meta(res: GGUFPhase, name: str, component: str, uid: str | None, **extra: str) -> dict[str, Any]:
    return {"name": name, "namespace": res.metadata.namespace,
            "labels": names.labels("GGUFPhase", res.metadata.name or "", component, **extra), "ownerReferences": _owner(res, uid)}


def _claim_mounts(outputs: list[DomainOutput]) -> tuple[list[dict], list[dict]]:
    claims = sorted({o.claim for o in outputs} | {c for o in outputs for c in (o.base_claim, o.output_claim) if c})
    volumes = [{"name": f"claim-{i}", "persistentVolumeClaim": {"claimName": c, "readOnly": True}} for i, c in enumerate(claims)]
    mounts = [{"name": f"claim-{i}", "mountPath": f"{MOUNTS}/claims/{c}", "readOnly": True} for i, c in enumerate(claims)]
    return volumes, mounts


def _pod_resources(cpu: Any, memory: Any, gpus: int = 0, default_cpu: str | None = None) -> dict[str, Any]:
    """Requests = limits for what the spec sets; an unset CPU is requested at ``default_cpu`` with no
    limit (the scheduler reserves it and the cost counts it; the pod may use more when it is free)."""
    values = {k: str(v) for k, v in (("cpu", cpu), ("memory", memory)) if v is not None}
    out: dict[str, Any] = {"requests": dict(values), "limits": dict(values)} if values else {}
    if cpu is None and default_cpu:
        out.setdefault("requests", {})["cpu"] = default_cpu
    if gpus:
        out.setdefault("limits", {})["nvidia.com/gpu"] = str(gpus)
    return out


def render_build(res: GGUFPhase, settings: OperatorSettings, revision: int, outputs: list[DomainOutput],
                 uid: str | None = None, inputs_hash: str | None = None, protect: tuple[int, ...] = ()) -> dict[str, Any]:
    """The phase ConfigMap and the build Job of ``revision``: convert, merge, quantize, validate, gate,
    then remove the older revisions beyond ``spec.storage.keepRevisions`` except those in ``protect``.

    ``inputs_hash`` goes on the Job (``HASH_ANNOTATION``): it says which inputs the revision was built from."""
    name = res.metadata.name or ""
    spec_body = {"apiVersion": res.api_version, "kind": res.kind, "metadata": {"name": name},
                 "spec": res.spec.model_dump(mode="json", by_alias=True, exclude_none=True)}
    cm_name = names.child_name(name, "phase", 253)
    config_map = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": _meta(res, cm_name, "builder", uid),
                  "data": {PHASE_KEY: dump_yaml(spec_body)}}
    volumes, mounts = _claim_mounts(outputs)
    volumes += [{"name": "phase", "configMap": {"name": cm_name}},
                {"name": "artifacts", "persistentVolumeClaim": {"claimName": settings.artifacts_claim}},
                {"name": "tmp", "emptyDir": {}}]
    mounts += [{"name": "phase", "mountPath": "/etc/tara/phase", "readOnly": True},
               {"name": "artifacts", "mountPath": PHASES_DIR, "subPath": "phases"},
               {"name": "tmp", "mountPath": "/tmp"}]
    command = ["tara-trainer", "build", "--phase", f"/etc/tara/phase/{PHASE_KEY}", "--output", build_dir(name, revision),
               "--keep-training-outputs",  # mounted read-only: they belong to their trainings
               "--keep-revisions", str(res.spec.storage.keep_revisions)]
    for kept in sorted({r for r in protect if 0 < r != revision}):
        command += ["--protect-revision", str(kept)]
    for o in outputs:
        command += ["--adapter", f"{o.domain}={MOUNTS}/claims/{o.claim}/{o.subpath}"]
    first = outputs[0] if outputs else None
    # A GGUF base was dequantized in the training pod onto its output volume; the build reads the
    # same folder there (all domains share one base: the reconciler checked their baseModel).
    base = next((b for o in outputs if (b := o.base_in_build())), None)
    if base:
        command += ["--base-model", base]
    env = [
        {"name": "TARA_RESOURCE_NAME", "value": name},
        {"name": "TARA_NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
        {"name": "TARA_RESOURCE_PLURAL", "value": GGUF_PHASE.plural},
        {"name": "TARA_TERMINATION_LOG", "value": "/dev/termination-log"},
        {"name": "TARA_BUILD_TOOLCHAIN", "value": "false"},  # the image ships llama.cpp; never compile in a pod
        {"name": "TARA_CACHE_DIR", "value": "/opt/tara/cache"},
        {"name": "HOME", "value": "/tmp"},
        {"name": "HF_HOME", "value": f"{first.output_root()}/.cache/huggingface" if first else "/tmp/hf"},
        {"name": "HF_HUB_OFFLINE", "value": "1"},
    ]
    job_name = names.build_job_name(name, revision)
    job = {
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {**_meta(res, job_name, "builder", uid, revision=str(revision)),
                     **({"annotations": {HASH_ANNOTATION: inputs_hash}} if inputs_hash else {})},
        "spec": {"backoffLimit": 0, "template": {
            "metadata": {"labels": names.labels("GGUFPhase", name, "builder", revision=str(revision))},
            "spec": {
                "restartPolicy": "Never", "serviceAccountName": settings.trainer_service_account,
                "securityContext": restricted_pod_security(),
                "containers": [{
                    "name": "build", "image": res.spec.build.image or settings.trainer_image,
                    "imagePullPolicy": settings.image_pull_policy, "command": command, "env": env,
                    "volumeMounts": mounts,
                    "resources": _pod_resources(res.spec.build.cpu, res.spec.build.memory, default_cpu=settings.default_cpu_request),
                    "securityContext": restricted_container_security(), "terminationMessagePolicy": "FallbackToLogsOnError",
                }],
                "volumes": volumes,
            }}},
    }
    return {"configMap": config_map, "job": job}


def cleanup_job_name(phase: str) -> str:
    return names.child_name(phase, "cleanup", 63)


def render_cleanup(namespace: str, phase: str, settings: OperatorSettings, uid: str | None = None) -> dict[str, Any]:
    """The Job that removes a deleted phase's folder ``<phases>/<phase>`` from the artifacts claim
    (``storage.retention: Delete``). Owned by the phase, so it goes with it once the finalizer is released."""
    owner = [{"apiVersion": f"{GROUP}/v1alpha1", "kind": "GGUFPhase", "name": phase, "uid": uid,
              "controller": True, "blockOwnerDeletion": False}] if uid else []
    labels = names.labels("GGUFPhase", phase, "cleanup")
    return {
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": cleanup_job_name(phase), "namespace": namespace, "labels": labels, "ownerReferences": owner},
        "spec": {"backoffLimit": 0, "template": {"metadata": {"labels": labels}, "spec": {
            "restartPolicy": "Never", "serviceAccountName": settings.trainer_service_account,
            "automountServiceAccountToken": False, "securityContext": restricted_pod_security(),
            "containers": [{
                "name": "cleanup", "image": settings.trainer_image, "imagePullPolicy": settings.image_pull_policy,
                "command": ["tara-trainer", "remove-phase", "--phases-dir", PHASES_DIR, "--phase", phase],
                "env": [{"name": "HOME", "value": "/tmp"}],
                "volumeMounts": [{"name": "artifacts", "mountPath": PHASES_DIR, "subPath": "phases"},
                                 {"name": "tmp", "mountPath": "/tmp"}],
                "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"memory": "256Mi"}},
                "securityContext": restricted_container_security(), "terminationMessagePolicy": "FallbackToLogsOnError",
            }],
            "volumes": [{"name": "artifacts", "persistentVolumeClaim": {"claimName": settings.artifacts_claim}},
                        {"name": "tmp", "emptyDir": {}}],
        }}},
    }


def router_config(res: GGUFPhase, revision: int) -> dict[str, Any]:
    """What the router sidecar needs: domain → adapter id (llama-server's --lora order), weights, fallback."""
    s = res.spec.serving
    adapters = res.spec.merge.strategy.value == "adapters"
    return {
        "phase": res.metadata.name, "revision": revision, "upstream": f"http://127.0.0.1:{SERVER_PORT}",
        "domains": [{"name": d.domain, "model": f"tara-{d.domain}", "adapterId": i if adapters else None}
                    for i, d in enumerate(res.spec.domains)],
        "defaultDomain": s.default_domain, "confidenceThreshold": s.confidence_threshold,
        "weights": s.router_weights.model_dump(mode="json"),
        # what the build shipped for semantic routing (the router mounts the build read-only)
        "semantic": {"index": f"{build_dir(res.metadata.name or '', revision)}/router/index.npz",
                     "model": f"{build_dir(res.metadata.name or '', revision)}/router/embedder.gguf"},
    }


def render_serving(res: GGUFPhase, settings: OperatorSettings, revision: int, uid: str | None = None) -> dict[str, Any]:
    """Router ConfigMap, Deployment, Service (and a ServiceMonitor when enabled) serving ``revision``."""
    name = res.metadata.name or ""
    s = res.spec.serving
    deploy_name = names.deployment_name(name)
    cm_name = names.router_config_name(name)
    config_map = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": _meta(res, cm_name, "router", uid),
                  "data": {ROUTER_KEY: json.dumps(router_config(res, revision), indent=2)}}
    selector = {"app.kubernetes.io/name": "tara", "app.kubernetes.io/component": "server", **names.owner_label("GGUFPhase", name)}
    gpus = (s.resources.gpu_count or 1) if s.resources.accelerator == Accelerator.GPU else 0
    server = {
        "name": "llama-server", "image": s.image or settings.server_image, "imagePullPolicy": settings.image_pull_policy,
        "command": ["tara-trainer", "serve", "--build", build_dir(name, revision), "--port", str(SERVER_PORT),
                    "--host", "127.0.0.1", "--ctx-size", str(s.context_size), "--gpu-layers", str(s.gpu_layers)],
        "env": [{"name": "HOME", "value": "/tmp"}, {"name": "TARA_CACHE_DIR", "value": "/opt/tara/cache"},
                {"name": "TARA_BUILD_TOOLCHAIN", "value": "false"}],
        "volumeMounts": [{"name": "artifacts", "mountPath": PHASES_DIR, "subPath": "phases", "readOnly": True},
                         {"name": "tmp", "mountPath": "/tmp"}],
        "resources": _pod_resources(s.resources.cpu, s.resources.memory, gpus, default_cpu=settings.default_cpu_request),
        "securityContext": restricted_container_security(),
        "startupProbe": {"httpGet": {"path": "/health", "port": SERVER_PORT}, "periodSeconds": 5, "failureThreshold": 120},
    }
    router = {
        "name": "router", "image": settings.router_image or s.image or settings.server_image,
        "imagePullPolicy": settings.image_pull_policy,
        "command": ["tara-router", "--config", f"/etc/tara/router/{ROUTER_KEY}", "--port", str(ROUTER_PORT)],
        "env": [{"name": "HOME", "value": "/tmp"}, {"name": "TARA_CACHE_DIR", "value": "/opt/tara/cache"},
                {"name": "OPENBLAS_NUM_THREADS", "value": "1"}],
        "ports": [{"name": "http", "containerPort": ROUTER_PORT}],
        "volumeMounts": [{"name": "router", "mountPath": "/etc/tara/router", "readOnly": True},
                         {"name": "artifacts", "mountPath": PHASES_DIR, "subPath": "phases", "readOnly": True}],
        "readinessProbe": {"httpGet": {"path": "/readyz", "port": ROUTER_PORT}, "periodSeconds": 5},
        "livenessProbe": {"httpGet": {"path": "/healthz", "port": ROUTER_PORT}, "periodSeconds": 10},
        "resources": {"requests": {"cpu": "500m", "memory": "256Mi"}, "limits": {"memory": "768Mi"}},
        "securityContext": restricted_container_security(),
    }
    pod: dict[str, Any] = {
        "securityContext": restricted_pod_security(), "automountServiceAccountToken": False,
        "containers": [server, router],
        "volumes": [{"name": "artifacts", "persistentVolumeClaim": {"claimName": settings.artifacts_claim, "readOnly": True}},
                    {"name": "router", "configMap": {"name": cm_name}}, {"name": "tmp", "emptyDir": {}}],
    }
    if gpus:
        pod["tolerations"] = [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    deployment = {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {**_meta(res, deploy_name, "server", uid), "annotations": {f"{GROUP}/revision": str(revision)}},
        "spec": {
            "replicas": s.replicas, "selector": {"matchLabels": selector}, "progressDeadlineSeconds": s.progress_deadline_seconds,
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
            "template": {"metadata": {"labels": {**selector, "app.kubernetes.io/managed-by": names.MANAGED_BY},
                                      "annotations": {f"{GROUP}/revision": str(revision)}},
                         "spec": pod},
        },
    }
    service = {"apiVersion": "v1", "kind": "Service", "metadata": _meta(res, deploy_name, "server", uid),
               "spec": {"selector": selector, "ports": [{"name": "http", "port": 80, "targetPort": "http"}]}}
    out = {"configMap": config_map, "deployment": deployment, "service": service}
    if settings.service_monitor:
        out["serviceMonitor"] = {
            "apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor", "metadata": _meta(res, deploy_name, "server", uid),
            "spec": {"selector": {"matchLabels": {**names.owner_label("GGUFPhase", name), "app.kubernetes.io/component": "server"}},
                     # the router's metrics, and llama-server's (loopback only) passed through by the router
                     "endpoints": [{"port": "http", "path": path, "interval": "30s"} for path in ("/metrics", "/metrics/server")]},
        }
    return out
