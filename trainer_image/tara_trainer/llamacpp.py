"""llama.cpp from one pinned source: the sdist of ``llama-cpp-python`` on PyPI.

That sdist vendors a llama.cpp tree whose convert scripts, ``gguf-py`` and C++ tools all match
the ``llama_cpp`` Python bindings of the same version. We download it once, unpack the vendored
tree and build ``llama-server``, ``llama-quantize``, ``llama-perplexity`` and the shared
``libllama`` (Release, no curl, no web UI download) into a user-level cache keyed by the pinned
version, the CPU's instruction-set flags (the build is ``-march=native``) and the backend, so fresh
clones on the same machine reuse it and another machine builds its own; images ship portable builds
(``TARA_GGML_NATIVE=false``) that every node can run.

Two backends, side by side: ``build-<cpu>`` is the CPU build (the GGUF build's quantize and
perplexity, the router's in-process embedder, serving without GPU layers); ``cuda-<cpu>`` is the
same tools with ``GGML_CUDA=ON`` (``tara-trainer llama-build --cuda`` or ``TARA_GGML_CUDA=true``;
it needs the CUDA toolkit, nvcc, to build, and an NVIDIA driver, ``libcuda.so.1``, to run), which
``tara-trainer serve`` uses when it offloads layers (``--gpu-layers`` above 0). A CUDA build never
replaces a CPU one: the CPU build's name is unchanged, and the router looks only for ``build-*``.

The ``llama_cpp`` package is installed without its own copy of the library
(``CMAKE_ARGS=-DLLAMA_BUILD=OFF``, see the Makefile) and loads the ``libllama`` built here through
``LLAMA_CPP_LIB_PATH``: one build serves both the tools and in-process checks.

Invariants: the source folder is only published by renaming a finished temporary folder, and a
build counts as complete only once its ``tara-build.json`` stamp (what was built, with which flags,
in how many seconds) is written last, so an interrupted download or build never looks complete.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tara_api.reasons import Reason
from tara_trainer.errors import TrainerError

__all__ = [
    "LLAMA_CPP_PYTHON_VERSION",
    "TOOLS",
    "LlamaCpp",
    "ToolchainError",
    "build_name",
    "cmake_flags",
    "cuda_driver_error",
    "ensure_toolchain",
    "import_llama_cpp",
]

log = logging.getLogger(__name__)

# Keep in step with the llama-cpp-python pin in pyproject.toml (a test checks).
LLAMA_CPP_PYTHON_VERSION = "0.3.36"
TOOLS = ("llama-server", "llama-quantize", "llama-perplexity")
_LIBS = ("llama",)  # the shared library the Python bindings load
STAMP = "tara-build.json"
CMAKE_FLAGS = (
    "-DCMAKE_BUILD_TYPE=Release",
    "-DLLAMA_CURL=OFF",
    "-DLLAMA_USE_PREBUILT_UI=OFF",  # the default downloads the web UI at build time
    "-DLLAMA_BUILD_TESTS=OFF",
    "-DLLAMA_BUILD_EXAMPLES=OFF",
    "-DBUILD_SHARED_LIBS=ON",
)
PORTABLE = "portable"  # build key of a -DGGML_NATIVE=OFF build (images that run on any x86-64 node)
CUDA_FLAGS = (
    "-DGGML_CUDA=ON",
    "-DGGML_CUDA_NCCL=OFF",  # one server, one node: no NCCL to ship (it would link libnccl when found)
)


class ToolchainError(TrainerError):
    """llama.cpp could not be fetched or built; the message says which step and why."""

    reason = Reason.TOOLCHAIN_UNAVAILABLE


def cpu_key() -> str:
    """A short hash of what ``-march=native`` depends on, so a cache never runs on the wrong CPU."""
    flags = ""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith(("flags", "Features")):
                flags = " ".join(sorted(line.split(":", 1)[1].split()))
                break
    except OSError:
        pass
    return hashlib.sha256(f"{platform.machine()}|{flags}".encode()).hexdigest()[:10]


@dataclass(frozen=True)
class LlamaCpp:
    """A built llama.cpp: where its tools, library and convert scripts are."""

    version: str
    source_dir: Path
    build_dir: Path

    @property
    def bin_dir(self) -> Path:
        return self.build_dir / "bin"

    def tool(self, name: str) -> Path:
        path = self.bin_dir / name
        if not path.is_file():
            raise ToolchainError(f"{name} is not in {self.bin_dir}; run `make llama` to build it")
        return path

    def script(self, name: str) -> Path:
        return self.source_dir / name

    @property
    def gguf_py(self) -> Path:
        """The ``gguf-py`` that matches the convert scripts (put first on ``PYTHONPATH``)."""
        return self.source_dir / "gguf-py"

    def script_env(self, base: dict[str, str] | None = None) -> dict[str, str]:
        env = dict(os.environ if base is None else base)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(self.gguf_py), env.get("PYTHONPATH", "")) if p)
        env.pop("NO_LOCAL_GGUF", None)  # set at all, it makes the scripts use the installed gguf instead
        return env

    def tool_env(self, base: dict[str, str] | None = None) -> dict[str, str]:
        """The environment for a measuring binary (llama-perplexity): OpenMP threads sleep between
        graphs instead of spinning (``OMP_WAIT_POLICY=PASSIVE`` unless set). Spinning threads on a
        busy 2-core machine made a tiny-model run 3-8x slower and starved llama.cpp's logger thread,
        which then lost the run's last lines at exit in 3 to 8 runs of 10 (1 in 5 when passive)."""
        env = dict(os.environ if base is None else base)
        env.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        return env

    @property
    def stamp(self) -> dict:
        try:
            return json.loads((self.build_dir / STAMP).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}


