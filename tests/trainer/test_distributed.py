"""Data-parallel decisions as tables (``tara_trainer.distributed``): when to launch and with what, how the
global batch is split, and what a launch's end means; plus the settings, checkpoint and metrics
pieces they rely on. No torch process group, no subprocess."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest
from pydantic import ValidationError

from tara_trainer import checkpoints as ckpt
from tara_trainer.distributed import (
    BatchSplit,
    LaunchPlan,
    RankExit,
    RankReport,
    Verdict,
    launch_plan,
    metrics_port,
    split_batch,
    torchrun_argv,
    verdict,
    worker_env,
)
from tara_trainer.errors import SpecInvalid
from tara_trainer.faults import Fault, FaultPoint
from tara_trainer.settings import TrainerSettings

PLAN_CASES = [
    # name, environment, expected plan (None: train in this process)
    ("default-one-process", {}, None),
    ("one-pod-one-process", {"TARA_NNODES": "1", "TARA_NPROC_PER_NODE": "1"}, None),
    ("one-pod-four-gpus", {"TARA_NPROC_PER_NODE": "4"}, LaunchPlan(1, 4, 0, "127.0.0.1", 29500, 120)),
    ("indexed-job-pod-2", {"TARA_NNODES": "3", "TARA_NPROC_PER_NODE": "2", "JOB_COMPLETION_INDEX": "2",
                           "TARA_MASTER_ADDR": "hc-0.hc", "TARA_MASTER_PORT": "29501"},
     LaunchPlan(3, 2, 2, "hc-0.hc", 29501, 120)),
    ("tara-node-rank-wins", {"TARA_NNODES": "2", "JOB_COMPLETION_INDEX": "0", "TARA_NODE_RANK": "1",
                             "TARA_DIST_SHUTDOWN_TIMEOUT": "30"}, LaunchPlan(2, 1, 1, "127.0.0.1", 29500, 30)),
    ("already-a-worker", {"TARA_NPROC_PER_NODE": "2", "RANK": "1", "LOCAL_RANK": "1", "WORLD_SIZE": "2"}, None),
]


@pytest.mark.parametrize(("env", "expected"), [c[1:] for c in PLAN_CASES], ids=[c[0] for c in PLAN_CASES])
def test_launch_plan(env: dict[str, str], expected: LaunchPlan | None) -> None:
    assert launch_plan(TrainerSettings.from_env(env)) == expected


@pytest.mark.parametrize(("env", "text"), [
    ({"TARA_NNODES": "2", "JOB_COMPLETION_INDEX": "2"}, "node rank 2 (TARA_NODE_RANK or JOB_COMPLETION_INDEX) must be below TARA_NNODES 2"),
    ({"TARA_NPROC_PER_NODE": "0"}, "nproc_per_node"),
    ({"TARA_DIST_BACKEND": "mpi"}, "dist_backend"),
], ids=["node-rank-too-high", "no-processes", "unknown-backend"])
def test_bad_launch_settings_are_refused(env: dict[str, str], text: str) -> None:
    with pytest.raises(ValidationError, match=text.replace("(", r"\(").replace(")", r"\)")):
        TrainerSettings.from_env(env)


def test_torchrun_argv_is_a_static_rendezvous_without_restarts_running_this_command() -> None:
    plan = LaunchPlan(2, 4, 1, "hc-0.hc.ml.svc", 29500, 120)
    argv = torchrun_argv(plan, ["-v", "train", "--spec", "s.yaml", "--output", "/out"])
    assert argv == ["--nnodes", "2", "--nproc-per-node", "4", "--node-rank", "1", "--master-addr", "hc-0.hc.ml.svc",
                    "--master-port", "29500", "--rdzv-backend", "static", "--max-restarts", "0",
                    "--shutdown-timeout", "120", "--module", "tara_trainer.cli", "-v", "train", "--spec", "s.yaml",
                    "--output", "/out"]
    from torch.distributed.run import get_args_parser

    parsed = get_args_parser().parse_args(argv)  # torchrun itself accepts them as meant
    assert (parsed.nnodes, parsed.nproc_per_node, parsed.node_rank, parsed.max_restarts) == ("2", "4", 1, 0)
    assert parsed.module and parsed.training_script == "tara_trainer.cli" and parsed.training_script_args[:2] == ["-v", "train"]


@pytest.mark.parametrize(("env", "on_cpu", "expected"), [
    ({}, True, {"TARA_RANK_REPORTS": "/r", "OMP_NUM_THREADS": "4"}),
    ({"OMP_NUM_THREADS": "2"}, True, {"TARA_RANK_REPORTS": "/r"}),
    ({}, False, {"TARA_RANK_REPORTS": "/r"}),
], ids=["cpu-share-of-cores", "cpu-user-threads-kept", "gpu"])
def test_worker_env(env: dict[str, str], on_cpu: bool, expected: dict[str, str]) -> None:
    changes, unset = worker_env(env, "/r", LaunchPlan(1, 4, 0, "127.0.0.1", 29500, 120), 16, on_cpu)
    assert changes == expected and unset == ("TARA_TERMINATION_LOG",)  # the launcher writes the one verdict


SPLIT_CASES = [
    # name, batchSize, gradientAccumulation, world, expected (per device, accumulation)
    ("one-process", 8, 4, 1, (8, 4)),
    ("accumulation-divides", 8, 4, 2, (8, 2)),
    ("accumulation-becomes-one", 4, 4, 4, (4, 1)),
    ("batch-shrinks", 8, 1, 2, (4, 1)),
    ("batch-shrinks-to-a-divisor", 8, 3, 2, (6, 2)),
    ("four-over-three", 6, 2, 3, (4, 1)),
]


@pytest.mark.parametrize(("batch", "accumulation", "world", "expected"), [c[1:] for c in SPLIT_CASES],
                         ids=[c[0] for c in SPLIT_CASES])
def test_split_batch_keeps_the_global_batch(batch: int, accumulation: int, world: int, expected: tuple[int, int]) -> None:
    split = split_batch(batch, accumulation, world)
    assert (split.per_device, split.accumulation) == expected
    assert split.global_batch == batch * accumulation and split == BatchSplit(*expected, world)


@pytest.mark.parametrize(("batch", "accumulation", "world", "hint"), [
    (3, 1, 2, "gradientAccumulation 2"), (5, 3, 4, "gradientAccumulation 4"), (1, 1, 16, "gradientAccumulation 16"),
], ids=["odd-over-two", "fifteen-over-four", "one-over-sixteen"])
def test_split_batch_refuses_a_batch_the_world_cannot_share(batch: int, accumulation: int, world: int, hint: str) -> None:
    with pytest.raises(SpecInvalid) as caught:
        split_batch(batch, accumulation, world)
    text = str(caught.value)
    assert f"global batch of {batch * accumulation}" in text and f"{world} training processes" in text and hint in text
    assert SpecInvalid.exit_code == 2


T = 1_000_000.0
SIGKILL, SIGTERM = int(signal.SIGKILL), int(signal.SIGTERM)


def report(rank: int, code: int, reason: str | None, message: str, at: float = T) -> RankReport:
    return RankReport(rank, code, reason, message, at)


VERDICT_CASES = [
    ("all-succeeded", [], {0: report(0, 0, None, ""), 1: report(1, 0, None, "")}, None, Verdict(0, None, "")),
    ("preempted-on-sigterm", [], {0: report(0, 75, "Preempted", "SIGTERM: checkpoint saved at step 7 of 40; run again"),
                                  1: report(1, 75, "Preempted", "SIGTERM: checkpoint saved at step 7 of 40; run again")},
     SIGTERM, Verdict(75, "Preempted", "SIGTERM: checkpoint saved at step 7 of 40; run again (2 of 2 ranks saved and stopped)")),
    ("preempted-beats-a-killed-rank", [RankExit(1, -SIGKILL, T)], {0: report(0, 75, "Preempted", "saved")}, None,
     Verdict(75, "Preempted", "saved (1 of 2 ranks saved and stopped)")),
    ("killed-rank-before-its-peer-crash", [RankExit(1, -SIGKILL, T), RankExit(0, 1, T + 1)],
     {0: report(0, 1, "Crashed", "RuntimeError: Connection closed by peer", T + 0.4)}, None,
     Verdict(1, "Crashed", "rank 1 of 2 was killed by SIGKILL (the kernel's OOM killer, a lost node or a kill) and the "
             "launch stopped the other ranks; rerun to resume from the last checkpoint")),
    ("a-rank-error-beats-the-stopped-ones", [RankExit(1, 3, T), RankExit(0, 143, T)],
     {1: report(1, 3, "DatasetInvalid", "data.jsonl:1: not JSON", T + 0.2),
      0: report(0, 143, None, "interrupted (SIGTERM) during train", T + 0.3)}, None,
     Verdict(3, "DatasetInvalid", "rank 1 of 2: data.jsonl:1: not JSON")),
    ("first-failure-wins-over-a-later-kill", [RankExit(1, 1, T), RankExit(0, -SIGKILL, T + 120)],
     {1: report(1, 1, "Crashed", "CUDA error: an illegal memory access", T + 0.1)}, None,
     Verdict(1, "Crashed", "rank 1 of 2: CUDA error: an illegal memory access")),
    ("a-rank-that-died-without-a-report", [RankExit(2, 1, T)], {}, None,
     Verdict(1, "Crashed", "rank 2 of 4 exited with code 1 before it could report why; its log above has the error")),
    ("stopped-before-training", [], {0: report(0, 143, None, "interrupted (SIGTERM) during train; rerun to resume")},
     SIGTERM, Verdict(143, None, "rank 0 of 2: interrupted (SIGTERM) during train; rerun to resume")),
    ("signal-before-any-report", [], {}, SIGTERM,
     Verdict(143, None, "interrupted (SIGTERM) before the workers reported; rerun to resume")),
    ("quality-gate-on-every-rank", [RankExit(0, 5, T), RankExit(1, 5, T)],
     {0: report(0, 5, "QualityGateFailed", "eval loss improved by 0.01", T + 0.2),
      1: report(1, 5, "QualityGateFailed", "eval loss improved by 0.01", T + 0.1)}, None,
     Verdict(5, "QualityGateFailed", "rank 1 of 2: eval loss improved by 0.01")),
]


@pytest.mark.parametrize(("exits", "reports", "signalled", "expected"), [c[1:] for c in VERDICT_CASES],
                         ids=[c[0] for c in VERDICT_CASES])
def test_verdict(exits: list[RankExit], reports: dict[int, RankReport], signalled: int | None, expected: Verdict) -> None:
    world = 4 if any(e.rank >= 2 for e in exits) else 2
    assert verdict(world, exits, reports, signalled) == expected


def test_rank_reports_round_trip_through_their_files(tmp_path: Path) -> None:
    from tara_trainer.launch import read_reports, write_report

    write_report(tmp_path, report(1, 3, "DatasetInvalid", "bad", 12.5))
    (tmp_path / "rank-2.json").write_text("{half")
    assert read_reports(tmp_path) == {1: report(1, 3, "DatasetInvalid", "bad", 12.5)}  # a torn file is skipped, logged


@pytest.mark.parametrize(("base", "local_rank", "port"), [(0, 3, 0), (9400, None, 9400), (9400, 3, 9403)],
                         ids=["off", "single-process", "local-rank-3"])
def test_metrics_port_per_rank(base: int, local_rank: int | None, port: int) -> None:
    assert metrics_port(base, local_rank) == port


def test_rank_metrics_carry_the_rank_and_its_own_throughput() -> None:
    from prometheus_client import generate_latest

    from tara_trainer.callbacks import RankMetrics
    from tara_trainer.progress import Progress

    metrics = RankMetrics("healthcare", rank=3)
    metrics.own_tokens_per_second = 250.0
    metrics.update(Progress(domain="healthcare", step=4, tokens_per_second=1000.0))  # the run's: 4 ranks
    text = generate_latest(metrics.registry).decode()
    assert 'tara_trainer_tokens_per_second{domain="healthcare",rank="3"} 250.0' in text
    assert 'tara_trainer_step{domain="healthcare",rank="3"} 4.0' in text


def _checkpoint(folder: Path, names: tuple[str, ...], world: int) -> Path:
    folder.mkdir(parents=True)
    for name in names:
        (folder / name).write_text(json.dumps({"global_step": 4}) if name == "trainer_state.json" else name)
    ckpt.write_marker(folder, 4, "run", {"worldSize": world})
    return folder


def test_a_data_parallel_checkpoint_needs_the_rng_state_of_every_rank(tmp_path: Path) -> None:
    two = ckpt.required_files(2)
    assert "rng_state.pth" not in two and {"rng_state_0.pth", "rng_state_1.pth"} <= set(two)
    assert ckpt.required_files(1) == ckpt.REQUIRED_FILES
    ok = ckpt.inspect_checkpoint(_checkpoint(tmp_path / "a" / "checkpoint-4", two, 2), loader=lambda _p: None)
    assert ok.valid, ok.reason
    short = tuple(n for n in two if n != "rng_state_1.pth")
    bad = ckpt.inspect_checkpoint(_checkpoint(tmp_path / "b" / "checkpoint-4", short, 2), loader=lambda _p: None)
    assert not bad.valid and bad.reason == "missing rng_state_1.pth"


@pytest.mark.parametrize(("env", "fires"), [
    ({"TARA_FAULT_POINT": "after-step", "TARA_FAULT_STEP": "3", "TARA_FAULT_RANK": "1", "RANK": "1", "LOCAL_RANK": "1"}, True),
    ({"TARA_FAULT_POINT": "after-step", "TARA_FAULT_STEP": "3", "TARA_FAULT_RANK": "1", "RANK": "0", "LOCAL_RANK": "0"}, False),
    ({"TARA_FAULT_POINT": "after-step", "TARA_FAULT_STEP": "3"}, True),
], ids=["its-rank", "another-rank", "any-rank"])
def test_a_fault_fires_in_the_rank_it_names(env: dict[str, str], fires: bool) -> None:
    fault = TrainerSettings.from_env(env).fault
    assert (fault == Fault(FaultPoint.AFTER_STEP, 3)) is fires and (fault is None) is not fires
