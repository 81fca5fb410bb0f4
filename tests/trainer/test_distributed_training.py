"""Data-parallel training on CPU with gloo, through the real launcher (``tara-trainer train`` with
``TARA_NPROC_PER_NODE``, re-launched through ``torch.distributed.run``), on the tiny offline model.

- One, two and four processes with the same global batch (batchSize 4 × gradientAccumulation 4 = 16
  samples a step; each rank gets 16 / world of them) follow the same loss curve and end with the
  same adapter and eval losses. Tolerance: ``LOSS_TOL`` on every logged loss, ``WEIGHT_TOL`` on every
  adapter weight. LoRA dropout is 0 here: dropout masks come from each rank's own RNG, so with
  dropout the runs are equal in distribution only.
- A rank SIGKILLed mid-run (``TARA_FAULT_POINT=after-step``, ``TARA_FAULT_RANK=1``) fails the whole
  launch with one clear reason; the next launch resumes from the last complete checkpoint and ends
  with the same adapter; so does one process resuming the two-process checkpoint, and two processes
  resuming a one-process checkpoint.
- SIGTERM to the launcher: every rank saves the same step, the launch exits 75 (Preempted); each
  rank serves its own gauges on ``TARA_METRICS_PORT + LOCAL_RANK``.
- A global batch the processes cannot share is refused before any worker starts.
"""

from __future__ import annotations

import json
import shutil
import signal
import socket
import subprocess
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml
from test_training import TRAINER, env, manifest, run, state, valid_steps, wait_for

from tara_trainer.errors import EXIT_PREEMPTED

pytestmark = pytest.mark.slow

LOSS_TOL = 2e-3  # absolute, per logged step (measured: equal to 4 decimals for 1, 2 and 4 processes)
WEIGHT_TOL = 1e-4  # absolute, per adapter weight (measured: below 1e-6)
MAX_STEPS, SAVE_STEPS = 12, 4
TRAINING = {"maxSteps": MAX_STEPS, "batchSize": 4, "gradientAccumulation": 4, "saveSteps": SAVE_STEPS,
            "evalSteps": 1000, "loggingSteps": 1, "qualityGate": {"enabled": False}}


