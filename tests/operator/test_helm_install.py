"""The chart's documented lifecycle on the real control plane, with the real helm, kubectl and tara
binaries: the install commands of the README and docs/install.md run as written, then
docs/install.md's upgrade with a values file and its uninstall. The chart's Deployment really rolls
out (kwok runs its pod); the operator itself runs here with that Deployment's environment and its
ServiceAccount's token (``walkthrough.Walkthrough``), so the chart's RBAC is what the server
enforces."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from kubernetes import client
from kubernetes.client.rest import ApiException
from operator_support import GROUP, VERSION, Cluster, deployment_ready, wait_for
from walkthrough import ROOT, Walkthrough, shell_block

sys.path.append(str(ROOT / "tests" / "helm"))
from helmbin import FetchError, ensure_helm  # noqa: E402 - the chart tests' pinned helm

RELEASE, RELEASE_NS = "tara", "tara-system"
INSTALL_DOC = ROOT / "docs" / "install.md"
# The documented values file turns on a ServiceMonitor and a PrometheusRule: kinds the Prometheus
# Operator's CRDs add. This control plane has no Prometheus Operator; these stand in for its CRDs
# (any body accepted) so that the block runs as written.
MONITORING_KINDS = {"ServiceMonitor": "servicemonitors", "PrometheusRule": "prometheusrules"}


@pytest.fixture(scope="module")
def helm() -> Path:
    try:
        return ensure_helm()
    except FetchError as exc:
        pytest.fail(f"helm is not cached and cannot be fetched ({exc}); run `make helm`", pytrace=False)


def _uninstall(walk: Walkthrough) -> None:
    """``helm uninstall`` whatever a failed test left installed (the cluster is the whole run's)."""
    subprocess.run([walk.tools["helm"], "uninstall", RELEASE, "-n", RELEASE_NS], env=walk.env,
                   capture_output=True, timeout=120, check=False)


@pytest.mark.parametrize(("doc", "heading"), [("README.md", "### Install with Helm"), ("docs/install.md", "## Install")])
def test_documented_helm_install(doc: str, heading: str, helm: Path, control_plane, cluster: Cluster, tmp_path: Path) -> None:
    lines = shell_block(ROOT / doc, heading)
    assert lines[0].startswith("helm install tara helm/tara"), lines
    walk = Walkthrough(control_plane, cluster, tmp_path, helm)
    try:
        for line in lines:
            walk.run(line)
        apps = client.AppsV1Api(cluster.core.api_client)
        assert apps.read_namespaced_deployment(RELEASE, RELEASE_NS).spec.template.spec.security_context.run_as_non_root
        training = wait_for("the training's Job", lambda: cluster.jobs("default", "tara.dev/domaintraining=healthcare-cpu"))
        assert training[0].spec.template.spec.service_account_name == "tara-trainer"
        if doc == "README.md":
            followed = walk.outputs[next(line for line in lines if line.startswith("tara training follow"))]
            assert "Succeeded" in followed, followed
        else:
            rolled = walk.outputs[next(line for line in lines if " rollout status " in line)]
            assert 'deployment "tara" successfully rolled out' in rolled, rolled
    finally:
        walk.close()
        _uninstall(walk)


def _monitoring_crds() -> str:
    docs = []
    for kind, plural in MONITORING_KINDS.items():
        docs.append({
            "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": f"{plural}.monitoring.coreos.com"},
            "spec": {"group": "monitoring.coreos.com", "scope": "Namespaced",
                     "names": {"kind": kind, "plural": plural, "singular": kind.lower(), "listKind": f"{kind}List"},
                     "versions": [{"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": {
                         "type": "object", "x-kubernetes-preserve-unknown-fields": True}}}]},
        })
    return "\n---\n".join(yaml.safe_dump(d) for d in docs)


def _env(deployment: client.V1Deployment) -> dict[str, str]:
    return {e.name: e.value for e in deployment.spec.template.spec.containers[0].env if e.value is not None}


def _gone(read) -> bool:
    try:
        read()
    except ApiException as exc:
        if exc.status == 404:
            return True
        raise
    return False


