"""Table-driven tests of the trainer's pure pieces: runtime choice, batch probing, step planning,
run identity, checkpoint selection and validation, progress reporting and settings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from specs import with_fields

from tara_api import DomainTrainingSpec, DomainTrainingStatus
from tara_api.domaintraining import DatasetSplit
from tara_trainer import checkpoints as ckpt
from tara_trainer.errors import HardwareUnsupported
from tara_trainer.modelio import pick_runtime, probe_batch_size
from tara_trainer.progress import Progress, ProgressReporter, status_patch
from tara_trainer.settings import TrainerSettings
from tara_trainer.train import plan_total_steps, resolve_split, run_id


def _spec(**overrides) -> DomainTrainingSpec:
    body = {"domain": "healthcare", "baseModel": {"path": "model"}, "dataset": {"builtin": "healthcare"}}
    return DomainTrainingSpec.model_validate(with_fields(body, **overrides))


@pytest.mark.parametrize(
    ("overrides", "cuda", "bf16", "expected"),
    [
        ({"resources.accelerator": "cpu"}, False, False, ("cpu", torch.float32)),
        ({"resources.accelerator": "cpu"}, True, True, ("cpu", torch.float32)),
        ({}, True, True, ("cuda", torch.bfloat16)),
        ({}, True, False, ("cuda", torch.float16)),
        ({"training.precision": "fp32"}, True, True, ("cuda", torch.float32)),
        ({"lora.qlora": True}, True, True, ("cuda", torch.bfloat16)),
    ],
    ids=["cpu", "cpu-even-with-gpu", "gpu-bf16", "gpu-fp16-fallback", "gpu-fp32", "qlora-gpu"],
)
def test_pick_runtime(overrides, cuda, bf16, expected) -> None:
    runtime = pick_runtime(_spec(**overrides), cuda, bf16)
    assert (runtime.device, runtime.dtype) == expected


@pytest.mark.parametrize(
    ("overrides", "cuda", "bf16", "message"),
    [
        ({"lora.qlora": True}, False, False, "lora.qlora needs a CUDA GPU"),
        ({}, False, False, "no CUDA device is visible"),
        ({"resources.accelerator": "cpu", "training.precision": "bf16"}, False, False, "needs a GPU"),
        ({"training.precision": "bf16"}, True, False, "bf16 is not supported"),
    ],
    ids=["qlora-without-gpu", "gpu-spec-without-gpu", "bf16-on-cpu", "bf16-unsupported"],
)
def test_pick_runtime_refuses_with_a_reason(overrides, cuda, bf16, message) -> None:
    with pytest.raises(HardwareUnsupported, match=message):
        pick_runtime(_spec(**overrides), cuda, bf16)


@pytest.mark.parametrize(
    ("capacity", "start", "expected"),
    [(64, 64, 64), (40, 64, 40), (1, 64, 1), (7, 8, 7), (300, 256, 256), (33, 100, 33)],
)
def test_probe_batch_size_finds_the_largest_that_fits(capacity: int, start: int, expected: int) -> None:
    tried: list[int] = []

    def fits(b: int) -> bool:
        tried.append(b)
        return b <= capacity

    assert probe_batch_size(fits, start) == expected
    assert len(tried) <= 2 * start.bit_length() + 1


def test_probe_batch_size_fails_when_nothing_fits() -> None:
    with pytest.raises(HardwareUnsupported, match="sequenceLength"):
        probe_batch_size(lambda b: False, 16)


@pytest.mark.parametrize(
    ("n", "batch", "acc", "max_steps", "epochs", "expected"),
    [(100, 4, 4, None, None, 21), (100, 4, 4, 50, None, 50), (100, 4, 4, None, 1.0, 7), (1, 8, 4, None, 0.5, 1), (17, 8, 1, None, 2.0, 6)],
)
def test_plan_total_steps(n, batch, acc, max_steps, epochs, expected) -> None:
    assert plan_total_steps(n, batch, acc, max_steps, epochs) == expected


@pytest.mark.parametrize(
    ("change", "same_run"),
    [
        ({"training.saveSteps": 7}, True),
        ({"training.evalSteps": 3}, True),
        ({"training.keepCheckpoints": 9}, True),
        ({"qualityGate.minEvalLossImprovement": 0.5}, True),
        ({"lora.r": 16}, False),
        ({"training.learningRate": 1e-3}, False),
        ({"dataset.builtin": "business"}, False),
        ({"baseModel.path": "other"}, False),
        ({"dataset.split": "content"}, True),  # what a run started before split kinds used
        ({"dataset.split": "grouped"}, False),
    ],
)
def test_run_identity(change: dict, same_run: bool) -> None:
    assert (run_id(_spec()) == run_id(_spec(**change))) is same_run


def test_run_identity_of_the_content_split_is_pinned() -> None:
    # The id checkpoints saved before split kinds existed carry: changing it would strand them.
    assert run_id(_spec()) == run_id(_spec(), split=DatasetSplit.CONTENT) == "96abf4c582a865e3"
    assert run_id(_spec(), split=DatasetSplit.GROUPED) == run_id(_spec(**{"dataset.split": "grouped"}))


RUN_IDS = {DatasetSplit.CONTENT: "old", DatasetSplit.GROUPED: "new"}


@pytest.mark.parametrize(
    ("requested", "checkpoints", "expected"),
    [
        (None, [], DatasetSplit.GROUPED),
        (None, [("old", 10, True)], DatasetSplit.CONTENT),  # a run started before split kinds keeps its rows
        (None, [("new", 10, True)], DatasetSplit.GROUPED),
        (None, [("old", 10, True), ("new", 20, True)], DatasetSplit.GROUPED),  # the newest valid one decides
        (None, [("old", 30, False), ("new", 20, True)], DatasetSplit.GROUPED),
        (None, [("other-spec", 10, True)], DatasetSplit.GROUPED),
        (DatasetSplit.GROUPED, [("old", 10, True)], DatasetSplit.GROUPED),  # the spec's word wins
        (DatasetSplit.CONTENT, [], DatasetSplit.CONTENT),
    ],
    ids=["fresh", "old-run", "new-run", "newest-wins", "invalid-ignored", "other-spec", "spec-grouped", "spec-content"],
)
def test_resolve_split(requested: DatasetSplit | None, checkpoints: list, expected: DatasetSplit) -> None:
    infos = [ckpt.CheckpointInfo(Path(f"checkpoint-{step}"), step, valid, run_id=rid) for rid, step, valid in checkpoints]
    assert resolve_split(requested, infos, RUN_IDS) is expected


def _info(step: int, valid: bool = True, run: str = "r1", reason: str = "") -> ckpt.CheckpointInfo:
    return ckpt.CheckpointInfo(Path(f"checkpoint-{step}"), step, valid, reason, run_id=run)


@pytest.mark.parametrize(
    ("infos", "chosen", "rejected"),
    [
        ([], None, []),
        ([_info(10), _info(20)], 20, []),
        ([_info(10), _info(20, valid=False, reason="truncated")], 10, [20]),
        ([_info(10, valid=False), _info(20, valid=False)], None, [10, 20]),
        ([_info(10, valid=False), _info(20), _info(30, valid=False)], 20, [30]),
        ([_info(10, run="old"), _info(20, run="old")], None, [10, 20]),
        ([_info(10), _info(20, run="old")], 10, [20]),
    ],
    ids=["none", "newest-valid", "skip-truncated-newest", "all-invalid", "older-invalid-kept", "other-run", "mixed-runs"],
)
def test_select_resume(infos, chosen, rejected) -> None:
    got, skipped = ckpt.select_resume(infos, "r1")
    assert (got.step if got else None) == chosen
    assert [c.step for c in skipped] == rejected


def _fake_checkpoint(root: Path, step: int, state_step: int | None = None) -> Path:
    folder = root / f"checkpoint-{step}"
    folder.mkdir(parents=True)
    for name in ckpt.REQUIRED_FILES:
        (folder / name).write_bytes(b"x" * 100)
    (folder / "trainer_state.json").write_text(json.dumps({"global_step": step if state_step is None else state_step}))
    ckpt.write_marker(folder, step, "r1")
    return folder


def _no_load(_path: Path) -> None:
    return None


def test_inspect_valid_checkpoint(tmp_path: Path) -> None:
    info = ckpt.inspect_checkpoint(_fake_checkpoint(tmp_path, 5), loader=_no_load)
    assert info.valid and info.step == 5 and info.run_id == "r1", info.reason


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (lambda f: (f / ckpt.MARKER).unlink(), "no completion marker"),
        (lambda f: (f / "optimizer.pt").unlink(), "missing optimizer.pt"),
        (lambda f: (f / "adapter_model.safetensors").write_bytes(b"x" * 10), "truncated"),
        (lambda f: (f / "scheduler.pt").write_bytes(b"y" * 100), "sha256"),
        (lambda f: (f / ckpt.MARKER).write_text("{not json"), "unreadable completion marker"),
    ],
    ids=["interrupted-save", "missing-optimizer", "truncated-weights", "altered-file", "bad-marker"],
)
def test_inspect_damaged_checkpoint(tmp_path: Path, damage, reason: str) -> None:
    folder = _fake_checkpoint(tmp_path, 5)
    damage(folder)
    info = ckpt.inspect_checkpoint(folder, loader=_no_load)
    assert not info.valid and reason in info.reason


def test_inspect_step_mismatch_and_unloadable(tmp_path: Path) -> None:
    info = ckpt.inspect_checkpoint(_fake_checkpoint(tmp_path, 5, state_step=4), loader=_no_load)
    assert not info.valid and "says step 4" in info.reason

    def broken(path: Path) -> None:
        if path.name == "rng_state.pth":
            raise RuntimeError("pickle data was truncated")

    info = ckpt.inspect_checkpoint(_fake_checkpoint(tmp_path / "b", 6), loader=broken)
    assert not info.valid and "rng_state.pth does not load" in info.reason


def test_quarantine_moves_and_explains(tmp_path: Path) -> None:
    folder = _fake_checkpoint(tmp_path / "checkpoints", 5)
    moved = ckpt.quarantine(ckpt.CheckpointInfo(folder, 5, False, "truncated"), tmp_path)
    assert not folder.exists() and (moved / "REJECTED.txt").read_text() == "truncated"
    assert moved.parent.name == "rejected-checkpoints"


def test_status_patch_shape() -> None:
    p = Progress(domain="healthcare", step=25, total_steps=100, loss=1.5, eval_loss=float("nan"),
                 checkpoint="/out/checkpoints/checkpoint-20", checkpoint_step=20, metrics={"baseEvalLoss": 2.0, "x": None})
    body = status_patch(p)["status"]
    assert body["progress"]["percent"] == 25.0 and body["progress"]["loss"] == 1.5
    assert "evalLoss" not in body["progress"]  # NaN is not JSON and not a loss
    assert body["checkpoint"] == {"path": "/out/checkpoints/checkpoint-20", "step": 20}
    assert body["metrics"] == {"baseEvalLoss": 2.0}
    assert "data" not in body


def test_status_patch_carries_the_data_summary() -> None:
    split = {"kind": "grouped", "groups": 65, "largestGroup": 8, "rowsMoved": 43}
    summary = {"path": "/data/x.jsonl", "sha256": "f" * 64, "rows": 270, "usable": 270, "badRows": 0, "train": 241,
               "eval": 29, "trainTokens": 1000, "split": split, "rowsSha256": "e" * 64}
    body = status_patch(Progress(domain="healthcare", data=summary))["status"]
    assert body["data"] == {"rows": 270, "badRows": 0, "train": 241, "eval": 29, "split": split, "rowsSha256": "e" * 64}
    assert DomainTrainingStatus.model_validate(body).data.split.kind is DatasetSplit.GROUPED
    assert "artifacts" not in body  # until the adapter is finished
    done = status_patch(Progress(domain="healthcare", status="Succeeded", data=summary, artifacts={"sha256": "a" * 64}))
    assert done["status"]["artifacts"] == {"sha256": "a" * 64}  # the operator adds the paths, keeping this
    assert DomainTrainingStatus.model_validate(done["status"]).artifacts.sha256 == "a" * 64


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class _Patcher:
    def __init__(self) -> None:
        self.bodies: list[dict] = []

    def patch(self, body: dict) -> bool:
        self.bodies.append(body)
        return True


def test_reporter_rate_limits_and_forces(tmp_path: Path) -> None:
    clock, patcher = _Clock(), _Patcher()
    settings = TrainerSettings(state_interval_s=2, status_interval_s=10)
    reporter = ProgressReporter(tmp_path / "state.json", Progress(domain="d"), settings, patcher, None, clock)
    for step in range(1, 31):  # 30 updates over 15 simulated seconds
        clock.now = step * 0.5
        reporter.update(step=step, total_steps=30)
    assert reporter.state_writes == 8 and len(patcher.bodies) == 2
    reporter.update(force=True, checkpoint="c", checkpoint_step=30)
    assert len(patcher.bodies) == 3
    state = json.loads((tmp_path / "state.json").read_text())
    assert state["step"] == 30 and state["percent"] == 100.0 and state["checkpoint_step"] == 30
    assert not list(tmp_path.glob(".*.tmp"))


def test_settings_from_env(tmp_path: Path) -> None:
    env = {"TARA_RESOURCE_NAME": "hc", "TARA_NAMESPACE": "ml", "KUBERNETES_SERVICE_HOST": "10.0.0.1",
           "TARA_METRICS_PORT": "9400", "TARA_SERVICE_ACCOUNT_DIR": str(tmp_path), "TARA_STATUS_INTERVAL": "2.5"}
    settings = TrainerSettings.from_env(env)
    assert settings.metrics_port == 9400 and settings.status_interval_s == 2.5
    assert not settings.in_cluster  # no token yet
    (tmp_path / "token").write_text("t")
    assert TrainerSettings.from_env(env).in_cluster
    assert not TrainerSettings.from_env({}).in_cluster


def test_metrics_are_served_for_prometheus(tmp_path: Path) -> None:
    import socket
    import urllib.request

    from tara_trainer.progress import TrainerMetrics

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    metrics = TrainerMetrics("healthcare")
    server = metrics.serve(port, addr="127.0.0.1")
    try:
        reporter = ProgressReporter(tmp_path / "state.json", Progress(domain="healthcare"), TrainerSettings(), None, metrics)
        reporter.update(step=12, total_steps=40, loss=2.5, tokens_per_second=1234.5, checkpoint_step=10)
        body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    finally:
        server.shutdown()
        server.server_close()
    for line in ('tara_trainer_step{domain="healthcare",rank="0"} 12.0', 'tara_trainer_total_steps{domain="healthcare",rank="0"} 40.0',
                 'tara_trainer_loss{domain="healthcare",rank="0"} 2.5', 'tara_trainer_tokens_per_second{domain="healthcare",rank="0"} 1234.5',
                 'tara_trainer_checkpoint_step{domain="healthcare",rank="0"} 10.0'):
        assert line in body, body
