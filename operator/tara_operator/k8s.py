"""The one module that talks to the Kubernetes API (the official client, synchronous: kopf runs our
sync handlers in its thread pool).

Small functions, one per need. A missing object reads as None; creating an object that exists is
not an error (child names are deterministic, so "exists" means "already done"); creates that do not
depend on each other go out at once (``create_each``). Other answers say
what happens next: throttling and server errors become ``kopf.TemporaryError`` with a delay, so kopf
retries instead of failing; 403 becomes ``Forbidden`` (temporary: an admin may grant the
permission) and 422 ``Invalid`` (permanent: the server would refuse the same object again), both
carrying the server's own message for the resource's conditions.
"""

from __future__ import annotations

import concurrent.futures
import functools
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

import kopf
from kubernetes import client, config
from kubernetes.client.rest import ApiException
from pydantic import ValidationError

from tara_api.meta import GROUP, VERSION

__all__ = [
    "Conflict",
    "Forbidden",
    "Invalid",
    "Refused",
    "configure",
    "configure_writes",
    "create_each",
    "create_if_missing",
    "delete",
    "ensure",
    "ensure_shared",
    "get",
    "get_custom",
    "list_pods",
    "patch_custom_status",
    "replace_config_map_data",
]

log = logging.getLogger(__name__)
T = TypeVar("T")
FORBIDDEN_RETRY_S = 30  # RBAC is fixed by a person: retry, but not in a tight loop


class Refused(Exception):
    """The API server refused a request for a reason a retry alone does not fix; ``message`` is the
    server's (for 403 it names the verb and resource, for 422 the object and the invalid fields)."""

    message: str


class Forbidden(Refused, kopf.TemporaryError):
    """403: the operator's ServiceAccount may not do this. Retried after a delay."""

    def __init__(self, message: str) -> None:
        kopf.TemporaryError.__init__(self, message, delay=FORBIDDEN_RETRY_S)
        self.message = message


class Conflict(kopf.TemporaryError):
    """409: the object exists (a create), or changed since the version a write was computed from (a
    write with ``resourceVersion``). Retried after a short delay when it reaches kopf."""

    def __init__(self, message: str) -> None:
        super().__init__(message, delay=1)


class Invalid(Refused, kopf.PermanentError):
    """422: the server refused an object the operator rendered or a status it computed. Not retried."""

    def __init__(self, message: str) -> None:
        kopf.PermanentError.__init__(self, message)
        self.message = message


def _server_message(exc: ApiException) -> str:
    """The Status the server answered with: its message, or its causes when it has no message."""
    try:
        status = json.loads(exc.body or "{}")
    except (TypeError, ValueError):
        status = {}
    if not isinstance(status, dict):
        status = {}
    causes = (status.get("details") or {}).get("causes") or []
    listed = "; ".join(": ".join(str(c[k]) for k in ("field", "message") if c.get(k)) for c in causes)
    return str(status.get("message") or listed or f"{exc.status} {exc.reason}")


# kopf's worker threads, the most sync handlers at once (handlers.configure). A new training's
# reconcile mostly waits for the API server (its claim and Job creates, sent at once, then its
# status): at 16, a burst of trainings queued for a worker while the server still had room
# (benchmarks/bench_operator.py, 100 trainings, when claim, Job and status went one after another:
# create → Job p50 2.1 s with 16, 1.4 s with 48).
WORKERS = 48
# The most creates one ``create_each`` has in flight: a training's Job, its checkpoints claim and its
# artifacts claim.
CREATES_AT_ONCE = 3


@functools.cache
def configure() -> client.ApiClient:
    """In a pod: the service account; elsewhere: ``$KUBECONFIG`` or ``~/.kube/config``."""
    try:
        config.load_incluster_config()
    except config.ConfigException:
        config.load_kube_config()
    settings = client.Configuration.get_default_copy()
    # One connection per thread that may call at once (urllib3's default is 4: a thread past the pool's
    # size opens a connection, with its TLS handshake, and closes it after one request).
    # Each worker may have CREATES_AT_ONCE requests in flight (create_each); + 8: the resync's threads
    # (asyncio's default executor).
    settings.connection_pool_maxsize = WORKERS * CREATES_AT_ONCE + 8
    return client.ApiClient(settings)


def warm_up() -> None:
    """Build the API clients before kopf's worker threads need them: the first call imports the
    client's API modules lazily, and the worker threads racing to do it queue on the import lock.
    Each API method's argument validator (pydantic, built on its first call: 74 ms for the methods
    below together, seconds of thread time when a burst's worker threads build them while contending
    for the GIL) is built here too, by a call without arguments, which the validator refuses before
    any request."""
    apis = _apis()
    for api, method in _used_methods():
        try:
            getattr(apis[api], method)()
        except (ValidationError, TypeError):
            pass


