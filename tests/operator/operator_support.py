"""What the operator tests share besides fixtures: the real operator process, a stand-in for the
kubelet and the Job and Deployment controllers, and polling. Imported by name (``from
operator_support import ...``): ``conftest`` would be ambiguous, several test folders have one.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kubernetes import client
from kubernetes.client.rest import ApiException

from tara_cli.serve import free_port

__all__ = ["GROUP", "VERSION", "Cluster", "Operator", "deployment_ready", "deployment_stuck", "finish_training", "wait_for"]

GROUP, VERSION = "tara.dev", "v1alpha1"


class Operator:
    """The real operator in a subprocess; restartable."""

    def __init__(self, kubeconfig: Path, log: Path, env: dict[str, str]) -> None:
        self.kubeconfig, self.log, self.extra = kubeconfig, log, env
        self.metrics_port = free_port()
        self.liveness_port = free_port()
        self.proc: subprocess.Popen | None = None

    def start(self) -> Operator:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TARA_", "KUBERNETES_"))}
        env.update(KUBECONFIG=str(self.kubeconfig), TARA_METRICS_PORT=str(self.metrics_port),
                   TARA_LIVENESS_PORT=str(self.liveness_port), TARA_RESYNC_SECONDS="1", TARA_BACKOFF_BASE="0",
                   PYTHONUNBUFFERED="1")
        env.update(self.extra)  # the test's own settings win
        out = open(self.log, "ab")  # noqa: SIM115 - owned by the process
        self.proc = subprocess.Popen([sys.executable, "-m", "tara_operator.main"], env=env, stdout=out, stderr=subprocess.STDOUT)
        out.close()
        deadline = time.monotonic() + 60
        import urllib.request

        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"the operator exited: {self.log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.liveness_port}/healthz", timeout=1):
                    return self
            except OSError:
                time.sleep(0.2)
        raise AssertionError(f"the operator did not become live: {self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc = None

    def metrics(self) -> str:
        import urllib.request

        with urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=5) as r:
            return r.read().decode()


def wait_for(what: str, predicate: Callable[[], Any], timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = predicate()
        except ApiException as exc:
            if exc.status != 404:
                raise
            last = None
        if last:
            return last
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})")


class Cluster:
    """What a cluster does around our objects: the Job controller and kubelet, driven by hand."""

    def __init__(self, api: client.ApiClient) -> None:
        self.core, self.batch, self.custom = client.CoreV1Api(api), client.BatchV1Api(api), client.CustomObjectsApi(api)

    def training(self, ns: str, name: str) -> dict[str, Any]:
        return self.custom.get_namespaced_custom_object(GROUP, VERSION, ns, "domaintrainings", name)

    def status(self, ns: str, name: str) -> dict[str, Any]:
        return self.training(ns, name).get("status") or {}

    def jobs(self, ns: str, selector: str = "") -> list[Any]:
        return sorted(self.batch.list_namespaced_job(ns, label_selector=selector).items, key=lambda j: j.metadata.name)

    def events(self, ns: str, name: str) -> list[tuple[str, str]]:
        items = self.core.list_namespaced_event(ns, field_selector=f"involvedObject.name={name}").items
        return [(e.reason, e.message) for e in sorted(items, key=lambda e: e.metadata.resource_version and int(e.metadata.resource_version))]

    def run_pod(self, ns: str, job_name: str) -> str:
        """The Job controller creates the pod and the kubelet starts it."""
        job = self.batch.read_namespaced_job(job_name, ns)
        labels = {**(job.spec.template.metadata.labels or {}), "job-name": job_name}
        ref = {"apiVersion": "batch/v1", "kind": "Job", "name": job_name, "uid": job.metadata.uid, "controller": True}
        pod = self.core.create_namespaced_pod(ns, {"metadata": {"name": f"{job_name}-pod", "labels": labels, "ownerReferences": [ref]},
                                                   "spec": {"containers": [{"name": "trainer", "image": "x"}]}})
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        self.core.patch_namespaced_pod_status(pod.metadata.name, ns, {"status": {
            "phase": "Running", "startTime": now,
            "containerStatuses": [{"name": "trainer", "image": "x", "imageID": "", "ready": True, "restartCount": 0,
                                   "state": {"running": {"startedAt": now}}}]}})
        self.batch.patch_namespaced_job_status(job_name, ns, {"status": {"active": 1, "startTime": now}})
        return pod.metadata.name

    def end_pod(self, ns: str, job_name: str, exit_code: int, message: str = "", reason: str = "Error",
                pod_reason: str | None = None, disrupted: bool = False) -> None:
        """The pod terminates; the Job (backoffLimit 0) completes or fails."""
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        phase = "Succeeded" if exit_code == 0 else "Failed"
        conditions = [{"type": "DisruptionTarget", "status": "True", "reason": "PreemptionByScheduler"}] if disrupted else []
        status: dict[str, Any] = {"phase": phase, "conditions": conditions, "containerStatuses": [{
            "name": "trainer", "image": "x", "imageID": "", "ready": False, "restartCount": 0,
            "state": {"terminated": {"exitCode": exit_code, "reason": "Completed" if exit_code == 0 else reason,
                                     "message": message, "startedAt": now, "finishedAt": now}}}]}
        if pod_reason:
            status["reason"] = pod_reason
        self.core.patch_namespaced_pod_status(f"{job_name}-pod", ns, {"status": status})
        if exit_code == 0:
            job_status = {"active": 0, "succeeded": 1, "completionTime": now,
                          "conditions": [{"type": "Complete", "status": "True", "reason": "Completed"}]}
        else:
            job_status = {"active": 0, "failed": 1,
                          "conditions": [{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded"}]}
        self.batch.patch_namespaced_job_status(job_name, ns, {"status": job_status})


def finish_training(cluster: Cluster, ns: str, name: str) -> None:
    """Drive a DomainTraining's first attempt to success, as the cluster and the trainer would."""
    job = wait_for(f"{name}'s Job", lambda: [j for j in cluster.jobs(ns, f"tara.dev/domaintraining={name}")])[0].metadata.name
    cluster.run_pod(ns, job)
    cluster.end_pod(ns, job, 0)
    wait_for(f"{name} Succeeded", lambda: cluster.status(ns, name).get("phase") == "Succeeded")


def deployment_ready(cluster: Cluster, ns: str, name: str) -> None:
    """The Deployment controller finished a rollout: every replica updated and ready."""
    apps = client.AppsV1Api(cluster.core.api_client)
    d = apps.read_namespaced_deployment(name, ns)
    n = d.spec.replicas
    apps.patch_namespaced_deployment_status(name, ns, {"status": {
        "observedGeneration": d.metadata.generation, "replicas": n, "updatedReplicas": n, "readyReplicas": n, "availableReplicas": n,
        "conditions": [{"type": "Available", "status": "True"}, {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"}]}})


def deployment_stuck(cluster: Cluster, ns: str, name: str) -> None:
    """The new pods never became ready within progressDeadlineSeconds."""
    apps = client.AppsV1Api(cluster.core.api_client)
    d = apps.read_namespaced_deployment(name, ns)
    apps.patch_namespaced_deployment_status(name, ns, {"status": {
        "observedGeneration": d.metadata.generation, "updatedReplicas": 1, "readyReplicas": 1, "replicas": 2,
        "conditions": [{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded"}]}})
