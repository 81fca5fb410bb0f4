"""The trainer end to end on the tiny offline model, as a Job runs it: real torch/transformers/peft
training in a subprocess, killed and preempted with real signals, resumed from real checkpoints.

Each test trains for seconds on CPU. Runs go through the `tara-trainer` CLI in a subprocess so
exit codes, signals and logs are exactly what a pod would produce.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from tara_trainer.checkpoints import MARKER, inspect_checkpoint
from tara_trainer.errors import EXIT_PREEMPTED

pytestmark = pytest.mark.slow

TRAINER = [sys.executable, "-m", "tara_trainer.cli"]


def manifest(tmp: Path, model: Path, name: str = "hc", **training: Any) -> Path:
    dataset = training.pop("dataset", {"builtin": "healthcare"})
    gate = training.pop("qualityGate", {"minEvalLossImprovement": 0.02})
    spec: dict[str, Any] = {
        "domain": "healthcare",
        "baseModel": {"path": str(model)},
        "dataset": dataset,
        "lora": {"r": 8, "alpha": 16},
        "training": {
            "maxSteps": 30, "batchSize": 8, "gradientAccumulation": 1, "sequenceLength": 128,
            "learningRate": 3e-3, "saveSteps": 10, "evalSteps": 10, "loggingSteps": 5,
            "gradientCheckpointing": False, "warmupRatio": 0.0, **training,
        },
        "resources": {"accelerator": "cpu"},
        "qualityGate": gate,
    }
    path = tmp / f"{name}.yaml"
    path.write_text(yaml.safe_dump({"apiVersion": "tara.dev/v1alpha1", "kind": "DomainTraining",
                                    "metadata": {"name": name}, "spec": spec}))
    return path


def env(**extra: str) -> dict[str, str]:
    out = {k: v for k, v in os.environ.items() if not k.startswith("TARA_")}
    out.update({"TARA_STATE_INTERVAL": "0.2", "PYTHONUNBUFFERED": "1", **extra})
    return out


def run(spec: Path, out: Path, timeout: float = 300, args: tuple[str, ...] = (), **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*TRAINER, "train", "--spec", str(spec), "--output", str(out), *args],
                          capture_output=True, text=True, timeout=timeout, env=env(**extra), check=False)


def state(out: Path) -> dict[str, Any]:
    return json.loads((out / "state.json").read_text())


def wait_for(predicate, proc: subprocess.Popen, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if proc.poll() is not None:
            raise AssertionError(f"trainer exited early ({proc.returncode}): {proc.stderr.read() if proc.stderr else ''}")
        time.sleep(0.05)
    proc.kill()
    raise AssertionError("timed out waiting for the trainer")


def valid_steps(out: Path) -> list[int]:
    return sorted(i.step for i in map(inspect_checkpoint, (out / "checkpoints").glob("checkpoint-*")) if i.valid)


def test_training_improves_eval_loss_and_writes_a_verifiable_adapter(tiny_model_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run(manifest(tmp_path, tiny_model_dir), out)
    assert result.returncode == 0, result.stderr[-4000:]
    summary = json.loads(result.stdout)
    metrics = summary["metrics"]
    assert metrics["tunedEvalLoss"] < metrics["baseEvalLoss"] and metrics["improvement"] > 0.02, metrics
    assert metrics["tunedPerplexity"] < metrics["basePerplexity"]

    adapter = out / "adapter"
    manifest_body = json.loads((adapter / "manifest.json").read_text())
    assert {"adapter_model.safetensors", "adapter_config.json", "tokenizer.model"} <= set(manifest_body["files"])
    from tara_trainer.checkpoints import file_digest

    for name, meta in manifest_body["files"].items():
        assert file_digest(adapter / name) == meta["sha256"], name
    assert manifest_body["specHash"] and manifest_body["baseModel"]["id"] == str(tiny_model_dir)
    assert {"torch", "transformers", "peft", "accelerate"} <= set(manifest_body["versions"])
    assert manifest_body["data"]["badRows"] == 0 and manifest_body["data"]["train"] > manifest_body["data"]["eval"] > 0
    assert manifest_body["data"]["split"]["kind"] == "grouped" and manifest_body["data"]["split"]["rowsMoved"] > 0
    assert manifest_body["qualityGate"]["passed"] is True

    final = state(out)
    assert final["status"] == "Succeeded" and final["step"] == 30 and final["percent"] == 100.0
    assert final["reason"] == "Trained"  # exit 0, reason Trained
    assert final["tokens_per_second"] > 0 and final["checkpoint_step"] == 30 and final["loss"] is not None
    assert valid_steps(out) == [10, 20, 30]  # keepCheckpoints 3
    assert "resuming from" not in result.stderr

    again = run(manifest(tmp_path, tiny_model_dir), out)
    assert again.returncode == 0 and json.loads(again.stdout)["reused"] is True
    assert state(out)["reason"] == "AlreadyTrained"  # exit 0, reason AlreadyTrained


def test_sigkill_mid_run_then_rerun_resumes_from_last_checkpoint(tiny_model_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    spec = manifest(tmp_path, tiny_model_dir, maxSteps=120, saveSteps=20)
    proc = subprocess.Popen([*TRAINER, "train", "--spec", str(spec), "--output", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env())
    wait_for(lambda: (out / "checkpoints" / "checkpoint-40" / MARKER).is_file(), proc)
    proc.kill()
    proc.wait(timeout=30)
    proc.stdout.close()
    proc.stderr.close()
    killed_at = valid_steps(out)[-1]
    assert 40 <= killed_at < 120

    result = run(spec, out)
    assert result.returncode == 0, result.stderr[-4000:]
    assert f"resuming from checkpoint-{killed_at} (step {killed_at})" in result.stderr
    final = state(out)
    assert final["resumed_from"].endswith(f"checkpoint-{killed_at}") and final["step"] == 120
    history = json.loads((out / "checkpoints" / "checkpoint-120" / "trainer_state.json").read_text())["log_history"]
    logged = [h["step"] for h in history if "loss" in h]
    assert logged == sorted(logged) and logged[0] < killed_at < logged[-1]  # one continuous global step count


def test_a_run_started_before_split_kinds_resumes_on_its_content_split(tiny_model_dir: Path, tmp_path: Path) -> None:
    # Checkpoints of the content split carry the run id that runs made before split kinds carry
    # (pinned in test_units), so this first run stands for one started by an older trainer.
    out, short = tmp_path / "out", {"maxSteps": 4, "saveSteps": 2, "evalSteps": 2, "qualityGate": {"enabled": False}}
    first = run(manifest(tmp_path, tiny_model_dir, dataset={"builtin": "healthcare", "split": "content"}, **short), out)
    assert first.returncode == 0, first.stderr[-4000:]

    result = run(manifest(tmp_path, tiny_model_dir, **short), out)  # split unset, as in the older resource
    assert result.returncode == 0, result.stderr[-4000:]
    assert "resuming from checkpoint-4 (step 4)" in result.stderr and "eval split content" in result.stderr
    data = json.loads((out / "adapter" / "manifest.json").read_text())["data"]
    assert data["split"] == state(out)["data"]["split"] and data["split"]["kind"] == "content"
    assert data["split"]["rowsMoved"] == 0 and data["split"]["groups"] == data["usable"]


def test_sigterm_saves_a_checkpoint_and_exits_with_the_resume_code_then_corrupt_newest_is_skipped(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    termination = tmp_path / "termination-log"
    spec = manifest(tmp_path, tiny_model_dir, maxSteps=400, saveSteps=15)
    proc = subprocess.Popen([*TRAINER, "train", "--spec", str(spec), "--output", str(out)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env(TARA_TERMINATION_LOG=str(termination)))
    wait_for(lambda: (out / "checkpoints" / "checkpoint-30" / MARKER).is_file(), proc)
    time.sleep(0.3)
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == EXIT_PREEMPTED, stderr[-4000:]
    preempted = state(out)
    assert preempted["status"] == "Preempted" and preempted["reason"] == "Preempted"
    assert json.loads(termination.read_text())["reason"] == "Preempted"
    steps = valid_steps(out)
    saved_at = preempted["checkpoint_step"]
    assert steps[-1] == saved_at and saved_at > 30 and saved_at < 400  # saved on SIGTERM, not at a saveSteps multiple only

    # Corrupt the newest checkpoint the way a crash during a copy would: truncate its weights.
    weights = out / "checkpoints" / f"checkpoint-{saved_at}" / "adapter_model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    previous = steps[-2]
    # Rerun the same spec (maxSteps is part of the run's identity) and stop it once it has resumed.
    proc = subprocess.Popen([*TRAINER, "train", "--spec", str(spec), "--output", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env())
    wait_for(lambda: (state(out).get("resumed_from") or "").endswith(f"checkpoint-{previous}") and state(out)["status"] == "Running", proc)
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == EXIT_PREEMPTED, stderr[-4000:]
    assert f"skipping checkpoint-{saved_at}:" in stderr and "truncated" in stderr
    assert f"resuming from checkpoint-{previous}" in stderr
    rejected = list((out / "rejected-checkpoints").glob(f"checkpoint-{saved_at}-*"))
    assert len(rejected) == 1 and "truncated" in (rejected[0] / "REJECTED.txt").read_text()


BAD_DATA = [
    ("garbage", "not json\n{also not\n", "DatasetInvalid"),
    ("empty", "", "DatasetInvalid"),
    ("wrong-format", '{"text": "hello there"}\n' * 5, "DatasetInvalid"),
]


@pytest.mark.parametrize(("content", "reason"), [c[1:] for c in BAD_DATA], ids=[c[0] for c in BAD_DATA])
def test_bad_dataset_fails_with_file_and_line(tiny_model_dir: Path, tmp_path: Path, content: str, reason: str) -> None:
    data = tmp_path / "data.jsonl"
    data.write_text(content)
    spec = manifest(tmp_path, tiny_model_dir, dataset={"path": str(data), "format": "chat"})
    termination = tmp_path / "termination"
    result = run(spec, tmp_path / "out", TARA_TERMINATION_LOG=str(termination))
    assert result.returncode == 3, result.stderr[-3000:]
    assert str(data) in result.stderr and reason in result.stderr
    if content:
        assert ":1" in result.stderr or "line 1" in result.stderr, result.stderr[-2000:]
    assert json.loads(termination.read_text())["reason"] == reason


def test_some_bad_rows_are_counted_not_dropped_silently(tiny_model_dir: Path, tmp_path: Path) -> None:
    from tara_trainer.sources import builtin_dataset_path

    rows = builtin_dataset_path("healthcare").read_text().splitlines()[:120]
    rows[3] = "{broken json"
    rows[7] = json.dumps({"messages": [{"role": "user", "content": "no answer"}]})
    data = tmp_path / "data.jsonl"
    data.write_text("\n".join(rows) + "\n")
    spec = manifest(tmp_path, tiny_model_dir, dataset={"path": "data.jsonl"}, maxSteps=4, saveSteps=4, evalSteps=4,
                    qualityGate={"enabled": False})
    result = run(spec, tmp_path / "out")
    assert result.returncode == 0, result.stderr[-3000:]
    data_report = state(tmp_path / "out")["data"]
    assert data_report["badRows"] == 2 and data_report["rows"] == 120
    assert "line 4" in result.stderr and "line 8" in result.stderr


def test_quality_gate_fails_the_run_and_keeps_the_adapter(tiny_model_dir: Path, tmp_path: Path) -> None:
    """Also: with --artifacts (spec.storage.artifacts) the adapter goes there, checkpoints stay in the output."""
    termination = tmp_path / "termination"
    spec = manifest(tmp_path, tiny_model_dir, maxSteps=6, qualityGate={"minEvalLossImprovement": 0.99})
    result = run(spec, tmp_path / "out", args=("--artifacts", str(tmp_path / "artifacts")),
                 TARA_TERMINATION_LOG=str(termination))
    assert result.returncode == 5, result.stderr[-3000:]
    assert "QualityGateFailed" in result.stderr and "minEvalLossImprovement 0.99" in result.stderr
    assert json.loads(termination.read_text())["reason"] == "QualityGateFailed"
    assert not (tmp_path / "out" / "adapter").exists() and (tmp_path / "out" / "checkpoints").is_dir()
    adapter = tmp_path / "artifacts" / "adapter"
    manifest_body = json.loads((adapter / "manifest.json").read_text())
    assert manifest_body["qualityGate"]["passed"] is False
    assert "eval.txt" in manifest_body["files"] and "### Assistant" in (adapter / "eval.txt").read_text()
    assert state(tmp_path / "out")["status"] == "Failed"


@pytest.mark.parametrize(
    ("change", "code", "text"),
    [
        ({"resources": {"accelerator": "gpu"}, "lora": {"qlora": True}}, 6, "lora.qlora needs a CUDA GPU"),
        ({"resources": {"accelerator": "gpu"}}, 6, "no CUDA device is visible"),
        ({"training": {"maxSteps": 0}}, 2, "spec.training.maxSteps"),
        ({"baseModel": {"path": "/nonexistent/model"}}, 4, "holds no saved model"),
        ({"lora": {"targetModules": ["c_attn"]}}, 2, "lora.targetModules ['c_attn'] do not match"),
    ],
    ids=["qlora-on-cpu", "gpu-spec-on-cpu", "invalid-spec", "missing-model", "unknown-target-modules"],
)
def test_refusals_have_reasons_and_exit_codes(tiny_model_dir: Path, tmp_path: Path, change, code: int, text: str) -> None:
    if code == 6:
        pytest.importorskip("torch")
        import torch

        if torch.cuda.is_available():
            pytest.skip("this machine has a GPU, so the CPU-only refusal cannot happen")
    path = manifest(tmp_path, tiny_model_dir)
    body = yaml.safe_load(path.read_text())
    for key, value in change.items():
        body["spec"][key] = {**body["spec"].get(key, {}), **value} if isinstance(value, dict) else value
    path.write_text(yaml.safe_dump(body))
    result = run(path, tmp_path / "out")
    assert result.returncode == code, result.stderr[-3000:]
    assert text in result.stderr


class _ApiServer:
    """A stand-in for the API server's status endpoint: records merge patches, can fail on demand."""

    def __init__(self, fail: bool = False) -> None:
        self.patches: list[tuple[str, dict[str, str], dict]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_PATCH(self) -> None:  # noqa: N802 - http.server naming
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.patches.append((self.path, dict(self.headers), body))
                self.send_response(500 if fail else 200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> _ApiServer:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.parametrize("fail", [False, True], ids=["api-ok", "api-failing"])
def test_status_is_patched_in_cluster_and_api_failures_are_not_fatal(tiny_model_dir: Path, tmp_path: Path, fail: bool) -> None:
    sa = tmp_path / "sa"
    sa.mkdir()
    (sa / "token").write_text("secret-token")
    with _ApiServer(fail=fail) as api:
        result = run(manifest(tmp_path, tiny_model_dir, maxSteps=20, qualityGate={"enabled": False}), tmp_path / "out", TARA_API_URL=api.url,
                     TARA_RESOURCE_NAME="hc", TARA_NAMESPACE="ml", TARA_SERVICE_ACCOUNT_DIR=str(sa), TARA_STATUS_INTERVAL="0")
    assert result.returncode == 0, result.stderr[-3000:]
    assert api.patches, "no status patch reached the API"
    path, headers, _ = api.patches[0]
    assert path == "/apis/tara.dev/v1alpha1/namespaces/ml/domaintrainings/hc/status?fieldValidation=Warn"  # the default
    assert headers["Content-Type"] == "application/merge-patch+json" and headers["Authorization"] == "Bearer secret-token"
    steps = [b["status"]["progress"]["step"] for _, _, b in api.patches]
    assert steps == sorted(steps) and steps[-1] == 20
    assert any(b["status"].get("checkpoint", {}).get("step") == 20 for _, _, b in api.patches)
    assert api.patches[-1][2]["status"]["metrics"]["tunedEvalLoss"] > 0
    assert ("status patch failed" in result.stderr) is fail
