"""Data-parallel training: what to launch, how to split the batch, and what a launch's end means (pure).

``tara-trainer train`` stays the one command a pod runs. When the operator asks for more than one
process (``TARA_NNODES`` pods × ``TARA_NPROC_PER_NODE`` processes a pod) and this process is not
already a worker, the command re-launches itself through ``torch.distributed.run`` with static
rendezvous (``launch``); each worker trains on its own GPU (or CPU) with Hugging Face's DDP, and
global rank 0 alone reports and writes (``world``, ``train``).

The decisions live here, without torch or files, so tests reach them as tables:

- ``launch_plan``: whether to launch, and with which ``torch.distributed.run`` arguments.
- ``split_batch``: the global batch is the spec's ``batchSize × gradientAccumulation`` whatever the
  world size, so a run resumed with another number of processes takes the same optimizer steps
  over the same samples. Gradient accumulation is divided by the world size; when it does not
  divide, the per-device batch shrinks to the largest size that makes the split even; when
  nothing does, the spec is refused.
- ``verdict``: the one exit code and reason of a launch, from what each rank reported and how each
  process ended, so the trainer's exit-code table (``tara_api.reasons``) stays true: a preempted
  rank makes the launch ``Preempted`` (75); otherwise the first rank that failed gives its reason,
  and a rank killed by a signal (no report) is ``Crashed`` with its rank and signal.
"""

from __future__ import annotations

import signal
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tara_api.reasons import Reason
from tara_trainer.errors import EXIT_PREEMPTED, EXIT_UNEXPECTED, SpecInvalid
from tara_trainer.settings import TrainerSettings

__all__ = [
    "SAME_FAILURE_WINDOW_S",
    "BatchSplit",
    "LaunchPlan",
    "RankExit",
    "RankReport",
    "Verdict",
    "launch_plan",
    "metrics_port",
    "split_batch",
    "torchrun_argv",
    "verdict",
    "worker_env",
]

# Failures this close to the first one are taken as one event, and the likeliest cause among them
# wins (a rank's own error or a kill, before a peer's "connection closed" that followed it).
SAME_FAILURE_WINDOW_S = 2.0
_SHUTDOWN_SIGNALS = (signal.SIGTERM, signal.SIGINT)


@dataclass(frozen=True)
class LaunchPlan:
    """One pod's part of a data-parallel launch."""

    nnodes: int
    nproc_per_node: int
    node_rank: int
    master_addr: str
    master_port: int
    shutdown_timeout_s: int

    @property
    def world_size(self) -> int:
        return self.nnodes * self.nproc_per_node


def launch_plan(settings: TrainerSettings) -> LaunchPlan | None:
    """The launch this process must start; None when it trains by itself: a world of one process, or
    a worker ``torch.distributed.run`` already started (RANK/LOCAL_RANK set)."""
    if settings.is_worker or settings.nnodes * settings.nproc_per_node == 1:
        return None
    return LaunchPlan(settings.nnodes, settings.nproc_per_node, settings.node_rank, settings.master_addr,
                      settings.master_port, settings.dist_shutdown_timeout_s)


def torchrun_argv(plan: LaunchPlan, argv: Sequence[str]) -> list[str]:
    """``torch.distributed.run``'s arguments: static rendezvous at the node-rank-0 pod, no restarts (a
    failed rank fails the launch; the operator's retry resumes from the last checkpoint), and each
    worker running ``python -m tara_trainer.cli`` with this command's own ``argv``."""
    return [
        "--nnodes", str(plan.nnodes),
        "--nproc-per-node", str(plan.nproc_per_node),
        "--node-rank", str(plan.node_rank),
        "--master-addr", plan.master_addr,
        "--master-port", str(plan.master_port),
        "--rdzv-backend", "static",
        "--max-restarts", "0",
        "--shutdown-timeout", str(plan.shutdown_timeout_s),
        "--module", "tara_trainer.cli",
        *argv,
    ]


