"""docs/troubleshooting.md covers every failure reason the trainer and the operator can report.

The reasons are tara_api.reasons' table, which the trainer's errors and the operator's status logic
import; the doc has one section per reason, and marks a reason **Retried.** exactly when the table
says a retry can help.
"""

from __future__ import annotations

import re
from pathlib import Path

from tara_api.reasons import Reason
from tara_trainer import errors

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "troubleshooting.md"
OPERATOR = ROOT / "operator" / "tara_operator"
# Condition reasons set False while work is under way: progress, not failures.
PROGRESS = {"Building", "Deploying", "Training"}


def _sections() -> dict[str, str]:
    """Reason -> the text of its section."""
    parts = re.split(r"^### `(\w+)`$", DOC.read_text(encoding="utf-8"), flags=re.M)
    return {name: body.split("\n## ", 1)[0].strip() for name, body in zip(parts[1::2], parts[2::2], strict=True)}


def test_every_reason_has_a_section_and_every_section_a_reason() -> None:
    sections = set(_sections())
    missing = {r.value for r in Reason} - sections
    assert not missing, f"document these reasons in docs/troubleshooting.md: {sorted(missing)}"
    assert sections - {r.value for r in Reason} == set(), "a section of a reason tara_api.reasons does not declare"


def test_sections_say_retried_exactly_for_retryable_reasons() -> None:
    sections = _sections()
    wrong = sorted(r.value for r in Reason if sections[r.value].startswith("**Retried.**") != r.retryable)
    assert not wrong, f"the doc and tara_api.reasons disagree on whether these are retried: {wrong}"


def test_every_trainer_error_has_a_reason_with_an_exit_code() -> None:
    found, todo = [], [errors.TrainerError]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    assert len(found) >= 12
    for cls in found:
        assert isinstance(cls.reason, Reason) and cls.exit_code == cls.reason.exit_code, cls
        assert cls.permanent is not cls.reason.retryable, cls


def test_the_operator_names_failure_reasons_from_the_table() -> None:
    """Warning Events and failing conditions spell their reason as a ``Reason`` member, so a new one
    cannot skip the table (and with it this doc)."""
    for path in sorted(OPERATOR.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        assert not re.findall(r'type="Warning", reason="\w+"', text), f"{path.name}: a Warning Event with a literal reason"
        failing = set(re.findall(r'\("\w+", (?:False|bool\(served\)), "(\w+)"', text)) - PROGRESS
        assert not failing, f"{path.name}: failing conditions with literal reasons {sorted(failing)}"
        assert not re.findall(r'OutcomeKind\.(?:RETRY|FAILED), (?:[\w.]+ or )?"\w+"', text), f"{path.name}: an outcome with a literal reason"
        assert not re.findall(r'Decision\("Failed", reason="\w+"', text), f"{path.name}: a decision with a literal reason"


def test_sections_name_real_spec_fields() -> None:
    """Field paths the doc tells users to change exist in the generated reference."""
    reference = (ROOT / "docs" / "reference.md").read_text(encoding="utf-8")
    fields = set(re.findall(r"`(?:spec\.)?((?:[a-z][A-Za-z]+\.)+[a-z][A-Za-z]+)`", DOC.read_text(encoding="utf-8")))
    fields -= {"manifest.json"}
    for path in sorted(fields):
        leaf = path.rsplit(".", 1)[1]
        assert f"| `{leaf}` |" in reference, f"docs/troubleshooting.md names {path}, which is no field"
