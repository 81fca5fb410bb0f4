"""Spec fields that reach the libraries doing the work, and what those libraries then did with them.

The schedule and LoRA fields are handed to transformers and peft; these tests run one short real
training on the tiny model with every such field off its default and read back what the run
recorded: the learning rate it logged at each step (scheduler and warmup), when it evaluated
(evalSteps), the arguments transformers saved with the checkpoint, and the adapter's own config.
A Hub base model's revision, cache folder and token secret end in ``from_pretrained``'s arguments.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from tara_api import DomainTraining
from tara_api.domaintraining import BaseModelSource
from tara_trainer.errors import ModelUnavailable
from tara_trainer.modelio import resolve_model_source
from tara_trainer.settings import TrainerSettings
from tara_trainer.train import TrainRequest, train

pytestmark = pytest.mark.slow

LR = 4e-3


@pytest.fixture(scope="module")
def wired_run(tiny_model_dir: Path, settings: TrainerSettings, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One four-step run with every schedule and LoRA field set away from its default."""
    res = DomainTraining.model_validate({
        "apiVersion": "tara.dev/v1alpha1", "kind": "DomainTraining", "metadata": {"name": "wired"},
        "spec": {
            "domain": "healthcare", "baseModel": {"path": str(tiny_model_dir)}, "dataset": {"builtin": "healthcare"},
            "lora": {"r": 4, "alpha": 12, "dropout": 0.1, "targetModules": ["q_proj", "v_proj"]},
            "training": {"maxSteps": 4, "batchSize": 2, "gradientAccumulation": 2, "sequenceLength": 64,
                         "learningRate": LR, "lrScheduler": "constant_with_warmup", "warmupRatio": 0.5,
                         "weightDecay": 0.07, "maxGradNorm": 0.3, "loggingSteps": 1, "evalSteps": 2, "saveSteps": 4,
                         "keepCheckpoints": 1, "gradientCheckpointing": True, "seed": 7},
            "resources": {"accelerator": "cpu"},
            # a gate no four-step run can pass, switched off: the run must still finish
            "qualityGate": {"enabled": False, "minEvalLossImprovement": 0.99},
        },
    })
    out = tmp_path_factory.mktemp("wired") / "run"
    # TARA_PROGRESS_BAR=true: the bar shows although stderr (captured by pytest) is no terminal
    train(TrainRequest(name="wired", spec=res.spec, output_dir=out, base_dir=out.parent),
          settings.model_copy(update={"progress_bar": True}))
    return out


def _checkpoint(out: Path) -> Path:
    [only] = sorted((out / "checkpoints").glob("checkpoint-*"))
    return only


def test_scheduler_warmup_logging_and_eval_steps_shape_the_run(wired_run: Path) -> None:
    history = json.loads((_checkpoint(wired_run) / "trainer_state.json").read_text())["log_history"]
    lrs = {h["step"]: h["learning_rate"] for h in history if "learning_rate" in h}
    assert sorted(lrs) == [1, 2, 3, 4]  # loggingSteps 1: every step logged
    # warmupRatio 0.5 of 4 steps: the rate climbs for two steps, then constant_with_warmup holds it (linear would decay)
    assert lrs[1] < lrs[2] <= LR and lrs[3] == lrs[4] == pytest.approx(LR)
    assert sorted(h["step"] for h in history if "eval_loss" in h) == [2, 4]  # evalSteps 2


def test_optimizer_fields_reach_the_training_arguments(wired_run: Path) -> None:
    args = torch.load(_checkpoint(wired_run) / "training_args.bin", weights_only=False)
    assert (args.gradient_accumulation_steps, args.per_device_train_batch_size) == (2, 2)
    assert (args.weight_decay, args.max_grad_norm, args.learning_rate) == (0.07, 0.3, LR)
    assert (args.logging_steps, args.eval_steps, args.save_steps, args.seed) == (1, 2, 4, 7)
    assert args.activation_checkpointing is True  # gradientCheckpointing
    assert args.disable_tqdm is False  # TARA_PROGRESS_BAR reached Hugging Face's progress bar
    assert [p.name for p in (wired_run / "checkpoints").glob("checkpoint-*")] == ["checkpoint-4"]  # keepCheckpoints 1


def test_lora_fields_reach_the_adapter(wired_run: Path) -> None:
    config = json.loads((wired_run / "adapter" / "adapter_config.json").read_text())
    assert (config["r"], config["lora_alpha"], config["lora_dropout"]) == (4, 12, 0.1)
    assert sorted(config["target_modules"]) == ["q_proj", "v_proj"]
    from safetensors import safe_open

    with safe_open(str(wired_run / "adapter" / "adapter_model.safetensors"), "pt") as f:
        names = list(f.keys())
    assert names and all(".q_proj." in n or ".v_proj." in n for n in names)  # no other module was adapted


def test_a_disabled_quality_gate_lets_a_run_without_the_gain_finish(wired_run: Path) -> None:
    metrics = json.loads((wired_run / "adapter" / "manifest.json").read_text())["metrics"]
    assert metrics["improvement"] < 0.99  # what minEvalLossImprovement asks, not met, and the adapter was written


def test_hub_base_model_fields_reach_from_pretrained(tmp_path: Path) -> None:
    settings = TrainerSettings(mounts_root=tmp_path)
    secret = tmp_path / "secrets" / "hf" / "token"
    secret.parent.mkdir(parents=True)
    secret.write_text("hf_abc\n")
    source = BaseModelSource(repo="meta-llama/Llama-3.2-1B-Instruct", revision="v1.2", cache_dir="/cache/hf",
                             token_secret={"name": "hf", "key": "token"})
    assert resolve_model_source(source, settings, tmp_path) == (
        "meta-llama/Llama-3.2-1B-Instruct", {"revision": "v1.2", "cache_dir": "/cache/hf", "token": "hf_abc"})
    assert resolve_model_source(BaseModelSource(repo="org/model"), settings, tmp_path) == ("org/model", {"revision": "main"})
    missing = BaseModelSource(repo="org/model", token_secret={"name": "other", "key": "token"})
    with pytest.raises(ModelUnavailable, match="baseModel.tokenSecret other/token is not mounted at"):
        resolve_model_source(missing, settings, tmp_path)
