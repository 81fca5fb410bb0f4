"""Fixtures for the ``tara`` CLI's cluster verbs: the operator tests' API emulator
(``tests/operator/apiserver.py``, imported, not copied) in a thread, a kubeconfig pointing at it
whose context sets a namespace, the official client for arranging objects, and ``tara`` run
in-process with its exit status and output captured.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cli_support import Result, write_kubeconfig
from kubernetes import client

OPERATOR_TESTS = Path(__file__).resolve().parents[1] / "operator"
if str(OPERATOR_TESTS) not in sys.path:
    sys.path.append(str(OPERATOR_TESTS))

from apiserver import ServerThread  # noqa: E402 - the emulator lives beside the operator tests

from tara_cli.main import main  # noqa: E402


@pytest.fixture(scope="module")
def apiserver() -> Iterator[ServerThread]:
    srv = ServerThread().start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def kubeconfig(apiserver: ServerThread, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_kubeconfig(tmp_path_factory.mktemp("kube") / "config", apiserver.url)


@pytest.fixture(scope="module")
def custom(apiserver: ServerThread) -> Iterator[client.CustomObjectsApi]:
    with client.ApiClient(client.Configuration(host=apiserver.url)) as api:
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
