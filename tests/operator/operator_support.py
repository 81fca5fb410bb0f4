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

from cluster_support import ensure_namespace
from controlplane import annotate_exit
from kubernetes import client
from kubernetes.client.rest import ApiException

from tara_api.meta import GROUP, VERSION
from tara_cli.serve import free_port
from tara_operator import names

__all__ = ["GROUP", "VERSION", "Cluster", "Operator", "deployment_ready", "finish_training", "trainer_patcher", "wait_for"]



class Operator:
    """The real operator in a subprocess; restartable."""

    def __init__(self, kubeconfig: Path, log: Path, env: dict[str, str], args: tuple[str, ...] = ()) -> None:
        self.kubeconfig, self.log, self.extra, self.args = kubeconfig, log, env, args
        self.metrics_port = free_port()
        self.liveness_port = free_port()
        self.proc: subprocess.Popen | None = None

    def start(self) -> Operator:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TARA_", "KUBERNETES_"))}
        env.update(KUBECONFIG=str(self.kubeconfig), TARA_METRICS_PORT=str(self.metrics_port),
                   TARA_LIVENESS_PORT=str(self.liveness_port), TARA_RESYNC_SECONDS="1", TARA_BACKOFF_BASE="0",
                   TARA_FIELD_VALIDATION="Strict",  # a field our schema lacks fails the write, so a test
                   PYTHONUNBUFFERED="1")
        env.update(self.extra)  # the test's own settings win
        out = open(self.log, "ab")  # noqa: SIM115 - owned by the process
        self.proc = subprocess.Popen([sys.executable, "-m", "tara_operator.main", *self.args], env=env, stdout=out, stderr=subprocess.STDOUT)
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
    """Our view of the real cluster: the Job and Deployment controllers, the scheduler and the garbage
    collector run for real; kwok plays the kubelet, and a test decides how a pod's container exits."""

    def __init__(self, api: client.ApiClient) -> None:
        self.core, self.batch, self.custom = client.CoreV1Api(api), client.BatchV1Api(api), client.CustomObjectsApi(api)
        self.apps = client.AppsV1Api(api)

    def namespace(self, name: str) -> str:
        """Create namespace ``name`` (a real server has no implicit namespaces); returns it."""
        return ensure_namespace(self.core, name)

    def training(self, ns: str, name: str) -> dict[str, Any]:
        return self.custom.get_namespaced_custom_object(GROUP, VERSION, ns, "domaintrainings", name)

    def status(self, ns: str, name: str) -> dict[str, Any]:
        return self.training(ns, name).get("status") or {}

    def jobs(self, ns: str, selector: str = "") -> list[Any]:
        return sorted(self.batch.list_namespaced_job(ns, label_selector=selector).items, key=lambda j: j.metadata.name)

    def events(self, ns: str, name: str) -> list[tuple[str, str]]:
        items = self.core.list_namespaced_event(ns, field_selector=f"involvedObject.name={name}").items
        return [(e.reason, e.message) for e in sorted(items, key=lambda e: e.metadata.resource_version and int(e.metadata.resource_version))]

    def events_with(self, ns: str, name: str, *reasons: str) -> list[tuple[str, str]]:
        """The object's events once every named reason is among them: kopf posts events from a queue,
        after the status patch that a test waits for, so reading them at once races."""
        return wait_for(f"events {reasons} of {ns}/{name}",
                        lambda: (found := self.events(ns, name)) and set(reasons) <= {r for r, _ in found} and found)

    def pods(self, ns: str, job_name: str) -> list[Any]:
        return self.core.list_namespaced_pod(ns, label_selector=names.job_pods_selector(job_name)).items

    def run_pod(self, ns: str, job_name: str) -> str:
        """Wait until the Job controller created the Job's pod, the scheduler placed it and kwok started
        it; the pod's name."""
        def running():
            return [p.metadata.name for p in self.pods(ns, job_name)
                    if p.status.phase == "Running" and not p.metadata.deletion_timestamp]
        return wait_for(f"a Running pod of Job {job_name}", running)[0]

    def end_pod(self, ns: str, job_name: str, exit_code: int, message: str = "", reason: str = "",
                disrupted: bool = False) -> None:
        """The Job's running pod's container exits with ``exit_code`` (kwok reports it as the kubelet
        would); the real Job controller then completes or fails the Job."""
        annotate_exit(self.core, ns, self.run_pod(ns, job_name), exit_code, message, reason, disrupted)


def trainer_patcher(plane: Any, ns: str, name: str, folder: Path, plural: str = "domaintrainings") -> Any:
    """The trainer's own status patcher, holding a token of the ``tara-trainer`` ServiceAccount that the
    operator created in ``ns``: what a training pod does, with the permissions the pod has."""
    from tara_trainer.progress import StatusPatcher
    from tara_trainer.settings import TrainerSettings

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "token").write_text(plane.kubectl("create", "token", "tara-trainer", "-n", ns).stdout.strip())
    (folder / "ca.crt").write_bytes(plane.ca.read_bytes())
    return StatusPatcher(TrainerSettings.from_env({
        "TARA_API_URL": plane.url, "TARA_NAMESPACE": ns, "TARA_RESOURCE_NAME": name, "TARA_RESOURCE_PLURAL": plural,
        "TARA_SERVICE_ACCOUNT_DIR": str(folder), "TARA_FIELD_VALIDATION": "Strict"}))


def finish_training(cluster: Cluster, ns: str, name: str) -> None:
    """Drive a DomainTraining's first attempt to success, as the cluster and the trainer would."""
    job = wait_for(f"{name}'s Job", lambda: [j for j in cluster.jobs(ns, f"tara.dev/domaintraining={name}")])[0].metadata.name
    cluster.run_pod(ns, job)
    cluster.end_pod(ns, job, 0)
    wait_for(f"{name} Succeeded", lambda: cluster.status(ns, name).get("phase") == "Succeeded")


def deployment_ready(cluster: Cluster, ns: str, name: str, timeout: float = 60) -> None:
    """Wait until the Deployment controller finished a rollout: every replica updated and ready."""
    def done():
        d = cluster.apps.read_namespaced_deployment(name, ns)
        st = d.status
        return (st.observed_generation == d.metadata.generation and (st.updated_replicas or 0) == d.spec.replicas
                and (st.ready_replicas or 0) == d.spec.replicas and (st.replicas or 0) == d.spec.replicas)
    wait_for(f"Deployment {name} rolled out", done, timeout)
