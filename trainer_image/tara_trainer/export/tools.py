"""The subprocess edge of the build: llama.cpp's convert scripts, llama-quantize, llama-perplexity.

Every tool writes to ``<name>.partial`` beside the final file, and the file is renamed only after
the tool succeeded, so a half-written GGUF never appears under its final name. A failing tool
becomes ``ToolFailed`` with its last output lines; a full disk (ENOSPC, or the tools' own "No
space left" message) becomes ``DiskFull``; an architecture the converter does not know becomes
``UnsupportedArchitecture``.
"""

from __future__ import annotations

import errno
import logging
import re
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tara_trainer.errors import DiskFull, ToolFailed, UnsupportedArchitecture
from tara_trainer.llamacpp import LlamaCpp

__all__ = ["ToolRun", "convert_base", "convert_lora", "parse_perplexity", "perplexity", "quantize", "partial_path"]

log = logging.getLogger(__name__)

_NO_SPACE = re.compile(r"No space left on device|ENOSPC|errno\s*=?\s*28", re.IGNORECASE)
_UNSUPPORTED = re.compile(r"Architecture '([^']+)' not supported|Model (\S+) is not supported")
_FINAL_PPL = re.compile(r"Final estimate:\s*PPL\s*=\s*([0-9.]+(?:e[+-]?\d+)?)\s*\+/-\s*([0-9.]+(?:e[+-]?\d+)?)")
_RUNNING_PPL = re.compile(r"\[(\d+)\]([0-9.]+(?:e[+-]?\d+)?),")
_CHUNKS = re.compile(r"calculating perplexity over (\d+) chunks")
_PERPLEXITY_ATTEMPTS = 5
_TAIL_LINES = 20


@dataclass(frozen=True)
class ToolRun:
    what: str
    seconds: float
    output: str


def partial_path(final: Path) -> Path:
    return final.with_name(final.name + ".partial")


def _tail(text: str, n: int = _TAIL_LINES) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return "\n".join(lines[-n:])