def build_name(cpu: str, cuda: bool = False) -> str:
    """The build folder's name (the cache key below the version): ``build-<cpu>`` for the CPU backend
    (the name every CPU build has had, so existing caches stay valid), ``cuda-<cpu>`` with CUDA.
    ``cpu`` is ``cpu_key()`` for a native build, ``PORTABLE`` otherwise."""
    return f"{'cuda' if cuda else 'build'}-{cpu}"


def cmake_flags(native: bool = True, cuda: bool = False) -> list[str]:
    """CMake's configure flags for a build (pure): the common ones, native or portable CPU code, and
    CUDA. A native CUDA build compiles for the GPUs present (llama.cpp sets CMAKE_CUDA_ARCHITECTURES
    to native); a portable one for llama.cpp's default list of architectures."""
    return [*CMAKE_FLAGS, f"-DGGML_NATIVE={'ON' if native else 'OFF'}", *(CUDA_FLAGS if cuda else ())]


def _layout(cache_dir: Path, version: str, native: bool = True, cuda: bool = False) -> tuple[Path, Path]:
    root = cache_dir / "llama.cpp" / version
    return root / "src", root / build_name(cpu_key() if native else PORTABLE, cuda)


def _nvcc() -> str | None:
    """The CUDA compiler CMake will use: ``CUDACXX``, ``nvcc`` on PATH, or the toolkit's default place."""
    for candidate in (os.environ.get("CUDACXX"), shutil.which("nvcc"), "/usr/local/cuda/bin/nvcc"):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


def _nvcc_version(nvcc: str) -> str:
    try:
        out = subprocess.run([nvcc, "--version"], capture_output=True, text=True, check=False).stdout
    except OSError:
        return "unknown"
    return next((line.strip() for line in reversed(out.splitlines()) if line.strip()), "unknown")


def cuda_driver_error() -> str | None:
    """Why a CUDA build cannot run here (no NVIDIA driver library, ``libcuda.so.1``), or None when it can."""
    import ctypes

    try:
        ctypes.CDLL("libcuda.so.1")
    except OSError as exc:
        return str(exc)
    return None


def _is_built(build_dir: Path) -> bool:
    stamp = build_dir / STAMP
    return stamp.is_file() and all((build_dir / "bin" / t).is_file() for t in TOOLS) and any(
        (build_dir / "bin").glob("libllama.so*")
    )


def _run(cmd: list[str], step: str, cwd: Path | None = None, log_file: Path | None = None) -> None:
    log.info("%s: %s", step, " ".join(cmd))
    out = open(log_file, "ab") if log_file else None  # noqa: SIM115 - closed below
    try:
        proc = subprocess.run(cmd, cwd=cwd, stdout=out or None, stderr=subprocess.STDOUT if out else None, check=False)
    except OSError as exc:
        raise ToolchainError(f"{step}: cannot run {cmd[0]}: {exc.strerror or exc}") from exc
    finally:
        if out:
            out.close()
    if proc.returncode != 0:
        tail = ""
        if log_file and log_file.is_file():
            tail = "\n" + "\n".join(log_file.read_text(errors="replace").splitlines()[-25:])
        raise ToolchainError(f"{step} failed with exit status {proc.returncode}{tail}")


def _fetch_source(src_dir: Path, version: str) -> None:
    """Download the sdist with pip and publish its vendored llama.cpp tree as ``src_dir``."""
    src_dir.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="tara-sdist-", dir=src_dir.parent) as tmp:
        tmp_path = Path(tmp)
        _run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:",
             "--dest", str(tmp_path), f"llama-cpp-python=={version}"],
            "download llama-cpp-python sdist",
        )
        archives = list(tmp_path.glob("llama_cpp_python-*.tar.gz"))
        if not archives:
            raise ToolchainError(f"pip did not produce a llama-cpp-python {version} sdist in {tmp_path}")
        prefix = f"llama_cpp_python-{version}/vendor/llama.cpp/"
        unpacked = tmp_path / "unpacked"
        with tarfile.open(archives[0]) as tar:
            members = [m for m in tar.getmembers() if m.name.startswith(prefix)]
            if not members:
                raise ToolchainError(f"{archives[0].name} has no vendor/llama.cpp tree")
            for m in members:
                m.name = m.name[len(prefix):]
            tar.extractall(unpacked, members=[m for m in members if m.name], filter="data")
        for required in ("CMakeLists.txt", "convert_hf_to_gguf.py", "convert_lora_to_gguf.py", "gguf-py"):
            if not (unpacked / required).exists():
                raise ToolchainError(f"vendored llama.cpp in {archives[0].name} lacks {required}")
        if src_dir.exists():
            shutil.rmtree(src_dir)
        unpacked.rename(src_dir)


