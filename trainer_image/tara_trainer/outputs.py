"""The trained adapter folder and its manifest.

The folder is assembled under a temporary name and renamed into place, so ``adapter/`` either
does not exist or is complete. ``manifest.json`` lists the sha256 of every file, the spec's hash,
the base model and revision, the metrics, the data lineage and the library versions.
"""

from __future__ import annotations

import hashlib
import json
import platform
import shutil
import time
from importlib import metadata
from pathlib import Path
from typing import Any

from tara_trainer.checkpoints import file_digest

__all__ = ["ADAPTER_DIR", "EVAL_TEXT", "ROUTING_UTTERANCES", "MANIFEST", "library_versions", "read_manifest", "spec_hash", "write_adapter"]

ADAPTER_DIR = "adapter"
MANIFEST = "manifest.json"
ROUTING_UTTERANCES = "routing.jsonl"  # the domain's user turns, one JSON string a line; the GGUF build embeds them for the router
EVAL_TEXT = "eval.txt"  # the held-out split, rendered as the model saw it; the GGUF build measures perplexity on it


def spec_hash(spec_wire: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(spec_wire, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def library_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for dist in ("torch", "transformers", "peft", "accelerate", "tara", "bitsandbytes"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return versions


def read_manifest(output_dir: Path) -> dict[str, Any] | None:
    path = output_dir / ADAPTER_DIR / MANIFEST
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def write_adapter(output_dir: Path, save: Any, manifest: dict[str, Any], extra_files: list[Path]) -> Path:
    """Write the adapter folder: ``save(tmp_dir)`` writes the weights and tokenizer, then the manifest.

    Returns the manifest path. An existing folder is replaced only once the new one is complete.
    """
    final = output_dir / ADAPTER_DIR
    tmp = output_dir / f".{ADAPTER_DIR}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    save(tmp)
    for extra in extra_files:
        if extra.is_file() and not (tmp / extra.name).exists():
            shutil.copy2(extra, tmp / extra.name)
    files = {
        p.relative_to(tmp).as_posix(): {"bytes": p.stat().st_size, "sha256": file_digest(p)}
        for p in sorted(tmp.rglob("*"))
        if p.is_file()
    }
    body = {**manifest, "files": files, "createdAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "versions": library_versions()}
    (tmp / MANIFEST).write_text(json.dumps(body, indent=2, sort_keys=True), encoding="utf-8")
    if final.exists():
        old = output_dir / f".{ADAPTER_DIR}.old"
        shutil.rmtree(old, ignore_errors=True)
        final.rename(old)
        tmp.rename(final)
        shutil.rmtree(old, ignore_errors=True)
    else:
        tmp.rename(final)
    return final / MANIFEST
