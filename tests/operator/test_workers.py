"""kopf's worker threads are started at startup (``handlers.start_workers``), not one by one in kopf's
event loop by the first burst of events."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from tara_operator import handlers


def _idle(pool: ThreadPoolExecutor) -> int:
    return pool._idle_semaphore._value  # noqa: SLF001 - what decides whether a submit starts a thread


def test_the_workers_are_started_without_the_caller_waiting_for_them() -> None:
    pool = ThreadPoolExecutor(16)
    try:
        started = time.monotonic()
        handlers.start_workers(pool, 8)
        assert time.monotonic() - started < 1.5  # well under the barrier's timeout: nobody waited it out
        assert len(pool._threads) == 8  # noqa: SLF001
        deadline = time.monotonic() + 5
        while _idle(pool) < 8 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert _idle(pool) == 8
        assert pool.submit(lambda: 42).result() == 42
        assert len(pool._threads) == 8  # noqa: SLF001 - an idle thread took it: none started by the submit
    finally:
        pool.shutdown()
