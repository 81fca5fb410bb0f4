"""`tara-trainer` spec loading and the tiny-model command, as users and the operator call them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tara_trainer.cli import load_spec, main
from tara_trainer.errors import SpecInvalid

ROOT = Path(__file__).resolve().parents[2]
SPEC = {"domain": "education", "baseModel": {"path": "model"}, "dataset": {"builtin": "education"}, "resources": {"accelerator": "cpu"}}


def test_manifest_from_configs_loads() -> None:
    resource = load_spec(ROOT / "configs" / "trainings" / "cpu" / "education-cpu.yaml")
    assert resource.metadata.name == "education-cpu" and resource.spec.training.max_steps == 200


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_bare_spec_is_accepted(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"spec{suffix}"
    path.write_text(json.dumps(SPEC) if suffix == ".json" else yaml.safe_dump(SPEC))
    resource = load_spec(path)
    assert resource.metadata.name == "education" and resource.spec.lora.r == 8
    assert load_spec(path, name="edu-1").metadata.name == "edu-1"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("kind: GGUFPhase\napiVersion: tara.dev/v1alpha1\n", "expected DomainTraining"),
        ("- a list\n", "expected a DomainTraining manifest or its spec"),
        ("domain: [unclosed\n", "invalid YAML"),
        (yaml.safe_dump({**SPEC, "lora": {"qlora": True}}), "spec.lora.qlora: lora.qlora (4-bit) needs resources.accelerator: gpu"),
        (yaml.safe_dump({**SPEC, "dataset": {}}), "spec.dataset: set exactly one of"),
        # the trainer reads specs within the limits tara validate uses (tara_api.safeyaml): one line, no traceback
        ("a: &a [*a]\n", "a spec cannot be recursive"),
        ("domain: !!binary aGk=\n", "tag !!binary is not supported"),
        ("".join(f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]\n" if i else "l0: &l0 [x]\n" for i in range(8)), "nodes"),
    ],
    ids=["wrong-kind", "not-a-mapping", "bad-yaml", "qlora-on-cpu", "no-dataset", "recursive-alias", "binary-tag",
         "billion-laughs"],
)
def test_bad_specs_are_refused_with_the_field(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text(content)
    with pytest.raises(SpecInvalid) as error:
        load_spec(path)
    assert message in str(error.value)


def test_missing_spec_file_exit_code(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "--spec", str(tmp_path / "nope.yaml"), "--output", str(tmp_path / "out")]) == 2


def test_tiny_model_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tiny-model", "--output", str(tmp_path / "m")]) == 0
    assert "tiny model ready" in capsys.readouterr().out
    assert (tmp_path / "m" / "tokenizer.model").is_file() and (tmp_path / "m" / "model.safetensors").is_file()