def _used_methods() -> list[tuple[str, str]]:
    """The generated methods the operator calls (creates go through ``_post``)."""
    by_kind = [(_KINDS[kind][0], f"{verb}_namespaced_{_KINDS[kind][1]}") for kind in _KINDS
               for verb in ("read", "patch", "delete")]
    return [*by_kind, ("v1", "list_namespaced_pod"), ("batch/v1", "list_namespaced_job"),
            *(("custom", f"{verb}_namespaced_custom_object") for verb in ("get", "create")),
            ("custom", "patch_namespaced_custom_object_status")]


@functools.cache
def _apis() -> dict[str, Any]:
    api = configure()
    return {
        "v1": client.CoreV1Api(api),
        "batch/v1": client.BatchV1Api(api),
        "apps/v1": client.AppsV1Api(api),
        "rbac.authorization.k8s.io/v1": client.RbacAuthorizationV1Api(api),
        "custom": client.CustomObjectsApi(api),
    }


# Options of every write (create, patch): the server's field validation, set once at startup.
_WRITES: dict[str, str] = {}


def configure_writes(field_validation: str) -> None:
    """Strict, Warn or Ignore: what the server does with fields its schema lacks (OperatorSettings)."""
    _WRITES["field_validation"] = field_validation


def _call(fn: Callable[..., T], *args: Any, **kwargs: Any) -> Any:
    """Call and return the JSON body as plain dicts (the client's model objects are slow to build and
    we would turn them back into dicts anyway); None for 404."""
    try:
        response = fn(*args, _preload_content=False, **kwargs)
        data = response.data
        return json.loads(data) if data else {}
    except ApiException as exc:
        if exc.status == 404:
            return None
        if exc.status == 403:
            raise Forbidden(_server_message(exc)) from exc
        if exc.status == 409:
            raise Conflict(_server_message(exc)) from exc
        if exc.status in (400, 422):  # 400: a field the schema lacks, under Strict field validation
            raise Invalid(_server_message(exc)) from exc
        if exc.status == 429 or exc.status >= 500:
            raise kopf.TemporaryError(f"Kubernetes API {exc.status}: {exc.reason}", delay=5) from exc
        raise



_KINDS = {  # kind -> (api, snake name, plural)
    "ConfigMap": ("v1", "config_map", "configmaps"),
    "PersistentVolumeClaim": ("v1", "persistent_volume_claim", "persistentvolumeclaims"),
    "ServiceAccount": ("v1", "service_account", "serviceaccounts"), "Service": ("v1", "service", "services"),
    "Pod": ("v1", "pod", "pods"), "Job": ("batch/v1", "job", "jobs"), "Deployment": ("apps/v1", "deployment", "deployments"),
    "Role": ("rbac.authorization.k8s.io/v1", "role", "roles"),
    "RoleBinding": ("rbac.authorization.k8s.io/v1", "role_binding", "rolebindings"),
}


def _method(verb: str, kind: str) -> Callable[..., Any]:
    api_name, snake, _ = _KINDS[kind]
    return getattr(_apis()[api_name], f"{verb}_namespaced_{snake}")


def _post(kind: str, namespace: str, body: dict[str, Any], _preload_content: bool = False) -> Any:
    """POST ``body`` as it is, to create it; the raw response (``_call`` reads it). The generated
    ``create_namespaced_*`` methods first validate a dict body into the client's model (pydantic: a
    Job's about 0.3 ms, most of what the client spends on a create) and serialize the model back into
    the same dict; the server validates the object anyway."""
    api = configure()
    version, _, plural = _KINDS[kind]
    root = "/api/v1" if version == "v1" else f"/apis/{version}"
    query = [("fieldValidation", _WRITES["field_validation"])] if _WRITES.get("field_validation") else []
    method, url, headers, _, _ = api.param_serialize("POST", f"{root}/namespaces/{{namespace}}/{plural}",
                                                     path_params={"namespace": namespace}, query_params=query,
                                                     header_params={"Accept": "application/json"}, auth_settings=["BearerToken"])
    response = api.call_api(method, url, headers, body)  # the body as JSON, not walked by the client's serializer
    if not 200 <= response.status <= 299:
        response.read()
        raise ApiException.from_response(http_resp=response, body=None, data=None)
    return response.response


def get(kind: str, namespace: str, name: str) -> dict[str, Any] | None:
    return _call(_method("read", kind), name, namespace)


def create_if_missing(body: dict[str, Any]) -> bool:
    """Create ``body``; returns False when an object of that name already exists."""
    kind, ns = body["kind"], body["metadata"]["namespace"]
    if kind == "ServiceMonitor":
        return _create_custom("monitoring.coreos.com", "v1", "servicemonitors", ns, body)
    try:
        _call(_post, kind, ns, body)
        return True
    except Conflict:
        return False


