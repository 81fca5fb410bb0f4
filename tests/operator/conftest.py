"""Operator fixtures on the real control plane (``control_plane``, started once per run by the root
conftest): the admin's client and kubeconfig for the tests, the chart's ServiceAccount credentials
for the operator (so the server enforces the chart's RBAC on everything the operator does), the real
``tara-operator`` process and our view of the cluster (both in ``operator_support``).

The operator runs as a separate process, so the synchronous client in the tests and kopf's asyncio
loop never share a loop.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cluster_support import admin_client, chart_credentials
from kubernetes import client
from operator_support import Cluster, Operator


@pytest.fixture(scope="session")
def operator_kubeconfig(control_plane, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The chart's operator ServiceAccount (default values) and its token."""
    return chart_credentials(control_plane, tmp_path_factory.mktemp("kube") / "operator.kubeconfig")


@pytest.fixture(scope="session")
def kubeconfig(control_plane) -> Path:
    """The admin's kubeconfig: what a person's kubectl and tara CLI use."""
    return control_plane.kubeconfig


@pytest.fixture(scope="module")
def kube(control_plane) -> Iterator[client.ApiClient]:
    with admin_client(control_plane) as api:
        yield api


@pytest.fixture(scope="module")
def operator(operator_kubeconfig: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Operator]:
    op = Operator(operator_kubeconfig, tmp_path_factory.mktemp("operator") / "operator.log", {}).start()
    yield op
    op.stop()


@pytest.fixture(scope="module")
def cluster(kube: client.ApiClient) -> Cluster:
    return Cluster(kube)
