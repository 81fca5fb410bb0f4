"""GPU serving for real: llama.cpp built with CUDA (what `tara-trainer llama-build --cuda` builds), a
GGUF served by `tara-trainer serve --gpu-layers 99` with every layer offloaded (the CUDA build's
llama-server runs, and takes at least the model's size in device memory), and its generation speed
against the CPU build serving the same file (`--gpu-layers 0`) on the same machine, in the same run.

Skipped cleanly without a CUDA GPU (no `nvidia-smi`, or torch sees no device); it needs the CUDA
toolkit (nvcc) to build. `benchmarks/run_gpu.sh` runs it on a lent GPU machine. The model is a
random-weight Llama of about 100M parameters (F16, no download) with the tiny test tokenizer: large
enough that a CPU token costs real memory traffic, so the GPU's advantage is not launch overhead.
Results (both speeds, the ratio, the build stamps) go to $TARA_GPU_RESULT when set.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests


def _no_gpu() -> str | None:
    if shutil.which("nvidia-smi") is None:
        return "no nvidia-smi: no NVIDIA driver here"
    try:
        import torch
    except ImportError:
        return "torch is not installed"
    if not torch.cuda.is_available():
        return "torch sees no CUDA device"
    return None


pytestmark = [pytest.mark.gpu, pytest.mark.slow, pytest.mark.skipif(_no_gpu() is not None, reason=str(_no_gpu()))]

LAYERS = 8
SHAPE = {"hidden_size": 1024, "intermediate_size": 2816, "num_hidden_layers": LAYERS, "num_attention_heads": 16,
         "num_key_value_heads": 16, "max_position_embeddings": 2048}
PROMPT = "Patients with a persistent cough should"
TOKENS = 128


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _model_gguf(work: Path, toolchain) -> Path:
    """A random-weight Llama (F16 GGUF) with the tiny tokenizer, converted by the pinned llama.cpp."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    from tara_trainer.export.tools import convert_base
    from tara_trainer.tiny import build_tiny_model

    folder = build_tiny_model(work / "model")
    config = LlamaConfig.from_pretrained(folder)
    for key, value in SHAPE.items():
        setattr(config, key, value)
    torch.manual_seed(0)
    model = LlamaForCausalLM(config)
    for stale in folder.glob("model*.safetensors"):
        stale.unlink()
    model.save_pretrained(folder)
    out = work / "model-f16.gguf"
    convert_base(toolchain, folder, out)
    return out


def _build_folder(root: Path, gguf: Path) -> Path:
    """What `tara-trainer serve` serves: a manifest whose model file matches its sha256."""
    from tara_trainer.checkpoints import file_digest

    root.mkdir()
    (root / gguf.name).symlink_to(gguf)
    manifest = {"phase": "gpu-check", "domains": [], "served": {"model": gguf.name},
                "artifacts": [{"path": gguf.name, "bytes": gguf.stat().st_size, "sha256": file_digest(gguf)}]}
    (root / "manifest.json").write_text(json.dumps(manifest))
    return root


def _free_gpu_memory() -> int:
    import torch

    return torch.cuda.mem_get_info()[0]


def _serve_and_measure(build: Path, cache: Path, gpu_layers: int, log: Path) -> tuple[float, int]:
    """Start `tara-trainer serve` on the build; return its median generation speed (tokens/s) and how
    much device memory the server took (bytes, measured on the device, so across processes)."""
    free_before = _free_gpu_memory()
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "TARA_CACHE_DIR": str(cache), "TARA_BUILD_TOOLCHAIN": "false"}
    with open(log, "wb") as err:
        proc = subprocess.Popen([sys.executable, "-m", "tara_trainer.cli", "serve", "--build", str(build), "--port", str(port),
                                 "--ctx-size", "1024", "--gpu-layers", str(gpu_layers)],
                                env=env, stdout=subprocess.DEVNULL, stderr=err)
        try:
            deadline = time.monotonic() + 120
            while True:
                assert proc.poll() is None, f"serve exited {proc.returncode}: {log.read_text(errors='replace')[-3000:]}"
                assert time.monotonic() < deadline, "llama-server did not become healthy in 120 s"
                try:
                    if requests.get(url + "/health", timeout=1).status_code == 200:
                        break
                except requests.RequestException:
                    pass
                time.sleep(0.3)
            taken = free_before - _free_gpu_memory()
            speeds = []
            for _ in range(4):  # the first is a warm-up
                body = {"prompt": PROMPT, "n_predict": TOKENS, "ignore_eos": True, "temperature": 0, "cache_prompt": False}
                reply = requests.post(url + "/completion", json=body, timeout=300).json()
                assert reply["timings"]["predicted_n"] == TOKENS, reply["timings"]
                speeds.append(reply["timings"]["predicted_per_second"])
            return sorted(speeds[1:])[1], taken
        finally:
            proc.terminate()
            proc.wait(30)


def test_cuda_build_serves_with_layers_offloaded_faster_than_cpu(tmp_path: Path, settings) -> None:
    from tara_trainer.llamacpp import ensure_toolchain

    cpu = ensure_toolchain(settings.cache_dir)
    cuda = ensure_toolchain(settings.cache_dir, cuda=True)  # builds for the GPUs present (minutes, once)
    assert cuda.stamp.get("cuda") is True and "-DGGML_CUDA=ON" in cuda.stamp["cmakeFlags"]
    assert cuda.build_dir.name.startswith("cuda-") and cpu.build_dir.name.startswith("build-")

    build = _build_folder(tmp_path / "build", _model_gguf(tmp_path, cpu))
    gpu_log, cpu_log = tmp_path / "serve-gpu.log", tmp_path / "serve-cpu.log"
    gguf_bytes = json.loads((build / "manifest.json").read_text())["artifacts"][0]["bytes"]
    gpu_speed, gpu_taken = _serve_and_measure(build, settings.cache_dir, 99, gpu_log)
    cpu_speed, _ = _serve_and_measure(build, settings.cache_dir, 0, cpu_log)

    served = gpu_log.read_text(errors="replace")
    assert str(cuda.tool("llama-server")) in served, "serve --gpu-layers 99 did not run the CUDA build"
    assert "--gpu-layers option will be ignored" not in served, served[-3000:]
    # Every layer offloaded: the server holds at least the model's weights in device memory.
    assert gpu_taken >= 0.9 * gguf_bytes, (f"llama-server took {gpu_taken >> 20} MiB of device memory for a "
                                           f"{gguf_bytes >> 20} MiB model:\n{served[-3000:]}")
    ratio = gpu_speed / cpu_speed
    result = {"gpuTokensPerSecond": round(gpu_speed, 1), "cpuTokensPerSecond": round(cpu_speed, 1),
              "ratio": round(ratio, 2), "gpuMemoryMiB": gpu_taken >> 20, "modelMiB": gguf_bytes >> 20, "tokens": TOKENS, "layers": LAYERS, "shape": SHAPE,
              "cudaBuild": cuda.stamp, "cpuBuild": cpu.stamp}
    print(f"\nllama-server generation, same GGUF: GPU {gpu_speed:.1f} tokens/s, CPU {cpu_speed:.1f} tokens/s, "
          f"GPU/CPU {ratio:.2f}x")
    if os.environ.get("TARA_GPU_RESULT"):
        Path(os.environ["TARA_GPU_RESULT"]).write_text(json.dumps(result, indent=2) + "\n")
    assert gpu_speed > cpu_speed, result