def worker_env(env: Mapping[str, str], reports_dir: str, plan: LaunchPlan, cpus: int,
               on_cpu: bool) -> tuple[dict[str, str], tuple[str, ...]]:
    """Environment changes for the workers: ``(set, unset)``. They report to ``reports_dir`` and leave the
    termination log to the launcher (it writes the launch's one verdict). On CPU each worker gets its
    share of the cores as OpenMP threads (``torch.distributed.run`` would give each one thread)."""
    changes = {"TARA_RANK_REPORTS": reports_dir}
    if on_cpu and not env.get("OMP_NUM_THREADS"):
        changes["OMP_NUM_THREADS"] = str(max(1, cpus // plan.nproc_per_node))
    return changes, ("TARA_TERMINATION_LOG",)


def metrics_port(base: int, local_rank: int | None) -> int:
    """The Prometheus port of a rank: ``TARA_METRICS_PORT + LOCAL_RANK``; 0 (off) stays 0."""
    if not base:
        return 0
    port = base + (local_rank or 0)
    if port > 65535:
        raise SpecInvalid(f"TARA_METRICS_PORT {base} + local rank {local_rank} is above 65535")
    return port


@dataclass(frozen=True)
class BatchSplit:
    """How one optimizer step's samples are spread: ``per_device × accumulation × world`` of them."""

    per_device: int
    accumulation: int
    world: int

    @property
    def global_batch(self) -> int:
        return self.per_device * self.accumulation * self.world


def split_batch(per_device: int, accumulation: int, world: int) -> BatchSplit:
    """Keep the global batch ``per_device × accumulation`` (the spec's, as one process runs it) over
    ``world`` processes: accumulation divided by the world size, else the largest smaller per-device
    batch that splits evenly. Raises SpecInvalid when none does."""
    total = per_device * accumulation
    for device_batch in range(per_device, 0, -1):
        if total % (device_batch * world) == 0:
            return BatchSplit(device_batch, total // (device_batch * world), world)
    multiple = next(ga for ga in range(accumulation, accumulation + world + 1) if per_device * ga % world == 0)
    raise SpecInvalid(
        f"training.batchSize {per_device} × gradientAccumulation {accumulation} is a global batch of {total} "
        f"samples, which {world} training processes cannot share evenly (each optimizer step must see the "
        f"same samples whatever the number of processes); make batchSize × gradientAccumulation a multiple "
        f"of {world} (e.g. gradientAccumulation {multiple}) or change the number of GPUs"
    )


@dataclass(frozen=True)
class RankReport:
    """What a worker wrote as it ended: its exit code, reason (None for a signal outside training)
    and message, and when (seconds since the epoch)."""

    rank: int
    exit_code: int
    reason: str | None
    message: str
    at: float

    def to_wire(self) -> dict[str, Any]:
        return {"rank": self.rank, "exitCode": self.exit_code, "reason": self.reason, "message": self.message, "at": self.at}

    @classmethod
    def from_wire(cls, body: Mapping[str, Any]) -> RankReport:
        return cls(int(body["rank"]), int(body["exitCode"]), body.get("reason"), str(body.get("message", "")), float(body["at"]))


@dataclass(frozen=True)
class RankExit:
    """How the launcher saw a worker process end: exit code (negative: killed by that signal) and when."""

    rank: int
    exit_code: int
    at: float


@dataclass(frozen=True)
class Verdict:
    """The launch's exit code, reason for the termination log (None: none to write) and message."""

    exit_code: int
    reason: str | None
    message: str


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


@dataclass(frozen=True)
class _Failure:
    rank: int
    at: float
    priority: int  # 0 a trainer error, 1 killed by a signal, 2 a crash, 3 stopped by the shutdown
    verdict: Verdict


def _failure(rank: int, world: int, report: RankReport | None, exit_code: int | None, at: float) -> _Failure:
    who = f"rank {rank} of {world}"
    if report is not None:
        stopped = report.reason is None or report.exit_code in (128 + s for s in _SHUTDOWN_SIGNALS)
        priority = 3 if stopped else 2 if report.reason in (Reason.CRASHED, Reason.TRAINING_FAILED) else 0
        return _Failure(rank, report.at, priority, Verdict(report.exit_code, report.reason, f"{who}: {report.message}"))
    code = exit_code if exit_code is not None else EXIT_UNEXPECTED
    if code < 0:
        name = _signal_name(-code)
        priority = 3 if -code in _SHUTDOWN_SIGNALS else 1
        message = (f"{who} was killed by {name} (the kernel's OOM killer, a lost node or a kill) and the launch stopped "
                   "the other ranks; rerun to resume from the last checkpoint")
    else:
        priority = 2
        message = f"{who} exited with code {code} before it could report why; its log above has the error"
    return _Failure(rank, at, priority, Verdict(EXIT_UNEXPECTED, Reason.CRASHED, message))


def verdict(world: int, exits: Sequence[RankExit], reports: Mapping[int, RankReport], signalled: int | None = None) -> Verdict:
    """The launch's outcome (pure). ``exits``: the workers the launcher saw fail (none when all
    succeeded, or when a signal to the launcher ended the launch: ``signalled``); ``reports``: what
    the workers wrote. A preempted rank makes it Preempted; otherwise the likeliest cause among the
    failures within ``SAME_FAILURE_WINDOW_S`` of the first; success when nothing failed."""
    preempted = sorted((r for r in reports.values() if r.exit_code == EXIT_PREEMPTED), key=lambda r: r.rank)
    if preempted:
        first = preempted[0]
        return Verdict(EXIT_PREEMPTED, Reason.PREEMPTED, f"{first.message} ({len(preempted)} of {world} ranks saved and stopped)")
    seen = {e.rank: e for e in exits}
    failures = [
        _failure(rank, world, reports.get(rank), seen[rank].exit_code if rank in seen else None,
                 reports[rank].at if rank in reports else seen[rank].at)
        for rank in sorted(set(seen) | {r for r, rep in reports.items() if rep.exit_code != 0})
    ]
    if failures:
        start = min(f.at for f in failures)
        near = [f for f in failures if f.at - start <= SAME_FAILURE_WINDOW_S]
        return min(near, key=lambda f: (f.priority, f.at, f.rank)).verdict
    if signalled is not None:
        name = _signal_name(signalled)
        return Verdict(128 + signalled, None, f"interrupted ({name}) before the workers reported; rerun to resume")
    return Verdict(0, None, "")
