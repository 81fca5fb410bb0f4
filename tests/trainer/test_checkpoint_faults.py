"""A trainer killed (SIGKILL) inside the rotation window with ``keepCheckpoints: 1`` resumes, losing at
most ``saveSteps`` steps, and ends with an adapter byte-identical to an uninterrupted run's.

The window lasts milliseconds, so the trainer kills itself at a named point (``tara_trainer.faults``,
``TARA_FAULT_POINT``/``TARA_FAULT_STEP``) while finishing the checkpoint at ``KILL_AT``: before its
marker, between its marker and the pruning of the older one, and in the middle of that pruning.
Each case checks what the kill left on disk, then reruns the same spec without the fault.
"""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest
from test_training import manifest, run, state, valid_steps

from tara_trainer.faults import FaultPoint

pytestmark = pytest.mark.slow

SAVE_STEPS, KILL_AT, MAX_STEPS = 2, 4, 6
TRAINING = {"maxSteps": MAX_STEPS, "saveSteps": SAVE_STEPS, "evalSteps": 1000, "loggingSteps": 2, "keepCheckpoints": 1,
            "qualityGate": {"enabled": False}}
WEIGHTS = Path("adapter") / "adapter_model.safetensors"


@pytest.fixture(scope="module")
def uninterrupted(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """The adapter weights of the same spec trained without a kill."""
    tmp = tmp_path_factory.mktemp("uninterrupted")
    result = run(manifest(tmp, tiny_model_dir, **TRAINING), tmp / "out")
    assert result.returncode == 0, result.stderr[-4000:]
    assert valid_steps(tmp / "out") == [MAX_STEPS]  # keepCheckpoints 1
    return (tmp / "out" / WEIGHTS).read_bytes()


def _left(out: Path) -> dict[str, bool]:
    """What a kill left in the checkpoint folder: each entry, and whether it is a valid checkpoint."""
    valid = set(valid_steps(out))
    return {p.name: p.name.startswith("checkpoint-") and int(p.name.split("-")[1]) in valid
            for p in sorted((out / "checkpoints").iterdir())}


CASES = [
    # point, step it fires at, what the kill leaves, step resumed from, a line the rerun logs
    (FaultPoint.AFTER_SAVE_BEFORE_MARKER, KILL_AT, {"checkpoint-2": True, "checkpoint-4": False}, 2,
     "skipping checkpoint-4: no completion marker (the save was interrupted) (removed)"),
    (FaultPoint.AFTER_MARKER_BEFORE_PRUNE, KILL_AT, {"checkpoint-2": True, "checkpoint-4": True}, 4,
     "resuming from checkpoint-4 (step 4)"),
    (FaultPoint.DURING_PRUNE, KILL_AT, {".discarded-checkpoint-2": False, "checkpoint-4": True}, 4,
     "removed .discarded-checkpoint-2: a deletion the previous run did not finish"),
    # the first checkpoint killed before its marker: nothing to resume, and the rerun says so
    (FaultPoint.AFTER_SAVE_BEFORE_MARKER, SAVE_STEPS, {"checkpoint-2": False}, 0,
     "no usable checkpoint in {root} (checkpoint-2: no completion marker (the save was interrupted)); starting from step 0"),
]


@pytest.mark.parametrize(("point", "kill_at", "left", "resumed", "line"), CASES,
                         ids=[f"{c[0].value}-at-{c[1]}" for c in CASES])
def test_sigkill_in_the_rotation_window_resumes_and_matches_an_uninterrupted_run(
    tiny_model_dir: Path, tmp_path: Path, uninterrupted: bytes,
    point: FaultPoint, kill_at: int, left: dict[str, bool], resumed: int, line: str,
) -> None:
    out, spec = tmp_path / "out", manifest(tmp_path, tiny_model_dir, **TRAINING)
    killed = run(spec, out, TARA_FAULT_POINT=point.value, TARA_FAULT_STEP=str(kill_at))
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-4000:]
    assert f"fault injection: SIGKILL at {point.value} (checkpoint-{kill_at})" in killed.stderr
    assert _left(out) == left

    result = run(spec, out)
    assert result.returncode == 0, result.stderr[-4000:]
    assert line.format(root=out / "checkpoints") in result.stderr
    assert kill_at - resumed <= SAVE_STEPS
    final = state(out)
    assert final["resumed_from"] == (str(out / "checkpoints" / f"checkpoint-{resumed}") if resumed else None)
    if resumed == 0:
        assert final["no_resume_reason"] == line.format(root=out / "checkpoints")
    assert final["status"] == "Succeeded" and final["step"] == MAX_STEPS
    assert (out / WEIGHTS).read_bytes() == uninterrupted
    assert _left(out) == {f"checkpoint-{MAX_STEPS}": True}  # rotation caught up; nothing left behind
    assert not (out / "rejected-checkpoints").exists()  # an interrupted save is removed, not kept
    history = json.loads((out / "checkpoints" / f"checkpoint-{MAX_STEPS}" / "trainer_state.json").read_text())["log_history"]
    assert [h["step"] for h in history if "loss" in h] == sorted({h["step"] for h in history if "loss" in h})
