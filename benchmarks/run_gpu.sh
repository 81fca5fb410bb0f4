#!/usr/bin/env bash
# The GPU measurements behind benchmarks/results/trainer-gpu-*.json, as run on a lent GPU machine
# whose image has CUDA torch/transformers/peft but no pydantic or bitsandbytes (carried as wheels
# in .whl/). Usage: OUT=/some/dir bash benchmarks/run_gpu.sh
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/tara-gpu}
mkdir -p "$OUT"
if [ -d .whl ]; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl
  export PYTHONPATH=/tmp/site
fi
export PYTHONPATH="${PYTHONPATH:-}:$PWD/api:$PWD/trainer_image" PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$OUT/gpu.txt"
python3 -c "import torch, transformers, peft, accelerate; print('torch', torch.__version__, 'transformers', transformers.__version__, 'peft', peft.__version__, 'accelerate', accelerate.__version__)"

# 1. Throughput against a plain loop, tiny model and a Qwen2.5-0.5B-shaped model (random weights).
python3 benchmarks/bench_trainer.py --model tiny --steps 60 --batch 8 --repeats 5 --output "$OUT/trainer-gpu-tiny.json"
python3 benchmarks/bench_trainer.py --model qwen0.5b-shape --steps 40 --batch 16 --repeats 5 --output "$OUT/trainer-gpu-qwen0.5b-shape.json"

# 2. QLoRA (4-bit base) with batchSize: auto on the 0.5B shape, through the real CLI.
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
