"""What a process left behind, read from ``/proc`` (Linux): its descendants, whether they still run, and
processes whose command line names a path, such as a test's folder (importable because pytest puts
``tests/`` on ``sys.path``)."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["alive", "descendants", "naming"]


def _stat(pid: int) -> tuple[int, str] | None:
    """(parent pid, state letter) of a process, None when it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text.rsplit(")", 1)[1].split()
    return int(fields[1]), fields[0]


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _pids() -> list[int]:
    return [int(d) for d in os.listdir("/proc") if d.isdigit()]


def descendants(root: int) -> dict[int, str]:
    """pid -> command line of every live process below ``root``."""
    children: dict[int, list[int]] = {}
    for pid in _pids():
        st = _stat(pid)
        if st is not None:
            children.setdefault(st[0], []).append(pid)
    found, todo = {}, [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found[child] = _cmdline(child)
            todo.append(child)
    return found


def alive(pids: list[int]) -> list[int]:
    """Those of ``pids`` still running (a zombie has ended: its parent only has to reap it)."""
    return [p for p in pids if (st := _stat(p)) is not None and st[1] != "Z"]


def naming(text: str) -> dict[int, str]:
    """Live processes whose command line contains ``text`` (this test process aside)."""
    return {p: c for p in _pids() if p != os.getpid() and text in (c := _cmdline(p)) and _stat(p) and _stat(p)[1] != "Z"}
