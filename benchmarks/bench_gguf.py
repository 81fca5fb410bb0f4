"""GGUF build benchmark: our conversion + quantization against calling llama.cpp's scripts and
binaries directly on the same inputs in the same run, plus a table of size, bits per weight and
perplexity per quantization type from a full validated build.

    python benchmarks/bench_gguf.py [--repeats 3] [--shape medium|tiny] [--output benchmarks/results/gguf-cpu.json]

Timing: one base model (``medium`` = a randomly initialised 8-layer Llama of hidden 1024 with the
tiny tokenizer, about 110M parameters; ``tiny`` = the test model) and two LoRA adapters; each side
converts the base to F16, converts both LoRAs and quantizes to Q8_0, Q5_K_M, Q4_K_M and Q2_K.
"direct" runs the same commands with subprocess and nothing else; "ours" goes through
``tara_trainer.export.tools`` (temporary names, renames, output parsing, fallback warnings). The
order of the sides rotates between repeats; medians are reported with every repeat recorded.

Table: ``tara_trainer.export.build.build`` on the tiny model with two adapters trained for a few
dozen steps on the bundled healthcare and business data: every artifact's bytes, bits per weight
and perplexity (worst domain) with its increase over F16, and the build's ``checks.performance``
(per domain: the served type's compression ratio, load time, time to a first token, tokens/s and
resident memory against the original design's serving targets). Not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

warnings.filterwarnings("ignore", category=FutureWarning)

ROOT = Path(__file__).resolve().parents[1]
for sub in ("api", "trainer_image"):
    sys.path.insert(0, str(ROOT / sub))

from tara_api import DomainTraining, GGUFPhase  # noqa: E402
from tara_trainer import tiny  # noqa: E402
from tara_trainer.export import tools  # noqa: E402
from tara_trainer.export.build import BuildRequest, build, performance_line  # noqa: E402
from tara_trainer.llamacpp import LlamaCpp, ensure_toolchain  # noqa: E402
from tara_trainer.outputs import library_versions  # noqa: E402
from tara_trainer.settings import TrainerSettings  # noqa: E402
from tara_trainer.train import TrainRequest, train  # noqa: E402

TYPES = ("Q8_0", "Q5_K_M", "Q4_K_M", "Q2_K")
MEDIUM = {"hidden_size": 1024, "intermediate_size": 2816, "num_hidden_layers": 8, "num_attention_heads": 8,
          "num_key_value_heads": 8}


def make_base(shape: str, work: Path) -> Path:
    folder = work / "tiny"
    tiny.build_tiny_model(folder)
    if shape == "tiny":
        return folder
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    config = AutoConfig.from_pretrained(str(folder))
    for key, value in MEDIUM.items():
        setattr(config, key, value)
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(config)
    out = work / "medium"
    model.save_pretrained(str(out), safe_serialization=True)
    for f in folder.iterdir():
        if f.name.startswith(("tokenizer", "special_tokens", "chat_template")):
            (out / f.name).write_bytes(f.read_bytes())
    return out


def make_adapter(base: Path, out: Path, seed: int) -> Path:
    """A LoRA (r=8, all linear layers) with random B so it changes the model; no training needed to time conversion."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(seed)
    model = get_peft_model(AutoModelForCausalLM.from_pretrained(str(base)),
                           LoraConfig(r=8, lora_alpha=16, target_modules="all-linear", task_type="CAUSAL_LM"))
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "lora_B" in name:
                p.normal_(0, 0.01)
    model.save_pretrained(str(out))
    return out


def direct(tc: LlamaCpp, base: Path, adapters: list[Path], out: Path, threads: int) -> None:
    env = tc.script_env()
    subprocess.run([sys.executable, str(tc.script("convert_hf_to_gguf.py")), str(base), "--outfile", str(out / "base-F16.gguf"),
                    "--outtype", "f16"], env=env, check=True, capture_output=True)
    for i, a in enumerate(adapters):
        subprocess.run([sys.executable, str(tc.script("convert_lora_to_gguf.py")), str(a), "--base", str(base),
                        "--outfile", str(out / f"lora-{i}.gguf"), "--outtype", "f16"], env=env, check=True, capture_output=True)
    for q in TYPES:
        subprocess.run([str(tc.tool("llama-quantize")), str(out / "base-F16.gguf"), str(out / f"base-{q}.gguf"), q, str(threads)],
                       check=True, capture_output=True)


def ours(tc: LlamaCpp, base: Path, adapters: list[Path], out: Path, threads: int) -> None:
    tools.convert_base(tc, base, out / "base-F16.gguf")
    for i, a in enumerate(adapters):
        tools.convert_lora(tc, a, base, out / f"lora-{i}.gguf")
    for q in TYPES:
        tools.quantize(tc, out / "base-F16.gguf", out / f"base-{q}.gguf", q, threads)


