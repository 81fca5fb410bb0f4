"""The cluster module's error translation and credential loading: every failure is one
``ClusterError`` line a user can act on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_support import write_kubeconfig
from kubernetes.client.rest import ApiException

from tara_cli import cluster

CONN = cluster.Connection(api=None, namespace="default", host="https://k8s.example:6443")  # type: ignore[arg-type]


def _exc(status: int, body: object) -> ApiException:
    exc = ApiException(status=status, reason="Reason")
    exc.body = json.dumps(body) if isinstance(body, dict) else body
    return exc


def _status(code: int, reason: str, message: str, **details: str) -> dict[str, object]:
    return {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": code, "reason": reason, "message": message,
            **({"details": details} if details else {})}


@pytest.mark.parametrize(
    ("status", "body", "name", "reason", "message"),
    [
        (401, _status(401, "Unauthorized", "Unauthorized"), "p", "Unauthorized",
         "unauthorized: https://k8s.example:6443 rejected the credentials (log in again or check --context)"),
        (403, _status(403, "Forbidden", 'ggufphases.tara.dev "p" is forbidden: User "bob" cannot get resource'), "p", "Forbidden",
         'forbidden: ggufphases.tara.dev "p" is forbidden: User "bob" cannot get resource'),
        (404, _status(404, "NotFound", 'ggufphases.tara.dev "p" not found', name="p", group="tara.dev", kind="ggufphases"), "p",
         "NotFound", "ggufphase ns/p not found"),
        (404, _status(404, "NotFound", 'ggufphases "p" not found'), "p", "NotFound", "ggufphase ns/p not found"),
        (404, _status(404, "NotFound", 'namespaces "ns" not found', name="ns", kind="namespaces"), "p", "NotFound",
         "namespace ns not found"),
        (404, "404 page not found\n", "p", "CrdMissing",
         "the cluster at https://k8s.example:6443 does not serve ggufphases.tara.dev/v1alpha1: "
         "install the CRDs: kubectl apply -f crds/ or the Helm chart"),
        (404, _status(404, "NotFound", "the server could not find the requested resource"), None, "CrdMissing",
         "the cluster at https://k8s.example:6443 does not serve ggufphases.tara.dev/v1alpha1: "
         "install the CRDs: kubectl apply -f crds/ or the Helm chart"),
        (409, _status(409, "AlreadyExists", 'ggufphases "p" already exists'), "p", "AlreadyExists", "ggufphase ns/p already exists"),
        (409, _status(409, "Conflict", "the object has been modified"), "p", "Conflict",
         "ggufphase ns/p was changed by someone else meanwhile: the object has been modified"),
        (410, _status(410, "Expired", "too old resource version: 1 (5)"), "p", "Gone",
         "watch of ggufphase ns/p expired: too old resource version: 1 (5)"),
        (422, _status(422, "Invalid", "spec.domains: Too many: 65: must have at most 64 items"), "p", "Invalid",
         "the API server rejected ggufphase ns/p: spec.domains: Too many: 65: must have at most 64 items"),
        (500, _status(500, "InternalError", "etcd is down"), None, "InternalError",
         "API error 500 (InternalError) on ggufphases: etcd is down"),
        (503, "<html>bad gateway</html>", "p", "Reason", "API error 503 (Reason) on ggufphase ns/p: Reason"),
    ],
    ids=["401", "403", "404-object", "404-object-no-details", "404-namespace", "404-no-such-path", "404-list-no-type", "409-exists",
         "409-conflict", "410", "422", "500", "503-not-json"],
)
def test_api_errors_become_one_line(status: int, body: object, name: str | None, reason: str, message: str) -> None:
    error = cluster._translate(_exc(status, body), CONN, cluster.PHASES, "ns", name)
    assert (error.reason, error.message) == (reason, message)


def test_missing_kubeconfig_file(tmp_path: Path) -> None:
    with pytest.raises(cluster.ClusterError, match=f"kubeconfig {tmp_path}/nope not found"):
        cluster.connect(str(tmp_path / "nope"), None, environ={})


def test_no_kubeconfig_and_not_in_a_pod(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.kube/config
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    with pytest.raises(cluster.ClusterError) as info:
        cluster.connect(None, None, environ={})
    assert info.value.reason == "Config"
    assert info.value.message == "no kubeconfig found ($KUBECONFIG, ~/.kube/config) and not running in a pod"
    with pytest.raises(cluster.ClusterError, match="--context x given but no kubeconfig found"):
        cluster.connect(None, "x", environ={})


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("apiVersion: v1\nkind: Config\n", "cannot use kubeconfig .*: Invalid kube-config file"),
        ("{{{", "cannot (use|read) kubeconfig"),
    ],
    ids=["empty-config", "not-yaml"],
)
def test_unusable_kubeconfig(tmp_path: Path, text: str, match: str) -> None:
    path = tmp_path / "config"
    path.write_text(text)
    with pytest.raises(cluster.ClusterError, match=match):
        cluster.connect(str(path), None, environ={})


def test_namespace_comes_from_the_context(tmp_path: Path) -> None:
    path = write_kubeconfig(tmp_path / "config", "http://127.0.0.1:1", namespace="team-a")
    assert cluster.connect(None, None, environ={"KUBECONFIG": str(path)}).namespace == "team-a"  # $KUBECONFIG is read
    assert cluster.connect(str(path), "other", environ={}).namespace == "team-b"
    bare = write_kubeconfig(tmp_path / "bare", "http://127.0.0.1:1", namespace=None)
    conn = cluster.connect(str(bare), None, environ={})
    assert (conn.namespace, conn.host) == ("default", "http://127.0.0.1:1")
