"""The launcher: ``tara-trainer train`` re-run through ``torch.distributed.run``, and the launch's one verdict.

This process becomes torchrun's agent (``torch.distributed.run.run``, in-process, so the launcher
sees each worker's exit code and time). The agent holds SIGTERM and SIGINT while workers run and
passes them on: each worker saves a checkpoint at the end of the step and exits 75, as a single
process does. After the launch, the workers' reports (``TARA_RANK_REPORTS``: one JSON file per
rank) and exits become one exit code and reason (``distributed.verdict``), written to the
termination log (by the caller) and to ``state.json``, so the pod's exit means what a single trainer's exit means.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import time
from pathlib import Path

from tara_api.reasons import Reason
from tara_trainer.distributed import (
    LaunchPlan,
    RankExit,
    RankReport,
    Verdict,
    torchrun_argv,
    verdict,
    worker_env,
)
from tara_trainer.errors import TrainerError
from tara_trainer.progress import write_json_atomic

__all__ = ["LaunchFailed", "launch", "read_reports", "write_report"]

log = logging.getLogger(__name__)

STATE_FILE = "state.json"  # train.STATE_FILE, without importing the training stack here


def write_report(folder: Path, report: RankReport) -> None:
    """A worker's outcome, for the launcher (atomic: a reader never sees half of it)."""
    write_json_atomic(folder / f"rank-{report.rank}.json", report.to_wire())


def read_reports(folder: Path) -> dict[int, RankReport]:
    out = {}
    for path in sorted(folder.glob("rank-*.json")):
        try:
            report = RankReport.from_wire(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("unreadable rank report %s: %s", path.name, exc)
            continue
        out[report.rank] = report
    return out


def _run_torchrun(plan: LaunchPlan, argv: list[str]) -> tuple[list[RankExit], int | None]:
    """Run the workers; the ones that failed and, when a signal ended the launch, its number."""
    from torch.distributed.elastic.multiprocessing.api import SignalException
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.run import get_args_parser, run

    args = get_args_parser().parse_args(torchrun_argv(plan, argv))
    try:
        run(args)
    except ChildFailedError as exc:
        return [RankExit(rank, failure.exitcode, float(failure.timestamp)) for rank, failure in exc.failures.items()], None
    except SignalException as exc:
        return [], int(exc.sigval)
    return [], None


def launch(plan: LaunchPlan, argv: list[str], output_dir: Path, on_cpu: bool) -> Verdict:
    """Launch this pod's workers with ``argv`` (the ``train`` command line) and decide the launch's outcome;
    a failure's reason and message also go to ``state.json`` (the caller writes the termination log)."""
    reports_dir = Path(tempfile.mkdtemp(prefix="tara-ranks-"))
    changes, unset = worker_env(os.environ, str(reports_dir), plan, os.cpu_count() or 1, on_cpu)
    saved = {name: os.environ.get(name) for name in (*changes, *unset)}
    log.info("launching %d training process(es) on this pod (node %d of %d, %d in all) through torch.distributed.run",
             plan.nproc_per_node, plan.node_rank, plan.nnodes, plan.world_size)
    started = time.time()
    try:
        os.environ.update(changes)
        for name in unset:
            os.environ.pop(name, None)
        exits, signalled = _run_torchrun(plan, argv)
        outcome = verdict(plan.world_size, exits, read_reports(reports_dir), signalled)
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        shutil.rmtree(reports_dir, ignore_errors=True)
    if outcome.reason is not None:
        _record(outcome, output_dir)
    log.info("launch ended after %.0f s with exit code %d", time.time() - started, outcome.exit_code)
    return outcome


def _record(outcome: Verdict, output_dir: Path) -> None:
    """A failed launch's verdict in ``state.json``, which rank 0 left with what it saw (a peer's
    dropped connection, say, where the cause was another rank)."""
    state_file = output_dir / STATE_FILE
    try:
        state = json.loads(state_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return  # rank 0 never got as far as writing one
    status = "Preempted" if outcome.reason == Reason.PREEMPTED else "Failed"
    state.update(status=status, reason=str(outcome.reason), message=outcome.message,
                 updated_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    write_json_atomic(state_file, state)


class LaunchFailed(TrainerError):
    """A launch that failed: the verdict's reason and exit code (a rank's, or Crashed for a killed rank)."""

    def __init__(self, outcome: Verdict) -> None:
        super().__init__(outcome.message)
        reason = Reason(outcome.reason)
        self.reason, self.exit_code, self.permanent = reason, outcome.exit_code, not reason.retryable  # type: ignore[misc]
