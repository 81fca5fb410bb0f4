"""Start llama-server on a finished build: what the serving Deployment's server container runs.

The build folder's files are re-checked against their sha256 first (a corrupted or replaced GGUF
never serves), then llama-server gets the served model and, for ``adapters``, one ``--lora`` per
domain in the manifest's domain order (the router addresses them by that index) at scale 0, so a
request without a LoRA choice gets the base model. GPU layers (``--n-gpu-layers``) are served by the
CUDA build of llama.cpp (``tara_trainer.llamacpp``), which the trainer image ships beside the CPU one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tara_trainer.errors import ArtifactInvalid
from tara_trainer.export.verify import verify_manifest

__all__ = ["server_argv", "verified_manifest"]


def verified_manifest(build_dir: Path) -> dict[str, Any]:
    """The build's manifest after every file matched its sha256. Raises ArtifactInvalid."""
    import json

    path = build_dir / "manifest.json"
    if not path.is_file():
        raise ArtifactInvalid(f"{build_dir} holds no manifest.json; is it a finished build?")
    problems = verify_manifest(build_dir)
    if problems:
        raise ArtifactInvalid(f"{build_dir}: " + "; ".join(problems))
    return json.loads(path.read_text(encoding="utf-8"))


def server_argv(manifest: dict[str, Any], build_dir: Path, binary: Path, *, host: str, port: int, ctx_size: int,
                gpu_layers: int, threads: int | None = None) -> list[str]:
    """llama-server's command line for a build (pure). ``gpu_layers`` (``serving.gpuLayers``) becomes
    ``--n-gpu-layers``; above 0 the caller passes the CUDA build's ``binary``."""
    served = manifest["served"]
    argv = [str(binary), "-m", str(build_dir / served["model"]), "--host", host, "--port", str(port),
            "-c", str(ctx_size), "--n-gpu-layers", str(gpu_layers), "--metrics", "--no-webui",
            "--alias", str(manifest.get("phase") or "tara")]
    loras = served.get("loras") or {}
    for domain in manifest.get("domains") or []:
        if domain in loras:
            path = str(build_dir / loras[domain])
            if ":" in path or "," in path:
                raise ArtifactInvalid(f"{path}: llama-server cannot take a LoRA path with ':' or ','")
            # Scale 0: a request that names no adapter gets the base model. (--lora-init-without-apply
            # leaves the server's per-request default at scale 1 in this llama.cpp version.)
            argv += ["--lora-scaled", f"{path}:0"]
    if threads:
        argv += ["-t", str(threads)]
    return argv
