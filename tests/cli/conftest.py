"""Fixtures for the ``tara`` CLI's cluster verbs on the real control plane (``control_plane``,
started once per run by the root conftest): a kubeconfig with the admin's token whose context sets
a namespace, the official client for arranging objects, and ``tara`` run in-process with its exit
status and output captured.

The control plane is shared by the whole run, so each module leaves the CLI's namespaces as it
found them: the ``kubeconfig`` fixture deletes every DomainTraining and GGUFPhase in them at the
module's end (no operator runs here, so no finalizer holds them).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cli_support import NAMESPACES, Result, write_kubeconfig
from cluster_support import admin_client, ensure_namespace
from kubernetes import client

from tara_api import crd
from tara_api.meta import GROUP, VERSION
from tara_cli.main import main


@pytest.fixture(scope="module")
def kubeconfig(control_plane, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The admin's token and the server's CA, the context namespace team-a (``other``: team-b).
    At the module's end, the DomainTrainings and GGUFPhases in the CLI's namespaces are deleted."""
    with admin_client(control_plane) as api:
        core = client.CoreV1Api(api)
        for ns in NAMESPACES:
            ensure_namespace(core, ns)
        yield write_kubeconfig(tmp_path_factory.mktemp("kube") / "config", control_plane.url, ca=control_plane.ca,
                               token=control_plane.admin_token)
        objects = client.CustomObjectsApi(api)
        for plural in (crd.DOMAIN_TRAINING.plural, crd.GGUF_PHASE.plural):
            for ns in NAMESPACES:
                objects.delete_collection_namespaced_custom_object(GROUP, VERSION, ns, plural)


@pytest.fixture(scope="module")
def custom(control_plane, kubeconfig: Path) -> Iterator[client.CustomObjectsApi]:
    """The admin's client, for arranging and checking objects."""
    with admin_client(control_plane) as api:
        yield client.CustomObjectsApi(api)


@pytest.fixture
def tara(capsys: pytest.CaptureFixture[str]) -> Callable[..., Result]:
    """``tara(*argv)`` runs ``tara`` in-process; usage errors (SystemExit) become their status."""

    def run(*argv: str) -> Result:
        capsys.readouterr()
        try:
            code = main(list(argv))
        except SystemExit as exc:
            code = int(exc.code or 0)
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run
