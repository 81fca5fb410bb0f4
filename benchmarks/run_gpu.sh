#!/usr/bin/env bash
# The one script for GPU checks, run on a lent GPU machine whose image has CUDA torch/transformers/peft
# but not the rest of the project's dependencies (carry them as wheels in .whl/: pydantic, pyyaml,
# jsonschema, cel-python, pytest, requests, bitsandbytes, ...). Usage:
#   OUT=/some/dir bash benchmarks/run_gpu.sh [trainer] [qlora] [llama] [ddp]    # no argument: all four
# trainer: benchmarks/results/trainer-gpu-*.json (throughput against a plain loop);
# qlora:   QLoRA with batchSize: auto on a Qwen2.5-0.5B-shaped model, through the real CLI;
# llama:   tests/gpu (the `gpu` marker): llama.cpp built with CUDA (needs nvcc; minutes, once) serves a
#          GGUF with every layer offloaded, against the CPU build on the same file ($OUT/llama-cuda.json).
# ddp:     data-parallel scaling (needs 2+ GPUs): the same spec with TARA_NPROC_PER_NODE=1 and =N (every GPU),
#          LoRA and QLoRA, through the real CLI; tokens/s, speedup, efficiency and the loss curves ($OUT/ddp.json).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/tara-gpu}
STEPS=${*:-trainer qlora llama ddp}
mkdir -p "$OUT"
if [ -d .whl ]; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl
  export PYTHONPATH=/tmp/site
fi
export PYTHONPATH="${PYTHONPATH:-}:$PWD/api:$PWD/cli:$PWD/operator:$PWD/router:$PWD/trainer_image" PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$OUT/gpu.txt"
python3 -c "import torch, transformers, peft, accelerate; print('torch', torch.__version__, 'cuda', torch.version.cuda, 'transformers', transformers.__version__, 'peft', peft.__version__, 'accelerate', accelerate.__version__)"
step() { [[ " $STEPS " == *" $1 "* ]]; }
# The Qwen2.5-0.5B-shaped model (random weights) the qlora and ddp steps train, made once.
shape_model() {
  python3 - <<'PY'
import sys
from pathlib import Path
sys.path.insert(0, "benchmarks")
from bench_trainer import build_model
if not Path("/tmp/qlora-work/model").is_dir():
    build_model("qwen0.5b-shape", Path("/tmp/qlora-work"))
PY
}

# 1. Throughput against a plain loop, tiny model and a Qwen2.5-0.5B-shaped model (random weights).
if step trainer; then
python3 benchmarks/bench_trainer.py --model tiny --steps 60 --batch 8 --repeats 5 --output "$OUT/trainer-gpu-tiny.json"
python3 benchmarks/bench_trainer.py --model qwen0.5b-shape --steps 40 --batch 16 --repeats 5 --output "$OUT/trainer-gpu-qwen0.5b-shape.json"
fi

# 2. QLoRA (4-bit base) with batchSize: auto on the 0.5B shape, through the real CLI.
if step qlora; then
shape_model
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

# 4. Data-parallel scaling: one process against one per GPU, same spec and global batch.
if step ddp; then
  gpus=$(nvidia-smi --query-gpu=name --format=csv,noheader | wc -l)
  if [ "$gpus" -lt 2 ]; then
    echo "ddp: $gpus GPU(s) on this machine; scaling needs 2 or more" | tee "$OUT/ddp.txt"
  else
    shape_model
    for q in false true; do
      cat > /tmp/ddp-$q.yaml <<YAML
apiVersion: tara.dev/v1alpha1
kind: DomainTraining
metadata: {name: healthcare-ddp}
spec:
  domain: healthcare
  baseModel: {path: /tmp/qlora-work/model}
  dataset: {builtin: healthcare}
  lora: {r: 16, alpha: 32, qlora: $q}
  training: {maxSteps: 60, batchSize: 8, gradientAccumulation: 8, sequenceLength: 512, saveSteps: 60, evalSteps: 1000, learningRate: 1.0e-3, precision: bf16}
  resources: {accelerator: gpu}
  qualityGate: {minEvalLossImprovement: 0.0}
YAML
      for n in 1 "$gpus"; do
        rm -rf "/tmp/ddp-out-$q-$n"
        TARA_NPROC_PER_NODE=$n TARA_MASTER_ADDR=127.0.0.1 TARA_MASTER_PORT=29511 \
          python3 -m tara_trainer.cli train --spec /tmp/ddp-$q.yaml --output "/tmp/ddp-out-$q-$n" \
          > "$OUT/ddp-$q-$n.json" 2> "$OUT/ddp-$q-$n.log" || echo "ddp qlora=$q nproc=$n exit $?"
      done
    done
    GPUS=$gpus python3 - <<'PY' | tee "$OUT/ddp.json"
import json, os
from pathlib import Path
gpus = int(os.environ["GPUS"])
out = {"gpus": gpus, "runs": {}}
for q in ("false", "true"):
    rates, curves = {}, {}
    for n in (1, gpus):
        folder = Path(f"/tmp/ddp-out-{q}-{n}")
        try:
            m = json.loads((folder / "adapter" / "manifest.json").read_text())
        except OSError as exc:
            out["runs"][f"qlora={q}"] = {"error": f"nproc {n}: {exc}"}
            break
        t = m["training"]
        rates[n] = t["timedTokens"] / t["trainSeconds"]
        states = sorted(folder.glob("**/checkpoint-*/trainer_state.json"), key=lambda s: int(s.parent.name.split("-")[-1]))
        curves[n] = [e["loss"] for e in json.loads(states[-1].read_text())["log_history"] if "loss" in e] if states else []
    else:
        speedup = rates[gpus] / rates[1]
        gap = max((abs(a - b) for a, b in zip(curves[1], curves[gpus])), default=None)
        out["runs"][f"qlora={q}"] = {"tokensPerSecond": {str(k): round(v, 1) for k, v in rates.items()},
                                     "speedup": round(speedup, 3), "efficiency": round(speedup / gpus, 3),
                                     "lossCurveMaxDifference": gap}
print(json.dumps(out, indent=1))
PY
  fi
fi