def create_each(bodies: Sequence[dict[str, Any]]) -> list[bool]:
    """``create_if_missing`` of every body at once, for objects that do not depend on each other at the
    API (a training's claims and its Job: a pod whose claim does not exist yet waits for it): one round
    trip instead of one per object. The first body is sent from the calling thread, the others from a
    pool of at most ``CREATES_AT_ONCE - 1`` threads of this call's own, started and joined here (about
    0.1 ms of wall time and 0.07 ms of CPU per call, measured; a create is a round trip to the API
    server; a pool kept for the process would leave threads no caller joins). Returns whether each
    was created (False: it existed), in ``bodies``' order.

    Raises, only once every create has been answered (none is left in flight behind the caller), the
    error of the first body in ``bodies``' order that had one (``Forbidden``, ``Invalid``,
    ``kopf.TemporaryError``): the others' creates stand, as a create that exists is "already done"."""
    if len(bodies) <= 1:
        return [create_if_missing(b) for b in bodies]
    first: concurrent.futures.Future[bool] = concurrent.futures.Future()
    with concurrent.futures.ThreadPoolExecutor(min(len(bodies) - 1, CREATES_AT_ONCE - 1), "tara-create") as pool:
        rest = [pool.submit(create_if_missing, b) for b in bodies[1:]]
        try:
            first.set_result(create_if_missing(bodies[0]))
        except Exception as exc:  # raised below, once the others are answered
            first.set_exception(exc)
    return [f.result() for f in (first, *rest)]


def ensure(bodies: Iterable[dict[str, Any]]) -> list[str]:
    """Create each object that does not exist; returns the names created. One create per object,
    answered 409 when it exists: no read first, and an existing object is never written."""
    return [body["metadata"]["name"] for body in bodies if create_if_missing(body)]


_shared_lock = threading.Lock()
_shared_tried: dict[tuple[str, str, str], float] = {}  # (kind, namespace, name) -> when a create was last sent
SHARED_RETRY_S = 10.0  # the watch shows a created object long before this


def ensure_shared(bodies: Iterable[dict[str, Any]]) -> list[str]:
    """``ensure`` for objects that many reconciles want at once (the trainer's ServiceAccount, Role and
    RoleBinding: one set per namespace), which the caller found missing from its watches. One reconcile
    sends the creates; the others, until the watch shows the objects, send none for ``SHARED_RETRY_S``
    (each would be answered 409). Still missing after that (deleted by hand): created again."""
    bodies = list(bodies)
    if not bodies:
        return []
    with _shared_lock:
        now = time.monotonic()
        keys = [(b["kind"], b["metadata"]["namespace"], b["metadata"]["name"]) for b in bodies]
        due = [(k, b) for k, b in zip(keys, bodies, strict=True) if now - _shared_tried.get(k, -SHARED_RETRY_S) >= SHARED_RETRY_S]
        created = ensure(b for _, b in due)  # a refusal raises before anything is remembered: tried again next time
        _shared_tried.update((k, now) for k, _ in due)
        return created


def _create_custom(group: str, version: str, plural: str, ns: str, body: dict[str, Any]) -> bool:
    try:
        _call(_apis()["custom"].create_namespaced_custom_object, group, version, ns, plural, body, **_WRITES)
        return True
    except Conflict:
        return False


def replace_config_map_data(body: dict[str, Any], current: dict[str, str] | None = None) -> None:
    """Create the ConfigMap, or bring its data to ``body``'s when it differs. ``current`` is its data
    as the watch saw it (``observed``), None when unseen: created then, read when it turns out to
    exist."""
    ns, name = body["metadata"]["namespace"], body["metadata"]["name"]
    if current is None:
        if create_if_missing(body):
            return
        current = (get("ConfigMap", ns, name) or {}).get("data")
    if current != body.get("data"):
        _call(_apis()["v1"].patch_namespaced_config_map, name, ns, {"data": body["data"]}, **_WRITES)


def patch(kind: str, namespace: str, name: str, body: dict[str, Any]) -> None:
    _call(_method("patch", kind), name, namespace, body, **_WRITES)


def delete(kind: str, namespace: str, name: str) -> bool:
    """Delete with background propagation (the Job's pods go too). False when already gone."""
    options = client.V1DeleteOptions(propagation_policy="Background")
    return _call(_method("delete", kind), name, namespace, body=options) is not None


def list_pods(namespace: str, selector: str) -> list[dict[str, Any]]:
    pods = _call(_apis()["v1"].list_namespaced_pod, namespace, label_selector=selector)
    return list((pods or {}).get("items") or [])


def list_jobs(namespace: str, selector: str) -> list[dict[str, Any]]:
    jobs = _call(_apis()["batch/v1"].list_namespaced_job, namespace, label_selector=selector)
    return list((jobs or {}).get("items") or [])


def get_custom(plural: str, namespace: str, name: str) -> dict[str, Any] | None:
    return _call(_apis()["custom"].get_namespaced_custom_object, GROUP, VERSION, namespace, plural, name)


def patch_custom_status(plural: str, namespace: str, name: str, status: dict[str, Any],
                        resource_version: str | None = None) -> dict[str, Any] | None:
    """Merge ``status`` into the resource's status; returns the resource as written. With
    ``resource_version``, only into that version: raises ``Conflict`` when the resource changed
    since (the status was computed from an old read)."""
    body: dict[str, Any] = {"status": status}
    if resource_version:
        body["metadata"] = {"resourceVersion": resource_version}
    return _call(_apis()["custom"].patch_namespaced_custom_object_status, GROUP, VERSION, namespace, plural, name,
          body, **_WRITES)
