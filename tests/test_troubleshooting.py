"""docs/troubleshooting.md covers every failure reason the trainer and the operator can report."""

from __future__ import annotations

import re
from pathlib import Path

from tara_operator import status as st
from tara_trainer import errors

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "troubleshooting.md"
OPERATOR = ROOT / "operator" / "tara_operator"


# Condition reasons set False while work is under way: progress, not failures.
PROGRESS = {"Building", "Deploying", "Training"}


def _trainer_reasons() -> set[str]:
    found, todo = set(), [errors.TrainerError]
    while todo:
        cls = todo.pop()
        found.add(cls.reason)
        todo.extend(cls.__subclasses__())
    return found


def _operator_reasons() -> set[str]:
    """Reasons the operator writes into a failing or waiting condition, read from its source: the
    outcome tables, retry/failure outcomes, conditions set False, and Warning Events."""
    found = {*st.PERMANENT_EXIT.values(), *st.RETRY_EXIT.values(), *st.PERMANENT_WAITING.values()}
    for path in (OPERATOR / "status.py", OPERATOR / "phase.py", OPERATOR / "training.py"):
        text = path.read_text(encoding="utf-8")
        found |= set(re.findall(r'OutcomeKind\.(?:RETRY|FAILED), (?:[\w.]+ or )?"(\w+)"', text))
        found |= set(re.findall(r'\("\w+", (?:False|bool\(served\)), "(\w+)"', text))
        found |= set(re.findall(r'type="Warning", reason="(\w+)"', text))
        found |= set(re.findall(r'Decision\("Failed", reason="(\w+)"', text))
    return found - PROGRESS
    return found


def _documented() -> set[str]:
    return set(re.findall(r"^### `(\w+)`$", DOC.read_text(encoding="utf-8"), flags=re.M))


def test_the_reason_collectors_find_what_they_should() -> None:
    reasons = _operator_reasons() | _trainer_reasons()
    assert {"QualityGateFailed", "OOMKilled", "RetriesExhausted", "MissingTraining", "RolloutFailed",
            "ImagePullFailed", "PodFailed", "JobFailed", "ToolFailed", "NotDeployed"} <= reasons


def test_every_failure_reason_has_a_section() -> None:
    missing = (_operator_reasons() | _trainer_reasons()) - _documented()
    assert not missing, f"document these reasons in docs/troubleshooting.md: {sorted(missing)}"


def test_sections_name_real_spec_fields() -> None:
    """Field paths the doc tells users to change exist in the generated reference."""
    reference = (ROOT / "docs" / "reference.md").read_text(encoding="utf-8")
    fields = set(re.findall(r"`(?:spec\.)?((?:[a-z][A-Za-z]+\.)+[a-z][A-Za-z]+)`", DOC.read_text(encoding="utf-8")))
    fields -= {"manifest.json"}
    for path in sorted(fields):
        leaf = path.rsplit(".", 1)[1]
        assert f"| `{leaf}` |" in reference, f"docs/troubleshooting.md names {path}, which is no field"
