"""Fault injection for the checkpoint tests: SIGKILL the trainer at a named point of a checkpoint's life,
or at the end of a training step (one rank of a data-parallel run dying mid-run).

A kill in the narrow window between a save, its completion marker and the rotation of older
checkpoints is what loses a run, and a test cannot hit a window of milliseconds by timing a
signal from outside. So the trainer kills itself there when its settings name the point
(``TARA_FAULT_POINT``, ``TARA_FAULT_STEP``; ``TARA_FAULT_RANK`` picks one rank of a
data-parallel run). Nothing sets them in production; unset, every hook is a no-op.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["Fault", "FaultPoint"]

log = logging.getLogger(__name__)


class FaultPoint(StrEnum):
    """Where, in finishing checkpoint N, the trainer may be killed."""

    AFTER_SAVE_BEFORE_MARKER = "after-save-before-marker"  # N's files are written, its marker is not
    AFTER_MARKER_BEFORE_PRUNE = "after-marker-before-prune"  # N is complete, older ones are all still there
    DURING_PRUNE = "during-prune"  # an older checkpoint is set aside for deletion, not yet deleted
    AFTER_STEP = "after-step"  # optimizer step N is done (its callbacks ran), step N+1 has not started


@dataclass(frozen=True)
class Fault:
    """SIGKILL at ``point`` while finishing the first checkpoint at or after ``step`` (for ``AFTER_STEP``:
    at the end of the first optimizer step at or after it)."""

    point: FaultPoint
    step: int = 1

    def hit(self, point: FaultPoint, step: int) -> None:
        """Kill this process (SIGKILL: no cleanup, as the kernel's OOM killer or a node loss does) when due."""
        if point is self.point and step >= self.step:
            what = f"step {step}" if point is FaultPoint.AFTER_STEP else f"checkpoint-{step}"
            log.warning("fault injection: SIGKILL at %s (%s)", point.value, what)
            for handler in logging.getLogger().handlers:
                handler.flush()
            sys.stderr.flush()
            os.kill(os.getpid(), signal.SIGKILL)