def _build(src_dir: Path, build_dir: Path, jobs: int, native: bool = True, nvcc: str | None = None) -> float:
    """Configure and build in ``build_dir`` (with CUDA when ``nvcc`` is given); the stamp written last
    marks it complete."""
    (build_dir / STAMP).unlink(missing_ok=True)
    build_dir.mkdir(parents=True, exist_ok=True)
    log_file = build_dir / "build.log"
    generator = ["-G", "Ninja"] if shutil.which("ninja") else []
    started = time.monotonic()
    flags = cmake_flags(native, cuda=nvcc is not None)
    if nvcc:
        flags.append(f"-DCMAKE_CUDA_COMPILER={nvcc}")
    _run(["cmake", "-S", str(src_dir), "-B", str(build_dir), *generator, *flags], "cmake configure", log_file=log_file)
    _run(
        ["cmake", "--build", str(build_dir), "--config", "Release", "-j", str(jobs), "--target", *TOOLS, *_LIBS],
        "cmake build",
        log_file=log_file,
    )
    seconds = time.monotonic() - started
    stamp = {
        "llamaCppPythonVersion": build_dir.parent.name,
        "cpuKey": cpu_key(),
        "cmakeFlags": flags,
        "cuda": nvcc is not None,
        **({"cudaToolkit": _nvcc_version(nvcc)} if nvcc else {}),
        "jobs": jobs,
        "buildSeconds": round(seconds, 1),
        "cores": os.cpu_count(),
        "builtAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    tmp = build_dir / (STAMP + ".tmp")
    tmp.write_text(json.dumps(stamp, indent=2) + "\n", encoding="utf-8")
    tmp.rename(build_dir / STAMP)
    return seconds


def ensure_toolchain(
    cache_dir: Path, version: str = LLAMA_CPP_PYTHON_VERSION, jobs: int | None = None, build: bool = True,
    native: bool = True, cuda: bool = False,
) -> LlamaCpp:
    """Return the llama.cpp build cached under ``cache_dir``, fetching and building it first when missing.

    ``native`` builds for this CPU (``-march=native``, keyed by its instruction-set flags); a
    portable build (``native=False``, as images ship) is used too when no native one exists.
    ``cuda`` asks for the CUDA backend (its own cache entry; a CPU build never stands in for it).
    Raises ToolchainError when the build is missing and ``build`` is false, when a CUDA build is asked
    for without the CUDA toolkit, or when a step fails.
    """
    src_dir, build_dir = _layout(cache_dir, version, native, cuda)
    candidates = [build_dir] + ([_layout(cache_dir, version, False, cuda)[1]] if native else [])
    if (src_dir / "convert_hf_to_gguf.py").is_file():
        for candidate in candidates:
            if _is_built(candidate):
                return LlamaCpp(version=version, source_dir=src_dir, build_dir=candidate)
    tc = LlamaCpp(version=version, source_dir=src_dir, build_dir=build_dir)
    what = f"llama.cpp {version} with CUDA" if cuda else f"llama.cpp {version}"
    if not build:
        how = "`tara-trainer llama-build --cuda` (needs the CUDA toolkit)" if cuda else "`make llama` (about 5 minutes on 2 cores)"
        raise ToolchainError(f"{what} is not built in {build_dir}; run {how}")
    nvcc = _nvcc() if cuda else None
    if cuda and nvcc is None:
        raise ToolchainError(f"{what} needs the CUDA toolkit to build: no nvcc on PATH, in CUDACXX or in "
                             "/usr/local/cuda/bin (install the toolkit, or build on an nvidia/cuda devel image)")
    if not (src_dir / "CMakeLists.txt").is_file():
        log.info("fetching llama.cpp source (llama-cpp-python %s sdist) into %s", version, src_dir)
        _fetch_source(src_dir, version)
    jobs = jobs or os.cpu_count() or 2
    log.info("building %s (%s) with %d jobs into %s", ", ".join(TOOLS), "CUDA" if cuda else "CPU", jobs, build_dir)
    seconds = _build(src_dir, build_dir, jobs, native, nvcc)
    log.info("llama.cpp built in %.0f s", seconds)
    return tc


def import_llama_cpp(tc: LlamaCpp):
    """Import the ``llama_cpp`` bindings against the cached ``libllama``.

    Raises ToolchainError when the bindings are not installed or the library does not load.
    """
    os.environ.setdefault("LLAMA_CPP_LIB_PATH", str(tc.bin_dir))
    try:
        import llama_cpp
    except (ImportError, OSError, RuntimeError) as exc:
        raise ToolchainError(f"cannot load the llama_cpp bindings with {tc.bin_dir}: {exc}") from exc
    return llama_cpp
