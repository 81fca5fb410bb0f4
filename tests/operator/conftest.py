"""Operator fixtures: the API emulator in a thread, a kubeconfig for it, the official client, the
real ``tara-operator`` process and the cluster stand-in (both in ``operator_support``).

The emulator runs in its own thread and event loop and the operator as a separate process, so the
synchronous client in the tests, kopf's asyncio loop and the server never share a loop.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from apiserver import ServerThread
from kubernetes import client
from operator_support import Cluster, Operator


@pytest.fixture(scope="module")
def apiserver() -> Iterator[ServerThread]:
    srv = ServerThread().start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def kubeconfig(apiserver: ServerThread, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("kube") / "config"
    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "emulator",
        "clusters": [{"name": "emulator", "cluster": {"server": apiserver.url}}],
        "users": [{"name": "tester", "user": {"token": "test"}}],
        "contexts": [{"name": "emulator", "context": {"cluster": "emulator", "user": "tester"}}],
    }))
    return path


@pytest.fixture(scope="module")
def kube(apiserver: ServerThread) -> Iterator[client.ApiClient]:
    with client.ApiClient(client.Configuration(host=apiserver.url)) as api:
        yield api


@pytest.fixture(scope="module")
def operator(kubeconfig: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Operator]:
    op = Operator(kubeconfig, tmp_path_factory.mktemp("operator") / "operator.log", {}).start()
    yield op
    op.stop()


@pytest.fixture(scope="module")
def cluster(kube: client.ApiClient) -> Cluster:
    return Cluster(kube)
