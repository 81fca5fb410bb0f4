"""The pinned llama.cpp toolchain: one pin, a cache keyed by version and CPU, and a build that
counts only once complete."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tara_trainer import llamacpp
from tara_trainer.llamacpp import LLAMA_CPP_PYTHON_VERSION, TOOLS, ToolchainError, ensure_toolchain

ROOT = Path(__file__).resolve().parents[2]


def test_one_pin_for_bindings_and_tools() -> None:
    pins = re.findall(r'"llama-cpp-python==([^"]+)"', (ROOT / "pyproject.toml").read_text())
    assert pins == [LLAMA_CPP_PYTHON_VERSION]


def test_missing_build_is_a_clear_error_when_building_is_off(tmp_path: Path) -> None:
    with pytest.raises(ToolchainError, match="run `make llama`"):
        ensure_toolchain(tmp_path, build=False)


def _copy_build(cache: Path, toolchain, native: bool) -> Path:
    """A copy of the real build's binaries into a fresh cache layout, without its stamp."""
    src_dir, build_dir = llamacpp._layout(cache, LLAMA_CPP_PYTHON_VERSION, native=native)
    src_dir.mkdir(parents=True, exist_ok=True)
    (src_dir / "convert_hf_to_gguf.py").write_text("")
    (build_dir / "bin").mkdir(parents=True)
    for tool in TOOLS:
        shutil.copy2(toolchain.bin_dir / tool, build_dir / "bin" / tool)
    (build_dir / "bin" / "libllama.so").write_bytes(b"")
    return build_dir


def test_an_unstamped_build_does_not_count(tmp_path: Path, toolchain) -> None:
    """A copy of the real build without its stamp (an interrupted build) is not used."""
    build_dir = _copy_build(tmp_path, toolchain, native=True)
    with pytest.raises(ToolchainError, match="not built"):
        ensure_toolchain(tmp_path, build=False)
    (build_dir / llamacpp.STAMP).write_text("{}")
    assert ensure_toolchain(tmp_path, build=False).bin_dir == build_dir / "bin"


def test_a_portable_build_serves_when_there_is_no_native_one(tmp_path: Path, toolchain) -> None:
    """Images ship a portable build (TARA_GGML_NATIVE=false); pods find it without a native one."""
    portable = _copy_build(tmp_path, toolchain, native=False)
    assert portable.name == "build-portable"
    (portable / llamacpp.STAMP).write_text("{}")
    assert ensure_toolchain(tmp_path, build=False).build_dir == portable


def test_cached_build_is_complete_and_keyed_by_cpu(toolchain) -> None:
    assert toolchain.build_dir.name == f"build-{llamacpp.cpu_key()}"
    assert toolchain.build_dir.parent.name == LLAMA_CPP_PYTHON_VERSION
    assert toolchain.stamp["buildSeconds"] > 0 and "-DLLAMA_CURL=OFF" in toolchain.stamp["cmakeFlags"]
    assert "-DGGML_NATIVE=ON" in toolchain.stamp["cmakeFlags"]
    for tool in TOOLS:
        assert toolchain.tool(tool).is_file()
    assert (toolchain.gguf_py / "gguf").is_dir() and toolchain.script("convert_lora_to_gguf.py").is_file()
    bindings = llamacpp.import_llama_cpp(toolchain)
    assert bindings.__version__ == LLAMA_CPP_PYTHON_VERSION


@pytest.mark.parametrize(
    ("cpu", "cuda", "name"),
    [
        ("aadc36d440", False, "build-aadc36d440"),  # the CPU build's name is unchanged: caches stay valid
        ("aadc36d440", True, "cuda-aadc36d440"),
        (llamacpp.PORTABLE, False, "build-portable"),
        (llamacpp.PORTABLE, True, "cuda-portable"),
    ],
    ids=["native-cpu", "native-cuda", "portable-cpu", "portable-cuda"],
)
def test_the_backend_is_part_of_the_cache_key(cpu: str, cuda: bool, name: str) -> None:
    assert llamacpp.build_name(cpu, cuda) == name


