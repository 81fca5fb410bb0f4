"""The one module of the ``tara`` command that talks to the Kubernetes API.

Small functions, one per verb on TARA's custom objects (get, list, create, patch, watch), over
the official ``kubernetes`` client's ``CustomObjectsApi`` with plain dict bodies. Every failure
(no kubeconfig, an unreachable server, an API error) leaves this module as a ``ClusterError``
whose message is one line a user can act on, and whose ``reason`` lets a verb decide what to do
next (retry a ``Conflict``, report a ``NotFound``). Nothing here prints or exits.

The connection carries its own ``ApiClient``: the client library's global configuration is
never touched, so tests can talk to several API servers in one process.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import urllib3
import yaml
from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException
from kubernetes.config.config_exception import ConfigException

from tara_api.crd import DOMAIN_TRAINING, GGUF_PHASE
from tara_api.meta import GROUP, VERSION

__all__ = [
    "PHASES",
    "TRAININGS",
    "ClusterError",
    "Connection",
    "Resource",
    "connect",
    "create",
    "get",
    "list_objects",
    "patch",
    "watch_object",
]

IN_CLUSTER_NAMESPACE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
CRDS_HINT = "install the CRDs: kubectl apply -f crds/ or the Helm chart"
# Seconds: (connect, read) for ordinary requests; a watch reads for its own timeout plus this.
REQUEST_TIMEOUT = (10, 60)
WATCH_GRACE = 15


@dataclass(frozen=True)
class Resource:
    plural: str
    singular: str  # as messages name it: "ggufphase default/phase-1 not found"


PHASES = Resource(GGUF_PHASE.plural, GGUF_PHASE.singular)
TRAININGS = Resource(DOMAIN_TRAINING.plural, DOMAIN_TRAINING.singular)


class ClusterError(Exception):
    """One API or connection failure, with a one-line message for the user.

    ``reason``: Config, Unreachable, Unauthorized, Forbidden, NotFound, CrdMissing, AlreadyExists,
    Conflict, Gone, Invalid or the API's own reason for anything else.
    """

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.message, self.reason = message, reason


@dataclass(frozen=True)
class Connection:
    api: client.ApiClient
    namespace: str  # the context's namespace, else "default"
    host: str

    @property
    def custom(self) -> client.CustomObjectsApi:
        return client.CustomObjectsApi(self.api)


def _context_namespace(config_file: str, context: str | None) -> str | None:
    contexts, current = config.list_kube_config_contexts(config_file=config_file)
    chosen = next((c for c in contexts if c.get("name") == context), None) if context else current
    return ((chosen or {}).get("context") or {}).get("namespace")


def connect(kubeconfig: str | None = None, context: str | None = None,
            environ: Mapping[str, str] | None = None) -> Connection:
    """Load credentials: ``kubeconfig``, else ``$KUBECONFIG``, else ``~/.kube/config``, else the
    pod's service account. Raises ``ClusterError`` (reason Config) when none is usable."""
    env = os.environ if environ is None else environ
    cfg = client.Configuration()
    path = kubeconfig or env.get("KUBECONFIG") or None
    if path is None and Path("~/.kube/config").expanduser().exists():
        path = str(Path("~/.kube/config").expanduser())
    if kubeconfig and not all(Path(p).expanduser().exists() for p in kubeconfig.split(os.pathsep) if p):
        raise ClusterError(f"kubeconfig {kubeconfig} not found", "Config")
    namespace: str | None = None
    try:
        if path:
            config.load_kube_config(config_file=path, context=context, client_configuration=cfg, persist_config=False)
            namespace = _context_namespace(path, context)
        else:
            if context:
                raise ClusterError(f"--context {context} given but no kubeconfig found ($KUBECONFIG, ~/.kube/config)", "Config")
            config.load_incluster_config(client_configuration=cfg)
            if IN_CLUSTER_NAMESPACE.exists():
                namespace = IN_CLUSTER_NAMESPACE.read_text(encoding="utf-8").strip() or None
    except ConfigException as exc:
        if not path:
            raise ClusterError("no kubeconfig found ($KUBECONFIG, ~/.kube/config) and not running in a pod", "Config") from None
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ClusterError(f"cannot use kubeconfig {path}: {detail}", "Config") from None
    except (OSError, ValueError, TypeError, KeyError, yaml.YAMLError) as exc:  # unreadable or malformed files
        detail = " ".join(str(exc).split())
        raise ClusterError(f"cannot read kubeconfig {path}: {detail}", "Config") from None
    cfg.retries = 2  # fewer than urllib3's default: an unreachable cluster is reported sooner
    return Connection(api=client.ApiClient(cfg), namespace=namespace or "default", host=cfg.host)


# ---------------------------------------------------------------- errors


def _status_body(exc: ApiException) -> dict[str, Any] | None:
    try:
        body = json.loads(exc.body) if exc.body else None
    except (ValueError, TypeError):
        return None
    return body if isinstance(body, dict) and body.get("kind") == "Status" else None


def _object_missing(body: dict[str, Any] | None, name: str | None) -> bool:
    """A 404 about the object (its Status names it) rather than about the resource type."""
    if body is None or name is None:
        return False
    details = body.get("details") or {}
    return details.get("name") == name or str(body.get("message", "")).endswith(f'"{name}" not found')


def _missing_namespace(body: dict[str, Any] | None) -> str | None:
    """The namespace a 404 names: a create in a namespace that does not exist."""
    details = (body or {}).get("details") or {}
    return details.get("name") if details.get("kind") == "namespaces" else None


