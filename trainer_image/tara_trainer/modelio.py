"""Loading the base model and tokenizer, choosing device and precision, and sizing batches.

The same code loads a Hugging Face repo (revision, token from a mounted secret file, cache
folder) in a cluster and a local folder (the tiny offline model) in tests; a GGUF file is first
dequantized into a cached folder (``ggufbase``) and loaded from there. QLoRA is refused
without a CUDA GPU, with an error that says what to change.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from tara_api.domaintraining import Accelerator, BaseModelSource, DomainTrainingSpec, Precision
from tara_trainer.errors import HardwareUnsupported, ModelUnavailable
from tara_trainer.ggufbase import DequantizedBase, llamacpp_verifier, names_gguf, prepare
from tara_trainer.llamacpp import ensure_toolchain
from tara_trainer.settings import TrainerSettings

__all__ = [
    "Runtime",
    "load_base_model",
    "load_tokenizer",
    "model_path",
    "pick_runtime",
    "probe_batch_size",
    "resolve_base",
    "resolve_model_source",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Runtime:
    device: str  # "cuda" or "cpu"
    dtype: torch.dtype
    bf16: bool
    fp16: bool


def pick_runtime(spec: DomainTrainingSpec, cuda_available: bool, bf16_supported: bool) -> Runtime:
    """Device and precision from the spec and the hardware (pure)."""
    wants_gpu = spec.resources.accelerator == Accelerator.GPU
    precision = spec.training.precision
    if spec.lora.qlora and not cuda_available:
        raise HardwareUnsupported(
            "lora.qlora needs a CUDA GPU (4-bit bitsandbytes kernels) and none is visible; "
            "run on a GPU node or set lora.qlora: false"
        )
    if wants_gpu and not cuda_available:
        raise HardwareUnsupported(
            "resources.accelerator is gpu but no CUDA device is visible; "
            "schedule the pod on a GPU node or set resources.accelerator: cpu"
        )
    if not wants_gpu:
        if precision in (Precision.BF16, Precision.FP16):
            raise HardwareUnsupported(f"training.precision {precision.value} needs a GPU; use auto or fp32 on CPU")
        return Runtime("cpu", torch.float32, bf16=False, fp16=False)
    if precision == Precision.AUTO:
        precision = Precision.BF16 if bf16_supported else Precision.FP16
    if precision == Precision.BF16 and not bf16_supported:
        raise HardwareUnsupported("training.precision bf16 is not supported by this GPU; use fp16 or auto")
    dtype = {Precision.BF16: torch.bfloat16, Precision.FP16: torch.float16, Precision.FP32: torch.float32}[precision]
    return Runtime("cuda", dtype, bf16=precision == Precision.BF16, fp16=precision == Precision.FP16)


def model_path(source: BaseModelSource, settings: TrainerSettings, base_dir: Path) -> Path | None:
    """Where ``baseModel.path`` is on this machine (inside its claim's mount, or relative to the
    manifest's folder); None for a Hugging Face repo."""
    if source.path is None:
        return None
    if source.claim_name:
        return settings.mounts_root / "claims" / source.claim_name / source.path.lstrip("/")
    return Path(source.path) if Path(source.path).is_absolute() else base_dir / source.path


def resolve_base(source: BaseModelSource, settings: TrainerSettings, base_dir: Path, dtype: torch.dtype,
                 note: Callable[[str], None] = log.info) -> tuple[str, dict[str, Any], DequantizedBase | None]:
    """``resolve_model_source``, with a GGUF file first dequantized into its cached folder (see
    ``ggufbase``), in ``dtype``. Raises ModelUnavailable and DiskFull."""
    path = model_path(source, settings, base_dir)
    if path is None or not names_gguf(path):
        return (*resolve_model_source(source, settings, base_dir), None)
    verify = llamacpp_verifier(lambda: ensure_toolchain(settings.cache_dir, build=False), settings.threads)
    base = prepare(path, settings.gguf_base_cache, dtype, verify, note)
    return str(base.folder), {}, base


def resolve_model_source(source: BaseModelSource, settings: TrainerSettings, base_dir: Path) -> tuple[str, dict[str, Any]]:
    """The ``from_pretrained`` id/path and keyword arguments for a base-model spec (a folder or a repo)."""
    path = model_path(source, settings, base_dir)
    if path is not None:
        if not (path / "config.json").is_file():
            raise ModelUnavailable(f"baseModel.path {path} holds no saved model (config.json missing)")
        return str(path), {}
    kwargs: dict[str, Any] = {"revision": source.revision or "main"}
    if source.cache_dir:
        kwargs["cache_dir"] = source.cache_dir
    if source.token_secret is not None:
        token_file = settings.mounts_root / "secrets" / source.token_secret.name / source.token_secret.key
        if not token_file.is_file():
            raise ModelUnavailable(
                f"baseModel.tokenSecret {source.token_secret.name}/{source.token_secret.key} is not mounted at {token_file}"
            )
        kwargs["token"] = token_file.read_text(encoding="utf-8").strip()
    return str(source.repo), kwargs


def load_tokenizer(name: str, kwargs: dict[str, Any]):
    from transformers import AutoTokenizer

    try:
        if (Path(name) / "tokenizer.model").is_file():
            # Our own SentencePiece models load through one path only (see tiny.py).
            from tara_trainer.tiny import load_tokenizer as load_sentencepiece

            tokenizer = load_sentencepiece(name)
        else:
            tokenizer = AutoTokenizer.from_pretrained(name, **kwargs)
    except (OSError, ValueError) as exc:
        raise ModelUnavailable(f"cannot load the tokenizer of {name}: {exc}") from exc
    if tokenizer.pad_token is None:
        # Many chat models ship without a pad token; padding is masked out of the loss anyway.
        tokenizer.pad_token = tokenizer.eos_token
        log.info("tokenizer has no pad token; using eos (%r)", tokenizer.eos_token)
    return tokenizer


def load_base_model(name: str, kwargs: dict[str, Any], runtime: Runtime, qlora: bool, device_index: int = 0):
    """The base model; with QLoRA quantized to 4 bits on GPU ``device_index`` (the local rank's GPU in a
    data-parallel run)."""
    from transformers import AutoModelForCausalLM

    load_kwargs: dict[str, Any] = {**kwargs, "dtype": runtime.dtype}
    if qlora:
        try:
            from transformers import BitsAndBytesConfig

            load_kwargs["quantization_config"] = BitsAndBytesConfig(
                load_in_4bit=True,
                bnb_4bit_quant_type="nf4",
                bnb_4bit_use_double_quant=True,
                bnb_4bit_compute_dtype=runtime.dtype,
            )
            load_kwargs["device_map"] = {"": device_index}
        except ImportError as exc:  # pragma: no cover - GPU images only
            raise HardwareUnsupported(f"lora.qlora needs bitsandbytes in the trainer image: {exc}") from exc
    try:
        model = AutoModelForCausalLM.from_pretrained(name, **load_kwargs)
    except (OSError, ValueError) as exc:
        raise ModelUnavailable(f"cannot load base model {name}: {exc}") from exc
    if qlora:
        from peft import prepare_model_for_kbit_training

        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=True)
    return model