def test_the_cpu_cache_key_is_what_it_was(tmp_path: Path) -> None:
    """Adding the CUDA switch left every CPU build where it was (the shared cache is not rebuilt)."""
    assert llamacpp._layout(tmp_path, "0.3.36")[1] == tmp_path / "llama.cpp" / "0.3.36" / f"build-{llamacpp.cpu_key()}"
    assert llamacpp._layout(tmp_path, "0.3.36", native=False)[1].name == "build-portable"
    assert llamacpp._layout(tmp_path, "0.3.36", cuda=True)[1].name == f"cuda-{llamacpp.cpu_key()}"


@pytest.mark.parametrize(
    ("native", "cuda", "present", "absent"),
    [
        (True, False, ["-DGGML_NATIVE=ON"], ["-DGGML_CUDA=ON"]),
        (False, False, ["-DGGML_NATIVE=OFF"], ["-DGGML_CUDA=ON"]),
        (True, True, ["-DGGML_NATIVE=ON", "-DGGML_CUDA=ON", "-DGGML_CUDA_NCCL=OFF"], []),
        (False, True, ["-DGGML_NATIVE=OFF", "-DGGML_CUDA=ON", "-DGGML_CUDA_NCCL=OFF"], []),
    ],
    ids=["native-cpu", "portable-cpu", "native-cuda", "image-cuda"],
)
def test_cmake_flags(native: bool, cuda: bool, present: list[str], absent: list[str]) -> None:
    flags = llamacpp.cmake_flags(native, cuda)
    assert flags[: len(llamacpp.CMAKE_FLAGS)] == list(llamacpp.CMAKE_FLAGS)
    assert all(f in flags for f in present) and not any(f in flags for f in absent)
    assert len(flags) == len(set(flags))


def test_a_cpu_build_never_stands_in_for_cuda(tmp_path: Path, toolchain) -> None:
    """With only CPU builds cached, asking for CUDA fails and names the command; a CUDA build (the
    image's portable one) is found for CUDA while the CPU build still serves the CPU backend."""
    cpu = _copy_build(tmp_path, toolchain, native=True)
    (cpu / llamacpp.STAMP).write_text("{}")
    with pytest.raises(ToolchainError, match=r"with CUDA is not built in .*cuda-.*tara-trainer llama-build --cuda"):
        ensure_toolchain(tmp_path, build=False, cuda=True)
    src_dir, cuda_dir = llamacpp._layout(tmp_path, LLAMA_CPP_PYTHON_VERSION, native=False, cuda=True)
    shutil.copytree(cpu, cuda_dir)
    assert cuda_dir.name == "cuda-portable"
    assert ensure_toolchain(tmp_path, build=False, cuda=True).build_dir == cuda_dir
    assert ensure_toolchain(tmp_path, build=False).build_dir == cpu


def test_a_cuda_build_without_the_toolkit_fails_before_any_download(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(llamacpp, "_nvcc", lambda: None)
    with pytest.raises(ToolchainError, match="needs the CUDA toolkit to build: no nvcc"):
        ensure_toolchain(tmp_path, cuda=True)
    assert not (tmp_path / "llama.cpp" / LLAMA_CPP_PYTHON_VERSION / "src").exists()


@pytest.mark.parametrize("how", ["flag", "env"])
def test_llama_build_has_a_cuda_switch(tmp_path: Path, monkeypatch, caplog, how: str) -> None:
    """`tara-trainer llama-build --cuda` (or TARA_GGML_CUDA=true) asks for the CUDA cache entry."""
    from tara_trainer import cli

    argv = ["llama-build", "--check", "--cache-dir", str(tmp_path)]
    if how == "flag":
        argv.append("--cuda")
    else:
        monkeypatch.setenv("TARA_GGML_CUDA", "true")
    assert cli.main(argv) == 7
    assert f"with CUDA is not built in {tmp_path}/llama.cpp/{LLAMA_CPP_PYTHON_VERSION}/cuda-{llamacpp.cpu_key()}" in caplog.text


def test_the_router_loads_only_a_cpu_libllama(tmp_path: Path) -> None:
    """The router sidecar has no GPU: a newer CUDA build in the same cache is never its libllama."""
    from tara_router.semantic import find_libllama

    root = tmp_path / "llama.cpp" / LLAMA_CPP_PYTHON_VERSION
    for name in ("build-portable", "cuda-portable"):  # the CUDA one written last, as the image builds it
        (root / name / "bin").mkdir(parents=True)
        (root / name / "bin" / "libllama.so").write_bytes(b"")
    assert find_libllama({"TARA_CACHE_DIR": str(tmp_path)}) == root / "build-portable" / "bin"