def timing(tc: LlamaCpp, shape: str, repeats: int, work: Path, threads: int) -> dict[str, Any]:
    base = make_base(shape, work)
    adapters = [make_adapter(base, work / f"adapter-{i}", seed=i) for i in range(2)]
    sides = {"direct": direct, "ours": ours}
    runs: dict[str, list[float]] = {name: [] for name in sides}
    order = list(sides)
    for r in range(repeats):
        for name in order:
            out = work / f"{name}-{r}"
            out.mkdir()
            started = time.perf_counter()
            sides[name](tc, base, adapters, out, threads)
            runs[name].append(round(time.perf_counter() - started, 3))
            sizes = {p.name: p.stat().st_size for p in out.glob("*.gguf")}
            for p in out.glob("*.gguf"):
                p.unlink()
            print(f"  repeat {r + 1}/{repeats} {name:>6}: {runs[name][-1]:.2f} s ({len(sizes)} files)", flush=True)
        order = order[1:] + order[:1]
    med = {name: statistics.median(v) for name, v in runs.items()}
    from tara_trainer.export.inputs import read_model_shape

    return {"shape": shape, "parameters": read_model_shape(base).parameters, "seconds": runs,
            "medianSeconds": med, "oursOverDirect": round(med["ours"] / med["direct"], 4)}


def table(tc: LlamaCpp, work: Path, settings: TrainerSettings) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    model = work / "tiny"
    trainings = work / "trainings"
    for domain in ("healthcare", "business"):
        res = DomainTraining.model_validate({
            "apiVersion": "tara.dev/v1alpha1", "kind": "DomainTraining", "metadata": {"name": domain},
            "spec": {"domain": domain, "baseModel": {"path": str(model)}, "dataset": {"builtin": domain},
                     "training": {"maxSteps": 40, "batchSize": 8, "sequenceLength": 128, "learningRate": 3e-3,
                                  "saveSteps": 1000, "evalSteps": 1000, "gradientCheckpointing": False, "warmupRatio": 0},
                     "resources": {"accelerator": "cpu"}, "qualityGate": {"enabled": False}},
        })
        train(TrainRequest(name=domain, spec=res.spec, output_dir=trainings / domain, base_dir=work), settings)
    phase = GGUFPhase.model_validate({
        "apiVersion": "tara.dev/v1alpha1", "kind": "GGUFPhase", "metadata": {"name": "bench"},
        "spec": {"phaseNumber": 1, "domains": [{"domain": "healthcare"}, {"domain": "business"}], "quantization": list(TYPES)},
    })
    m = build(BuildRequest(phase=phase, output_dir=work / "build", trainings_dir=trainings), settings).manifest
    rows = [{k: a.get(k) for k in ("kind", "quantization", "domain", "bytes", "bitsPerWeight", "perplexity",
                                   "perplexityIncrease")} for a in m["artifacts"]]
    return rows, m["checks"]["performance"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--shape", choices=("medium", "tiny"), default="medium")
    parser.add_argument("--output", default=str(ROOT / "benchmarks" / "results" / "gguf-cpu.json"))
    args = parser.parse_args()
    settings = TrainerSettings.from_env({**os.environ, "TARA_STATE_INTERVAL": "60"})
    tc = ensure_toolchain(settings.cache_dir)
    threads = settings.threads
    with tempfile.TemporaryDirectory(prefix="tara-bench-gguf-") as tmp:
        work = Path(tmp)
        print(f"timing conversion + quantization ({args.shape}, {args.repeats} repeats, {threads} threads)", flush=True)
        t = timing(tc, args.shape, args.repeats, work, threads)
        print("building the tiny model's phase for the size/perplexity table", flush=True)
        rows, performance = table(tc, work, settings)
    print(f"\nconvert + quantize, median of {args.repeats}: direct {t['medianSeconds']['direct']:.2f} s, "
          f"ours {t['medianSeconds']['ours']:.2f} s, ours/direct {t['oursOverDirect']:.3f} (target <= 1.1)")
    print(f"\n{'artifact':<10} {'type':<7} {'bytes':>10} {'bits/w':>7} {'ppl':>9} {'increase':>9}")
    for r in rows:
        inc = "" if r["perplexityIncrease"] is None else f"{r['perplexityIncrease']:+.2%}"
        ppl = "" if r["perplexity"] is None else f"{r['perplexity']:.2f}"
        name = r["domain"] or r["kind"]
        print(f"{name:<10} {r['quantization']:<7} {r['bytes']:>10} {r['bitsPerWeight']:>7.2f} {ppl:>9} {inc:>9}")
    print(f"\nserved type per domain (context {performance['contextSize']}, {performance['threads']} threads; "
          f"original targets: {performance['originTargets']})")
    for row in performance["domains"]:
        print(f"{row['domain']:<10} {performance_line(row)}")
    result = {
        "benchmark": "gguf-build",
        "timing": t,
        "table": rows,
        "servingPerformance": performance,
        "toolchain": {"llamaCppPython": tc.version, **tc.stamp},
        "hardware": {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(), "threads": threads},
        "versions": library_versions(),
        "createdAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    Path(args.output).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"\nwritten to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
