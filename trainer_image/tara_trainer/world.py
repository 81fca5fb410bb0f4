"""A worker's place in a data-parallel training, and the few collectives the trainer itself needs.

Hugging Face's Trainer does the data-parallel training (DDP through accelerate); TARA adds what
must happen once or in agreement around it:

- one process decides, the others follow: rank 0 picks the checkpoint to resume (and tidies the
  folder), then ``broadcast``\\ s the decision;
- downloads and caches are made ``in_turn``: global rank 0 first, then the first process of each
  other pod (its own disk), then the rest, which find them made;
- every rank stops together: a SIGTERM seen by any rank stops all of them at the same step
  (``any``), and ``barrier``\\ s keep a rank from exiting while rank 0 still writes a checkpoint or
  the adapter (the launcher stops every rank as soon as one exits with an error);
- ``min`` makes the ranks agree on a probed batch size;
- across pods, ``check_shared`` makes sure every pod sees the output folder rank 0 writes.

A world of one process (no launcher) does no collective at all, so a single-process run is exactly
what it was before data parallelism existed.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import torch

from tara_trainer.errors import HardwareUnsupported
from tara_trainer.settings import TrainerSettings

__all__ = ["World"]

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class World:
    """Ranks of this process and of the training (torchrun's RANK, LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE)."""

    rank: int = 0
    local_rank: int = 0
    size: int = 1
    local_size: int = 1
    backend: str = "gloo"

    @classmethod
    def from_settings(cls, settings: TrainerSettings, on_cuda: bool) -> World:
        backend = settings.dist_backend or ("nccl" if on_cuda else "gloo")
        return cls(settings.rank or 0, settings.local_rank or 0, settings.world_size, settings.local_world_size, backend)

    @property
    def is_main(self) -> bool:
        """Global rank 0: the one process that reports, writes checkpoints' markers and the adapter."""
        return self.rank == 0

    @property
    def multi_node(self) -> bool:
        return self.size > self.local_size

    @property
    def _device(self) -> torch.device:
        return torch.device("cuda", self.local_rank) if self.backend == "nccl" else torch.device("cpu")

    def start(self, on_cuda: bool) -> None:
        """Pin this rank's GPU and join the process group (Hugging Face's accelerate then uses it)."""
        if on_cuda:
            torch.cuda.set_device(self.local_rank)
        if self.size == 1 or torch.distributed.is_initialized():
            return
        torch.distributed.init_process_group(self.backend, device_id=self._device if self.backend == "nccl" else None)
        log.info("rank %d of %d (local rank %d) joined the %s process group", self.rank, self.size, self.local_rank,
                 self.backend)

    def close(self) -> None:
        if self.size > 1 and torch.distributed.is_initialized():
            torch.distributed.destroy_process_group()

    def barrier(self) -> None:
        if self.size > 1:
            torch.distributed.barrier(device_ids=[self.local_rank] if self.backend == "nccl" else None)

    def _reduce(self, value: int, op: Any) -> int:
        if self.size == 1:
            return value
        tensor = torch.tensor([value], dtype=torch.int64, device=self._device)
        torch.distributed.all_reduce(tensor, op=op)
        return int(tensor.item())

    def any(self, flag: bool) -> bool:
        """True on every rank when it is true on one."""
        return bool(self._reduce(int(flag), torch.distributed.ReduceOp.MAX if self.size > 1 else None))

    def min(self, value: int) -> int:
        return self._reduce(value, torch.distributed.ReduceOp.MIN if self.size > 1 else None)

    def broadcast(self, value: T) -> T:
        """Rank 0's ``value`` on every rank (pickled)."""
        if self.size == 1:
            return value
        box = [value]
        torch.distributed.broadcast_object_list(box, src=0, device=self._device)
        return box[0]

    def in_turn(self, make: Callable[[], T]) -> T:
        """``make()`` on global rank 0, then on the first rank of every other pod, then on the rest: what
        the first one writes to a shared cache the others find there, and nothing is made twice at once."""
        if self.size == 1:
            return make()
        result: T | None = None
        for turn in range(3):
            mine = 0 if self.is_main else 1 if self.local_rank == 0 else 2
            if mine == turn:
                result = make()
            self.barrier()
        return result  # type: ignore[return-value]

    def check_shared(self, out: Path) -> None:
        """Across pods, rank 0 writes checkpoints that every rank resumes from: the output folder must be one
        volume all pods share. Raises HardwareUnsupported on every rank when a pod does not see rank 0's file."""
        probe = self.broadcast(f".tara-shared-{uuid.uuid4().hex}" if self.is_main else None)
        if self.is_main:
            (out / probe).write_text("written by rank 0\n", encoding="utf-8")
        self.barrier()
        missing = self.any(self.local_rank == 0 and not (out / probe).is_file())
        self.barrier()
        if self.is_main:
            (out / probe).unlink(missing_ok=True)
        if missing:
            raise HardwareUnsupported(
                f"the output folder {out} is not shared by every pod of this {self.size}-process training: a training "
                "over several pods needs storage they all mount (a ReadWriteMany claim), or one pod with more GPUs"
            )
