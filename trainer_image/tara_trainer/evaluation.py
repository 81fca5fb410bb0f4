"""The eval losses behind the quality gate: the tuned adapter's and the base model's, on the same eval split.

A single process asks Hugging Face's Trainer. A data-parallel evaluation pads the last batch of
each rank with repeated examples, so its loss would depend on the number of processes, and the
quality gate must not: in a data-parallel run rank 0 computes both losses exactly as one process's
``trainer.evaluate`` does and hands them to the other ranks.
"""

from __future__ import annotations

from typing import Any

import torch

from tara_trainer.world import World

__all__ = ["final_losses"]


def _evaluate(trainer: Any, prefix: str) -> float | None:
    if trainer.eval_dataset is None or len(trainer.eval_dataset) == 0:
        return None
    return float(trainer.evaluate(metric_key_prefix=prefix)[f"{prefix}_loss"])


def _evaluate_alone(trainer: Any, batch: int) -> float | None:
    """The eval loss as one process's ``trainer.evaluate`` computes it (the mean over examples of their
    batch's loss, in batches of ``batch`` in order), on this process alone. A data-parallel evaluation
    pads the last batch of each rank with repeated examples, so its loss depends on the world size;
    the quality gate must not."""
    rows = trainer.eval_dataset
    if not rows:
        return None
    model, args = trainer.model, trainer.args
    amp = torch.autocast(args.device.type, dtype=torch.bfloat16 if args.bf16 else torch.float16) if args.bf16 or args.fp16 else None
    model.eval()
    total = 0.0
    with torch.no_grad():
        for start in range(0, len(rows), batch):
            chunk = rows[start:start + batch]
            inputs = {name: value.to(args.device) for name, value in trainer.data_collator(chunk).items()}
            if amp is not None:
                with amp:
                    loss = model(**inputs).loss
            else:
                loss = model(**inputs).loss
            total += float(loss) * len(chunk)
    return total / len(rows)


def final_losses(trainer: Any, model: Any, world: World, batch: int) -> tuple[float | None, float | None]:
    """Eval loss of the tuned adapter and of the base model (adapter disabled), on the same eval split.
    In a data-parallel run rank 0 computes both as one process would, and the others receive them."""
    if world.size == 1:
        tuned = _evaluate(trainer, "eval")
        with model.disable_adapter():
            return tuned, _evaluate(trainer, "base")
    losses = None
    if world.is_main:
        tuned = _evaluate_alone(trainer, batch)
        with model.disable_adapter():
            losses = (tuned, _evaluate_alone(trainer, batch))
    return world.broadcast(losses)
