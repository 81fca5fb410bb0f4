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
