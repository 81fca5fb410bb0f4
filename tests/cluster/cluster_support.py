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

__all__ = ["ROOT", "admin_client", "chart_credentials", "ensure_namespace", "install_crds", "service_account_kubeconfig"]

OPERATOR_NAMESPACE = "tara-system"


def admin_client(plane: ControlPlane) -> client.ApiClient:
    return config.new_client_from_config(config_file=str(plane.kubeconfig))


def install_crds(plane: ControlPlane, folder: Path | None = None) -> None:
    """Apply the chart's CRDs (ours and kopf's peering CRDs) and wait until they are served."""
    folder = folder or ROOT / "helm" / "tara" / "crds"
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


def chart_credentials(plane: ControlPlane, path: Path, values: dict[str, Any] | None = None) -> Path:
    """Install the operator's ServiceAccount and RBAC exactly as ``helm template`` renders them for
    ``values`` and return a kubeconfig with that ServiceAccount's token: the operator started with it
    can do what the chart grants and nothing else."""
    objects = [o for o in render_objects(ensure_helm(), values) if o["kind"] in _RBAC_KINDS]
    core = client.CoreV1Api(admin_client(plane))
    for ns in {OPERATOR_NAMESPACE, *(o["metadata"].get("namespace") for o in objects if o["metadata"].get("namespace"))}:
        ensure_namespace(core, ns)
    plane.kubectl("apply", "-f", "-", input="\n---\n".join(yaml.safe_dump(o) for o in objects))
    sa = next(o for o in objects if o["kind"] == "ServiceAccount")["metadata"]
    return service_account_kubeconfig(plane, sa.get("namespace") or OPERATOR_NAMESPACE, sa["name"], path)