def probe_batch_size(fits: Callable[[int], bool], start: int) -> int:
    """Largest batch size ``<= start`` for which ``fits(b)`` is true (pure search).

    Halves from ``start`` until a size fits, then bisects between it and the last size that did
    not. ``fits`` runs one forward/backward at full sequence length and returns False on OOM.
    """
    high = max(start, 1)
    if fits(high):
        return high
    low = high // 2
    while low >= 1 and not fits(low):
        high, low = low, low // 2
    if low < 1:
        raise HardwareUnsupported("even a batch of 1 does not fit in GPU memory; lower training.sequenceLength")
    while high - low > 1:  # invariant: low fits, high does not
        mid = (low + high) // 2
        low, high = (mid, high) if fits(mid) else (low, mid)
    return low


def cuda_fits(model, seq_len: int, vocab_size: int) -> Callable[[int], bool]:
    """A ``fits`` probe for ``probe_batch_size`` on the GPU."""

    def fits(batch: int) -> bool:
        try:
            ids = torch.randint(0, vocab_size, (batch, seq_len), device="cuda")
            out = model(input_ids=ids, labels=ids)
            out.loss.backward()
            model.zero_grad(set_to_none=True)
            return True
        except torch.OutOfMemoryError:
            model.zero_grad(set_to_none=True)
            return False
        finally:
            torch.cuda.empty_cache()

    return fits