def _run(what: str, cmd: Sequence[str], env: dict[str, str] | None = None, timeout: float | None = None) -> ToolRun:
    log.debug("%s: %s", what, " ".join(map(str, cmd)))
    started = time.monotonic()
    try:
        proc = subprocess.run(list(map(str, cmd)), env=env, capture_output=True, text=True, errors="replace",
                              timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        raise ToolFailed(f"{what}: timed out after {timeout:.0f} s") from exc
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            raise DiskFull(f"{what}: no space left on device") from exc
        raise ToolFailed(f"{what}: cannot run {cmd[0]}: {exc.strerror or exc}") from exc
    output = (proc.stdout or "") + (proc.stderr or "")
    seconds = time.monotonic() - started
    if proc.returncode != 0:
        if _NO_SPACE.search(output):
            raise DiskFull(f"{what}: no space left on device while writing; free space and rerun\n{_tail(output, 5)}")
        unsupported = _UNSUPPORTED.search(output)
        if unsupported:
            arch = unsupported.group(1) or unsupported.group(2)
            raise UnsupportedArchitecture(f"{what}: llama.cpp's converter does not support architecture {arch}")
        raise ToolFailed(f"{what} failed (exit status {proc.returncode}) after {seconds:.1f} s:\n{_tail(output)}")
    return ToolRun(what, seconds, output)


def _publish(partial: Path, final: Path, what: str) -> None:
    if not partial.is_file() or partial.stat().st_size == 0:
        raise ToolFailed(f"{what} exited 0 but wrote no {partial.name}")
    partial.replace(final)


def _cleanup(partial: Path) -> None:
    partial.unlink(missing_ok=True)


def convert_base(tc: LlamaCpp, model_dir: Path, out: Path, outtype: str = "f16") -> ToolRun:
    """A Hugging Face model folder → GGUF (F16 by default)."""
    part = partial_path(out)
    try:
        run = _run(f"convert {model_dir.name} to GGUF",
                   [sys.executable, tc.script("convert_hf_to_gguf.py"), model_dir, "--outfile", part, "--outtype", outtype],
                   env=tc.script_env())
        _publish(part, out, run.what)
        return run
    finally:
        _cleanup(part)


def convert_lora(tc: LlamaCpp, adapter_dir: Path, base_dir: Path, out: Path, outtype: str = "f16") -> ToolRun:
    """A PEFT LoRA folder → GGUF LoRA; ``base_dir`` must be local (else the script asks the Hub)."""
    part = partial_path(out)
    try:
        run = _run(f"convert LoRA {adapter_dir} to GGUF",
                   [sys.executable, tc.script("convert_lora_to_gguf.py"), adapter_dir, "--base", base_dir,
                    "--outfile", part, "--outtype", outtype],
                   env=tc.script_env())
        _publish(part, out, run.what)
        return run
    finally:
        _cleanup(part)


def quantize(tc: LlamaCpp, source: Path, out: Path, quant: str, threads: int) -> ToolRun:
    """llama-quantize SOURCE → OUT at type QUANT. Warns when tensors needed fallback types."""
    part = partial_path(out)
    try:
        run = _run(f"quantize {source.name} to {quant}",
                   [tc.tool("llama-quantize"), source, part, quant, str(threads)])
        fallback = re.search(r"(\d+) of (\d+) tensor\(s\) required fallback quantization", run.output)
        if fallback:
            log.warning("%s: %s of %s tensors used a fallback type (row sizes not a multiple of the block size)",
                        out.name, fallback.group(1), fallback.group(2))
        _publish(part, out, run.what)
        return run
    finally:
        _cleanup(part)


def _perplexity_reading(output: str) -> float | None:
    """The final PPL of a complete llama-perplexity run, or None when its output was cut short.

    Every line goes through llama.cpp's asynchronous logger, whose queue is not flushed at exit:
    under CPU contention the "Final estimate" line and even the last chunks' running values
    (``[N]ppl,``) are lost. The last running value equals the final estimate only when it is the
    last chunk's (the run announces how many chunks it measures); a shorter reading would measure
    fewer chunks than the other models it is compared with.
    """
    m = _FINAL_PPL.search(output)
    if m:
        return float(m.group(1))
    running = _RUNNING_PPL.findall(output)
    chunks = _CHUNKS.search(output)
    if running and (chunks is None or int(running[-1][0]) == int(chunks.group(1))):
        return float(running[-1][1])
    return None


def parse_perplexity(output: str) -> float:
    """The final PPL estimate from llama-perplexity's output. Raises ToolFailed when absent or cut short."""
    value = _perplexity_reading(output)
    if value is None:
        raise ToolFailed(f"llama-perplexity printed no final perplexity:\n{_tail(output)}")
    return value


def perplexity(tc: LlamaCpp, model: Path, text_file: Path, ctx: int, threads: int, lora: Path | None = None) -> float:
    """Perplexity of MODEL (with an optional LoRA at scale 1) on TEXT_FILE, deterministic on CPU.

    A run whose output the logger cut short is repeated (the value is deterministic, only its
    printing was lost); ToolFailed after five such runs.
    """
    cmd: list[object] = [tc.tool("llama-perplexity"), "-m", model, "-f", text_file, "-c", ctx, "-b", ctx,
                         "-t", threads, "--no-warmup", "-ngl", 0, "--seed", 0]
    if lora is not None:
        cmd += ["--lora", lora]
    what = f"perplexity of {model.name}" + (f" + {lora.name}" if lora else "") + f" on {text_file}"
    for attempt in range(1, _PERPLEXITY_ATTEMPTS + 1):
        run = _run(what, cmd, env=tc.tool_env())
        value = _perplexity_reading(run.output)
        if value is not None:
            return value
        log.debug("%s: output cut short (attempt %d of %d); measuring again", what, attempt, _PERPLEXITY_ATTEMPTS)
    raise ToolFailed(f"{what} (ctx {ctx}): llama-perplexity's output lost its final chunks {_PERPLEXITY_ATTEMPTS} times:\n"
                     f"{_tail(run.output)}")