def test_documented_upgrade_and_uninstall(helm: Path, control_plane, cluster: Cluster, tmp_path: Path) -> None:
    """docs/install.md: install; the values-file block (``helm upgrade --install``): the Deployment
    rolls out with the new environment, the chart's RBAC narrows to the watched namespace, and the
    operator, restarted as the new pod would be, works there under it; the Uninstall block: the
    release's objects go, the CRDs and the trainings stay, and a training (which has no finalizer) is
    deleted without the operator, its Job by the garbage collector."""
    apps, rbac = client.AppsV1Api(cluster.core.api_client), client.RbacAuthorizationV1Api(cluster.core.api_client)
    ns = cluster.namespace("ml")  # the namespace the documented values watch: a user's, so it exists
    control_plane.kubectl("apply", "-f", "-", input=_monitoring_crds())
    control_plane.kubectl("wait", "--for=condition=Established", "--timeout=60s",
                          *(f"crd/{plural}.monitoring.coreos.com" for plural in MONITORING_KINDS.values()))
    walk = Walkthrough(control_plane, cluster, tmp_path, helm)
    try:
        walk.run(shell_block(INSTALL_DOC, "## Install")[0])
        installed = apps.read_namespaced_deployment(RELEASE, RELEASE_NS)
        assert "TARA_NAMESPACES" not in _env(installed)  # every namespace
        assert any(r.resources and "jobs" in r.resources for r in rbac.read_cluster_role(RELEASE).rules)

        upgrade = shell_block(INSTALL_DOC, "## Install", 1)
        assert upgrade[0].startswith("cat > my-values.yaml") and upgrade[1].startswith("helm upgrade --install tara"), upgrade
        for line in upgrade:
            walk.run(line)
        upgraded = apps.read_namespaced_deployment(RELEASE, RELEASE_NS)
        env = _env(upgraded)
        assert (env["TARA_NAMESPACES"], env["TARA_TRAINER_IMAGE"], env["TARA_STORAGE_CLASS"]) == (
            "ml", "registry.example/tara-trainer:0.1.0", "nfs")
        assert upgraded.metadata.generation > installed.metadata.generation
        deployment_ready(cluster, RELEASE_NS, RELEASE)  # the Deployment controller replaced the pod
        assert {r.resources[0] for r in rbac.read_cluster_role(RELEASE).rules} == {"customresourcedefinitions", "namespaces"}
        assert "jobs" in {res for r in rbac.read_namespaced_role(RELEASE, ns).rules for res in r.resources or []}
        custom = cluster.custom
        assert custom.get_namespaced_custom_object("monitoring.coreos.com", "v1", RELEASE_NS, "servicemonitors", RELEASE)
        rendered = walk.outputs[upgrade[-1]]  # `helm template`: what the upgrade applied
        assert "kind: PrometheusRule" in rendered and "value: \"ml\"" in rendered, rendered[:2000]

        training = yaml.safe_load((ROOT / "configs" / "trainings" / "cpu" / "healthcare-cpu.yaml").read_text())
        custom.create_namespaced_custom_object(GROUP, VERSION, ns, "domaintrainings", training)
        job = wait_for("the training's Job in ml", lambda: cluster.jobs(ns, "tara.dev/domaintraining=healthcare-cpu"))[0]
        assert job.spec.template.spec.containers[0].image == "registry.example/tara-trainer:0.1.0"
        wait_for("its status", lambda: (cluster.training(ns, "healthcare-cpu").get("status") or {}).get("phase"))
        assert not cluster.training(ns, "healthcare-cpu")["metadata"].get("finalizers")

        for line in shell_block(INSTALL_DOC, "## Uninstall"):
            walk.run(line)
        for what, read in [("Deployment", lambda: apps.read_namespaced_deployment(RELEASE, RELEASE_NS)),
                           ("ServiceAccount", lambda: cluster.core.read_namespaced_service_account(RELEASE, RELEASE_NS)),
                           ("ClusterRole", lambda: rbac.read_cluster_role(RELEASE)),
                           ("ClusterRoleBinding", lambda: rbac.read_cluster_role_binding(RELEASE)),
                           ("Role in ml", lambda: rbac.read_namespaced_role(RELEASE, ns)),
                           ("trainer Role in ml", lambda: rbac.read_namespaced_role("tara-trainer", ns)),
                           ("ServiceMonitor", lambda: custom.get_namespaced_custom_object(
                               "monitoring.coreos.com", "v1", RELEASE_NS, "servicemonitors", RELEASE))]:
            assert _gone(read), f"the release's {what} is still there"
        extensions = client.ApiextensionsV1Api(cluster.core.api_client)
        for crd in ("domaintrainings.tara.dev", "ggufphases.tara.dev", "kopfpeerings.kopf.dev", "clusterkopfpeerings.kopf.dev"):
            assert extensions.read_custom_resource_definition(crd)  # helm never deletes CRDs from crds/
        assert cluster.training(ns, "healthcare-cpu") and cluster.jobs(ns, "tara.dev/domaintraining=healthcare-cpu")

        custom.delete_namespaced_custom_object(GROUP, VERSION, ns, "domaintrainings", "healthcare-cpu")
        wait_for("the training gone", lambda: _gone(lambda: cluster.training(ns, "healthcare-cpu")))  # no operator runs
        wait_for("its Job collected", lambda: not cluster.jobs(ns, "tara.dev/domaintraining=healthcare-cpu"))
    finally:
        walk.close(ns)
        _uninstall(walk)
        for finalized in cluster.custom.list_namespaced_custom_object(GROUP, VERSION, ns, "domaintrainings")["items"]:
            cluster.custom.patch_namespaced_custom_object(GROUP, VERSION, ns, "domaintrainings", finalized["metadata"]["name"],
                                                          {"metadata": {"finalizers": None}})
        control_plane.kubectl("delete", "crd", "--ignore-not-found",
                              *(f"{plural}.monitoring.coreos.com" for plural in MONITORING_KINDS.values()))
