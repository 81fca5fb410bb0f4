"""`tara-trainer serve`: serving.gpuLayers reaches llama-server's --n-gpu-layers, GPU layers are served
by the CUDA build, and a pod without an NVIDIA driver is refused with the reason before llama-server
starts. Command lines are tables; the chain from the operator's Deployment to llama-server's argv
runs the real renderer and the real argument parser."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from specs import with_fields

from tara_api import GGUFPhase
from tara_operator.render.phase import render_serving
from tara_operator.settings import OperatorSettings
from tara_trainer import cli, llamacpp
from tara_trainer.checkpoints import file_digest
from tara_trainer.export.serve import server_argv

MANIFEST: dict[str, Any] = {
    "phase": "phase-1", "domains": ["healthcare", "business"],
    "served": {"model": "base-Q4_K_M.gguf", "loras": {"healthcare": "lora-healthcare.gguf", "business": "lora-business.gguf"}},
}


def _value(argv: list[str], flag: str) -> str:
    assert argv.count(flag) == 1, argv
    return argv[argv.index(flag) + 1]


@pytest.mark.parametrize(
    ("gpu_layers", "threads", "tail"),
    [
        (0, None, ["--lora-scaled", "/b/lora-healthcare.gguf:0", "--lora-scaled", "/b/lora-business.gguf:0"]),
        (99, None, ["--lora-scaled", "/b/lora-healthcare.gguf:0", "--lora-scaled", "/b/lora-business.gguf:0"]),
        (12, 4, ["--lora-scaled", "/b/lora-business.gguf:0", "-t", "4"]),
    ],
    ids=["cpu", "all-layers-on-gpu", "some-layers-threads"],
)
def test_server_argv(gpu_layers: int, threads: int | None, tail: list[str]) -> None:
    manifest = MANIFEST if gpu_layers != 12 else {**MANIFEST, "domains": ["business"]}
    argv = server_argv(manifest, Path("/b"), Path("/cache/cuda-portable/bin/llama-server"), host="127.0.0.1",
                       port=8081, ctx_size=8192, gpu_layers=gpu_layers, threads=threads)
    assert argv[:3] == ["/cache/cuda-portable/bin/llama-server", "-m", "/b/base-Q4_K_M.gguf"]
    assert _value(argv, "--n-gpu-layers") == str(gpu_layers) and "-ngl" not in argv
    assert _value(argv, "-c") == "8192" and _value(argv, "--alias") == "phase-1"
    assert argv[-len(tail):] == tail


@pytest.mark.parametrize("gpu_layers", [0, 99])
def test_serving_gpu_layers_reach_llama_server(gpu_layers: int) -> None:
    """GGUFPhase serving.gpuLayers → the Deployment's `tara-trainer serve` command → llama-server's argv."""
    body = with_fields({"phaseNumber": 2, "domains": [{"domain": "education"}]},
                       **{"serving.gpuLayers": gpu_layers, "serving.resources": {"accelerator": "gpu"}})
    phase = GGUFPhase.model_validate({"apiVersion": "tara.dev/v1alpha1", "kind": "GGUFPhase",
                                      "metadata": {"name": "phase-2", "namespace": "ml"}, "spec": body})
    deployment = render_serving(phase, OperatorSettings(), revision=1)["deployment"]
    command = next(c for c in deployment["spec"]["template"]["spec"]["containers"] if c["name"] == "llama-server")["command"]
    assert command[:2] == ["tara-trainer", "serve"]
    args = cli.build_parser().parse_args(command[1:])
    assert args.gpu_layers == gpu_layers
    argv = server_argv(MANIFEST, Path(args.build), Path("llama-server"), host=args.host, port=args.port,
                       ctx_size=args.ctx_size, gpu_layers=args.gpu_layers)
    assert _value(argv, "--n-gpu-layers") == str(gpu_layers)


def _build_folder(root: Path) -> Path:
    """A finished build as `tara-trainer serve` checks it: a manifest whose one file matches its sha256."""
    root.mkdir()
    model = root / "base-Q8_0.gguf"
    model.write_bytes(b"GGUF not a real model; serve --dry-run never loads it")
    manifest = {"phase": "p", "domains": [], "served": {"model": model.name},
                "artifacts": [{"path": model.name, "bytes": model.stat().st_size, "sha256": file_digest(model)}]}
    (root / "manifest.json").write_text(json.dumps(manifest))
    return root


def test_serve_without_gpu_layers_uses_the_cpu_build(tmp_path: Path, toolchain, capsys) -> None:
    build = _build_folder(tmp_path / "build")
    assert cli.main(["serve", "--build", str(build), "--dry-run"]) == 0
    argv = capsys.readouterr().out.split()
    assert argv[0] == str(toolchain.tool("llama-server")) and Path(argv[0]).parent.parent.name.startswith("build-")
    assert _value(argv, "--n-gpu-layers") == "0"


@pytest.mark.skipif(llamacpp.cuda_driver_error() is None, reason="this machine has an NVIDIA driver")
def test_gpu_layers_without_a_driver_is_hardware_unsupported(tmp_path: Path, caplog) -> None:
    """A pod that asks for GPU layers without a GPU stops with exit 6 and what to change, instead of
    llama-server failing to load libcuda (or a CPU build silently ignoring the layers)."""
    build = _build_folder(tmp_path / "build")
    assert cli.main(["serve", "--build", str(build), "--gpu-layers", "99", "--dry-run"]) == 6
    assert "HardwareUnsupported: --gpu-layers 99 (serving.gpuLayers) offloads layers to a GPU" in caplog.text
    assert "serving.resources.accelerator: gpu" in caplog.text
