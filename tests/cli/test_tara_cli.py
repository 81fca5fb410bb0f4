"""`tara validate`, `tara plan`, `tara crds --check` as a user runs them: exit codes and messages."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tara_cli.main import main

ROOT = Path(__file__).resolve().parents[2]

BAD = """\
apiVersion: tara.dev/v1alpha1
kind: DomainTraining
metadata:
  name: ok-one
spec:
  domain: healthcare
  baseModel: {repo: Qwen/Qwen2.5-0.5B-Instruct}
  dataset: {builtin: healthcare}
  resources: {accelerator: cpu}
---
apiVersion: tara.dev/v1alpha1
kind: DomainTraining
metadata:
  name: bad-one
spec:
  domain: Healthcare
  baseModel: {repo: Qwen/Qwen2.5-0.5B-Instruct}
  dataset: {builtin: healthcare}
  lora: {qlora: true}
  resources: {accelerator: cpu}
  training: {maxSteps: 0}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: not-ours}
"""


def test_validate_configs_exits_zero(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(ROOT / "configs")]) == 0
    out = capsys.readouterr().out
    assert "0 problem(s)" in out and "ok     " in out


def test_validate_reports_each_problem_with_document_and_field(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "mixed.yaml"
    path.write_text(BAD)
    assert main(["validate", str(path)]) == 1
    out = capsys.readouterr().out
    assert f"ok     {path}#1 (DomainTraining/ok-one)" in out
    for field in ("spec.domain", "spec.lora.qlora", "spec.training.maxSteps"):
        assert f"{path}#2 (DomainTraining/bad-one): {field}:" in out, out
    assert "not-ours" not in out  # non-TARA documents are skipped
    assert "2 document(s) checked, 3 problem(s)" in out


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("apiVersion: tara.dev/v1alpha1\nkind: a: b\n", "invalid YAML: line 2"),
        ("- just\n- a list\n", "document is not a mapping"),
    ],
    ids=["broken-yaml", "not-a-mapping"],
)
def test_validate_reports_unreadable_documents(tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, expected: str) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(content)
    assert main(["validate", str(path)]) == 1
    assert expected in capsys.readouterr().out


def test_validate_missing_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(tmp_path / "nope.yaml")]) == 1
    assert "cannot read" in capsys.readouterr().out


def test_plan_lists_trainings_and_phases(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", str(ROOT / "configs")]) == 0
    out = capsys.readouterr().out
    assert "12 training(s), 4 phase(s) would run:" in out
    assert "QLoRA r=16 on Qwen/Qwen2.5-3B-Instruct [gpu x1]" in out
    # serving.quantization auto is not a type: the plan says who chooses it
    assert "quantize=[Q4_K_M, Q5_K_M] then serve the type the build chooses (auto: the smallest that passes) x2" in out
    assert "serve auto" not in out and "then serve Q4_K_M x1" in out


def test_plan_refuses_invalid_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "mixed.yaml"
    path.write_text(BAD)
    assert main(["plan", str(path)]) == 1
    assert "nothing would run" in capsys.readouterr().err


def test_crds_check_detects_stale_files(tmp_path: Path) -> None:
    assert main(["crds", "--output", str(tmp_path)]) == 0
    assert main(["crds", "--output", str(tmp_path), "--check"]) == 0
    first = sorted(tmp_path.iterdir())[0]
    first.write_text(first.read_text() + "# edited\n")
    assert main(["crds", "--output", str(tmp_path), "--check"]) == 1


def test_console_script_is_installed() -> None:
    tara = Path(sys.executable).parent / "tara"
    result = subprocess.run([str(tara), "validate", "-q", str(ROOT / "configs")], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_validate_fails_when_nothing_to_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "other.yaml"
    path.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
    assert main(["validate", str(path)]) == 1
    assert "no TARA resources found" in capsys.readouterr().out
