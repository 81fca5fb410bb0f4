"""The Helm install commands of the README and docs/install.md, run as written against the API
emulator with the real helm, kubectl and tara binaries. The emulator has no kubelet, so the test
plays it: it runs the operator process with the environment the chart's Deployment gives it, marks
the Deployment rolled out, and finishes the training's pod."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from kubernetes import client
from operator_support import Cluster, wait_for
from walkthrough import ROOT, Walkthrough, shell_block

sys.path.append(str(ROOT / "tests" / "helm"))
from helmbin import FetchError, ensure_helm  # noqa: E402 - the chart tests' pinned helm

RELEASE_NS = "tara-system"


@pytest.fixture(scope="module")
def helm() -> Path:
    try:
        return ensure_helm()
    except FetchError as exc:
        pytest.fail(f"helm is not cached and cannot be fetched ({exc}); run `make helm`", pytrace=False)


@pytest.mark.parametrize(("doc", "heading"), [("README.md", "### Install with Helm"), ("docs/install.md", "## Install")])
def test_documented_helm_install(doc: str, heading: str, helm: Path, kubeconfig: Path, cluster: Cluster, tmp_path: Path) -> None:
    lines = shell_block(ROOT / doc, heading)
    assert lines[0].startswith("helm install tara helm/tara"), lines
    walk = Walkthrough(kubeconfig, cluster, tmp_path, helm)
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
