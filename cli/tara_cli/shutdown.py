"""Clean shutdown for the CLI's long-running commands (``tara local run``, ``tara serve``).

SIGINT and SIGTERM become ``Interrupted``, an exception raised in the main thread where the signal
lands. An exception rather than a flag because the pipeline's stages are long library calls (a
training, a GGUF build) that poll no flag: unwinding runs their ``finally`` blocks and ``with``
statements, and ``subprocess.run`` kills and reaps its child on any exception. ``Interrupted``
derives from ``BaseException``, as ``KeyboardInterrupt`` does, so library code that catches
``Exception`` cannot swallow it.

While a training runs, the trainer's ``PreemptionGuard`` holds SIGTERM: it saves a checkpoint at the
end of the step and raises ``Preempted``. A SIGINT is handed to that handler, so Ctrl-C loses no step
either; a second signal raises at once. Once ``Interrupted`` is raised, later signals are only
recorded, so the cleanup that follows is not cut short; ``deferred()`` does the same around code that
must finish (starting a child and recording it, stopping children).

Children (``spawn``) start in their own session, so a stop reaches their whole process group, and, on
Linux, with ``PR_SET_PDEATHSIG`` set to SIGKILL: if this process dies without cleaning up (SIGKILL,
a crash), the kernel kills them. The death signal fires when the *thread* that started the child
exits, so children are started from the main thread. It survives ``execve`` (``tara-trainer serve``
execs llama-server).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from types import FrameType
from typing import Any

__all__ = ["Interrupted", "SignalCatcher", "deferred", "exit_on_signal", "spawn", "stop"]

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
_LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform == "linux" else None


class Interrupted(BaseException):  # noqa: N818 - named like KeyboardInterrupt, which it stands beside
    """SIGINT or SIGTERM arrived; ``exit_code`` is the shell's convention, 128 + the signal number."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


class SignalCatcher:
    """SIGINT and SIGTERM handlers for the ``with`` block (main thread only); the previous ones after.

    ``signum``: the first signal that arrived, or None. The active catcher is what ``deferred()`` uses."""

    active: SignalCatcher | None = None

    def __init__(self) -> None:
        self.signum: int | None = None
        self._raised = False
        self._deferring = 0
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> SignalCatcher:
        self._previous = {s: signal.signal(s, self._handle) for s in STOP_SIGNALS}
        self._outer, SignalCatcher.active = SignalCatcher.active, self
        return self

    def __exit__(self, *_exc: object) -> None:
        SignalCatcher.active = self._outer
        for s, handler in self._previous.items():
            signal.signal(s, handler)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        first = self.signum is None
        if first:
            self.signum = signum
        if self._raised or self._deferring:
            return
        term = signal.getsignal(signal.SIGTERM)
        if first and signum == signal.SIGINT and callable(term) and term != self._handle:
            term(signum, frame)  # the trainer's PreemptionGuard: a checkpoint at the end of this step, then Preempted
            return
        self._raised = True
        raise Interrupted(self.signum if self.signum is not None else signum)

    def interrupted(self, default: int = signal.SIGTERM) -> Interrupted:
        """The ``Interrupted`` to raise for a signal another handler consumed (the trainer's ``Preempted``):
        the first signal seen here, else ``default``; later signals are only recorded from now on."""
        self._raised = True
        if self.signum is None:
            self.signum = default
        return Interrupted(self.signum)

    @contextlib.contextmanager
    def deferring(self) -> Iterator[None]:
        self._deferring += 1
        try:
            yield
        finally:
            self._deferring -= 1
        if not self._deferring and self.signum is not None and not self._raised:
            self._raised = True
            raise Interrupted(self.signum)


def deferred() -> contextlib.AbstractContextManager[None]:
    """A block that a signal does not cut short: the active catcher raises after it (no catcher: nothing)."""
    catcher = SignalCatcher.active
    return catcher.deferring() if catcher is not None else contextlib.nullcontext()


def exit_on_signal(code: int) -> None:
    """Once a command's work is done: SIGINT or SIGTERM while the interpreter tears down (seconds with
    torch loaded) ends the process at once with ``code``, the work's own status, not a traceback."""

    def handler(_signum: int, _frame: FrameType | None) -> None:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os._exit(code)

    for signum in STOP_SIGNALS:
        signal.signal(signum, handler)


def _die_with_parent(parent: int) -> Callable[[], None] | None:
    if _LIBC is None:  # pragma: no cover - not Linux: the stop in `finally` is all there is
        return None
    prctl = _LIBC.prctl  # looked up before the fork: the child only calls it

    def preexec() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:  # the parent died before the death signal was armed
            os.kill(os.getpid(), signal.SIGKILL)

    return preexec


def spawn(cmd: Sequence[str], **kwargs: Any) -> subprocess.Popen:
    """``subprocess.Popen(cmd)`` in a new session (its own process group) that dies with this process.

    Raises what Popen raises (OSError when the program cannot be started)."""
    return subprocess.Popen(list(cmd), start_new_session=True, preexec_fn=_die_with_parent(os.getpid()), **kwargs)


def _exited(proc: subprocess.Popen) -> bool:
    """Whether the child has exited, without reaping it: an unreaped leader keeps its group id ours."""
    if proc.returncode is not None:
        return True
    try:
        return os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:
        return True


def _signal_group(proc: subprocess.Popen, signum: int) -> None:
    if proc.returncode is not None:  # reaped: its group id may belong to someone else by now
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signum)


def stop(procs: Sequence[subprocess.Popen], grace: float = 10.0) -> None:
    """Stop children started by ``spawn`` and reap them: SIGTERM to each process group, up to ``grace``
    seconds for all of them to exit, then SIGKILL to every group (stragglers and any grandchildren)."""
    with deferred():
        for proc in reversed(procs):  # the last started (the router) in front of the first
            _signal_group(proc, signal.SIGTERM)
        deadline = time.monotonic() + grace
        while not all(map(_exited, procs)) and time.monotonic() < deadline:
            time.sleep(0.05)
        for proc in procs:
            _signal_group(proc, signal.SIGKILL)
            proc.wait()
