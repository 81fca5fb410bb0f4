"""Hugging Face Trainer callbacks: progress, checkpoint completion and rotation, and preemption.

A saved checkpoint is handed to the ``rotation.CheckpointFinisher`` (marker, then pruning, off the
training thread) and reported once complete; the end of training waits for the last one. SIGTERM (a preempted or evicted pod gets it before SIGKILL) only sets a flag; the callback
turns it into "save a checkpoint at the end of this step, then stop", so the save happens inside
the grace period and the process exits with the resume code.

In a data-parallel run the callback runs in every rank: the ranks agree at each step whether one
of them was asked to stop (so all save the same step and stop there), wait for each other after a
save (every rank writes its own RNG state into the folder) before rank 0 alone, the one holding a
finisher, marks it complete; each rank's gauges show its own throughput (``RankMetrics``).
"""

from __future__ import annotations

import logging
import signal
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import torch
from transformers import TrainerCallback, TrainerControl, TrainerState, TrainingArguments

from tara_trainer.faults import Fault, FaultPoint
from tara_trainer.progress import Progress, ProgressReporter, TrainerMetrics
from tara_trainer.rotation import CheckpointFinisher, Finished
from tara_trainer.world import World

__all__ = ["PreemptionGuard", "RankMetrics", "TaraCallback"]

log = logging.getLogger(__name__)


class PreemptionGuard:
    """Turns SIGTERM into a flag; restores the previous handler on exit."""

    def __init__(self) -> None:
        self.requested = False
        self._previous: Any = None

    def _handle(self, signum: int, _frame: Any) -> None:
        if not self.requested:
            log.warning("received signal %d: saving a checkpoint at the end of this step, then exiting", signum)
        self.requested = True

    def __enter__(self) -> PreemptionGuard:
        self._previous = signal.signal(signal.SIGTERM, self._handle)
        return self

    def __exit__(self, *_exc: object) -> None:
        signal.signal(signal.SIGTERM, self._previous)


class RankMetrics(TrainerMetrics):
    """One rank's gauges in a data-parallel run: the throughput is this rank's own (the tokens it trained
    on), not the run's, which the status and ``state.json`` show."""

    own_tokens_per_second: float | None = None

    def update(self, progress: Progress) -> None:
        super().update(replace(progress, tokens_per_second=self.own_tokens_per_second))


