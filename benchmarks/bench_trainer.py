"""Trainer benchmark: our trainer's training throughput against a plain transformers+peft loop on
the same model and data, measured in the same run, plus checkpoint save and resume cost.

    python benchmarks/bench_trainer.py [--steps 60] [--repeats 3] [--model tiny|qwen0.5b-shape]
                                       [--output benchmarks/results/trainer-cpu.json]

All sides use the same tokenized batches, LoRA config, optimizer (AdamW), schedule and batch
size; "ours" is `tara_trainer.train.train` end to end with its callbacks, progress reporting and
marker writing, timed from the end of its first step to its last. The order of the sides rotates
between repeats and the median is reported, so neither warm-up nor a busy machine favours a side. Prints a table and writes JSON
with hardware and library versions. Not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import platform
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import torch

warnings.filterwarnings("ignore", category=FutureWarning)

ROOT = Path(__file__).resolve().parents[1]
for sub in ("api", "trainer_image"):
    sys.path.insert(0, str(ROOT / sub))

from tara_api import DomainTrainingSpec  # noqa: E402
from tara_trainer import tiny  # noqa: E402
from tara_trainer.dataset import CausalLMCollator, encode_dataset, load_examples  # noqa: E402
from tara_trainer.outputs import library_versions  # noqa: E402
from tara_trainer.settings import TrainerSettings  # noqa: E402
from tara_trainer.sources import builtin_dataset_path  # noqa: E402
from tara_trainer.split import split_eval  # noqa: E402
from tara_trainer.train import TrainRequest, train  # noqa: E402

SEQ = 128
QWEN_05B_SHAPE = {  # Qwen2.5-0.5B's published dimensions, randomly initialised (no download)
    "architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "hidden_size": 896, "intermediate_size": 4864,
    "num_hidden_layers": 24, "num_attention_heads": 14, "num_key_value_heads": 2, "vocab_size": 151936,
    "max_position_embeddings": 32768, "rms_norm_eps": 1e-6, "rope_theta": 1000000.0, "tie_word_embeddings": True,
}


def build_model(kind: str, work: Path) -> Path:
    folder = work / "model"
    tiny.build_tiny_model(folder)
    if kind == "qwen0.5b-shape":
        from transformers import AutoConfig, AutoModelForCausalLM

        config = AutoConfig.for_model(**QWEN_05B_SHAPE)
        torch.manual_seed(0)
        model = AutoModelForCausalLM.from_config(config)
        for stale in folder.glob("model*.safetensors"):
            stale.unlink()
        model.save_pretrained(folder)  # keeps the tiny tokenizer: ids < 1024 are valid in a 151936 vocab
    return folder


def spec_for(model: Path, steps: int, batch: int, save_steps: int, accelerator: str) -> DomainTrainingSpec:
    return DomainTrainingSpec.model_validate({
        "domain": "healthcare",
        "baseModel": {"path": str(model)},
        "dataset": {"builtin": "healthcare", "evalFraction": 0.05},
        "lora": {"r": 8, "alpha": 16, "targetModules": ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]},
        "training": {"maxSteps": steps, "batchSize": batch, "gradientAccumulation": 1, "sequenceLength": SEQ,
                     "learningRate": 1e-3, "saveSteps": save_steps, "evalSteps": 100000, "loggingSteps": 10,
                     "gradientCheckpointing": False, "warmupRatio": 0.0, "lrScheduler": "linear"},
        "resources": {"accelerator": accelerator},
        "qualityGate": {"enabled": False},
    })


def run_ours(spec: DomainTrainingSpec, out: Path) -> dict[str, float]:
    settings = TrainerSettings(state_interval_s=3.0, progress_bar=False)
    result = train(TrainRequest("bench", spec, out, out), settings)
    manifest = json.loads((result.adapter_dir / "manifest.json").read_text())
    timing = manifest["training"]
    return {"tokens": timing["timedTokens"], "seconds": timing["trainSeconds"], "steps": timing["steps"],
            "toFirstStep": timing["secondsToFirstStep"], "saves": timing["checkpointSaveSeconds"],
            "validate": timing["checkpointValidateSeconds"]}


def run_plain(model_dir: Path, steps: int, batch: int, device: str, dtype: torch.dtype) -> dict[str, float]:
    """The baseline: the loop a practitioner writes by hand with transformers + peft."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, get_linear_schedule_with_warmup, set_seed

    tokenizer = tiny.load_tokenizer(model_dir)
    examples, _ = load_examples(builtin_dataset_path("healthcare"))
    train_ex, _ = split_eval(examples, 0.05, 42)
    rows, _ = encode_dataset(train_ex, tokenizer, SEQ)
    set_seed(42)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=dtype).to(device)
    model = get_peft_model(model, LoraConfig(r=8, lora_alpha=16, lora_dropout=0.05, task_type="CAUSAL_LM",
                                             target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]))
    collate = CausalLMCollator(tokenizer.pad_token_id)
    loader = torch.utils.data.DataLoader(rows, batch_size=batch, shuffle=True, collate_fn=collate, drop_last=False)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-3, weight_decay=0.01)
    schedule = get_linear_schedule_with_warmup(optimizer, 0, steps)
    model.train()
    tokens, step, started = 0, 0, None
    while step < steps:
        for batch_rows in loader:
            if step == 1:  # time from the end of the first step, like ours (first step warms up)
                if device == "cuda":
                    torch.cuda.synchronize()
                started, tokens = time.perf_counter(), 0
            batch_rows = {k: v.to(device) for k, v in batch_rows.items()}
            with torch.autocast(device, dtype=dtype, enabled=dtype != torch.float32):
                loss = model(**batch_rows).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad(set_to_none=True)
            tokens += int(batch_rows["attention_mask"].sum())
            step += 1
            if step >= steps:
                break
    if device == "cuda":
        torch.cuda.synchronize()
    return {"tokens": tokens, "seconds": time.perf_counter() - started, "steps": steps}


