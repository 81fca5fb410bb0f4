"""One DomainTraining run: data → LoRA/QLoRA training with checkpoints and resume → eval → adapter.

The run is restartable at any point: a finished adapter whose manifest carries the same spec
hash is reused; otherwise training resumes from the newest *valid* checkpoint of the same run
(same base, data and hyper-parameters), and a changed spec starts afresh with the old
checkpoints set aside. Every failure is a ``TrainerError`` with a reason and an exit code.

In a data-parallel run (``distributed``, ``world``) every rank runs this same function: rank 0
alone picks the checkpoint, reports, marks checkpoints and writes the adapter; the others follow
its decisions, train on their share of each global batch and keep their own gauges.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import torch

from tara_api.domaintraining import Accelerator, DatasetSplit, DomainTrainingSpec
from tara_api.reasons import Reason
from tara_trainer import checkpoints as ckpt
from tara_trainer.callbacks import PreemptionGuard, RankMetrics, TaraCallback
from tara_trainer.distributed import metrics_port, split_batch
from tara_trainer.errors import DataInvalid, QualityGateFailed, SpecInvalid, TrainerError
from tara_trainer.evaluation import final_losses
from tara_trainer.modelio import (
    cuda_fits,
    load_base_model,
    load_tokenizer,
    pick_runtime,
    probe_batch_size,
    resolve_base,
)
from tara_trainer.outputs import (
    ADAPTER_DIR,
    EVAL_TEXT,
    ROUTING_UTTERANCES,
    read_manifest,
    spec_hash,
    write_adapter,
)
from tara_trainer.progress import Progress, ProgressReporter, StatusPatcher, TrainerMetrics
from tara_trainer.rotation import CheckpointFinisher, tidy
from tara_trainer.settings import TrainerSettings
from tara_trainer.sources import resolve_dataset
from tara_trainer.world import World

__all__ = ["Preempted", "TrainRequest", "TrainResult", "plan_total_steps", "resolve_split", "run_id", "train"]

log = logging.getLogger(__name__)

STATE_FILE = "state.json"
CHECKPOINTS = "checkpoints"


class Preempted(TrainerError):
    """SIGTERM arrived; a checkpoint was saved (when training had started). Run again to resume."""

    reason = Reason.PREEMPTED


@dataclass(frozen=True)
class TrainRequest:
    name: str
    spec: DomainTrainingSpec
    output_dir: Path
    base_dir: Path  # relative paths in the spec resolve against this (the manifest's folder)
    artifacts_dir: Path | None = None  # where adapter/ goes when not in output_dir (spec.storage.artifacts)

    @property
    def adapter_root(self) -> Path:
        return self.artifacts_dir or self.output_dir


@dataclass(frozen=True)
class TrainResult:
    progress: Progress
    adapter_dir: Path
    manifest_sha256: str
    reused: bool


def run_id(spec: DomainTrainingSpec, base_sha256: str | None = None, split: DatasetSplit | None = None) -> str:
    """Identity of a run for resuming: what changes the meaning of a checkpoint (pure). ``base_sha256``:
    the content of a GGUF base file, so a file replaced under the same path starts afresh. ``split``:
    the kind of eval split the run uses (default the spec's, content when unset); a content split
    keeps the identity runs had before split kinds existed, so their checkpoints still resume."""
    t = spec.training
    kind = split or spec.dataset.split or DatasetSplit.CONTENT
    relevant = {
        "baseModel": spec.base_model.to_wire(),
        "dataset": {k: v for k, v in spec.dataset.to_wire().items() if k != "split"},
        "lora": spec.lora.to_wire(),
        "training": t.to_wire() | {"saveSteps": None, "evalSteps": None, "loggingSteps": None, "keepCheckpoints": None},
        "accelerator": spec.resources.accelerator.value,
    }
    if base_sha256 is not None:
        relevant["baseSha256"] = base_sha256
    if kind is not DatasetSplit.CONTENT:
        relevant["split"] = kind.value
    return hashlib.sha256(json.dumps(relevant, sort_keys=True).encode()).hexdigest()[:16]


def resolve_split(requested: DatasetSplit | None, checkpoints: Sequence[ckpt.CheckpointInfo],
                  run_ids: Mapping[DatasetSplit, str]) -> DatasetSplit:
    """The eval split a run uses (pure): the spec's when set; when unset, the kind of the newest valid
    checkpoint saved by this run under either kind's ``run_ids`` entry (content for a run started
    before split kinds existed), so a resumed run keeps its eval rows; else grouped."""
    if requested is not None:
        return requested
    kinds = {rid: kind for kind, rid in run_ids.items()}
    resumable = [c for c in checkpoints if c.valid and c.run_id in kinds]
    return kinds[max(resumable, key=lambda c: c.step).run_id] if resumable else DatasetSplit.GROUPED


def plan_total_steps(n_train: int, batch: int, accumulation: int, max_steps: int | None, epochs: float | None) -> int:
    """Optimizer steps the run will take (pure): maxSteps, or epochs (3 when neither is set)."""
    if max_steps is not None:
        return max_steps
    per_epoch = max(1, math.ceil(math.ceil(n_train / batch) / accumulation))
    return max(1, math.ceil((epochs if epochs is not None else 3.0) * per_epoch))


def train(request: TrainRequest, settings: TrainerSettings) -> TrainResult:
    """Run (or reuse, or resume) one training. Raises TrainerError subclasses."""
    out = request.output_dir
    out.mkdir(parents=True, exist_ok=True)
    spec = request.spec
    shash = spec_hash(spec.to_wire())
    manifest = read_manifest(request.adapter_root)
    on_cuda = torch.cuda.is_available() and spec.resources.accelerator == Accelerator.GPU
    world = World.from_settings(settings, on_cuda)
    metrics = _rank_metrics(request, settings, world)
    reporter = _reporter(request, settings, world, metrics)
    if manifest is not None and manifest.get("specHash") == shash and manifest.get("qualityGate", {}).get("passed"):
        log.info("adapter for this spec already trained (%s); nothing to do", request.adapter_root / ADAPTER_DIR)
        digest = ckpt.file_digest(request.adapter_root / ADAPTER_DIR / "manifest.json")
        progress = reporter.update(force=True, status="Succeeded", reason="AlreadyTrained", message="reused finished adapter",
                                   data=manifest.get("data") or {}, artifacts={"sha256": digest})
        return TrainResult(progress, request.adapter_root / ADAPTER_DIR, digest, reused=True)
    try:
        world.start(on_cuda)
        return _train(request, settings, reporter, shash, world, metrics if isinstance(metrics, RankMetrics) else None)
    except TrainerError as exc:
        status = "Preempted" if isinstance(exc, Preempted) else "Failed"
        reporter.update(force=True, status=status, reason=exc.reason, message=str(exc))
        raise
    finally:
        world.close()


class _RankReporter(ProgressReporter):
    """The reporter of a rank other than 0: its own gauges only (rank 0 writes state.json and the status)."""

    def update(self, force: bool = False, **changes: Any) -> Progress:
        self.current = replace(self.current, **changes)
        if self._metrics is not None:
            self._metrics.update(self.current)
        return self.current


def _rank_metrics(request: TrainRequest, settings: TrainerSettings, world: World) -> TrainerMetrics:
    """This process's gauges, served on ``TARA_METRICS_PORT + LOCAL_RANK`` when the port is set."""
    metrics = RankMetrics(request.spec.domain, rank=world.rank) if world.size > 1 else TrainerMetrics(request.spec.domain)
    port = metrics_port(settings.metrics_port, world.local_rank)
    if port:
        metrics.serve(port)
    return metrics


