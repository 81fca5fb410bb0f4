"""Several ``tara-router`` processes on one port (``TARA_ROUTER_WORKERS``): a supervisor and its workers.

Why processes: one Python process does one request's CPU work at a time (parsing, scoring, the
embedding), so on a pod with more than one core a single process leaves the others idle. Each worker
opens its own listening socket on the same port with ``SO_REUSEPORT`` and the kernel spreads new
connections over them: no front process copies bytes between client and worker.

The supervisor (the process ``tara-router`` started) forks the workers after reading the config and
before anything starts a thread (llama.cpp, aiohttp's resolver), forwards SIGINT and SIGTERM to them
and waits. A worker that exits on its own (a config the router cannot use: 2; a crash) stops the
others, and the supervisor exits with its status, so Kubernetes restarts the container rather than
leaving it on fewer workers than asked. Asked to stop, the supervisor exits 0 when every worker did.
A worker whose supervisor dies (even by SIGKILL) gets SIGTERM from the kernel.

Metrics: prometheus_client's multiprocess mode, in a directory made for this start and removed at
the end (``PROMETHEUS_MULTIPROC_DIR``, which prometheus_client reads when a worker imports it): each
worker writes its samples to memory-mapped files there, and ``/metrics`` of whichever worker answers
sums them all, a worker that has exited included (counters never go back).
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import sys
import tempfile
import traceback
from collections.abc import Callable
from pathlib import Path
from types import FrameType

__all__ = ["exit_status", "serve_workers"]

_SIGNALS = (signal.SIGINT, signal.SIGTERM)
_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def exit_status(wait_status: int) -> int:
    """A process's exit status as a shell reports it: its code, or 128 + the signal that ended it."""
    code = os.waitstatus_to_exitcode(wait_status)
    return code if code >= 0 else 128 - code


def serve_workers(count: int, worker: Callable[[Path], int]) -> int:
    """Fork ``count`` processes that each run ``worker(metrics_dir)`` and exit with what it returns;
    supervise them (see the module docstring) and return the supervisor's exit status."""
    metrics_dir = Path(tempfile.mkdtemp(prefix="tara-router-metrics-"))
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    pids: set[int] = set()
    stopping: list[int] = []  # the signal the supervisor was asked to stop with

    def forward(signum: int, _frame: FrameType | None) -> None:
        stopping.append(signum)
        _signal_all(pids, signum)

    for signum in _SIGNALS:
        signal.signal(signum, forward)
    try:
        for _ in range(count):
            if stopping:
                break
            pid = os.fork()
            if pid == 0:  # the worker: signals as a plain process until aiohttp installs its own handlers
                for signum in _SIGNALS:
                    signal.signal(signum, signal.SIG_DFL)
                _end_with_parent()
                os._exit(_run(worker, metrics_dir))
            pids.add(pid)
        return _supervise(pids, stopping)
    finally:
        shutil.rmtree(metrics_dir, ignore_errors=True)


def _end_with_parent() -> None:
    """SIGTERM this worker when the supervisor dies, even by SIGKILL (Linux ``PR_SET_PDEATHSIG``): no
    worker outlives it holding the port. Elsewhere nothing is done."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


def _run(worker: Callable[[Path], int], metrics_dir: Path) -> int:
    try:
        return worker(metrics_dir)
    except BaseException:  # noqa: BLE001 - the last thing a worker does: say why it ends
        traceback.print_exc()
        return 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()


def _signal_all(pids: set[int], signum: int) -> None:
    for pid in pids:
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            pass


def _supervise(pids: set[int], stopping: list[int]) -> int:
    status = 0
    while pids:
        pid, wait_status = os.wait()  # retried after a signal handler ran (PEP 475)
        pids.discard(pid)
        code = exit_status(wait_status)
        if not stopping:
            print(f"tara-router: worker {pid} exited with status {code}; stopping the other workers", file=sys.stderr, flush=True)
            stopping.append(signal.SIGTERM)
            _signal_all(pids, signal.SIGTERM)
            status = code or 1
        elif code and not status:
            status = code
    if status == 128 + stopping[0]:
        print(f"tara-router: interrupted ({signal.Signals(stopping[0]).name}) while starting", file=sys.stderr)
    return status
