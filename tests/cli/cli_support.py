"""Helpers the CLI tests share (imported by name: a module called ``conftest`` would be
ambiguous, there are several): the kubeconfig writer, the namespace its context sets, and the
result of running ``tara`` in-process."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

__all__ = ["NAMESPACE", "Result", "write_kubeconfig"]

NAMESPACE = "team-a"  # the kubeconfig context's namespace: what the verbs use without -n


def write_kubeconfig(path: Path, url: str, namespace: str | None = NAMESPACE) -> Path:
    """A kubeconfig for ``url`` whose current context ``emulator`` sets ``namespace``; a second
    context ``other`` sets team-b."""
    context = {"cluster": "emulator", "user": "tester", **({"namespace": namespace} if namespace else {})}
    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "emulator",
        "clusters": [{"name": "emulator", "cluster": {"server": url}}],
        "users": [{"name": "tester", "user": {"token": "test"}}],
        "contexts": [{"name": "emulator", "context": context},
                     {"name": "other", "context": {"cluster": "emulator", "user": "tester", "namespace": "team-b"}}],
    }))
    return path


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str
