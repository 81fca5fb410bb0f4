"""The serving probe run in a fresh process, so that its memory reading means something.

Read inside the build process, the resident memory a load adds is only a lower bound: the build
loaded the same files before (tokenization, logits, generation checks) and the allocator reuses
what they freed, so a tiny model added nothing. ``probe_in_child`` therefore starts
``python -m tara_trainer.export.serveprobe`` once per reading. The child imports the llama.cpp
bindings and initialises the backend, takes its resident set as the baseline and resets its peak
(``/proc/self/clear_refs``), then runs ``verify.probe_serving`` (the load as llama-server loads it,
memory-mapped at the serving context, and a greedy generation). Its reading of memory is the peak
resident set from the load to the last token minus that baseline: the model's mapped pages the load
and generation touched (all of them for a model this small), the LoRA, the KV cache at the context
size, and the compute and output buffers; not the Python interpreter or the bindings, which every
serving process has before any model.

The request goes to the child as JSON on stdin and the reading comes back as JSON in a file the
parent names; a child that fails (a load error, a crash, a timeout) is an ``ArtifactInvalid`` whose
message says how it ended and the last lines it wrote. Linux only for the memory (``/proc``); the
reading is None elsewhere.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from tara_trainer.errors import ArtifactInvalid, TrainerError
from tara_trainer.export.verify import ServingProbe, probe_serving
from tara_trainer.llamacpp import LlamaCpp, import_llama_cpp

__all__ = ["MODULE", "child_failure", "peak_above", "probe_in_child"]

MODULE = "tara_trainer.export.serveprobe"
_TAIL_LINES = 12


def _status_kib(field: str) -> int | None:
    """A ``kB`` field of /proc/self/status (VmRSS, VmHWM) in bytes; None where unreadable."""
    try:
        for line in Path("/proc/self/status").read_text(encoding="utf-8").splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) * 1024
    except (OSError, IndexError, ValueError):
        return None
    return None


def _reset_peak() -> bool:
    """Reset this process's peak resident set to its current one (Linux 4.0+); False where refused."""
    try:
        Path("/proc/self/clear_refs").write_text("5", encoding="ascii")
    except OSError:
        return False
    return True


def peak_above(baseline: int | None, peak: int | None, resident: int | None, peak_reset: bool) -> int | None:
    """The memory attributed to the model: the peak resident set since the baseline (the current one
    when the peak could not be reset, as an earlier peak would count memory the model never used)
    minus the baseline; None when a reading is missing."""
    top = peak if peak_reset else resident
    if baseline is None or top is None:
        return None
    return max(top - baseline, 0)


def child_failure(what: str, returncode: int, stderr: str) -> str:
    """The message of a probe child that ended without a reading."""
    if returncode < 0:
        try:
            how = f"was killed by {signal.Signals(-returncode).name}"
        except ValueError:
            how = f"was killed by signal {-returncode}"
    else:
        how = f"exited with code {returncode} without a reading"
    tail = "\n".join(stderr.strip().splitlines()[-_TAIL_LINES:])
    return f"the serving probe of {what} in a fresh process {how}" + (f": {tail}" if tail else " (it wrote nothing to stderr)")


def probe_in_child(tc: LlamaCpp, model: Path, prompt_ids: Sequence[int], n_ctx: int, lora: Path | None = None,
                   n: int = 32, threads: int = 2, timeout: float = 900.0, python: str = sys.executable) -> ServingProbe:
    """``verify.probe_serving`` of MODEL (+ LORA) in a fresh process, with the memory the load and the
    generation took there (see the module docstring).

    Raises ArtifactInvalid when the child reports an error, ends without a reading or runs past TIMEOUT."""
    what = model.name + (f" with LoRA {lora.name}" if lora else "")
    request = {"toolchain": {"version": tc.version, "sourceDir": str(tc.source_dir), "buildDir": str(tc.build_dir)},
               "model": str(model), "lora": str(lora) if lora else None, "promptIds": [int(t) for t in prompt_ids],
               "contextSize": n_ctx, "tokens": n, "threads": threads}
    with tempfile.TemporaryDirectory(prefix="tara-serveprobe-") as tmp:
        result_path = Path(tmp) / "reading.json"
        try:
            done = subprocess.run([python, "-m", MODULE, str(result_path)], input=json.dumps(request), text=True,
                                  capture_output=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired as exc:
            raise ArtifactInvalid(f"the serving probe of {what} in a fresh process did not finish in {timeout:g} s") from exc
        except OSError as exc:
            raise ArtifactInvalid(f"the serving probe of {what} could not start a process ({python}): {exc}") from exc
        reading = json.loads(result_path.read_text(encoding="utf-8")) if result_path.is_file() else None
    if reading is None:
        raise ArtifactInvalid(child_failure(what, done.returncode, done.stderr))
    if "error" in reading:
        raise ArtifactInvalid(f"the serving probe of {what} in a fresh process failed: {reading['error']}")
    return ServingProbe(**reading["probe"])


def _probe(request: dict[str, Any]) -> dict[str, Any]:
    t = request["toolchain"]
    tc = LlamaCpp(version=t["version"], source_dir=Path(t["sourceDir"]), build_dir=Path(t["buildDir"]))
    import_llama_cpp(tc).llama_backend_init()
    baseline, peak_reset = _status_kib("VmRSS"), _reset_peak()
    probe = probe_serving(tc, Path(request["model"]), request["promptIds"], request["contextSize"],
                          lora=Path(request["lora"]) if request["lora"] else None, n=request["tokens"],
                          threads=request["threads"])
    memory = peak_above(baseline, _status_kib("VmHWM"), _status_kib("VmRSS"), peak_reset)
    return {"probe": asdict(replace(probe, memory_bytes=memory)), "baselineBytes": baseline}


def main(argv: Sequence[str] | None = None) -> int:
    """The child: the request on stdin, the reading (or the error) written to the file named by argv."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        print(f"usage: python -m {MODULE} RESULT.json < REQUEST.json", file=sys.stderr)
        return 2
    out = Path(args[0])
    try:
        reading = _probe(json.loads(sys.stdin.read()))
        code = 0
    except TrainerError as exc:
        reading, code = {"error": str(exc), "reason": exc.reason.value}, exc.exit_code
    partial = out.with_name(out.name + ".partial")
    partial.write_text(json.dumps(reading), encoding="utf-8")
    os.replace(partial, out)
    return code


if __name__ == "__main__":
    sys.exit(main())
