"""Completing and rotating checkpoints so that a kill at any instant leaves one to resume from.

Hugging Face's own rotation (``save_total_limit``) deletes older checkpoints right after writing a
new one, before TARA's completion marker makes the new one trustworthy: with ``keepCheckpoints: 1``
a kill in between left nothing to resume. TARA turns HF's rotation off and orders the steps itself:

1. HF writes ``checkpoint-N`` on the training thread (``on_save`` follows).
2. The finisher hashes N's files, flushing each to disk, and writes N's marker atomically. Only a
   folder with a marker is ever resumed from (``checkpoints.inspect_checkpoint``).
3. Only then are older checkpoints pruned (``plan_prune``): the ``keep`` newest *complete* ones
   stay, the newest complete one always, and a save in progress is never touched. A folder leaves
   the ``checkpoint-<step>`` namespace by an atomic rename before it is deleted, so a half-deleted
   folder is never taken for a checkpoint.

Invariant: from the first marker on, the folder always holds a complete checkpoint at least as new
as every checkpoint that was complete before; a kill anywhere loses only the steps after it.

Steps 2 and 3 run on one worker thread, in save order, so hashing costs the training loop nothing;
a failure there is raised on the training thread at its next step. On the next start, folders
renamed for deletion and checkpoints without a marker are removed with a logged line (``tidy``).
"""

from __future__ import annotations

import logging
import shutil
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tara_trainer import checkpoints as ckpt
from tara_trainer.faults import Fault, FaultPoint

__all__ = ["CheckpointFinisher", "Finished", "discard", "plan_prune", "tidy"]

log = logging.getLogger(__name__)

DISCARDED = ".discarded-"  # prefix of a folder on its way out: no longer a checkpoint-<step>


def plan_prune(checkpoints: Iterable[tuple[int, bool]], keep: int) -> list[int]:
    """Steps to delete, given ``(step, complete)`` of every checkpoint (pure): complete ones older than
    the ``keep`` newest complete ones, and incomplete ones older than the newest complete one (left by
    a crash). Never the newest complete one; never an incomplete one newer than it (a save in progress)."""
    listed = list(checkpoints)
    complete = sorted(step for step, ok in listed if ok)
    if not complete:
        return []
    kept = set(complete[-max(keep, 1):])
    return sorted(step for step, _ in listed if step < complete[-1] and step not in kept)


def discard(folder: Path, before_delete: Callable[[], None] | None = None) -> None:
    """Delete a checkpoint folder: first renamed out of the checkpoint namespace (atomic), then removed."""
    trash = folder.with_name(DISCARDED + folder.name)
    if trash.exists():
        shutil.rmtree(trash)
    folder.rename(trash)
    if before_delete is not None:
        before_delete()
    shutil.rmtree(trash)


def tidy(root: Path, rejected: Sequence[ckpt.CheckpointInfo], out: Path) -> None:
    """At start: remove what a killed run left (folders renamed for deletion, checkpoints without a
    marker) and move every other rejected checkpoint aside for inspection; one logged line each."""
    for leftover in sorted(root.glob(DISCARDED + "*")) if root.is_dir() else []:
        shutil.rmtree(leftover)
        log.warning("removed %s: a deletion the previous run did not finish", leftover.name)
    for info in rejected:
        why = info.reason or "saved by a run with a different spec"
        if info.interrupted:
            discard(info.path)
            log.warning("skipping %s: %s (removed)", info.path.name, why)
        else:
            log.warning("skipping %s: %s (moved to %s)", info.path.name, why, ckpt.quarantine(info, out))


@dataclass(frozen=True)
class Finished:
    """A checkpoint made complete by the finisher, and what its rotation removed."""

    folder: Path
    step: int
    marker_seconds: float
    pruned: tuple[str, ...]


class CheckpointFinisher:
    """Marks saved checkpoints complete and then rotates older ones, on one background thread in save order."""

    def __init__(self, root: Path, run_id: str, marker_extra: dict[str, Any], keep: int, fault: Fault | None = None) -> None:
        self.root = root
        self.run_id = run_id
        self.marker_extra = marker_extra
        self.keep = keep
        self.fault = fault
        self._pool: ThreadPoolExecutor | None = None
        self._pending: deque[Future[Finished]] = deque()

    def submit(self, step: int) -> None:
        """Finish ``checkpoint-<step>`` (its files all written) in the background."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tara-checkpoint")
        self._pending.append(self._pool.submit(self._finish, step))

    def finished(self) -> list[Finished]:
        """Checkpoints completed since the last call, oldest first. Raises what the worker raised."""
        done = []
        while self._pending and self._pending[0].done():
            done.append(self._pending.popleft().result())
        return done

    def close(self) -> list[Finished]:
        """Wait for every submitted checkpoint, then stop the worker. Raises what the worker raised."""
        try:
            done = [future.result() for future in self._pending]
        finally:
            self._pending.clear()
            if self._pool is not None:
                self._pool.shutdown(wait=True)
                self._pool = None
        return done

    def _hit(self, point: FaultPoint, step: int) -> None:
        if self.fault is not None:
            self.fault.hit(point, step)

    def _finish(self, step: int) -> Finished:
        folder = self.root / f"checkpoint-{step}"
        self._hit(FaultPoint.AFTER_SAVE_BEFORE_MARKER, step)
        started = time.monotonic()
        ckpt.write_marker(folder, step, self.run_id, self.marker_extra)
        marker_seconds = time.monotonic() - started
        self._hit(FaultPoint.AFTER_MARKER_BEFORE_PRUNE, step)
        present = [(int(p.name.split("-")[1]), (p / ckpt.MARKER).is_file()) for p in ckpt.list_checkpoints(self.root)]
        pruned = []
        for old in plan_prune(present, self.keep):
            discard(self.root / f"checkpoint-{old}", lambda: self._hit(FaultPoint.DURING_PRUNE, step))
            pruned.append(f"checkpoint-{old}")
        return Finished(folder, step, marker_seconds, tuple(pruned))
