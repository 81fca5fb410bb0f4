"""Helpers the CLI tests share (imported by name: a module called ``conftest`` would be
ambiguous, there are several): the kubeconfig writer, the namespaces the CLI tests use, and the
result of running ``tara`` in-process."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

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
    cluster = {"server": url, **({"certificate-authority": str(ca)} if ca else {})}
    context = {"cluster": "tara-test", "user": "tester", **({"namespace": namespace} if namespace else {})}
    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "tara-test",
        "clusters": [{"name": "tara-test", "cluster": cluster}],
        "users": [{"name": "tester", "user": {"token": token}}],
        "contexts": [{"name": "tara-test", "context": context},
                     {"name": "other", "context": {"cluster": "tara-test", "user": "tester", "namespace": OTHER_NAMESPACE}}],
    }))
    return path


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str
