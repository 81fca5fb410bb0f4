"""A Kubernetes API emulator for the operator's tests: kmock's emulator, made to behave like the
API server where kopf and the official client depend on it.

Stock kmock 0.8 (see ../shared/NOTES-machine.md) sets no uid, resourceVersion, creationTimestamp
or generation, answers 200 to creates, merges spec on ``/status`` patches, never answers 409 or
422, ignores ``resourceVersion``/``timeoutSeconds`` on watches and label/field selectors, mishandles
``generateName`` and fails on ``/api/v1/namespaces``, and slows down as its request log grows. This
subclass keeps kmock's server, discovery and request plumbing and replaces the object store's
semantics for resource requests:

- create: 201, uid, resourceVersion, creationTimestamp, generation 1, ``generateName``, 409
  AlreadyExists; status dropped on create for resources with a status subresource;
- get/list/watch: label selectors (=, ==, !=, in, notin, exists, !exists) and field selectors;
  list ``metadata.resourceVersion``; watches resume after a ``resourceVersion`` (410 Gone when it
  is too old), honour ``timeoutSeconds`` and close cleanly; ``sendInitialEvents`` (streaming
  lists) ends the initial events with the ``k8s.io/initial-events-end`` bookmark;
- patch: merge, strategic (as merge) and JSON patch (422 when a ``test`` op fails); ``/status``
  changes only status, the main resource never changes status; a stale ``resourceVersion`` is a
  409 Conflict; generation increments when anything but metadata and status changes;
- put: replace with the same rules;
- namespaces: created on first use (a real server would answer 404);
- delete: finalizers set ``deletionTimestamp``; objects go when the last finalizer is removed; the
  garbage collector deletes children whose ownerReferences name a deleted uid;
- every request is recorded in a bounded log (``requests_log``), never an unbounded one;
- for kubectl: empty ``/openapi/v2`` (protobuf) and ``/openapi/v3`` documents, CustomResourceDefinitions
  stored like any object (the TARA kinds are served whether or not their CRDs were applied),
  discovery with ``v1`` as the core group version and no short names on subresources, and
  server-side apply (``apply-patch+yaml``) creating a missing object (merged otherwise: no field
  managers), and the protobuf bodies of typed clients (``kubectl create``, helm's release
  storage) decoded for Namespace, Secret and ConfigMap (``k8sproto.py``; other kinds get 415).
  With these, ``helm install/upgrade/uninstall`` and ``kubectl apply/get/describe/rollout
  status`` work against it.

Not emulated: admission, defaulting, schema validation, RBAC, server-side apply.
"""

from __future__ import annotations

import asyncio
import collections
import copy
import datetime
import json
import re
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import aiohttp.web
import k8sproto
import kmock
import yaml

__all__ = ["ApiServer", "ServerThread", "RESOURCES"]


@dataclass(frozen=True)
class Kind:
    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool = True
    status: bool = True  # has a status subresource
    short: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version


RESOURCES = (
    Kind("", "v1", "namespaces", "Namespace", namespaced=False, short=("ns",)),
    Kind("", "v1", "pods", "Pod", short=("po",)),
    Kind("", "v1", "configmaps", "ConfigMap", status=False, short=("cm",)),
    Kind("", "v1", "secrets", "Secret", status=False),
    Kind("", "v1", "services", "Service", short=("svc",)),
    Kind("", "v1", "serviceaccounts", "ServiceAccount", status=False, short=("sa",)),
    Kind("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", short=("pvc",)),
    Kind("", "v1", "events", "Event", status=False, short=("ev",)),
    Kind("batch", "v1", "jobs", "Job"),
    Kind("apps", "v1", "deployments", "Deployment", short=("deploy",)),
    Kind("policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", short=("pdb",)),
    Kind("networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy", status=False, short=("netpol",)),
    Kind("rbac.authorization.k8s.io", "v1", "roles", "Role", status=False),
    Kind("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", status=False),
    Kind("rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", namespaced=False, status=False),
    Kind("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding", namespaced=False, status=False),
    Kind("coordination.k8s.io", "v1", "leases", "Lease", status=False),
    Kind("apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition", namespaced=False, short=("crd", "crds")),
    Kind("monitoring.coreos.com", "v1", "servicemonitors", "ServiceMonitor", status=False),
    Kind("monitoring.coreos.com", "v1", "podmonitors", "PodMonitor", status=False),
    Kind("monitoring.coreos.com", "v1", "prometheusrules", "PrometheusRule", status=False),
    Kind("kopf.dev", "v1", "kopfpeerings", "KopfPeering", status=False),
    Kind("kopf.dev", "v1", "clusterkopfpeerings", "ClusterKopfPeering", namespaced=False, status=False),
    Kind("tara.dev", "v1alpha1", "domaintrainings", "DomainTraining", short=("dt", "dtrain"), categories=("tara",)),
    Kind("tara.dev", "v1alpha1", "ggufphases", "GGUFPhase", short=("gp", "gguf"), categories=("tara",)),
)
# kubectl apply downloads the OpenAPI documents before it sends anything; empty ones make it skip
# client-side schema checks (the CRD schemas are checked by `tara validate`, not here).
OPENAPI = {"/openapi/v2": {"swagger": "2.0", "info": {"title": "emulator", "version": "v0"}, "paths": {}, "definitions": {}},
           "/openapi/v3": {"paths": {}}}
VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
_PATH = re.compile(
    r"^/(?:api/(?P<core>v1)|apis/(?P<group>[^/]+)/(?P<version>[^/]+))"
    r"(?:/namespaces/(?P<ns>[^/]+)(?=/))?(?:/(?P<plural>[^/]+))?(?:/(?P<name>[^/]+))?(?:/(?P<sub>[^/]+))?/?$"
)
HISTORY = 20000


class ApiError(Exception):
    def __init__(self, code: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.code, self.reason, self.message = code, reason, message

    def body(self) -> dict[str, Any]:
        return {"apiVersion": "v1", "kind": "Status", "metadata": {}, "status": "Failure",
                "code": self.code, "reason": self.reason, "message": self.message}


def _now() -> str:
    return datetime.datetime.now(tz=datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge_patch(out.get(key), value)
    return out


def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    return [p.replace("~1", "/").replace("~0", "~") for p in path.lstrip("/").split("/")]


def json_patch(doc: Any, ops: Iterable[dict[str, Any]]) -> Any:
    """RFC 6902 (add, remove, replace, test, copy, move). Raises ApiError 422 on a failed op."""
    doc = copy.deepcopy(doc)

    def parent(parts: list[str]) -> tuple[Any, str]:
        node = doc
        for p in parts[:-1]:
            node = node[int(p)] if isinstance(node, list) else node[p]
        return node, parts[-1]

    def get(path: str) -> Any:
        node = doc
        for p in _pointer(path):
            node = node[int(p)] if isinstance(node, list) else node[p]
        return node

    for op in ops:
        kind, path = op.get("op"), op.get("path", "")
        try:
            if kind == "test":
                if get(path) != op.get("value"):
                    raise ApiError(422, "Invalid", f"the server rejected our request: test failed at {path}")
                continue
            if kind in ("copy", "move"):
                value = copy.deepcopy(get(op["from"]))
                if kind == "move":
                    node, key = parent(_pointer(op["from"]))
                    node.pop(int(key)) if isinstance(node, list) else node.pop(key)
                kind, op = "add", {"path": path, "value": value}
            node, key = parent(_pointer(path))
            if kind == "add":
                if isinstance(node, list):
                    node.insert(len(node) if key == "-" else int(key), op["value"])
                else:
                    node[key] = op["value"]
            elif kind == "remove":
                node.pop(int(key)) if isinstance(node, list) else node.pop(key)
            elif kind == "replace":
                if isinstance(node, list):
                    node[int(key)] = op["value"]
                else:
                    if key not in node:
                        raise KeyError(key)
                    node[key] = op["value"]
            else:
                raise ApiError(422, "Invalid", f"unsupported JSON patch op {kind!r}")
        except (KeyError, IndexError, ValueError, TypeError) as exc:
            raise ApiError(422, "Invalid", f"JSON patch op {kind} at {path} failed: {exc!r}") from exc
    return doc


def _selector_terms(text: str) -> list[str]:
    terms, depth, current = [], 0, ""
    for ch in text:
        depth += ch == "("
        depth -= ch == ")"
        if ch == "," and depth == 0:
            terms.append(current.strip())
            current = ""
        else:
            current += ch
    if current.strip():
        terms.append(current.strip())
    return terms


def label_match(labels: dict[str, str], selector: str) -> bool:
    for term in _selector_terms(selector or ""):
        m = re.fullmatch(r"(\S+)\s+(in|notin)\s+\((.*)\)", term)
        if m:
            values = {v.strip() for v in m.group(3).split(",")}
            has = m.group(1) in labels and labels[m.group(1)] in values
            if has != (m.group(2) == "in"):
                return False
        elif "!=" in term:
            k, v = term.split("!=", 1)
            if labels.get(k.strip()) == v.strip():
                return False
        elif "=" in term:
            k, v = term.replace("==", "=").split("=", 1)
            if labels.get(k.strip()) != v.strip():
                return False
        elif term.startswith("!"):
            if term[1:] in labels:
                return False
        elif term not in labels:
            return False
    return True


def field_match(obj: dict[str, Any], selector: str) -> bool:
    for term in _selector_terms(selector or ""):
        negate = "!=" in term
        key, value = term.replace("==", "=").split("!=" if negate else "=", 1)
        node: Any = obj
        for part in key.strip().split("."):
            node = node.get(part) if isinstance(node, dict) else None
        if (str(node) if node is not None else "") == value.strip():
            if negate:
                return False
        elif not negate:
            return False
    return True


class ApiServer(kmock.KubernetesEmulator):
    """See the module docstring. ``requests_log``, ``created_at`` and ``first_status_at`` are for
    assertions and benchmarks."""

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        self.kinds = {r.plural: r for r in RESOURCES}
        for r in RESOURCES:
            self.resources[f"{r.group}/{r.version}/{r.plural}" if r.group else f"v1/{r.plural}"] = kmock.ResourceInfo(
                kind=r.kind, singular=r.kind.lower(), namespaced=r.namespaced, verbs=set(VERBS),
                shortnames=set(r.short), categories=set(r.categories), subresources={"status"} if r.status else set())
        self.store: dict[str, dict[tuple[str | None, str], dict[str, Any]]] = collections.defaultdict(dict)
        self.rv = 0
        self.history: collections.deque[tuple[int, str, dict[str, Any]]] = collections.deque(maxlen=HISTORY)
        self.watchers: set[tuple[str, asyncio.Queue]] = set()
        self.requests_log: collections.deque[tuple[str, str, int]] = collections.deque(maxlen=5000)
        # For benchmarks: when each object was created, and when its status was first written.
        self.created_at: dict[tuple[str, str | None, str], float] = {}
        self.first_status_at: dict[tuple[str, str | None, str], float] = {}
        self.lock = asyncio.Lock()

    # --- HTTP entry -------------------------------------------------------------------------
    async def __call__(self, raw: aiohttp.web.BaseRequest) -> aiohttp.web.StreamResponse:
        await raw.read()
        if raw.path in OPENAPI:
            if "protobuf" in raw.headers.get("Accept", ""):  # an empty message: no definitions
                return aiohttp.web.Response(body=b"", content_type="application/com.github.proto-openapi.spec.v2.v1.0+protobuf")
            return aiohttp.web.json_response(OPENAPI[raw.path])
        m = _PATH.match(raw.path)
        plural = m.group("plural") if m else None
        if m is None or plural is None or plural not in self.kinds:
            if m is not None and plural is not None:  # an API path naming a resource we do not serve
                return self._error(ApiError(404, "NotFound", f"the server could not find the requested resource {raw.path}"))
            return await super().__call__(raw)  # discovery, /version
        try:
            response = await self._serve(raw, self.kinds[plural], m.group("ns"), m.group("name"), m.group("sub"))
        except ApiError as exc:
            response = self._error(exc)
        self.requests_log.append((raw.method, raw.path_qs, response.status))
        return response

    async def _serve_version(self, request: Any) -> Any:
        """Discovery as the API server gives it: the core group version is ``v1`` (kmock says
        ``/v1``, and kubectl and helm then find no core kinds), and subresources carry no short
        names or categories (kubectl would warn that ``dt`` also matches ``domaintrainings/status``)."""
        payload = await super()._serve_version(request)
        payload["groupVersion"] = payload["groupVersion"].lstrip("/")  # the core group is "v1", not "/v1"
        for entry in payload["resources"]:
            if "/" in entry["name"]:
                entry["shortNames"], entry["categories"] = [], []
        return payload

    def _error(self, exc: ApiError) -> aiohttp.web.Response:
        return aiohttp.web.json_response(exc.body(), status=exc.code)

    async def _serve(self, raw, kind: Kind, ns: str | None, name: str | None, sub: str | None):
        q = raw.query
        method = raw.method
        if sub not in (None, "status"):
            raise ApiError(404, "NotFound", f"subresource {sub} is not served")
        if method == "GET" and q.get("watch") in ("true", "1"):
            return await self._watch(raw, kind, ns, name)
        body: Any = None
        data = await raw.read()  # buffered by __call__
        if method == "DELETE":
            data = b""  # DeleteOptions (propagation policy): the garbage collector always cascades here
        if data and "protobuf" in raw.headers.get("Content-Type", ""):  # typed clients
            try:
                body = k8sproto.decode(data)
            except ValueError as exc:
                raise ApiError(415, "UnsupportedMediaType", f"the emulator reads JSON and a few protobuf kinds: {exc}") from exc
        elif data:
            try:  # server-side apply bodies may be YAML; JSON is YAML
                body = yaml.safe_load(data) if "apply-patch" in raw.headers.get("Content-Type", "") else json.loads(data)
            except ValueError as exc:
                raise ApiError(400, "BadRequest", f"invalid JSON: {exc}") from exc
        async with self.lock:
            if method == "GET" and name is None:
                return aiohttp.web.json_response(self._list(kind, ns, q))
            if method == "GET":
                return aiohttp.web.json_response(self._get(kind, ns, name))
            if method == "POST" and name is None:
                return aiohttp.web.json_response(await self._create(kind, ns, body), status=201)
            if method == "PATCH" and name is not None:
                ctype = raw.headers.get("Content-Type", "")
                return aiohttp.web.json_response(await self._patch(kind, ns, name, sub, body, ctype))
            if method == "PUT" and name is not None:
                return aiohttp.web.json_response(await self._replace(kind, ns, name, sub, body))
            if method == "DELETE" and name is not None:
                return aiohttp.web.json_response(await self._delete(kind, ns, name))
        raise ApiError(405, "MethodNotAllowed", f"{method} {raw.path} is not supported")

    # --- store ------------------------------------------------------------------------------
    def _key(self, kind: Kind, ns: str | None, name: str) -> tuple[str | None, str]:
        return (ns if kind.namespaced else None, name)

    def _get(self, kind: Kind, ns: str | None, name: str) -> dict[str, Any]:
        obj = self.store[kind.plural].get(self._key(kind, ns, name))
        if obj is None:
            raise ApiError(404, "NotFound", f'{kind.plural} "{name}" not found')
        return obj

    def _list(self, kind: Kind, ns: str | None, q) -> dict[str, Any]:
        items = [o for (ons, _), o in self.store[kind.plural].items()
                 if (ns is None or ons == ns) and self._selected(o, q)]
        return {"apiVersion": kind.api_version, "kind": f"{kind.kind}List", "metadata": {"resourceVersion": str(self.rv)},
                "items": sorted(items, key=lambda o: o["metadata"]["name"])}

    def _selected(self, obj: dict[str, Any], q) -> bool:
        return (label_match(obj.get("metadata", {}).get("labels") or {}, q.get("labelSelector", ""))
                and field_match(obj, q.get("fieldSelector", "")))

    async def _emit(self, kind: Kind, type_: str, obj: dict[str, Any]) -> None:
        event = {"type": type_, "object": copy.deepcopy(obj)}
        self.history.append((self.rv, kind.plural, event))
        for plural, queue in list(self.watchers):
            if plural == kind.plural:
                queue.put_nowait((self.rv, event))

    def _bump(self, obj: dict[str, Any]) -> None:
        self.rv += 1
        obj["metadata"]["resourceVersion"] = str(self.rv)

    async def _create(self, kind: Kind, ns: str | None, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise ApiError(400, "BadRequest", "the body must be an object")
        obj = copy.deepcopy(body)
        meta = obj.setdefault("metadata", {})
        if not meta.get("name"):
            if not meta.get("generateName"):
                raise ApiError(422, "Invalid", "metadata.name or metadata.generateName is required")
            meta["name"] = meta["generateName"] + uuid.uuid4().hex[:5]
        if kind.namespaced:
            ns = ns or meta.get("namespace")
            if not ns:
                raise ApiError(422, "Invalid", "a namespaced object needs a namespace")
            if meta.get("namespace") not in (None, ns):
                raise ApiError(400, "BadRequest", "the namespace of the object does not match the URL")
            meta["namespace"] = ns
        if kind.namespaced and (None, ns) not in self.store["namespaces"]:
            # Lenient where a real server answers 404: the namespace springs into existence, so
            # tests need not create it (kopf's namespace observer then sees it, as in a cluster).
            await self._create(self.kinds["namespaces"], None, {"metadata": {"name": ns}})
        key = self._key(kind, ns, meta["name"])
        if key in self.store[kind.plural]:
            raise ApiError(409, "AlreadyExists", f'{kind.plural} "{meta["name"]}" already exists')
        obj["apiVersion"], obj["kind"] = kind.api_version, kind.kind
        meta.update(uid=str(uuid.uuid4()), creationTimestamp=_now(), generation=1)
        meta.pop("deletionTimestamp", None)
        meta.pop("resourceVersion", None)
        if kind.status and kind.group == "tara.dev":
            obj.pop("status", None)  # custom resources with a status subresource ignore it on create
        self._bump(obj)
        self.store[kind.plural][key] = obj
        self.created_at[(kind.plural, *key)] = time.monotonic()
        await self._emit(kind, "ADDED", obj)
        return obj

    async def _apply(self, kind: Kind, key, old: dict[str, Any], new: dict[str, Any], sub: str | None) -> dict[str, Any]:
        if sub == "status":
            self.first_status_at.setdefault((kind.plural, *key), time.monotonic())
        if kind.status:
            if sub == "status":
                new = {**copy.deepcopy(old), "status": new.get("status")}
                if new["status"] is None:
                    new.pop("status")
            else:
                new = {k: v for k, v in new.items() if k != "status"}
                if "status" in old:
                    new["status"] = copy.deepcopy(old["status"])
        meta = new.setdefault("metadata", {})
        for fixed in ("uid", "creationTimestamp", "namespace", "name", "generation", "deletionTimestamp"):
            if fixed in old["metadata"]:
                meta[fixed] = old["metadata"][fixed]
            else:
                meta.pop(fixed, None)
        strip = ("metadata", "status")
        if {k: v for k, v in new.items() if k not in strip} != {k: v for k, v in old.items() if k not in strip}:
            meta["generation"] = int(old["metadata"].get("generation", 1)) + 1
        if new == old:
            return old
        self._bump(new)
        if meta.get("deletionTimestamp") and not meta.get("finalizers"):
            self.store[kind.plural].pop(key, None)
            await self._emit(kind, "DELETED", new)
            await self._collect(new["metadata"]["uid"])
            return new
        self.store[kind.plural][key] = new
        await self._emit(kind, "MODIFIED", new)
        return new

    def _check_version(self, old: dict[str, Any], body: Any, name: str) -> None:
        wanted = (body or {}).get("metadata", {}).get("resourceVersion") if isinstance(body, dict) else None
        if wanted and wanted != old["metadata"]["resourceVersion"]:
            raise ApiError(409, "Conflict", f'Operation cannot be fulfilled on "{name}": the object has been modified; '
                                            "please apply your changes to the latest version and try again")

    async def _patch(self, kind: Kind, ns, name: str, sub, body: Any, ctype: str) -> dict[str, Any]:
        key = self._key(kind, ns, name)
        if "apply-patch" in ctype and key not in self.store[kind.plural]:  # server-side apply creates
            return await self._create(kind, ns, {**body, "metadata": {**(body.get("metadata") or {}), "name": name}})
        old = self._get(kind, ns, name)
        if "json-patch" in ctype or isinstance(body, list):  # some clients label JSON patches as merge patches
            if not isinstance(body, list):
                raise ApiError(400, "BadRequest", "a JSON patch must be a list of operations")
            new = json_patch(old, body)
        else:
            self._check_version(old, body, name)
            new = merge_patch(old, body or {})
        return await self._apply(kind, key, old, new, sub)

    async def _replace(self, kind: Kind, ns, name: str, sub, body: Any) -> dict[str, Any]:
        old = self._get(kind, ns, name)
        self._check_version(old, body, name)
        return await self._apply(kind, self._key(kind, ns, name), old, copy.deepcopy(body), sub)

    async def _delete(self, kind: Kind, ns, name: str) -> dict[str, Any]:
        key = self._key(kind, ns, name)
        obj = self._get(kind, ns, name)
        if obj["metadata"].get("finalizers"):
            if not obj["metadata"].get("deletionTimestamp"):
                obj = copy.deepcopy(obj)
                obj["metadata"]["deletionTimestamp"] = _now()
                self._bump(obj)
                self.store[kind.plural][key] = obj
                await self._emit(kind, "MODIFIED", obj)
            return obj
        self.store[kind.plural].pop(key, None)
        self._bump(obj)
        await self._emit(kind, "DELETED", obj)
        await self._collect(obj["metadata"]["uid"])
        return obj

    async def _collect(self, uid: str) -> None:
        """The garbage collector: delete (background propagation) what the deleted object owned."""
        for plural, objects in list(self.store.items()):
            kind = self.kinds[plural]
            for (ns, name), o in list(objects.items()):
                if any(ref.get("uid") == uid for ref in o["metadata"].get("ownerReferences") or []):
                    if (ns, name) in objects:
                        await self._delete(kind, ns, name)

    # --- watch ------------------------------------------------------------------------------
    async def _watch(self, raw, kind: Kind, ns: str | None, name: str | None) -> aiohttp.web.StreamResponse:
        q = raw.query
        since = q.get("resourceVersion") or ""
        timeout = float(q.get("timeoutSeconds") or 0) or None
        queue: asyncio.Queue = asyncio.Queue()
        entry = (kind.plural, queue)

        def wanted(obj: dict[str, Any]) -> bool:
            meta = obj.get("metadata", {})
            return ((ns is None or meta.get("namespace") == ns) and (name is None or meta.get("name") == name)
                    and self._selected(obj, q))

        async with self.lock:
            if since and since != "0":
                oldest = self.history[0][0] if self.history else self.rv
                if int(since) < oldest - 1 and int(since) < self.rv:
                    raise ApiError(410, "Expired", f"too old resource version: {since} ({oldest})")
                backlog = [(rv, ev) for rv, plural, ev in self.history if plural == kind.plural and rv > int(since)]
            else:
                backlog = [(self.rv, {"type": "ADDED", "object": copy.deepcopy(o)})
                           for (ons, _), o in self.store[kind.plural].items()]
            if q.get("sendInitialEvents") == "true":  # a streaming list (kubectl 1.37): say where the list ends
                backlog.append((self.rv, {"type": "BOOKMARK", "object": {
                    "apiVersion": kind.api_version, "kind": kind.kind,
                    "metadata": {"resourceVersion": str(self.rv), "annotations": {"k8s.io/initial-events-end": "true"}}}}))
            self.watchers.add(entry)
        response = aiohttp.web.StreamResponse(headers={"Content-Type": "application/json"})
        await response.prepare(raw)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout if timeout else None
        try:
            for _, event in backlog:
                if event["type"] == "BOOKMARK" or wanted(event["object"]):
                    await response.write(json.dumps(event).encode() + b"\n")
            while True:
                remaining = None if deadline is None else deadline - loop.time()
                if remaining is not None and remaining <= 0:
                    break
                try:
                    _, event = await asyncio.wait_for(queue.get(), remaining)
                except TimeoutError:
                    break
                if wanted(event["object"]):
                    await response.write(json.dumps(event).encode() + b"\n")
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            self.watchers.discard(entry)
        try:
            await response.write_eof()
        except (ConnectionResetError, RuntimeError):
            pass
        return response


class ServerThread:
    """Run an ApiServer on 127.0.0.1 in its own thread and event loop, so tests can use the
    synchronous ``kubernetes`` client and start the operator as a separate process."""

    def __init__(self, port: int = 0) -> None:
        self._port = port
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self.api: ApiServer | None = None
        self.url = ""
        self._thread = threading.Thread(target=self._run, name="apiserver", daemon=True)
        self._error: BaseException | None = None

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._main())
        except BaseException as exc:  # noqa: BLE001 - reported by start()
            self._error = exc
            self._ready.set()
        finally:
            loop.close()

    async def _main(self) -> None:
        self._stop = asyncio.Event()
        async with ApiServer() as api, kmock.Server(api, port=self._port or None) as server:
            self.api = api
            self.url = f"http://127.0.0.1:{server.port}"
            self._ready.set()
            await self._stop.wait()

    def start(self) -> ServerThread:
        self._thread.start()
        self._ready.wait(30)
        if self._error or not self.url:
            raise RuntimeError(f"the API emulator did not start: {self._error!r}")
        return self

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)