def _translate(exc: ApiException, conn: Connection, resource: Resource, ns: str | None, name: str | None) -> ClusterError:
    body = _status_body(exc)
    message = str((body or {}).get("message") or exc.reason or "").strip()
    what = f"{resource.singular} {ns}/{name}" if name else resource.plural
    if exc.status == 401:
        return ClusterError(f"unauthorized: {conn.host} rejected the credentials (log in again or check --context)", "Unauthorized")
    if exc.status == 403:
        return ClusterError(f"forbidden: {message or 'the cluster refused the request'}", "Forbidden")
    if exc.status == 404:
        if namespace := _missing_namespace(body):
            return ClusterError(f"namespace {namespace} not found", "NotFound")
        if _object_missing(body, name):
            return ClusterError(f"{what} not found", "NotFound")
        return ClusterError(f"the cluster at {conn.host} does not serve {resource.plural}.{GROUP}/{VERSION}: {CRDS_HINT}", "CrdMissing")
    if exc.status == 409:
        reason = (body or {}).get("reason") or "Conflict"
        if reason == "AlreadyExists":
            return ClusterError(f"{what} already exists", "AlreadyExists")
        return ClusterError(f"{what} was changed by someone else meanwhile: {message}", "Conflict")
    if exc.status == 410:
        return ClusterError(f"watch of {what} expired: {message}", "Gone")
    if exc.status == 422:
        return ClusterError(f"the API server rejected {what}: {message}", "Invalid")
    reason = (body or {}).get("reason") or exc.reason or "Error"
    return ClusterError(f"API error {exc.status} ({reason}) on {what}: {message}", str(reason))


def _unreachable(conn: Connection, exc: Exception) -> ClusterError:
    cause = getattr(exc, "reason", None) or exc
    return ClusterError(f"cannot connect to the cluster at {conn.host}: {cause}", "Unreachable")


# ---------------------------------------------------------------- verbs


@contextmanager
def _api_errors(conn: Connection, resource: Resource, namespace: str | None, name: str | None) -> Iterator[None]:
    """API and connection failures as ClusterError."""
    try:
        yield
    except ApiException as exc:
        raise _translate(exc, conn, resource, namespace, name) from None
    except urllib3.exceptions.HTTPError as exc:
        raise _unreachable(conn, exc) from None


def get(conn: Connection, resource: Resource, namespace: str, name: str) -> dict[str, Any]:
    """The object. Raises ClusterError (NotFound, CrdMissing, ...)."""
    with _api_errors(conn, resource, namespace, name):
        return conn.custom.get_namespaced_custom_object(GROUP, VERSION, namespace, resource.plural, name,
                                                       _request_timeout=REQUEST_TIMEOUT)


def list_objects(conn: Connection, resource: Resource, namespace: str | None) -> list[dict[str, Any]]:
    """Objects in ``namespace``, or in every namespace when it is None."""
    with _api_errors(conn, resource, namespace, None):
        if namespace is None:
            out = conn.custom.list_cluster_custom_object(GROUP, VERSION, resource.plural, _request_timeout=REQUEST_TIMEOUT)
        else:
            out = conn.custom.list_namespaced_custom_object(GROUP, VERSION, namespace, resource.plural,
                                                            _request_timeout=REQUEST_TIMEOUT)
    return list(out.get("items") or [])


def create(conn: Connection, resource: Resource, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
    """Create the object as ``kubectl create -f`` would. Raises ClusterError (AlreadyExists, ...)."""
    with _api_errors(conn, resource, namespace, (body.get("metadata") or {}).get("name")):
        return conn.custom.create_namespaced_custom_object(GROUP, VERSION, namespace, resource.plural, body,
                                                          _request_timeout=REQUEST_TIMEOUT)


def patch(conn: Connection, resource: Resource, namespace: str, name: str, body: dict[str, Any]) -> dict[str, Any]:
    """JSON merge patch. With ``metadata.resourceVersion`` in the body, a stale version is a
    ClusterError with reason Conflict."""
    with _api_errors(conn, resource, namespace, name):
        return conn.custom.patch_namespaced_custom_object(GROUP, VERSION, namespace, resource.plural, name, body,
                                                         _content_type="application/merge-patch+json",
                                                         _request_timeout=REQUEST_TIMEOUT)


def watch_object(conn: Connection, resource: Resource, namespace: str, name: str, resource_version: str,
                 timeout: float) -> Iterator[tuple[str, dict[str, Any]]]:
    """(event type, object) for one object after ``resource_version``, until the server ends the
    watch after ``timeout`` seconds (the caller resumes from the last object's resourceVersion).
    Raises ClusterError; reason Gone when ``resource_version`` is too old to resume from."""
    seconds = max(1, int(timeout))
    watcher = watch.Watch()
    try:
        for event in watcher.stream(conn.custom.list_namespaced_custom_object, GROUP, VERSION, namespace, resource.plural,
                                    field_selector=f"metadata.name={name}", resource_version=resource_version,
                                    timeout_seconds=seconds, _request_timeout=(REQUEST_TIMEOUT[0], seconds + WATCH_GRACE)):
            kind, obj = event.get("type"), event.get("raw_object")
            if kind == "BOOKMARK" or not isinstance(obj, dict):
                continue
            yield str(kind), obj
    except ApiException as exc:
        raise _translate(exc, conn, resource, namespace, name) from None
    except urllib3.exceptions.HTTPError as exc:
        if isinstance(exc, urllib3.exceptions.ReadTimeoutError | urllib3.exceptions.ProtocolError):
            return  # the server went quiet or closed the stream: the caller resumes
        raise _unreachable(conn, exc) from None
    finally:
        watcher.stop()
