"""Checkpoint completion and rotation without training: which checkpoints are pruned (a table and a
property), the background finisher on fake checkpoint folders, the clean-up at start, the line that
says a run starts over, and how that reaches the status patch and the settings."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from tara_api import DomainTrainingStatus
from tara_trainer import checkpoints as ckpt
from tara_trainer.faults import Fault, FaultPoint
from tara_trainer.progress import Progress, status_patch
from tara_trainer.rotation import CheckpointFinisher, discard, plan_prune, tidy
from tara_trainer.settings import TrainerSettings


@pytest.mark.parametrize(
    ("present", "keep", "pruned"),
    [
        ([], 1, []),
        ([(2, True)], 1, []),
        ([(2, True), (4, True)], 1, [2]),
        ([(2, True), (4, False)], 1, []),
        ([(2, True), (4, True), (6, False)], 1, [2]),
        ([(2, True), (4, True), (6, True), (8, True)], 3, [2]),
        ([(2, True), (4, True)], 3, []),
        ([(2, False), (4, True)], 3, [2]),
        ([(2, False), (4, False)], 1, []),
        ([(2, True), (4, True)], 0, [2]),
    ],
    ids=["none", "only-one", "keep-1", "new-one-not-marked-yet", "save-in-progress", "keep-3", "under-the-limit",
         "crash-leftover", "nothing-complete", "keep-0-keeps-the-newest"],
)
def test_plan_prune(present: list[tuple[int, bool]], keep: int, pruned: list[int]) -> None:
    assert plan_prune(present, keep) == pruned


@given(st.dictionaries(st.integers(1, 60), st.booleans(), max_size=12), st.integers(1, 5))
def test_plan_prune_never_leaves_less_than_it_found(present: dict[int, bool], keep: int) -> None:
    pruned = set(plan_prune(present.items(), keep))
    complete = sorted(step for step, ok in present.items() if ok)
    left = sorted(step for step, ok in present.items() if ok and step not in pruned)
    assert left == complete[-keep:]  # the newest complete ones stay, the newest always
    if complete:
        incomplete = {step for step, ok in present.items() if not ok}
        assert {s for s in incomplete if s < complete[-1]} <= pruned  # crash leftovers go
        assert not any(step > complete[-1] for step in pruned)  # a save in progress is never touched
    else:
        assert not pruned


def _saved(root: Path, step: int) -> Path:
    """A checkpoint folder as HF leaves it before our marker: every required file, no marker."""
    folder = root / f"checkpoint-{step}"
    folder.mkdir(parents=True)
    for name in ckpt.REQUIRED_FILES:
        (folder / name).write_bytes(bytes([step % 256]) * 64)
    (folder / "trainer_state.json").write_text(json.dumps({"global_step": step}))
    return folder


def _inspect(folder: Path) -> ckpt.CheckpointInfo:
    return ckpt.inspect_checkpoint(folder, loader=lambda _path: None)


@pytest.mark.parametrize("keep", [1, 2])
def test_finisher_marks_then_rotates_in_save_order(tmp_path: Path, keep: int) -> None:
    finisher = CheckpointFinisher(tmp_path, "r1", {"specHash": "h"}, keep)
    for step in (2, 4, 6):
        _saved(tmp_path, step)
        finisher.submit(step)
    done = finisher.close()
    assert [d.step for d in done] == [2, 4, 6]
    assert [list(d.pruned) for d in done] == ([[], ["checkpoint-2"], ["checkpoint-4"]] if keep == 1 else [[], [], ["checkpoint-2"]])
    left = [_inspect(p) for p in ckpt.list_checkpoints(tmp_path)]
    assert [(c.step, c.valid, c.run_id) for c in left] == [(s, True, "r1") for s in (2, 4, 6)[-keep:]]
    assert json.loads((tmp_path / "checkpoint-6" / ckpt.MARKER).read_text())["specHash"] == "h"
    assert not list(tmp_path.glob(".*")) and finisher.close() == []


def test_finisher_leaves_a_save_in_progress_alone(tmp_path: Path) -> None:
    finisher = CheckpointFinisher(tmp_path, "r1", {}, 1)
    for step in (2, 4):
        ckpt.write_marker(_saved(tmp_path, step), step, "r1")
    _saved(tmp_path, 6)
    _saved(tmp_path, 8)  # written while 6 is being finished: HF is still saving it
    finisher.submit(6)
    assert list(finisher.close()[0].pruned) == ["checkpoint-2", "checkpoint-4"]
    assert [(c.step, c.valid) for c in map(_inspect, ckpt.list_checkpoints(tmp_path))] == [(6, True), (8, False)]


def test_finisher_raises_the_workers_error_on_the_caller(tmp_path: Path) -> None:
    finisher = CheckpointFinisher(tmp_path, "r1", {}, 1)
    finisher.submit(2)  # HF never wrote checkpoint-2
    with pytest.raises(FileNotFoundError):
        finisher.close()
    assert finisher.finished() == []


def test_a_fault_elsewhere_does_not_fire(tmp_path: Path) -> None:
    finisher = CheckpointFinisher(tmp_path, "r1", {}, 1, Fault(FaultPoint.DURING_PRUNE, step=100))
    for step in (2, 4):
        _saved(tmp_path, step)
        finisher.submit(step)
    assert [d.step for d in finisher.close()] == [2, 4]


def test_discard_leaves_no_checkpoint_name_behind(tmp_path: Path) -> None:
    folder = _saved(tmp_path, 2)
    seen: list[list[str]] = []
    discard(folder, lambda: seen.append(sorted(p.name for p in tmp_path.iterdir())))
    assert seen == [[".discarded-checkpoint-2"]] and not list(tmp_path.iterdir())


def test_tidy_removes_what_a_kill_left_and_sets_aside_the_corrupt(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    root = tmp_path / "checkpoints"
    _saved(root, 2).rename(root / ".discarded-checkpoint-2")  # killed during a prune
    for step in (4, 6):
        ckpt.write_marker(_saved(root, step), step, "r1")
    (root / "checkpoint-6" / "optimizer.pt").write_bytes(b"?" * 64)
    _saved(root, 8)  # killed before its marker
    infos = [_inspect(p) for p in ckpt.list_checkpoints(root)]
    chosen, rejected = ckpt.select_resume(infos, "r1")
    assert chosen is not None and chosen.step == 4 and [c.step for c in rejected] == [6, 8]
    with caplog.at_level(logging.WARNING):
        tidy(root, rejected, tmp_path)
    assert sorted(p.name for p in root.iterdir()) == ["checkpoint-4"]
    assert [p.name.rsplit("-", 1)[0] for p in (tmp_path / "rejected-checkpoints").iterdir()] == ["checkpoint-6"]
    assert "removed .discarded-checkpoint-2: a deletion the previous run did not finish" in caplog.text
    assert "skipping checkpoint-8: no completion marker (the save was interrupted) (removed)" in caplog.text
    assert "skipping checkpoint-6: optimizer.pt does not match its recorded sha256 (corrupt) (moved to" in caplog.text


def test_an_interrupted_checkpoint_older_than_the_chosen_one_is_set_aside_too() -> None:
    infos = [ckpt.CheckpointInfo(Path(f"checkpoint-{s}"), s, ok, "", None, "r1", interrupted=not ok) for s, ok in ((2, False), (4, True))]
    chosen, rejected = ckpt.select_resume(infos, "r1")
    assert chosen is not None and chosen.step == 4 and [c.step for c in rejected] == [2]


def test_no_usable_line_names_each_checkpoint_newest_first() -> None:
    rejected = [
        ckpt.CheckpointInfo(Path("/out/checkpoints/checkpoint-10"), 10, False, "adapter_model.safetensors does not match "
                            "its recorded sha256 (corrupt)"),
        ckpt.CheckpointInfo(Path("/out/checkpoints/checkpoint-20"), 20, False, "no completion marker (the save was "
                            "interrupted)", interrupted=True),
        ckpt.CheckpointInfo(Path("/out/checkpoints/checkpoint-5"), 5, True, "", 1.0, "other-run"),
    ]
    assert ckpt.no_usable_line(Path("/out/checkpoints"), rejected) == (
        "no usable checkpoint in /out/checkpoints (checkpoint-20: no completion marker (the save was interrupted); "
        "checkpoint-10: adapter_model.safetensors does not match its recorded sha256 (corrupt); "
        "checkpoint-5: saved by a run with a different spec); starting from step 0"
    )


def test_starting_over_drops_the_refused_checkpoint_from_the_status() -> None:
    over = status_patch(Progress(domain="healthcare", no_resume_reason="no usable checkpoint in /c (...); starting from step 0"))
    assert over["status"]["checkpoint"] is None  # merge patch: removes what an earlier attempt reported
    assert DomainTrainingStatus.model_validate(over["status"]).checkpoint is None
    assert "checkpoint" not in status_patch(Progress(domain="healthcare"))["status"]  # a fresh run says nothing


def test_fault_settings() -> None:
    settings = TrainerSettings.from_env({"TARA_FAULT_POINT": "during-prune", "TARA_FAULT_STEP": "4"})
    assert settings.fault == Fault(FaultPoint.DURING_PRUNE, 4)
    assert TrainerSettings.from_env({}).fault is None
    with pytest.raises(ValidationError, match="after-save-before-marker"):
        TrainerSettings.from_env({"TARA_FAULT_POINT": "sometime"})
