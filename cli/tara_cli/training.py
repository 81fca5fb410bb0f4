"""``tara training follow|list``: watch a DomainTraining until it ends, and list trainings.

``follow`` reads the object once, then watches it (field selector ``metadata.name``) from that
resourceVersion, resuming where the last event left off whenever the server ends the watch, and
relisting when the version is too old (410 Gone). It ends on a terminal phase that describes the
current spec: a ``Succeeded`` or ``Failed`` whose ``observedGeneration`` is older than the
object's generation belongs to the previous run and does not count.

Progress is a tqdm bar on a terminal, one line per progress report otherwise (logs, CI).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from typing import Any, TextIO

from tqdm import tqdm

from tara_cli import cluster, views
from tara_cli.common import add_list_options, cluster_options, connect, fetch_list, guarded, now

__all__ = ["Follower", "register", "terminal_result"]

# Each watch request asks the server to end it after this many seconds; follow then resumes.
WATCH_SECONDS = 60
DOMAIN_TRAINING = "DomainTraining"


def terminal_result(obj: dict[str, Any]) -> int | None:
    """0 when the training Succeeded, 1 when it Failed, None while it runs (or the status is
    older than the spec)."""
    status = obj.get("status") or {}
    generation = (obj.get("metadata") or {}).get("generation")
    observed = status.get("observedGeneration")
    if observed is not None and generation is not None and observed < generation:
        return None
    return {"Succeeded": 0, "Failed": 1}.get(status.get("phase"))


def _progress_key(progress: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(progress.get(k) for k in ("step", "totalSteps", "loss", "evalLoss"))


class Follower:
    """Turns successive versions of one DomainTraining into output; ``update`` returns the exit
    status once the training has ended."""

    def __init__(self, name: str, out: TextIO, err: TextIO, tty: bool) -> None:
        self.name, self.out, self.err, self.tty = name, out, err, tty
        self.status: dict[str, Any] | None = None
        self.progress_key: tuple[Any, ...] | None = None
        self.bar: tqdm | None = None

    def _line(self, text: str, err: bool = False) -> None:
        stream = self.err if err else self.out
        if self.bar is not None:
            self.bar.clear()
            print(text, file=stream, flush=True)
            self.bar.refresh()
        else:
            print(text, file=stream, flush=True)

    def _progress(self, progress: dict[str, Any]) -> None:
        total, step = int(progress.get("totalSteps") or 0), int(progress.get("step") or 0)
        if not self.tty:
            if _progress_key(progress) != self.progress_key:
                self._line(views.progress_line(progress))
            self.progress_key = _progress_key(progress)
            return
        if self.bar is None:
            self.bar = tqdm(total=total or None, desc=self.name, file=self.out, unit="step", dynamic_ncols=True,
                            bar_format="{desc}: {percentage:3.0f}%|{bar}| {n}/{total}{postfix}")
        if total and self.bar.total != total:
            self.bar.total = total
        self.bar.n = step
        parts = []
        if progress.get("loss") is not None:
            parts.append(f"loss {progress['loss']:.4g}")
        if progress.get("evalLoss") is not None:
            parts.append(f"eval {progress['evalLoss']:.4g}")
        if progress.get("etaSeconds") is not None:
            parts.append(f"ETA {views.duration(progress['etaSeconds'])}")
        self.bar.set_postfix_str(", ".join(parts), refresh=False)
        self.bar.refresh()
        self.progress_key = _progress_key(progress)

    def update(self, obj: dict[str, Any]) -> int | None:
        status = obj.get("status") or {}
        for line in views.status_changes(self.status, status):
            self._line(line)
        if isinstance(status.get("progress"), dict):
            self._progress(status["progress"])
        self.status = status
        result = terminal_result(obj)
        if result == 0:
            self.close()
            self._line(views.success_line(self.name, status))
        elif result == 1:
            self.close()
            for line in views.failure_lines(self.name, status):
                self._line(line, err=True)
        return result

    def summary(self) -> str:
        status = self.status or {}
        progress = status.get("progress") or {}
        step = f", step {progress.get('step', 0)}/{progress.get('totalSteps', 0)}" if progress else ""
        return f"phase {status.get('phase') or 'unknown'}{step}"

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def follow(conn: cluster.Connection, ns: str, name: str, timeout: float | None, follower: Follower) -> int:
    """Watch until the training ends (0 Succeeded, 1 Failed) or ``timeout`` seconds pass (1)."""
    deadline = time.monotonic() + timeout if timeout else None
    what = f"{cluster.TRAININGS.singular} {ns}/{name}"
    obj = cluster.get(conn, cluster.TRAININGS, ns, name)
    result = follower.update(obj)
    while result is None:
        remaining = WATCH_SECONDS if deadline is None else deadline - time.monotonic()
        if remaining <= 0:
            follower.close()
            print(f"error: timed out after {timeout:g}s following {what} ({follower.summary()})", file=follower.err)
            return 1
        version = (obj.get("metadata") or {}).get("resourceVersion") or ""
        try:
            events = cluster.watch_object(conn, cluster.TRAININGS, ns, name, version, min(remaining, WATCH_SECONDS))
            with contextlib.closing(events):
                for kind, changed in events:
                    if kind == "DELETED":
                        follower.close()
                        print(f"error: {what} was deleted", file=follower.err)
                        return 1
                    obj = changed
                    result = follower.update(obj)
                    if result is not None or (deadline is not None and time.monotonic() >= deadline):
                        break
        except cluster.ClusterError as exc:
            if exc.reason != "Gone":
                raise
            obj = cluster.get(conn, cluster.TRAININGS, ns, name)  # too old to resume: start from now
            result = follower.update(obj)
    return result


def _is_terminal(stream: TextIO) -> bool:
    """A terminal with a known width: a bar there; lines anywhere else (a pipe, a log, a 0x0 pty)."""
    try:
        return stream.isatty() and os.get_terminal_size(stream.fileno()).columns > 0
    except (OSError, ValueError, AttributeError):
        return False


@guarded
def cmd_follow(args: argparse.Namespace) -> int:
    conn, ns = connect(args)
    follower = Follower(args.name, sys.stdout, sys.stderr, tty=_is_terminal(sys.stdout))
    try:
        return follow(conn, ns, args.name, args.timeout, follower)
    finally:
        follower.close()


@guarded
def cmd_list(args: argparse.Namespace) -> int:
    objects = fetch_list(args, cluster.TRAININGS, DOMAIN_TRAINING)
    if objects:
        print(views.training_table(objects, now(), namespaces=args.all_namespaces))
    return 0


def register(sub: Any) -> None:
    """Add ``tara training follow|list`` to ``tara``'s subparsers."""
    parent = cluster_options()
    training = sub.add_parser("training", help="follow and list DomainTrainings in the cluster")
    training_sub = training.add_subparsers(dest="training_command", required=True, metavar="VERB")
    text = "watch a DomainTraining's progress until it Succeeds (exit 0) or Fails (exit 1)"
    p = training_sub.add_parser("follow", parents=[parent], help=text, description=text)
    p.add_argument("name", help="the DomainTraining's name")
    p.add_argument("-n", "--namespace", help="namespace (default: the context's)")
    p.add_argument("--timeout", type=float, metavar="SECONDS", help="give up (exit 1) after this long (default: never)")
    p.set_defaults(func=cmd_follow)
    text = "list trainings in the cluster or in manifest files (-f)"
    p = training_sub.add_parser("list", parents=[parent], help=text, description=text)
    add_list_options(p)
    p.set_defaults(func=cmd_list)
