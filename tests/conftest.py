"""Suite-wide fixtures: fail any test that leaks asyncio tasks or threads it started."""

from __future__ import annotations

import threading

import pytest


@pytest.fixture(autouse=True)
def _no_leaked_threads():
    before = set(threading.enumerate())
    yield
    leaked = [t for t in set(threading.enumerate()) - before if t.is_alive() and not t.daemon]
    assert not leaked, f"test leaked threads: {leaked}"
