"""In a data-parallel run only rank 0 logs progress; the other ranks log warnings and errors only, each
line marked with its rank. Runs the trainer's own logging set-up in a fresh interpreter (logging's
basicConfig configures a process once), as ``torch.distributed.run`` would start a worker."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

SCRIPT = """
import logging
from tara_trainer.cli import _configure_logging
from tara_trainer.settings import TrainerSettings
_configure_logging(False, TrainerSettings.from_env())
log = logging.getLogger("tara_trainer.train")
log.info("step 3 of 30")
log.warning("slow disk")
"""


@pytest.mark.parametrize(("rank", "world", "lines"), [
    pytest.param(None, None, ["INFO    tara_trainer.train: step 3 of 30", "WARNING tara_trainer.train: slow disk"],
                 id="one-process"),
    pytest.param("0", "2", ["INFO    [rank 0] tara_trainer.train: step 3 of 30",
                            "WARNING [rank 0] tara_trainer.train: slow disk"], id="rank-0"),
    pytest.param("1", "2", ["WARNING [rank 1] tara_trainer.train: slow disk"], id="rank-1"),
])
def test_other_ranks_log_warnings_only_marked_with_their_rank(rank: str | None, world: str | None,
                                                              lines: list[str]) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "LOCAL_RANK", "WORLD_SIZE", "LOCAL_WORLD_SIZE")}
    if rank is not None:
        env.update(RANK=rank, LOCAL_RANK=rank, WORLD_SIZE=world, LOCAL_WORLD_SIZE=world)
    result = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    logged = [line.split(" ", 2)[2] for line in result.stderr.splitlines() if "tara_trainer.train" in line]
    assert logged == lines, result.stderr