class TaraCallback(TrainerCallback):
    """Feeds the reporter, hands saved checkpoints to the finisher (rank 0's; None elsewhere), and honours
    preemption. ``rank_tokens`` and ``rank_metrics``: this rank's own token count and gauges."""

    def __init__(self, reporter: ProgressReporter, guard: PreemptionGuard, checkpoint_root: Path,
                 finisher: CheckpointFinisher | None, world: World | None = None, fault: Fault | None = None,
                 rank_tokens: Callable[[], int] | None = None, rank_metrics: RankMetrics | None = None) -> None:
        self.reporter = reporter
        self.guard = guard
        self.checkpoint_root = checkpoint_root
        self.finisher = finisher
        self.world = world or World()
        self.fault = fault
        self.rank_tokens = rank_tokens
        self.rank_metrics = rank_metrics
        self._rank_window: tuple[float, int] | None = None
        self._window: tuple[float, int] | None = None
        self._attempt_start: tuple[float, int] | None = None
        self.tokens_per_second: float | None = None
        # (time, tokens) after this attempt's first step and at its end: the steady-state window
        # the benchmark compares against a plain loop (the first step pays for warm-up).
        self.timed_start: tuple[float, int] | None = None
        self.timed_end: tuple[float, int] | None = None
        # Costs the benchmark reports: each checkpoint save on the training thread (HF's save), each
        # marker in the background, and the time from calling train() to the end of the first step
        # (includes loading a checkpoint).
        self.train_called_at: float | None = None
        self.seconds_to_first_step: float | None = None
        self.save_seconds: list[float] = []
        self.marker_seconds: list[float] = []
        self._save_started: float | None = None

    @property
    def timed(self) -> tuple[float, int]:
        """Seconds and tokens of the steady-state window (zeros when fewer than two steps ran)."""
        if self.timed_start is None or self.timed_end is None:
            return 0.0, 0
        return self.timed_end[0] - self.timed_start[0], self.timed_end[1] - self.timed_start[1]

    def on_train_begin(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **_: Any) -> None:
        now = time.monotonic()
        self._attempt_start = (now, state.global_step)
        self._window = (now, state.num_input_tokens_seen)
        self._rank_window = (now, self.rank_tokens()) if self.rank_tokens else None
        self.reporter.update(force=True, status="Running", step=state.global_step, total_steps=state.max_steps)

    def on_step_end(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **_: Any) -> None:
        now = time.monotonic()
        if self.timed_start is None:
            self.timed_start = (now, state.num_input_tokens_seen)
            if self.train_called_at is not None:
                self.seconds_to_first_step = now - self.train_called_at
        if self._window is not None and now - self._window[0] >= 1.0:
            self.tokens_per_second = (state.num_input_tokens_seen - self._window[1]) / (now - self._window[0])
            self._window = (now, state.num_input_tokens_seen)
        if self.rank_tokens and self.rank_metrics and self._rank_window and now - self._rank_window[0] >= 1.0:
            tokens = self.rank_tokens()
            self.rank_metrics.own_tokens_per_second = (tokens - self._rank_window[1]) / (now - self._rank_window[0])
            self._rank_window = (now, tokens)
        eta = None
        if self._attempt_start is not None and state.global_step > self._attempt_start[1]:
            per_step = (now - self._attempt_start[0]) / (state.global_step - self._attempt_start[1])
            eta = int(per_step * max(state.max_steps - state.global_step, 0))
        self.reporter.update(
            step=state.global_step,
            total_steps=state.max_steps,
            epoch=state.epoch,
            tokens_per_second=self.tokens_per_second,
            eta_seconds=eta,
        )
        if self.finisher is not None:
            self._report(self.finisher.finished())
        # Every rank stops at the same step, whichever of them got the signal (a collective each step).
        if self.world.any(self.guard.requested):
            if not self.guard.requested:
                log.warning("another rank is stopping: saving a checkpoint at the end of this step, then exiting")
                self.guard.requested = True
            control.should_save = True
            control.should_training_stop = True
        # HF saves after the step callbacks; DefaultFlowCallback has already decided by now.
        self._save_started = time.monotonic() if control.should_save else None
        if self.fault is not None:
            self.fault.hit(FaultPoint.AFTER_STEP, state.global_step)

    def on_train_end(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **_: Any) -> None:
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        self.timed_end = (time.monotonic(), state.num_input_tokens_seen)
        if self.finisher is not None:
            self._report(self.finisher.close())  # a preempted run exits only once its last checkpoint is complete

    def on_log(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, logs: dict | None = None, **_: Any) -> None:
        logs = logs or {}
        changes = {}
        if "loss" in logs:
            changes["loss"] = float(logs["loss"])
        if "learning_rate" in logs:
            changes["learning_rate"] = float(logs["learning_rate"])
        if "eval_loss" in logs:
            changes["eval_loss"] = float(logs["eval_loss"])
        if changes:
            p = self.reporter.update(**changes)
            if "loss" in changes:
                log.info(
                    "step %d/%d  loss %.4f  lr %.2e  %s tok/s  eta %s",
                    p.step, p.total_steps, p.loss, p.learning_rate or 0.0,
                    f"{p.tokens_per_second:.0f}" if p.tokens_per_second else "-",
                    f"{p.eta_seconds}s" if p.eta_seconds is not None else "-",
                )
            elif "eval_loss" in changes:
                log.info("step %d/%d  eval loss %.4f", p.step, p.total_steps, p.eval_loss)

    def on_save(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **_: Any) -> None:
        self.world.barrier()  # every rank's files (its RNG state) are in the folder before it is hashed
        if self.finisher is None or not (self.checkpoint_root / f"checkpoint-{state.global_step}").is_dir():
            return
        self.finisher.submit(state.global_step)
        if self._save_started is not None:
            self.save_seconds.append(time.monotonic() - self._save_started)

    def _report(self, finished: list[Finished]) -> None:
        for done in finished:
            self.marker_seconds.append(done.marker_seconds)
            log.info("checkpoint %s saved and verified%s", done.folder.name,
                     f"; removed {', '.join(done.pruned)}" if done.pruned else "")
            self.reporter.update(
                force=True,
                checkpoint=str(done.folder),
                checkpoint_step=done.step,
                checkpoint_time=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            )
