"""The serving probe in a fresh process: the resident memory the served model takes is read in a
process that loaded nothing before (in the build process freed memory is reused and the tiny model
read as 0), and a child that fails is an ArtifactInvalid that says how it ended."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tara_trainer.errors import ArtifactInvalid
from tara_trainer.export import plan, quality, serveprobe, tools
from tara_trainer.llamacpp import LlamaCpp

PROMPT = [1, 20, 30, 40, 50, 60]


@pytest.fixture(scope="module")
def tiny_gguf(tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path, toolchain: LlamaCpp) -> Path:
    out = tmp_path_factory.mktemp("serveprobe") / "tiny-F16.gguf"
    tools.convert_base(toolchain, tiny_model_dir, out)
    return out


@pytest.mark.parametrize(("baseline", "peak", "resident", "reset", "expected"), [
    (100, 250, 200, True, 150),   # the peak since the reset counts: what serving must have room for
    (100, 900, 200, False, 100),  # no reset: the peak may predate the load, so the current resident set
    (100, 80, 90, True, 0),       # the allocator returned memory: never negative
    (None, 250, 200, True, None),
    (100, None, 200, True, None),
])
def test_peak_above_the_baseline(baseline, peak, resident, reset, expected) -> None:
    assert serveprobe.peak_above(baseline, peak, resident, reset) == expected


@pytest.mark.parametrize(("code", "stderr", "message"), [
    (-11, "Fatal Python error\nboom\n", "m.gguf in a fresh process was killed by SIGSEGV: Fatal Python error\nboom"),
    (-200, "", "was killed by signal 200 (it wrote nothing to stderr)"),
    (1, "Traceback ...\nImportError: no llama_cpp", "exited with code 1 without a reading: Traceback ...\nImportError: no llama_cpp"),
    (0, "\n".join(f"line {i}" for i in range(30)), "without a reading: line 18\n"),  # only the last lines
])
def test_child_failure_says_how_the_child_ended(code: int, stderr: str, message: str) -> None:
    assert message in serveprobe.child_failure("m.gguf", code, stderr)


@pytest.mark.slow
def test_the_memory_of_the_served_model_is_read_in_a_fresh_process(tiny_gguf: Path, toolchain: LlamaCpp) -> None:
    size = tiny_gguf.stat().st_size
    shape = quality.kv_shape(tiny_gguf)
    readings = {ctx: serveprobe.probe_in_child(toolchain, tiny_gguf, PROMPT, ctx) for ctx in (256, 2048)}
    for ctx, probe in readings.items():
        kv = plan.kv_cache_bytes(shape, ctx)
        assert probe.tokens == 32 and probe.load_seconds > 0 and probe.first_token_seconds > 0, probe
        # at least the KV cache (allocated and cleared at load, so resident) and a part of the mapped
        # weights; below the whole file, the KV cache and a generous allowance for compute buffers
        assert probe.memory_bytes is not None and kv + size // 4 < probe.memory_bytes < size + kv + 128 * 2**20, (ctx, probe)
    # the reading is the model's: a larger context adds its larger KV cache
    grown = readings[2048].memory_bytes - readings[256].memory_bytes
    assert grown >= 0.75 * (plan.kv_cache_bytes(shape, 2048) - plan.kv_cache_bytes(shape, 256)), readings


@pytest.mark.slow
def test_a_file_the_child_cannot_load_is_artifact_invalid(tmp_path: Path, toolchain: LlamaCpp) -> None:
    bad = tmp_path / "broken.gguf"
    bad.write_bytes(b"GGUF" + os.urandom(4096))
    with pytest.raises(ArtifactInvalid, match=r"serving probe of broken\.gguf in a fresh process failed: llama\.cpp cannot load broken\.gguf"):
        serveprobe.probe_in_child(toolchain, bad, PROMPT, 256)


def _interpreter(tmp_path: Path, body: str) -> str:
    script = tmp_path / "python"
    script.write_text(f"#!/bin/sh\n{body}\n", encoding="utf-8")
    script.chmod(0o755)
    return str(script)


def test_a_child_that_crashes_is_artifact_invalid(tmp_path: Path, toolchain: LlamaCpp) -> None:
    crashing = _interpreter(tmp_path, 'echo "ggml_abort: out of memory" >&2; kill -SEGV $$')
    with pytest.raises(ArtifactInvalid, match=r"m\.gguf in a fresh process was killed by SIGSEGV: ggml_abort: out of memory"):
        serveprobe.probe_in_child(toolchain, tmp_path / "m.gguf", PROMPT, 256, python=crashing)


def test_a_child_that_hangs_is_artifact_invalid(tmp_path: Path, toolchain: LlamaCpp) -> None:
    with pytest.raises(ArtifactInvalid, match=r"m\.gguf in a fresh process did not finish in 0\.5 s"):
        serveprobe.probe_in_child(toolchain, tmp_path / "m.gguf", PROMPT, 256, timeout=0.5,
                                  python=_interpreter(tmp_path, "exec sleep 30"))
