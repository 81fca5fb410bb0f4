"""The README's "Phases and trainings from the command line" block, run as written, in order, in a
scratch folder against the real control plane (the kubeconfig's context namespace stands for yours)."""

from __future__ import annotations

import shlex
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from cli_support import NAMESPACE, Result
from kubernetes import client

ROOT = Path(__file__).resolve().parents[2]
HEADING = "## Phases and trainings from the command line"


def _commands() -> list[list[str]]:
    section = (ROOT / "README.md").read_text(encoding="utf-8").split(HEADING, 1)[1]
    block = section.split("```console", 1)[1].split("```", 1)[0]
    return [shlex.split(line.split("  #", 1)[0].removeprefix("$ ")) for line in block.strip().splitlines()]


def test_readme_cli_block(tara: Callable[..., Result], kubeconfig: Path, custom: client.CustomObjectsApi,
                          tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    commands = _commands()
    assert commands and all(words[0] == "tara" for words in commands), commands
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    # `follow` needs a training that ends: one the trainer has already finished
    training = yaml.safe_load((ROOT / "configs" / "trainings" / "cpu" / "healthcare-cpu.yaml").read_text())
    training["metadata"]["name"] = "healthcare"
    custom.create_namespaced_custom_object("tara.dev", "v1alpha1", NAMESPACE, "domaintrainings", training)
    custom.patch_namespaced_custom_object_status("tara.dev", "v1alpha1", NAMESPACE, "domaintrainings", "healthcare", {
        "status": {"phase": "Succeeded", "progress": {"step": 100, "totalSteps": 100, "percent": 100.0}}})
    for words in commands:
        result = tara(*words[1:])
        assert result.code == 0, f"{shlex.join(words)}\n{result.out}\n{result.err}"
    written = yaml.safe_load(Path("phase-3.yaml").read_text())
    assert [d["domain"] for d in written["spec"]["domains"]] == ["mental-health", "career", "leadership"]
    stored = custom.get_namespaced_custom_object("tara.dev", "v1alpha1", NAMESPACE, "ggufphases", "phase-3")
    assert [d["domain"] for d in stored["spec"]["domains"]] == ["mental-health", "career", "leadership"]
