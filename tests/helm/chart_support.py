"""What the Helm chart's tests share besides fixtures: the chart's location, the values cases,
``run_helm`` and ``render_objects`` (``helm template`` on helm/tara, parsed), and lookups.
Imported by name (``from chart_support import ...``): ``conftest`` would be ambiguous, several
test folders have one.
"""

from __future__ import annotations

import functools
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import yaml

__all__ = ["ALL_ON", "CASES", "CHART", "NAMESPACE", "RELEASE", "ROOT", "find", "one", "render_objects", "run_helm"]

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "helm" / "tara"
RELEASE, NAMESPACE = "tara", "tara-system"

# Every toggle on: what tests/helm checks besides the defaults.
ALL_ON: dict[str, Any] = {
    "replicas": 2,
    "watchNamespaces": ["a", "b"],
    "leaderElection": {"enabled": True},
    "serviceMonitor": {"enabled": True, "labels": {"release": "prometheus"}},
    "podMonitor": {"enabled": True},
    "prometheusRule": {"enabled": True},
    "grafana": {"dashboard": {"enabled": True, "folder": "TARA"}},
    "networkPolicy": {"enabled": True,
                      "metricsFrom": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}]},
    "operator": {"phaseServiceMonitors": True, "storageClass": "fast", "verbose": True, "routerImage": "reg/router:1"},
}
# The cases most tests run on: defaults, everything on, and leader election across all namespaces.
CASES: dict[str, dict[str, Any]] = {
    "defaults": {},
    "all-on": ALL_ON,
    "cluster-peering": {"replicas": 3, "leaderElection": {"enabled": True}, "prometheusRule": {"enabled": True}},
}


def run_helm(helm: Path, *args: str, values: dict[str, Any] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``helm ARGS CHART [-f values.yaml]`` offline, with helm's own state in a throwaway home."""
    with tempfile.TemporaryDirectory(prefix="helm-") as tmp:
        home = Path(tmp)
        cmd = [str(helm), *args, str(CHART)]
        if values is not None:
            (home / "values.yaml").write_text(yaml.safe_dump(values), encoding="utf-8")
            cmd += ["-f", str(home / "values.yaml")]
        env = {"HOME": tmp, "HELM_CACHE_HOME": f"{tmp}/cache", "HELM_CONFIG_HOME": f"{tmp}/config",
               "HELM_DATA_HOME": f"{tmp}/data", "PATH": "/usr/bin:/bin"}
        return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120, check=False)


@functools.cache
def _render_text(helm: Path, values_yaml: str, release: str, namespace: str) -> str:
    got = run_helm(helm, "template", release, "--namespace", namespace, values=yaml.safe_load(values_yaml))
    if got.returncode != 0:
        raise AssertionError(f"helm template failed:\n{got.stderr}")
    return got.stdout


def render_objects(helm: Path, values: dict[str, Any] | None = None, *, release: str = RELEASE,
                   namespace: str = NAMESPACE) -> list[dict[str, Any]]:
    """The objects ``helm template`` renders from ``values`` for ``release`` in ``namespace`` (CRDs
    from crds/ not included)."""
    text = _render_text(helm, yaml.safe_dump(values or {}, sort_keys=True), release, namespace)
    return [doc for doc in yaml.safe_load_all(text) if doc]


def find(objects: list[dict[str, Any]], kind: str, name: str | None = None, namespace: str | None = None) -> list[dict[str, Any]]:
    return [o for o in objects if o["kind"] == kind
            and (name is None or o["metadata"]["name"] == name)
            and (namespace is None or o["metadata"].get("namespace") == namespace)]


def one(objects: list[dict[str, Any]], kind: str, name: str | None = None, namespace: str | None = None) -> dict[str, Any]:
    found = find(objects, kind, name, namespace)
    assert len(found) == 1, f"expected one {kind} {name or ''} in {namespace or 'any namespace'}, found {len(found)}"
    return found[0]
