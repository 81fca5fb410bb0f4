"""The README's Developing table says what `make lint`'s import-linter contracts forbid: the layers
CLI → operator / trainer / router → API types, the trainer never importing kopf, the router never
importing the operator, the trainer or torch. This test reads those contracts from pyproject.toml and
runs import-linter on them (under a second), so the table and the code cannot drift apart."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _contracts() -> list[dict]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]["contracts"]


def _forbidden(source: str) -> set[str]:
    return {m for c in _contracts() if c["type"] == "forbidden" and source in c["source_modules"]
            for m in c["forbidden_modules"]}


def test_the_contracts_are_the_ones_the_readme_names() -> None:
    assert {"type": "layers", "layers": ["tara_cli", "tara_operator | tara_trainer | tara_router", "tara_api"]}.items() <= [
        c for c in _contracts() if c["type"] == "layers"][0].items()
    assert "kopf" in _forbidden("tara_trainer")
    assert {"tara_operator", "tara_trainer", "torch"} <= _forbidden("tara_router")


def test_the_code_keeps_every_contract() -> None:
    lint = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run([str(lint)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "0 broken" in result.stdout
