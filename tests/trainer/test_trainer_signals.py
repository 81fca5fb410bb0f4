"""``tara-trainer`` on SIGINT: during a training it does what SIGTERM does (a checkpoint at the end of
the step, exit 75, state Preempted); outside a training (here a GGUF build) SIGINT and SIGTERM end the
command with one log line, no traceback, 130 or 143, and the llama.cpp tool it was running is gone."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import pytest
from procs import naming
from test_training import TRAINER, env, manifest, state, valid_steps, wait_for

from tara_trainer.checkpoints import MARKER
from tara_trainer.errors import EXIT_PREEMPTED

pytestmark = pytest.mark.slow


def test_sigint_during_training_saves_a_checkpoint_like_sigterm(tiny_model_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    spec = manifest(tmp_path, tiny_model_dir, maxSteps=400, saveSteps=5)
    proc = subprocess.Popen([*TRAINER, "train", "--spec", str(spec), "--output", str(out)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env())
    wait_for(lambda: (out / "checkpoints" / "checkpoint-5" / MARKER).is_file(), proc)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == EXIT_PREEMPTED, stderr[-4000:]
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr, stderr[-4000:]
    preempted = state(out)
    assert preempted["status"] == "Preempted" and preempted["reason"] == "Preempted"
    assert valid_steps(out)[-1] == preempted["checkpoint_step"] == preempted["step"] < 400  # the step it reached


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_outside_training_ends_the_command_with_one_line(trainings_dir: Path, phase_manifest, tmp_path: Path,
                                                                    signum: int) -> None:
    phase = phase_manifest(tmp_path / "phase-1.yaml", quantization=["Q8_0"])
    out = tmp_path / "build"
    proc = subprocess.Popen([*TRAINER, "build", "--phase", str(phase), "--trainings", str(trainings_dir), "--output", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env())
    wait_for(lambda: bool(set(naming(str(out))) - {proc.pid}), proc)  # a llama.cpp convert script writes into the build folder
    proc.send_signal(signum)
    _, stderr = proc.communicate(timeout=120)
    name = signal.Signals(signum).name
    assert proc.returncode == 128 + signum, stderr[-4000:]
    assert "Traceback" not in stderr, stderr[-4000:]
    assert stderr.strip().splitlines()[-1].endswith(f"interrupted ({name}) during build; rerun to start it again"), stderr[-2000:]
    assert not naming(str(out))
