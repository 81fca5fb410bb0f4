"""Helpers the CLI tests share (imported by name: a module called ``conftest`` would be
ambiguous, there are several): the kubeconfig writer, the namespaces the CLI tests use, and the
result of running ``tara`` in-process."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from controlplane import kubeconfig_text

__all__ = ["NAMESPACE", "NAMESPACES", "OTHER_NAMESPACE", "Result", "write_kubeconfig"]

NAMESPACE = "team-a"  # the kubeconfig context's namespace: what the verbs use without -n
OTHER_NAMESPACE = "team-b"  # the namespace of the context "other"
# Every namespace the CLI tests write to (a real server has no implicit namespaces); each module
# leaves them empty of TARA's objects.
NAMESPACES = (NAMESPACE, OTHER_NAMESPACE, "team-c", "scripts")


def write_kubeconfig(path: Path, url: str, namespace: str | None = NAMESPACE, *, ca: Path | None = None,
                     token: str = "test") -> Path:
    """A kubeconfig for ``url`` (its CA file ``ca``, bearer ``token``) whose current context
    ``tara-test`` sets ``namespace``; a second context ``other`` sets team-b."""
    path.write_text(kubeconfig_text(url, ca, token, "tester", namespace, others={"other": OTHER_NAMESPACE}))
    return path


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str