def _reporter(request: TrainRequest, settings: TrainerSettings, world: World, metrics: TrainerMetrics) -> ProgressReporter:
    base = request.spec.base_model
    initial = Progress(
        domain=request.spec.domain,
        base_model=base.repo or base.path,
        output_dir=str(request.output_dir),
    )
    state_file = request.output_dir / STATE_FILE
    previous = _read_state(state_file)
    if previous:  # keep the last known checkpoint and metrics visible across attempts
        initial = Progress(
            **{**initial.__dict__, **{k: previous[k] for k in ("checkpoint", "checkpoint_step", "checkpoint_time") if previous.get(k)}}
        )
    if not world.is_main:
        return _RankReporter(state_file, initial, settings, None, metrics)
    patcher = StatusPatcher(settings) if settings.in_cluster else None
    return ProgressReporter(state_file, initial, settings, patcher, metrics)


def _read_state(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _load_data(request: TrainRequest, path: Path, tokenizer: Any,
               split: DatasetSplit) -> tuple[list, list, dict[str, Any], str, list[str]]:
    """Encoded train and eval rows, a summary for the manifest, the eval split as plain text, and the
    domain's user turns for the router.

    The eval text (each example rendered as the model sees it) travels with the adapter so the GGUF
    build measures perplexity on exactly the held-out data.
    """
    from tara_trainer.dataset import (
        DatasetError,
        encode_dataset,
        load_examples,
        render_messages,
        routing_utterances,
        rows_sha256,
    )
    from tara_trainer.split import split_examples

    spec = request.spec
    try:
        examples, report = load_examples(path, spec.dataset.format.value, spec.dataset.max_bad_row_fraction)
    except DatasetError as exc:
        raise DataInvalid(str(exc)) from exc
    held_out = split_examples(examples, spec.dataset.eval_fraction, spec.training.seed, split)
    train_ex, eval_ex = held_out.train, held_out.eval
    train_rows, train_report = encode_dataset(train_ex, tokenizer, spec.training.sequence_length)
    eval_rows, eval_report = encode_dataset(eval_ex, tokenizer, spec.training.sequence_length)
    if not train_rows:
        raise DataInvalid(f"{path}: no training example is left after truncation to {spec.training.sequence_length} tokens")
    bad = dict(report.bad_by_reason)
    summary = {
        "path": str(path),
        "sha256": ckpt.file_digest(path),
        "rowsSha256": rows_sha256(train_ex),  # the rows trained on, whatever the source's format (status.data)
        "format": report.format,
        "rows": report.total_rows,
        "usable": len(examples),
        "badRows": sum(bad.values()),
        "badByReason": bad,
        "train": len(train_rows),
        "eval": len(eval_rows),
        "trainTokens": train_report.tokens,
        "truncated": train_report.truncated + eval_report.truncated,
        "truncatedAway": train_report.truncated_away + eval_report.truncated_away,
        "split": held_out.report.to_wire(),
    }
    if bad:
        log.warning("%s: %d bad row(s) skipped and counted: %s (first: %s)", path, summary["badRows"], bad,
                    "; ".join(f"line {b.line}: {b.reason}" for b in report.bad[:5]))
    log.info("data %s: %d rows, %d train / %d eval examples, %d train tokens", path.name, report.total_rows,
             len(train_rows), len(eval_rows), train_report.tokens)
    r = held_out.report
    log.info("eval split %s: %d groups (largest %d rows), %d rows on another side than by content alone",
             r.kind.value, r.groups, r.largest_group, r.rows_moved)
    eval_text = "\n\n".join(e.text if e.text is not None else render_messages(e.messages, tokenizer) for e in eval_ex)
    return train_rows, eval_rows, summary, eval_text, routing_utterances(examples)


def _resolve_checkpoint(root: Path, out: Path, spec: DomainTrainingSpec,
                        base_sha256: str | None) -> tuple[DatasetSplit, str, ckpt.CheckpointInfo | None, str | None]:
    """The run's eval split, its identity, the checkpoint to resume from (what a killed run left and the
    checkpoints the run cannot use are cleared away, a line each), and, when checkpoints were there but
    none is usable, the line that says the run starts over and why."""
    infos = [ckpt.inspect_checkpoint(p) for p in ckpt.list_checkpoints(root)]
    run_ids = {kind: run_id(spec, base_sha256, kind) for kind in DatasetSplit}
    split = resolve_split(spec.dataset.split, infos, run_ids)
    rid = run_ids[split]
    chosen, rejected = ckpt.select_resume(infos, rid)
    tidy(root, rejected, out)
    if chosen is not None:
        log.info("resuming from %s (step %d)", chosen.path.name, chosen.step)
        return split, rid, chosen, None
    if not rejected:
        log.info("no checkpoint in %s; starting from step 0", root)
        return split, rid, None, None
    line = ckpt.no_usable_line(root, rejected)
    log.warning("%s", line)
    return split, rid, None, line


def _resume_progress(chosen: ckpt.CheckpointInfo | None, no_resume_reason: str | None) -> dict[str, Any]:
    """What the reporter shows of the resume decision: the checkpoint resumed (none when starting over,
    so a refused one an earlier attempt reported is no longer shown) and why there is none."""
    saved = datetime.fromtimestamp(chosen.saved_at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if chosen and chosen.saved_at else None
    return {"checkpoint": str(chosen.path) if chosen else None, "checkpoint_step": chosen.step if chosen else None,
            "checkpoint_time": saved, "no_resume_reason": no_resume_reason,
            **({"message": no_resume_reason} if no_resume_reason else {})}


def _train(request: TrainRequest, settings: TrainerSettings, reporter: ProgressReporter, shash: str,
           world: World, rank_metrics: RankMetrics | None) -> TrainResult:
    from peft import LoraConfig, get_peft_model
    from transformers import PrinterCallback, TrainingArguments, set_seed

    from tara_trainer.dataset import CausalLMCollator

    spec, out = request.spec, request.output_dir
    cuda = torch.cuda.is_available()
    runtime = pick_runtime(spec, cuda, cuda and torch.cuda.is_bf16_supported())
    # A GGUF base is dequantized into a cache once: by rank 0 first, the other ranks then find it there.
    model_name, model_kwargs, gguf_base = world.in_turn(lambda: resolve_base(
        spec.base_model, settings, request.base_dir, runtime.dtype,
        note=lambda message: reporter.update(force=True, message=message)))
    if gguf_base is not None:
        reporter.update(force=True, base_gguf=gguf_base.record(),
                        message=f"base model {gguf_base.source.name} dequantized to {gguf_base.folder}")
    tokenizer = load_tokenizer(model_name, model_kwargs)
    # The checkpoints come first: a run resuming one keeps the eval split it started with. Rank 0 decides
    # (and tidies the folder); the others resume what it chose.
    root = out / CHECKPOINTS
    started = time.monotonic()
    decision = _resolve_checkpoint(root, out, spec, gguf_base.sha256 if gguf_base else None) if world.is_main else None
    split, rid, chosen, no_resume_reason = world.broadcast(decision)
    if world.multi_node:
        world.check_shared(out)
    validate_seconds = time.monotonic() - started
    reporter.update(force=True, **_resume_progress(chosen, no_resume_reason))
    dataset = world.in_turn(lambda: resolve_dataset(spec.dataset, settings, request.base_dir, request.output_dir))
    train_rows, eval_rows, data_summary, eval_text, utterances = _load_data(request, dataset, tokenizer, split)
    reporter.update(force=True, data=data_summary)

    set_seed(spec.training.seed)
    model = load_base_model(model_name, model_kwargs, runtime, spec.lora.qlora, device_index=world.local_rank)
    targets = spec.lora.target_modules
    lora = LoraConfig(
        r=spec.lora.r,
        lora_alpha=spec.lora.alpha,
        lora_dropout=spec.lora.dropout,
        target_modules="all-linear" if targets == ["all-linear"] else list(targets),
        task_type="CAUSAL_LM",
    )
    try:
        model = get_peft_model(model, lora)
    except ValueError as exc:
        raise SpecInvalid(f"lora.targetModules {targets} do not match the model's modules: {exc}") from exc
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    log.info("LoRA r=%d on %s: %d trainable parameters (%s, %s)", spec.lora.r, model_name, trainable, runtime.device, runtime.dtype)

    batch = spec.training.batch_size
    if batch == "auto":
        if runtime.device == "cuda":
            model.to("cuda")
            # Every rank probes its own GPU; all take the smallest, so the split below is the same everywhere.
            batch = world.min(probe_batch_size(cuda_fits(model, spec.training.sequence_length, len(tokenizer)),
                                               min(settings.probe_max_batch, len(train_rows))))
        else:
            batch = settings.cpu_auto_batch
        log.info("batchSize auto: %d", batch)
    total = plan_total_steps(len(train_rows), int(batch), spec.training.gradient_accumulation,
                             spec.training.max_steps, spec.training.epochs)
    shares = split_batch(int(batch), spec.training.gradient_accumulation, world.size)
    if world.size > 1:
        log.info("%d processes: per-device batch %d × gradient accumulation %d × %d = global batch %d (batchSize %d × "
                 "gradientAccumulation %d)", world.size, shares.per_device, shares.accumulation, world.size,
                 shares.global_batch, int(batch), spec.training.gradient_accumulation)

    t = spec.training
    progress_bar = settings.shows_progress_bar(sys.stderr)
    args = TrainingArguments(
        output_dir=str(root),
        max_steps=total,
        per_device_train_batch_size=shares.per_device,
        per_device_eval_batch_size=shares.per_device,
        gradient_accumulation_steps=shares.accumulation,
        learning_rate=t.learning_rate,
        lr_scheduler_type=t.lr_scheduler.value,
        warmup_steps=t.warmup_ratio,
        weight_decay=t.weight_decay,
        max_grad_norm=t.max_grad_norm,
        logging_steps=t.logging_steps,
        logging_first_step=True,
        save_strategy="steps",
        save_steps=t.save_steps,
        # HF's rotation deletes older checkpoints before ours is marked complete; ours runs after the marker.
        save_total_limit=None,
        eval_strategy="steps" if eval_rows else "no",
        eval_steps=t.eval_steps,
        seed=t.seed,
        data_seed=t.seed,
        bf16=runtime.bf16,
        fp16=runtime.fp16,
        use_cpu=runtime.device == "cpu",
        activation_checkpointing=t.gradient_checkpointing,
        activation_checkpointing_kwargs={"use_reentrant": False} if t.gradient_checkpointing else None,
        report_to="none",
        disable_tqdm=not progress_bar,
        remove_unused_columns=False,
        include_num_input_tokens_seen="non_padding",
        dataloader_num_workers=0,
        optim="adamw_torch",
        # LoRA trains every adapter weight at every step: no search for unused parameters.
        **({"ddp_backend": world.backend, "ddp_find_unused_parameters": False} if world.size > 1 else {}),
    )
    guard = PreemptionGuard()
    finisher = (CheckpointFinisher(root, rid, {"specHash": shash, "split": split.value, "worldSize": world.size},
                                   t.keep_checkpoints, settings.fault) if world.is_main else None)
    trainer_class = _rank_trainer() if world.size > 1 else _plain_trainer()
    callback = TaraCallback(reporter, guard, root, finisher, world, settings.fault, rank_metrics=rank_metrics)
    trainer = trainer_class(
        model=model,
        args=args,
        train_dataset=train_rows,
        eval_dataset=eval_rows or None,
        data_collator=CausalLMCollator(tokenizer.pad_token_id),
        processing_class=tokenizer,
        callbacks=[callback],
    )
    # Our callback logs concise progress lines; HF's printer would put raw dicts on stdout.
    trainer.remove_callback(PrinterCallback)
    if world.size > 1:
        callback.rank_tokens = lambda: trainer.rank_tokens
    with guard:
        reporter.update(force=True, status="Running", total_steps=total, resumed_from=str(chosen.path) if chosen else None)
        if guard.requested:
            raise Preempted("SIGTERM before training started; nothing to save, run again")
        callback.train_called_at = time.monotonic()
        try:
            trainer.train(resume_from_checkpoint=str(chosen.path) if chosen else None)
        finally:
            _stop_finisher(finisher)
        if guard.requested and trainer.state.global_step < total:
            world.barrier()  # no rank exits (and gets the others stopped) before rank 0's checkpoint is complete
            raise Preempted(f"SIGTERM: checkpoint saved at step {trainer.state.global_step} of {total}; run again to resume")

    # The base model (adapter disabled) is evaluated once, after training, on the same eval split:
    # nothing needs carrying across resumes, and training starts without an extra eval pass.
    tuned_loss, base_loss = final_losses(trainer, model, world, int(batch))
    metrics = _metrics(base_loss, tuned_loss)
    log.info("eval loss: base %s, tuned %s", _fmt(base_loss), _fmt(tuned_loss))
    gate = spec.quality_gate
    passed = not gate.enabled or metrics.get("improvement") is None or metrics["improvement"] >= gate.min_eval_loss_improvement
    manifest = {
        "kind": "TaraAdapter",
        "domain": spec.domain,
        "resource": request.name,
        "specHash": shash,
        "runId": rid,
        "baseModel": {
            "id": spec.base_model.repo or str(model_name),
            "revision": getattr(model.config, "_commit_hash", None) or spec.base_model.revision,
            **({"path": str(gguf_base.source), "gguf": gguf_base.record()} if gguf_base else {}),
        },
        "lora": spec.lora.to_wire(),
        "training": {
            "steps": trainer.state.global_step,
            "batchSize": int(batch),
            "worldSize": world.size,
            "perDeviceBatchSize": shares.per_device,
            "gradientAccumulation": shares.accumulation,
            "globalBatchSize": shares.global_batch,
            "tokens": int(trainer.state.num_input_tokens_seen),
            "device": runtime.device,
            "dtype": str(runtime.dtype),
            "resumedFrom": str(chosen.path) if chosen else None,
            # Steady-state window of the last attempt (after its first step): what benchmarks compare.
            "trainSeconds": round(callback.timed[0], 4),
            "timedTokens": int(callback.timed[1]),
            "secondsToFirstStep": round(callback.seconds_to_first_step or 0.0, 4),
            "checkpointSaveSeconds": [round(x, 4) for x in callback.save_seconds],
            "checkpointMarkerSeconds": [round(x, 4) for x in callback.marker_seconds],
            "checkpointValidateSeconds": round(validate_seconds, 4),
        },
        "data": data_summary,
        "metrics": metrics,
        "qualityGate": {"enabled": gate.enabled, "minEvalLossImprovement": gate.min_eval_loss_improvement, "passed": passed},
    }

    def save(folder: Path) -> None:
        model.save_pretrained(str(folder))
        tokenizer.save_pretrained(str(folder))
        (folder / EVAL_TEXT).write_text(eval_text, encoding="utf-8")
        (folder / ROUTING_UTTERANCES).write_text("".join(json.dumps(u) + "\n" for u in utterances), encoding="utf-8")

    extra = [Path(model_name) / "tokenizer.model"] if Path(model_name).is_dir() else []
    manifest_path, digest = request.adapter_root / ADAPTER_DIR / "manifest.json", ""
    if world.is_main:
        manifest_path = write_adapter(request.adapter_root, save, manifest, extra)
        digest = ckpt.file_digest(manifest_path)
        log.info("adapter written to %s (manifest sha256 %s)", manifest_path.parent, digest[:12])
    world.barrier()  # the adapter is complete before any rank ends the launch
    if not passed:
        raise QualityGateFailed(
            f"eval loss improved by {metrics['improvement']:.4f} ({metrics['baseEvalLoss']:.4f} -> "
            f"{metrics['tunedEvalLoss']:.4f}), below qualityGate.minEvalLossImprovement "
            f"{gate.min_eval_loss_improvement}; the adapter is kept in {manifest_path.parent} for inspection"
        )
    progress = reporter.update(force=True, status="Succeeded", step=trainer.state.global_step, eval_loss=tuned_loss,
                               metrics=metrics, reason="Trained", message=f"adapter at {manifest_path.parent}",
                               artifacts={"sha256": digest})
    return TrainResult(progress, manifest_path.parent, digest, reused=False)


def _plain_trainer() -> type:
    from transformers import Trainer

    return Trainer


def _rank_trainer() -> type:
    """Hugging Face's Trainer counting the tokens this rank trains on (its own ``num_input_tokens_seen``
    is the sum over all ranks), for the rank's throughput gauge."""
    from transformers import Trainer

    class RankTrainer(Trainer):
        rank_tokens = 0

        def training_step(self, model: Any, inputs: dict[str, Any], num_items_in_batch: Any = None) -> Any:
            mask = inputs.get("attention_mask")
            self.rank_tokens += int(mask.sum()) if mask is not None else int(inputs["input_ids"].numel())
            return super().training_step(model, inputs, num_items_in_batch)

    return RankTrainer


def _stop_finisher(finisher: CheckpointFinisher | None) -> None:
    """After training stopped, normally or not: wait for the checkpoints still being finished. A failure
    of theirs is logged, not raised, so it never hides the error that stopped training (a normal end
    has already drained the finisher and raised its errors)."""
    if finisher is None:
        return
    try:
        finisher.close()
    except Exception as exc:  # noqa: BLE001 - reported, the training error matters more
        log.warning("finishing the last checkpoint failed: %s: %s", type(exc).__name__, exc)


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def _metrics(base: float | None, tuned: float | None) -> dict[str, float | None]:
    out: dict[str, float | None] = {"baseEvalLoss": base, "tunedEvalLoss": tuned}
    if base is not None:
        out["basePerplexity"] = math.exp(min(base, 50))
    if tuned is not None:
        out["tunedPerplexity"] = math.exp(min(tuned, 50))
    if base is not None and tuned is not None and base > 0:
        out["improvement"] = (base - tuned) / base
    return out
