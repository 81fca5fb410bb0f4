"""The README's two commands are the ones the project runs: CI calls the test command, and the
first command works and prints what the README shows."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _two_commands() -> list[str]:
    block = README.split("## Two commands", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    return [line.split("#", 1)[0].strip() for line in block.strip().splitlines()]


def test_readme_gives_two_commands_and_ci_runs_the_second() -> None:
    first, second = _two_commands()
    assert (first, second) == ("make demo", "make test")
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(rf"^exec {second}$", ci, re.MULTILINE), ci


@pytest.mark.slow
def test_first_command_runs_and_prints_the_plan() -> None:
    result = subprocess.run(_two_commands()[0].split(), cwd=ROOT, capture_output=True, text=True, timeout=900, check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "14 document(s) checked, 0 problem(s)" in result.stdout
    assert "10 training(s), 3 phase(s) would run:" in result.stdout
