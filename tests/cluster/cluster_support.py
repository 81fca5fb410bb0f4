"""What every cluster-facing test needs on top of the control plane: the CRDs installed, namespaces,
clients and kubeconfigs for the admin and for service accounts (the operator runs with the chart's
ServiceAccount, so the server enforces the chart's RBAC). Imported by name (``from cluster_support
import ...``); the root conftest puts this folder on ``sys.path``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml
from controlplane import ControlPlane, kubeconfig_text
from kubernetes import client, config
from kubernetes.client.rest import ApiException

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "helm"))
from chart_support import render_objects  # noqa: E402
from helmbin import ensure_helm  # noqa: E402

__all__ = ["CHART_CRDS", "ROOT", "admin_client", "chart_credentials", "ensure_namespace", "install_crds", "service_account_kubeconfig"]

# The release the operator tests' credentials come from: not the README's "tara" in "tara-system",
# which `helm install` in the walkthrough tests creates on the same cluster (helm refuses to adopt
# objects it does not own, and the ClusterRole is cluster-wide).
CREDENTIALS_RELEASE = "tara-ci"


def admin_client(plane: ControlPlane) -> client.ApiClient:
    return config.new_client_from_config(config_file=str(plane.kubeconfig))


CHART_CRDS = ROOT / "helm" / "tara" / "crds"  # ours and kopf's peering CRDs


def install_crds(plane: ControlPlane, folder: Path | None = None) -> None:
    """Apply the chart's CRDs (ours and kopf's peering CRDs) and wait until they are served."""
    folder = folder or CHART_CRDS
    plane.kubectl("apply", "--server-side", "--force-conflicts", "-f", str(folder))
    plane.kubectl("wait", "--for=condition=Established", "--timeout=60s", "-f", str(folder))


def ensure_namespace(core: client.CoreV1Api, name: str) -> str:
    try:
        core.create_namespace({"metadata": {"name": name}})
    except ApiException as exc:
        if exc.status != 409:
            raise
    return name


def service_account_kubeconfig(plane: ControlPlane, namespace: str, name: str, path: Path) -> Path:
    """A kubeconfig holding a fresh token of ServiceAccount ``namespace/name`` (TokenRequest API)."""
    token = plane.kubectl("create", "token", name, "-n", namespace, "--duration=24h").stdout.strip()
    path.write_text(kubeconfig_text(plane.url, plane.ca, token, f"system:serviceaccount:{namespace}:{name}"))
    return path


_RBAC_KINDS = ("ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding")


def chart_credentials(plane: ControlPlane, path: Path, values: dict[str, Any] | None = None,
                      release: str = CREDENTIALS_RELEASE) -> Path:
    """Install the operator's ServiceAccount and RBAC exactly as ``helm template`` renders them for
    ``values`` (release ``release`` in the namespace of that name, ``tara-ci`` by default) and return a
    kubeconfig with that ServiceAccount's token: the operator started with it can do what the chart
    grants and nothing else. Another release's objects are untouched (its ClusterRole has its name)."""
    rendered = render_objects(ensure_helm(), values, release=release, namespace=release)
    objects = [o for o in rendered if o["kind"] in _RBAC_KINDS]
    core = client.CoreV1Api(admin_client(plane))
    for ns in {release, *(o["metadata"].get("namespace") for o in objects if o["metadata"].get("namespace"))}:
        ensure_namespace(core, ns)
    plane.kubectl("apply", "-f", "-", input="\n---\n".join(yaml.safe_dump(o) for o in objects))
    operator_pod = next(o for o in rendered if o["kind"] == "Deployment")["spec"]["template"]["spec"]
    return service_account_kubeconfig(plane, release, operator_pod["serviceAccountName"], path)