def free_port(span: int = 1) -> int:
    """A port with ``span`` free ports from it (the metrics of several ranks)."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        if port + span < 65535 and all(_free(port + i) for i in range(1, span)):
            return port
    raise RuntimeError("no free port range")


def _free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def spec(tmp: Path, model: Path, **training: Any) -> Path:
    """The test manifest with LoRA dropout 0 (see the module docstring)."""
    path = manifest(tmp, model, **{**TRAINING, **training})
    body = yaml.safe_load(path.read_text())
    body["spec"]["lora"]["dropout"] = 0.0
    path.write_text(yaml.safe_dump(body))
    return path


def world_env(processes: int, **extra: str) -> dict[str, str]:
    return {"TARA_NPROC_PER_NODE": str(processes), "TARA_MASTER_ADDR": "127.0.0.1",
            "TARA_MASTER_PORT": str(free_port()), **extra}


def launch(path: Path, out: Path, processes: int, **extra: str) -> subprocess.CompletedProcess[str]:
    return run(path, out, timeout=1200, **world_env(processes, **extra))


def curve(out: Path) -> list[tuple[int, float]]:
    history = json.loads((out / "checkpoints" / f"checkpoint-{MAX_STEPS}" / "trainer_state.json").read_text())["log_history"]
    return [(h["step"], h["loss"]) for h in history if "loss" in h]


def weights(out: Path) -> dict[str, Any]:
    from safetensors.torch import load_file

    return load_file(str(out / "adapter" / "adapter_model.safetensors"))


def max_weight_diff(a: Path, b: Path) -> float:
    wa, wb = weights(a), weights(b)
    assert wa.keys() == wb.keys()
    return max(float((wa[k] - wb[k]).abs().max()) for k in wa)


class Runs(dict):
    """The same spec trained from scratch by 1, 2 or 4 processes, on first use: world size -> output folder."""

    def __init__(self, root: Path, model: Path) -> None:
        super().__init__()
        self.root, self.path = root, spec(root, model)

    def __missing__(self, processes: int) -> Path:
        out = self.root / f"out-{processes}"
        result = launch(self.path, out, processes) if processes > 1 else run(self.path, out, timeout=1200)
        assert result.returncode == 0, result.stderr[-4000:]
        assert json.loads(result.stdout)["steps"] == MAX_STEPS  # one summary: rank 0's
        self[processes] = out
        return out


@pytest.fixture(scope="module")
def runs(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Runs:
    return Runs(tmp_path_factory.mktemp("worlds"), tiny_model_dir)


def test_one_two_and_four_processes_follow_the_same_loss_curve(runs: Runs) -> None:
    curves = {world: curve(runs[world]) for world in (1, 2, 4)}
    print(f"\nloss per step (global batch 16; tolerance {LOSS_TOL}):")
    for world, points in curves.items():
        print(f"  {world} process(es): " + " ".join(f"{loss:.4f}" for _, loss in points))
    reference = curves[1]
    assert [s for s, _ in reference] == list(range(1, MAX_STEPS + 1))
    for world in (2, 4):
        assert [s for s, _ in curves[world]] == [s for s, _ in reference]
        worst = max(abs(a - b) for (_, a), (_, b) in zip(curves[world], reference, strict=True))
        print(f"  {world} vs 1: largest loss difference {worst:.2e}, adapter weights {max_weight_diff(runs[world], runs[1]):.2e}")
        assert worst <= LOSS_TOL
        assert max_weight_diff(runs[world], runs[1]) <= WEIGHT_TOL

    manifests = {world: json.loads((runs[world] / "adapter" / "manifest.json").read_text()) for world in (1, 2, 4)}
    for world, body in manifests.items():
        t = body["training"]
        assert (t["worldSize"], t["perDeviceBatchSize"], t["gradientAccumulation"], t["globalBatchSize"]) == (world, 4, 4 // world, 16)
        # The final eval runs as one process would on rank 0, so the quality gate does not depend on the world size.
        for key in ("baseEvalLoss", "tunedEvalLoss"):
            assert body["metrics"][key] == pytest.approx(manifests[1]["metrics"][key], abs=LOSS_TOL)
    for world in (2, 4):
        steps = valid_steps(runs[world])
        assert steps == [4, 8, 12]  # marked and rotated once, by rank 0
        marker = json.loads((runs[world] / "checkpoints" / "checkpoint-12" / "tara-checkpoint.json").read_text())
        assert marker["worldSize"] == world and {f"rng_state_{r}.pth" for r in range(world)} <= set(marker["files"])
        final = state(runs[world])
        assert final["status"] == "Succeeded" and final["step"] == MAX_STEPS and final["tokens_per_second"] > 0


def test_a_killed_rank_fails_the_launch_and_the_next_launch_resumes(runs: Runs, tiny_model_dir: Path,
                                                                   tmp_path: Path) -> None:
    out, termination = tmp_path / "out", tmp_path / "termination-log"
    path = spec(tmp_path, tiny_model_dir)
    killed = launch(path, out, 2, TARA_FAULT_POINT="after-step", TARA_FAULT_STEP="6", TARA_FAULT_RANK="1",
                    TARA_TERMINATION_LOG=str(termination))
    assert killed.returncode == 1, killed.stderr[-4000:]
    assert "fault injection: SIGKILL at after-step (step 6)" in killed.stderr
    why = "rank 1 of 2 was killed by SIGKILL"
    assert json.loads(termination.read_text())["reason"] == "Crashed" and why in json.loads(termination.read_text())["message"]
    assert f"Crashed: {why}" in killed.stderr
    failed = state(out)
    assert failed["status"] == "Failed" and failed["reason"] == "Crashed" and why in failed["message"]
    assert valid_steps(out) == [4]
    two_process_checkpoint = tmp_path / "copy"
    shutil.copytree(out, two_process_checkpoint)

    resumed = launch(path, out, 2)
    assert resumed.returncode == 0, resumed.stderr[-4000:]
    assert "resuming from checkpoint-4 (step 4)" in resumed.stderr
    assert state(out)["status"] == "Succeeded" and state(out)["resumed_from"].endswith("checkpoint-4")
    assert max_weight_diff(out, runs[2]) <= WEIGHT_TOL

    # The same two-process checkpoint, resumed by one process (same global batch: accumulation 4).
    alone = run(path, two_process_checkpoint, timeout=1200)
    assert alone.returncode == 0, alone.stderr[-4000:]
    assert "resuming from checkpoint-4 (step 4)" in alone.stderr
    assert max_weight_diff(two_process_checkpoint, runs[1]) <= WEIGHT_TOL
    assert all(abs(a - b) <= LOSS_TOL for (_, a), (_, b) in zip(curve(two_process_checkpoint), curve(runs[1]), strict=True))


def test_a_one_process_checkpoint_resumed_by_two_processes(runs: Runs, tiny_model_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    shutil.copytree(runs[1], out)
    for later in ("checkpoint-8", "checkpoint-12"):
        shutil.rmtree(out / "checkpoints" / later)
    shutil.rmtree(out / "adapter")
    result = launch(spec(tmp_path, tiny_model_dir), out, 2)
    assert result.returncode == 0, result.stderr[-4000:]
    assert "resuming from checkpoint-4 (step 4)" in result.stderr
    assert max_weight_diff(out, runs[1]) <= WEIGHT_TOL


def test_sigterm_to_the_launcher_saves_one_checkpoint_and_exits_preempted(tiny_model_dir: Path, tmp_path: Path) -> None:
    out, termination = tmp_path / "out", tmp_path / "termination-log"
    metrics = free_port(span=2)
    extra = world_env(2, TARA_METRICS_PORT=str(metrics), TARA_TERMINATION_LOG=str(termination))
    proc = subprocess.Popen([*TRAINER, "train", "--spec", str(spec(tmp_path, tiny_model_dir, maxSteps=400, saveSteps=50)),
                             "--output", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env(**extra))
    wait_for(lambda: (out / "state.json").is_file() and state(out)["step"] >= 3, proc, timeout=1200)
    for rank in (0, 1):  # each rank's own gauges, labelled with its rank
        with urllib.request.urlopen(f"http://127.0.0.1:{metrics + rank}/metrics", timeout=10) as response:
            text = response.read().decode()
        assert f'tara_trainer_step{{domain="healthcare",rank="{rank}"}}' in text
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=600)
    assert proc.returncode == EXIT_PREEMPTED, stderr[-4000:]
    assert "2 of 2 ranks saved and stopped" in stderr
    assert json.loads(termination.read_text())["reason"] == "Preempted"
    preempted = state(out)
    assert preempted["status"] == "Preempted" and preempted["reason"] == "Preempted"
    assert valid_steps(out)[-1] == preempted["checkpoint_step"] == preempted["step"] < 400  # the step both ranks stopped at


def test_a_batch_the_processes_cannot_share_is_refused_before_launching(tiny_model_dir: Path, tmp_path: Path) -> None:
    termination = tmp_path / "termination-log"
    result = launch(spec(tmp_path, tiny_model_dir, batchSize=3, gradientAccumulation=1), tmp_path / "out", 2,
                    TARA_TERMINATION_LOG=str(termination))
    assert result.returncode == 2, result.stderr[-4000:]
    assert "global batch of 3 samples, which 2 training processes cannot share evenly" in result.stderr
    assert "launching" not in result.stderr and json.loads(termination.read_text())["reason"] == "InvalidSpec"
