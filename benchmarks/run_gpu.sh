#!/usr/bin/env bash
# The one script for GPU checks, run on a lent GPU machine whose image has CUDA torch/transformers/peft
# but not the rest of the project's dependencies (carry them as wheels in .whl/: pydantic, pyyaml,
# jsonschema, cel-python, pytest, requests, bitsandbytes, ...). Usage:
#   OUT=/some/dir bash benchmarks/run_gpu.sh [trainer] [qlora] [llama]    # no argument: all three
# trainer: benchmarks/results/trainer-gpu-*.json (throughput against a plain loop);
# qlora:   QLoRA with batchSize: auto on a Qwen2.5-0.5B-shaped model, through the real CLI;
# llama:   tests/gpu (the `gpu` marker): llama.cpp built with CUDA (needs nvcc; minutes, once) serves a
#          GGUF with every layer offloaded, against the CPU build on the same file ($OUT/llama-cuda.json).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/tara-gpu}
STEPS=${*:-trainer qlora llama}
mkdir -p "$OUT"
if [ -d .whl ]; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl
  export PYTHONPATH=/tmp/site
fi
export PYTHONPATH="${PYTHONPATH:-}:$PWD/api:$PWD/cli:$PWD/operator:$PWD/router:$PWD/trainer_image" PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$OUT/gpu.txt"
python3 -c "import torch, transformers, peft, accelerate; print('torch', torch.__version__, 'cuda', torch.version.cuda, 'transformers', transformers.__version__, 'peft', peft.__version__, 'accelerate', accelerate.__version__)"
step() { [[ " $STEPS " == *" $1 "* ]]; }

# 1. Throughput against a plain loop, tiny model and a Qwen2.5-0.5B-shaped model (random weights).
if step trainer; then
python3 benchmarks/bench_trainer.py --model tiny --steps 60 --batch 8 --repeats 5 --output "$OUT/trainer-gpu-tiny.json"
python3 benchmarks/bench_trainer.py --model qwen0.5b-shape --steps 40 --batch 16 --repeats 5 --output "$OUT/trainer-gpu-qwen0.5b-shape.json"
fi

# 2. QLoRA (4-bit base) with batchSize: auto on the 0.5B shape, through the real CLI.
if step qlora; then
python3 - <<'PY'
import sys
from pathlib import Path
sys.path.insert(0, "benchmarks")
from bench_trainer import build_model
build_model("qwen0.5b-shape", Path("/tmp/qlora-work"))
PY
cat > /tmp/qlora.yaml <<'YAML'
apiVersion: tara.dev/v1alpha1
kind: DomainTraining
metadata: {name: healthcare-qlora}
spec:
  domain: healthcare
  baseModel: {path: /tmp/qlora-work/model}
  dataset: {builtin: healthcare}
  lora: {r: 16, alpha: 32, qlora: true}
  training: {maxSteps: 30, batchSize: auto, gradientAccumulation: 1, sequenceLength: 256, saveSteps: 10, evalSteps: 10, learningRate: 1.0e-3}
  resources: {accelerator: gpu}
  qualityGate: {minEvalLossImprovement: 0.0}
YAML
TARA_PROBE_MAX_BATCH=64 python3 -m tara_trainer.cli train --spec /tmp/qlora.yaml --output /tmp/qlora-out > "$OUT/qlora-summary.json" 2> "$OUT/qlora.log" || echo "qlora exit $?"
python3 -c "import json; m = json.load(open('/tmp/qlora-out/adapter/manifest.json')); print(json.dumps({k: m[k] for k in ('training', 'metrics', 'versions')}, indent=1))" > "$OUT/qlora-manifest.json" || true
tail -5 "$OUT/qlora.log"
fi

# 3. GPU serving: the CUDA build of llama.cpp against the CPU build, one GGUF, tokens/s of each.
# An offline machine cannot download the llama-cpp-python sdist: carry its llama.cpp tree (about 13 MB):
#   tar -C ~/.cache/tara/llama.cpp/VERSION/src --exclude=./models --exclude=./docs -czf .device/llama-src.tar.gz .
if step llama; then
  export TARA_CACHE_DIR=${TARA_CACHE_DIR:-$HOME/.cache/tara}
  version=$(python3 -c "from tara_trainer.llamacpp import LLAMA_CPP_PYTHON_VERSION as v; print(v)")
  src=$TARA_CACHE_DIR/llama.cpp/$version/src
  if [ ! -f "$src/CMakeLists.txt" ] && [ -f .device/llama-src.tar.gz ]; then
    mkdir -p "$src" && tar -xzf .device/llama-src.tar.gz -C "$src"
  fi
  rm -f "$OUT/llama-cuda.json"
  TARA_GPU_RESULT="$OUT/llama-cuda.json" python3 -m pytest tests/gpu -m gpu -q -s -p no:cacheprovider -rs \
    2>&1 | tee "$OUT/llama-cuda.log"
  test -s "$OUT/llama-cuda.json" || { echo "the GPU serving check did not run (skipped?)" >&2; exit 1; }
fi