def run_hf(model_dir: Path, steps: int, batch: int, device: str, dtype: torch.dtype, work: Path) -> dict[str, float]:
    """A bare Hugging Face Trainer with the same arguments as ours and no TARA callback: separates
    what the HF Trainer costs over a hand-written loop from what TARA's wrapper adds."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, Trainer, TrainerCallback, TrainingArguments, set_seed

    tokenizer = tiny.load_tokenizer(model_dir)
    examples, _ = load_examples(builtin_dataset_path("healthcare"))
    train_ex, _ = split_eval(examples, 0.05, 42)
    rows, _ = encode_dataset(train_ex, tokenizer, SEQ)
    set_seed(42)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=dtype)
    model = get_peft_model(model, LoraConfig(r=8, lora_alpha=16, lora_dropout=0.05, task_type="CAUSAL_LM",
                                             target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]))
    marks: dict[str, tuple[float, int]] = {}

    class Timer(TrainerCallback):
        def on_step_end(self, args, state, control, **_):
            marks.setdefault("start", (time.perf_counter(), state.num_input_tokens_seen))

        def on_train_end(self, args, state, control, **_):
            if device == "cuda":
                torch.cuda.synchronize()
            marks["end"] = (time.perf_counter(), state.num_input_tokens_seen)

    args = TrainingArguments(
        output_dir=str(work), max_steps=steps, per_device_train_batch_size=batch, gradient_accumulation_steps=1,
        learning_rate=1e-3, lr_scheduler_type="linear", weight_decay=0.01, max_grad_norm=1.0, logging_steps=10,
        save_strategy="no", eval_strategy="no", seed=42, data_seed=42, bf16=dtype == torch.bfloat16,
        use_cpu=device == "cpu", report_to="none", disable_tqdm=True, remove_unused_columns=False,
        include_num_input_tokens_seen="non_padding", optim="adamw_torch",
    )
    Trainer(model=model, args=args, train_dataset=rows, data_collator=CausalLMCollator(tokenizer.pad_token_id),
            callbacks=[Timer()]).train()
    (t0, k0), (t1, k1) = marks["start"], marks["end"]
    return {"tokens": k1 - k0, "seconds": t1 - t0, "steps": steps}


def hardware() -> dict[str, Any]:
    info: dict[str, Any] = {"machine": platform.machine(), "cpus": os.cpu_count(), "platform": platform.platform()}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
        info["memGiB"] = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (OSError, ValueError):
        pass
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
    return info


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--model", choices=["tiny", "qwen0.5b-shape"], default="tiny")
    parser.add_argument("--output", default=str(ROOT / "benchmarks" / "results" / "trainer-cpu.json"))
    args = parser.parse_args(argv)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    dtype = torch.bfloat16 if device == "cuda" else torch.float32
    accelerator = "gpu" if device == "cuda" else "cpu"
    saves = 5
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        model_dir = build_model(args.model, work)
        plain, hf, ours, ours_saving, resumed = [], [], [], [], []
        for i in range(args.repeats):
            sides = [
                lambda i=i: plain.append(run_plain(model_dir, args.steps, args.batch, device, dtype)),
                lambda i=i: hf.append(run_hf(model_dir, args.steps, args.batch, device, dtype, work / f"hf-{i}")),
                lambda i=i: ours.append(run_ours(spec_for(model_dir, args.steps, args.batch, 10**6, accelerator), work / f"ours-{i}")),
            ]
            for side in sides[i % 3:] + sides[: i % 3]:  # rotate the order so no side always runs first
                side()
                gc.collect()
            saving_dir = work / f"saving-{i}"
            ours_saving.append(run_ours(spec_for(model_dir, args.steps, args.batch, args.steps // saves, accelerator), saving_dir))
            # Resume: drop the adapter and the newest checkpoints, then continue from the middle one.
            import shutil

            shutil.rmtree(saving_dir / "adapter")
            checkpoints = sorted((saving_dir / "checkpoints").glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[1]))
            for newer in checkpoints[len(checkpoints) // 2:]:
                shutil.rmtree(newer)
            resumed.append(run_ours(spec_for(model_dir, args.steps, args.batch, args.steps // saves, accelerator), saving_dir))
            state = json.loads((saving_dir / "state.json").read_text())
            assert state.get("resumed_from"), "the resume run did not resume"

    def tps(runs: list[dict[str, float]]) -> float:
        return statistics.median(r["tokens"] / r["seconds"] for r in runs)

    plain_tps, hf_tps, ours_tps = tps(plain), tps(hf), tps(ours)
    per_save = statistics.median(s for r in ours_saving for s in r["saves"])
    first_fresh = statistics.median(r["toFirstStep"] for r in ours_saving)
    first_resumed = statistics.median(r["toFirstStep"] for r in resumed)
    validate = statistics.median(r["validate"] for r in resumed)
    result = {
        "benchmark": "trainer-throughput",
        "model": args.model,
        "device": device,
        "dtype": str(dtype),
        "steps": args.steps,
        "batchSize": args.batch,
        "sequenceLength": SEQ,
        "repeats": args.repeats,
        "plainTokensPerSecond": round(plain_tps, 1),
        "hfTrainerTokensPerSecond": round(hf_tps, 1),
        "oursTokensPerSecond": round(ours_tps, 1),
        "ratioOursToPlain": round(ours_tps / plain_tps, 3),
        "ratioOursToHfTrainer": round(ours_tps / hf_tps, 3),
        "ratioHfTrainerToPlain": round(hf_tps / plain_tps, 3),
        "target": ">= 0.95",
        "perRepeatTokensPerSecond": {
            side: [round(r["tokens"] / r["seconds"], 1) for r in runs] for side, runs in (("plain", plain), ("hf", hf), ("ours", ours))
        },
        "checkpointSaveSeconds": round(per_save, 4),
        "checkpointSaveNote": "median per save: HF's checkpoint write plus TARA's sha256 completion marker",
        "resumeValidateSeconds": round(validate, 4),
        "secondsToFirstStepFresh": round(first_fresh, 4),
        "secondsToFirstStepResumed": round(first_resumed, 4),
        "resumeCostSeconds": round(validate + first_resumed - first_fresh, 4),
        "resumeNote": "validating the checkpoints + (time to first step when resuming - when starting fresh)",
        "hardware": hardware(),
        "versions": library_versions(),
        "measuredAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    print(f"{'side':<8}{'tokens/s':>12}")
    print(f"{'plain':<8}{plain_tps:>12.1f}")
    print(f"{'hf':<8}{hf_tps:>12.1f}   bare HF Trainer, ratio to plain {hf_tps / plain_tps:.3f}")
    print(f"{'ours':<8}{ours_tps:>12.1f}   ratio to plain {ours_tps / plain_tps:.3f} (target >= 0.95), "
          f"to bare HF Trainer {ours_tps / hf_tps:.3f}")
    print(f"checkpoint save {per_save:.3f} s each; resume cost {result['resumeCostSeconds']:.3f} s "
          f"(validate {validate:.3f} s, first step {first_resumed:.3f} s vs {first_fresh:.3f} s fresh)")
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out}")
    return 0 if math.isfinite(ours_tps) else 1


if __name__ == "__main__":
    sys.exit(main())
