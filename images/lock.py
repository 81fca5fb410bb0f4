"""requirements.lock: one set of pins for the venv (`make setup`) and both images (images/install.sh).

pyproject.toml holds the project's own pins (dependencies and extras) and, under ``[tool.tara.lock]``,
the packages installed with ``--no-deps`` and the installer's own pin (pip). This script asks pip to
resolve all of them for this interpreter and platform (``pip install --dry-run --ignore-installed
--report``: metadata only, nothing is installed) and writes every transitive package as
``name==version``: a pip constraints file. The lock records a hash of the pins it was made from, so
``check()`` (run by tests/test_install.py) finds a lock that no longer matches pyproject.toml without
resolving anything.

Usage: python images/lock.py            # regenerate requirements.lock (about a minute; needs PyPI)
       python images/lock.py --check    # exit 1 with the reason when the lock is stale

The lock is resolved for CPython 3.11 on Linux x86_64, where PyPI's default torch wheel is the CUDA
build (its nvidia-* runtime wheels are pinned here too); other platforms install with the same
constraints, and pins for packages they do not need are ignored.
"""

from __future__ import annotations

import hashlib
import json
import platform
import re
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

__all__ = ["LOCK", "REGENERATE", "check", "direct_pins", "inputs_digest", "read_lock", "render_lock"]

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements.lock"
REGENERATE = "python images/lock.py"
PLATFORM = ("3.11", "x86_64")  # (python, machine) the lock is resolved for
_PIN = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?\s*==\s*([^\s;#]+)\s*(?:;.*)?$")


def canonical(name: str) -> str:
    """PEP 503 normalised name (``PyYAML`` and ``pyyaml``, ``typing_extensions`` and ``typing-extensions``)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _pins(requirements: list[str], where: str) -> dict[str, str]:
    out = {}
    for req in requirements:
        m = _PIN.match(req)
        if not m:
            raise ValueError(f"{where}: {req!r} is not pinned with == (every requirement is, so the lock can be checked)")
        out[canonical(m.group(1))] = m.group(2)
    return out


def direct_pins(pyproject: dict) -> dict[str, dict[str, str]]:
    """The pins written in pyproject.toml, by where they are written. Raises ValueError on an unpinned one."""
    project = pyproject["project"]
    lock_cfg = pyproject.get("tool", {}).get("tara", {}).get("lock", {})
    groups = {"dependencies": _pins(project.get("dependencies", []), "project.dependencies")}
    for extra, reqs in sorted(project.get("optional-dependencies", {}).items()):
        groups[f"extra:{extra}"] = _pins(reqs, f"project.optional-dependencies.{extra}")
    groups["no-deps"] = _pins(lock_cfg.get("no-deps", []), "tool.tara.lock.no-deps")
    groups["tools"] = _pins(lock_cfg.get("tools", []), "tool.tara.lock.tools")
    return groups


def inputs_digest(pyproject: dict) -> str:
    """A hash of everything the lock is resolved from: the pins, requires-python and the platform."""
    payload = {"pins": direct_pins(pyproject), "requires-python": pyproject["project"].get("requires-python"),
               "platform": PLATFORM}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def render_lock(resolved: dict[str, str], digest: str) -> str:
    header = [
        "# requirements.lock: every package of the venv and both images, pinned (a pip constraints file).",
        f"# Generated from pyproject.toml by `{REGENERATE}`; do not edit by hand.",
        f"# Resolved for CPython {PLATFORM[0]} on Linux {PLATFORM[1]} (torch is PyPI's default wheel there: the CUDA build).",
        f"# inputs: {digest}",
    ]
    return "\n".join(header + [f"{name}=={resolved[name]}" for name in sorted(resolved)]) + "\n"


def read_lock(text: str) -> tuple[dict[str, str], str | None]:
    """(pins by canonical name, the recorded inputs digest)."""
    pins, digest = {}, None
    for line in text.splitlines():
        if line.startswith("# inputs:"):
            digest = line.split(":", 1)[1].strip()
        elif line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[canonical(name)] = version.strip()
    return pins, digest


def check(pyproject_text: str, lock_text: str | None) -> list[str]:
    """Why the lock does not match pyproject.toml (empty when it does)."""
    pyproject = tomllib.loads(pyproject_text)
    if lock_text is None:
        return ["requirements.lock is missing"]
    pins, digest = read_lock(lock_text)
    problems = []
    for group, wanted in direct_pins(pyproject).items():
        for name, version in wanted.items():
            if pins.get(name) != version:
                problems.append(f"{name}=={version} ({group}) is locked as {pins.get(name) or 'nothing'}")
    if digest != inputs_digest(pyproject):
        problems.append(f"the lock was made from other pins (inputs {digest}, pyproject.toml now {inputs_digest(pyproject)})")
    return problems


def _resolve(pyproject: dict) -> dict[str, str]:
    extras = ",".join(sorted(pyproject["project"].get("optional-dependencies", {})))
    with tempfile.TemporaryDirectory(prefix="tara-lock-") as tmp:
        report = Path(tmp) / "report.json"
        cmd = [sys.executable, "-m", "pip", "install", "--quiet", "--dry-run", "--ignore-installed",
               "--report", str(report), f"{ROOT}[{extras}]" if extras else str(ROOT)]
        subprocess.run(cmd, check=True)
        installs = json.loads(report.read_text())["install"]
    name = canonical(pyproject["project"]["name"])
    resolved = {canonical(i["metadata"]["name"]): i["metadata"]["version"] for i in installs}
    resolved.pop(name, None)
    groups = direct_pins(pyproject)
    for group in ("no-deps", "tools"):  # exact pins installed without their dependencies: nothing to resolve
        resolved.update(groups[group])
    return resolved


def main(argv: list[str]) -> int:
    pyproject_text = (ROOT / "pyproject.toml").read_text()
    if argv == ["--check"]:
        problems = check(pyproject_text, LOCK.read_text() if LOCK.is_file() else None)
        for p in problems:
            print(f"requirements.lock: {p}", file=sys.stderr)
        if problems:
            print(f"regenerate it: {REGENERATE}", file=sys.stderr)
        return 1 if problems else 0
    if argv:
        print(__doc__, file=sys.stderr)
        return 2
    here = (f"{sys.version_info.major}.{sys.version_info.minor}", platform.machine())
    if here != PLATFORM or sys.platform != "linux":
        print(f"the lock is resolved for CPython {PLATFORM[0]} on Linux {PLATFORM[1]}; this is "
              f"{here[0]} on {sys.platform} {here[1]}", file=sys.stderr)
        return 2
    pyproject = tomllib.loads(pyproject_text)
    LOCK.write_text(render_lock(_resolve(pyproject), inputs_digest(pyproject)))
    print(f"wrote {LOCK}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
