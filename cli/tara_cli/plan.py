"""Describe what validated manifests would run: one line per training and per phase.

Pure: takes parsed documents, returns text. Used by ``tara plan`` and the README's first
command until the local pipeline runs the plan itself.
"""

from __future__ import annotations

from typing import Any

from tara_api import DomainTraining, GGUFPhase

__all__ = ["describe"]


def _training_line(dt: DomainTraining) -> str:
    spec = dt.spec
    base = spec.base_model.repo or spec.base_model.path
    data = spec.dataset
    source = (
        f"builtin:{data.builtin}" if data.builtin else data.path or (data.config_map and f"configmap:{data.config_map.name}")
        or f"hf:{data.hugging_face.name}"  # type: ignore[union-attr]
    )
    t = spec.training
    length = f"{t.max_steps} steps" if t.max_steps else f"{t.epochs or 3:g} epochs"
    accel = spec.resources.accelerator.value
    if spec.resources.gpu:
        accel += f" x{spec.resources.gpu.count}"
    method = "QLoRA" if spec.lora.qlora else "LoRA"
    return (
        f"  train  {dt.metadata.name:<18} domain={spec.domain:<11} {method} r={spec.lora.r} on {base} "
        f"[{accel}] data={source} {length}, batch {t.batch_size} x {t.gradient_accumulation} accumulation, "
        f"lr {t.learning_rate:g}, checkpoint every {t.save_steps}"
    )


def _phase_line(phase: GGUFPhase) -> str:
    spec = phase.spec
    domains = ", ".join(d.domain for d in spec.domains)
    quants = ", ".join(q.value for q in spec.quantization)
    served = spec.serving.quantization or spec.quantization[0].value
    if served == "auto":
        served = "the type the build chooses (auto: the smallest that passes)"
    serving = f"serve {served} x{spec.serving.replicas}" if spec.serving.enabled else "no serving"
    return (
        f"  phase  {phase.metadata.name:<18} #{spec.phase_number} domains=[{domains}] merge={spec.merge.strategy.value} "
        f"quantize=[{quants}] then {serving}"
    )


def describe(bodies: list[Any]) -> str:
    trainings = [DomainTraining.model_validate(b) for b in bodies if isinstance(b, dict) and b.get("kind") == "DomainTraining"]
    phases = [GGUFPhase.model_validate(b) for b in bodies if isinstance(b, dict) and b.get("kind") == "GGUFPhase"]
    lines = [f"{len(trainings)} training(s), {len(phases)} phase(s) would run:"]
    lines += [_training_line(t) for t in trainings]
    lines += [_phase_line(p) for p in phases]
    return "\n".join(lines)
