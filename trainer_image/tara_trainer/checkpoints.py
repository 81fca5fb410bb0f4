"""Checkpoint validation, selection and retention.

A checkpoint is *valid* only when everything a resume needs is present and loadable: the
trainer state (with the step its folder name claims), the adapter weights, the optimizer,
scheduler and RNG state (one ``rng_state_<rank>.pth`` per process of a data-parallel run, as the
marker's ``worldSize`` says), and TARA's completion marker written after the save finished, listing
the size and sha256 of every file (each one flushed to disk before the marker names it). A folder
with a truncated or altered file, or whose tensors do not load, is skipped with a logged reason and
moved aside (kept for inspection), and the previous checkpoint is used; one missing the marker was
killed before it was complete and holds nothing to inspect (``rotation`` removes it).

Selection is a pure function over inspection results, so tests reach it without I/O. Retention
(which checkpoints to delete, and when) is ``rotation``'s.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "MARKER",
    "REQUIRED_FILES",
    "CheckpointInfo",
    "file_digest",
    "inspect_checkpoint",
    "required_files",
    "list_checkpoints",
    "no_usable_line",
    "quarantine",
    "select_resume",
    "write_marker",
]

log = logging.getLogger(__name__)

MARKER = "tara-checkpoint.json"
REQUIRED_FILES = (
    "trainer_state.json",
    "adapter_model.safetensors",
    "adapter_config.json",
    "optimizer.pt",
    "scheduler.pt",
    "rng_state.pth",
)
RNG_STATE = "rng_state.pth"
_NAME = re.compile(r"^checkpoint-(\d+)$")


def required_files(world_size: int = 1) -> tuple[str, ...]:
    """What a checkpoint saved by ``world_size`` processes must hold: Hugging Face writes one RNG state
    per process, ``rng_state_<rank>.pth``, when there is more than one (pure)."""
    rest = tuple(name for name in REQUIRED_FILES if name != RNG_STATE)
    return rest + ((RNG_STATE,) if world_size <= 1 else tuple(f"rng_state_{rank}.pth" for rank in range(world_size)))


@dataclass(frozen=True)
class CheckpointInfo:
    path: Path
    step: int
    valid: bool
    reason: str = ""
    saved_at: float | None = None
    run_id: str | None = None
    interrupted: bool = False  # no completion marker: killed before the save (and its hashing) finished


def file_digest(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def _atomic_write_json(path: Path, payload: Any) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w", encoding="utf-8") as handle:
        json.dump(payload, handle, indent=2, sort_keys=True)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def _durable_digest(path: Path) -> str:
    """sha256 of a file after flushing it to disk: a marker never vouches for bytes only in the page cache."""
    with path.open("rb") as handle:
        os.fsync(handle.fileno())
    return file_digest(path)


def write_marker(folder: Path, step: int, run_id: str, extra: dict[str, Any] | None = None) -> None:
    """Record that ``folder`` is complete: sizes and hashes of every file, written last and atomically."""
    files = {
        p.relative_to(folder).as_posix(): {"bytes": p.stat().st_size, "sha256": _durable_digest(p)}
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != MARKER and not p.name.startswith(".")
    }
    _atomic_write_json(folder / MARKER, {"step": step, "runId": run_id, "savedAt": time.time(), "files": files, **(extra or {})})
    directory = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(directory)  # the rename that published the marker
    finally:
        os.close(directory)


def _default_loader(path: Path) -> None:
    """Load a file the way a resume will, so corruption shows up now and not mid-resume."""
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        load_file(str(path))
    elif path.suffix in (".pt", ".pth", ".bin"):
        import torch

        # Our own files on our own volume; RNG state holds numpy objects, so not weights_only.
        torch.load(path, map_location="cpu", weights_only=False)
    elif path.suffix == ".json":
        json.loads(path.read_text(encoding="utf-8"))


def inspect_checkpoint(folder: Path, loader: Callable[[Path], None] = _default_loader) -> CheckpointInfo:
    """Decide whether a checkpoint folder can be resumed from, and why not."""
    match = _NAME.match(folder.name)
    step = int(match.group(1)) if match else -1

    def bad(reason: str) -> CheckpointInfo:
        return CheckpointInfo(folder, step, False, reason)

    if not match:
        return bad("not a checkpoint-<step> folder")
    marker_path = folder / MARKER
    if not marker_path.is_file():
        return CheckpointInfo(folder, step, False, "no completion marker (the save was interrupted)", interrupted=True)
    try:
        marker = json.loads(marker_path.read_text(encoding="utf-8"))
        listed = marker["files"]
        required = required_files(int(marker.get("worldSize", 1)))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return bad(f"unreadable completion marker: {exc}")
    missing = [name for name in required if name not in listed or not (folder / name).is_file()]
    if missing:
        return bad(f"missing {', '.join(missing)}")
    for name, meta in listed.items():
        path = folder / name
        if not path.is_file():
            return bad(f"missing {name}")
        if path.stat().st_size != meta["bytes"]:
            return bad(f"{name} is {path.stat().st_size} bytes, expected {meta['bytes']} (truncated?)")
        if file_digest(path) != meta["sha256"]:
            return bad(f"{name} does not match its recorded sha256 (corrupt)")
    try:
        state = json.loads((folder / "trainer_state.json").read_text(encoding="utf-8"))
    except ValueError as exc:
        return bad(f"trainer_state.json is not JSON: {exc}")
    if state.get("global_step") != step:
        return bad(f"trainer_state.json says step {state.get('global_step')}, folder says {step}")
    for name in required:
        try:
            loader(folder / name)
        except Exception as exc:  # any load failure means we must not resume from it
            return bad(f"{name} does not load: {type(exc).__name__}: {exc}")
    return CheckpointInfo(folder, step, True, "", marker.get("savedAt"), marker.get("runId"))


def list_checkpoints(root: Path) -> list[Path]:
    if not root.is_dir():
        return []
    return sorted((p for p in root.iterdir() if p.is_dir() and _NAME.match(p.name)), key=lambda p: int(p.name.split("-")[1]))


def select_resume(infos: Iterable[CheckpointInfo], run_id: str) -> tuple[CheckpointInfo | None, list[CheckpointInfo]]:
    """Pick the newest valid checkpoint of this run; return it and the ones to set aside (newer invalid,
    interrupted at any step, or from another run). Older checkpoints are kept for retention to rotate."""
    ordered = sorted(infos, key=lambda c: c.step)
    chosen = next((c for c in reversed(ordered) if c.valid and c.run_id == run_id), None)
    rejected = [
        c for c in ordered
        if (not c.valid and (chosen is None or c.step > chosen.step or c.interrupted)) or (c.valid and c.run_id != run_id)
    ]
    return chosen, rejected


def no_usable_line(root: Path, rejected: Iterable[CheckpointInfo]) -> str:
    """The line that says a run starts over although checkpoints were there, and why each was refused (pure)."""
    reasons = "; ".join(f"{c.path.name}: {c.reason or 'saved by a run with a different spec'}"
                        for c in sorted(rejected, key=lambda c: c.step, reverse=True))
    return f"no usable checkpoint in {root} ({reasons}); starting from step 0"


def quarantine(info: CheckpointInfo, root: Path) -> Path:
    """Move a checkpoint we will not use out of the way (kept for inspection, never deleted)."""
    target_root = root / "rejected-checkpoints"
    target_root.mkdir(parents=True, exist_ok=True)
    target = target_root / f"{info.path.name}-{int(time.time())}"
    shutil.move(str(info.path), target)
    (target / "REJECTED.txt").write_text(info.reason or "from another run (the spec changed)", encoding="utf-8")
    return target
