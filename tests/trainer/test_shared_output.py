"""A training over several pods needs an output folder every pod mounts: two real gloo ranks, each
its own "pod" (local rank 0), check the folder they were given; ranks that do not see rank 0's probe
file fail with HardwareUnsupported on every rank, ranks that share the folder go on."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

RANK = """
import sys
from pathlib import Path
from tara_trainer.errors import HardwareUnsupported
from tara_trainer.world import World
world = World(rank=int(sys.argv[1]), local_rank=0, size=2, local_size=1, backend="gloo")
world.start(on_cuda=False)
try:
    world.check_shared(Path(sys.argv[2]))
    print("shared")
except HardwareUnsupported as exc:
    print(f"unsupported: {exc}")
finally:
    world.close()
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ranks(folders: list[Path]) -> list[str]:
    env = {**os.environ, "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(_free_port()), "WORLD_SIZE": "2"}
    procs = [subprocess.Popen([sys.executable, "-c", RANK, str(rank), str(folder)], env={**env, "RANK": str(rank)},
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for rank, folder in enumerate(folders)]
    outs = []
    for proc in procs:
        out, err = proc.communicate(timeout=240)
        assert proc.returncode == 0, err[-3000:]
        outs.append(out.strip())
    return outs


@pytest.mark.slow
def test_pods_that_do_not_share_the_output_folder_fail_hardware_unsupported(tmp_path: Path) -> None:
    pods = [tmp_path / "pod-0", tmp_path / "pod-1"]
    for folder in pods:
        folder.mkdir()
    assert _ranks([tmp_path, tmp_path]) == ["shared", "shared"]
    outs = _ranks(pods)
    assert all(o.startswith("unsupported: ") and "ReadWriteMany" in o for o in outs), outs
    assert not [p for folder in [tmp_path, *pods] for p in folder.glob(".tara-shared-*")]  # the probe is removed
