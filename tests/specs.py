"""Helpers shared by test modules (importable because pytest puts ``tests/`` on ``sys.path``)."""

from __future__ import annotations

import copy
from typing import Any


def with_fields(body: dict[str, Any], **dotted: Any) -> dict[str, Any]:
    """A copy of ``body`` with ``a.b.c=value`` fields set, creating the parents on the way."""
    out = copy.deepcopy(body)
    for key, value in dotted.items():
        node = out
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return out
