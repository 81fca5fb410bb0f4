"""The control plane's own promises: the README's by-hand block works as written (up, the printed
KUBECONFIG, the operator reconciling against it, down), and the binaries' cache key follows the pins."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import yaml
from binaries import GOMOD, cache_key

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "operator"))
from operator_support import Operator, wait_for  # noqa: E402
from walkthrough import shell_block  # noqa: E402


def test_cache_key_changes_with_a_pin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key = cache_key("go1.26.8 x86_64")
    assert key == cache_key("go1.26.8 x86_64") and key.startswith("v1.37.2-")
    assert cache_key("go1.27.0 x86_64") != key
    copy = tmp_path / "gomod"
    for folder in GOMOD.iterdir():
        (copy / folder.name).mkdir(parents=True)
        for name in ("go.mod", "go.sum"):
            (copy / folder.name / name).write_bytes((folder / name).read_bytes())
    (copy / "kwok" / "go.sum").write_text((copy / "kwok" / "go.sum").read_text() + "\n")
    monkeypatch.setattr("binaries.GOMOD", copy)
    assert cache_key("go1.26.8 x86_64") != key


@pytest.mark.slow
def test_readme_by_hand_block(tmp_path: Path) -> None:
    lines = shell_block(ROOT / "README.md", "### Tests and benchmark")  # "To use the same control plane by hand"
    up, export, operator, down = lines
    assert up.endswith("controlplane.py up") and down.endswith("controlplane.py down") and operator == ".venv/bin/tara-operator"
    folder = Path(tempfile.gettempdir()) / "tara-controlplane"
    assert not (folder / "pids.json").exists(), f"a control plane started by hand is running from {folder}"

    def run(line: str) -> str:
        words = shlex.split(line)
        words[0] = str(ROOT / words[0])
        r = subprocess.run(words, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
        assert r.returncode == 0, f"{line}\n{r.stdout}\n{r.stderr}"
        return r.stdout

    printed = run(up)
    try:
        kubeconfig = export.removeprefix("export KUBECONFIG=")
        assert f"export KUBECONFIG={kubeconfig}" in printed, printed
        op = Operator(Path(kubeconfig), tmp_path / "operator.log", {}).start()
        try:
            kubectl = [str(Path(sys.executable).parent / "kubectl"), f"--kubeconfig={kubeconfig}"]
            body = yaml.safe_load((ROOT / "configs" / "trainings" / "cpu" / "healthcare-cpu.yaml").read_text())
            subprocess.run([*kubectl, "apply", "-f", "-"], input=yaml.safe_dump(body), text=True, check=True,
                           capture_output=True, timeout=60)

            def phase() -> str | None:
                out = subprocess.run([*kubectl, "get", "dt", body["metadata"]["name"], "-o", "json"], capture_output=True,
                                     text=True, timeout=60, check=True).stdout
                return (json.loads(out).get("status") or {}).get("phase")

            assert wait_for("the training running", lambda: phase() == "Running")
        finally:
            op.stop()
    finally:
        run(down)
    assert not (folder / "pids.json").exists()
