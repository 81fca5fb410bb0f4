"""``k8s.warm_up``: the API methods the operator calls exist and get their argument validators at
startup, with no request sent (the client's pydantic validators are otherwise built by the first
calls, in the worker threads of the first burst of events)."""

from __future__ import annotations

from typing import Any

import pytest
from kubernetes import client

from tara_operator import k8s


def test_warm_up_builds_every_used_method_without_a_request(monkeypatch: pytest.MonkeyPatch) -> None:
    api = client.ApiClient(client.Configuration(host="https://127.0.0.1:1"))
    sent: list[Any] = []
    monkeypatch.setattr(api.rest_client, "request", lambda *a, **k: sent.append(a))
    monkeypatch.setattr(k8s, "configure", lambda: api)
    k8s._apis.cache_clear()
    try:
        k8s.warm_up()
        apis = k8s._apis()
        methods = [getattr(apis[name], method) for name, method in k8s._used_methods()]
    finally:
        k8s._apis.cache_clear()
    assert sent == [] and len(methods) == 3 * len(k8s._KINDS) + 5
    # what the reconcilers call is among them (creates of our kinds skip the generated methods: _post)
    assert ("batch/v1", "delete_namespaced_job") in k8s._used_methods()
    assert ("custom", "patch_namespaced_custom_object_status") in k8s._used_methods()
