"""Hugging Face side of the build: merged reference models and the universal model.

For ``adapters`` the build needs, per domain, the base with that domain's LoRA merged in: the
reference the GGUF LoRA's logits are compared against. For a merge strategy it builds the
universal model with PEFT's weighted adapter merging (``add_weighted_adapter``) and saves it as a
plain Hugging Face folder for the converter. Everything runs on CPU in float32; ``dare_ties``
draws random masks, so the merge is seeded.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tara_api.ggufphase import MergeSpec, MergeStrategy
from tara_trainer.errors import IncompatibleAdapter

__all__ = ["DEFAULT_DENSITY", "load_base", "merged_with_adapter", "universal_model", "with_adapters"]

log = logging.getLogger(__name__)

DEFAULT_DENSITY = 0.5  # ties / dare_ties when merge.density is not set
_TOKENIZER_FILES = ("tokenizer.model", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
                    "chat_template.jinja", "added_tokens.json", "vocab.json", "merges.txt", "generation_config.json")


def load_base(base_dir: Path) -> Any:
    import torch
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(str(base_dir), dtype=torch.float32)
    model.eval()
    return model


def with_adapters(base_dir: Path, adapters: Sequence[tuple[str, Path]]) -> Any:
    """The base loaded once with every ``(name, adapter_dir)`` attached (eval mode): ``set_adapter(name)``
    selects one, ``disable_adapter()`` gives the base. Unmerged PEFT matches the merged model to ~1e-7."""
    from peft import PeftModel

    (first, first_dir), *rest = adapters
    model = PeftModel.from_pretrained(load_base(base_dir), str(first_dir), adapter_name=first)
    for name, path in rest:
        model.load_adapter(str(path), adapter_name=name)
    return model.eval()


def merged_with_adapter(base_dir: Path, adapter_dir: Path) -> Any:
    """The base model with one adapter merged in (float32, eval mode)."""
    from peft import PeftModel

    model = PeftModel.from_pretrained(load_base(base_dir), str(adapter_dir))
    return model.merge_and_unload().eval()


def universal_model(
    base_dir: Path, adapters: Sequence[tuple[str, Path, float]], merge: MergeSpec, out_dir: Path, seed: int = 0
) -> Any:
    """Merge ``(domain, adapter_dir, weight)`` adapters with PEFT into one model saved in ``out_dir``.

    Returns the merged model (for the logits check). Raises IncompatibleAdapter when PEFT refuses
    the combination (for example ``linear`` or ``ties`` over adapters of different ranks).
    """
    import torch
    from peft import PeftModel

    if merge.strategy == MergeStrategy.ADAPTERS:
        raise ValueError("the adapters strategy has no universal model")
    torch.manual_seed(seed)
    names = [name for name, _, _ in adapters]
    model = PeftModel.from_pretrained(load_base(base_dir), str(adapters[0][1]), adapter_name=names[0])
    for name, path, _ in adapters[1:]:
        model.load_adapter(str(path), adapter_name=name)
    options: dict[str, Any] = {}
    if merge.strategy in (MergeStrategy.TIES, MergeStrategy.DARE_TIES):
        options["density"] = merge.density if merge.density is not None else DEFAULT_DENSITY
    if merge.strategy == MergeStrategy.SVD and merge.svd_rank is not None:
        options["svd_rank"] = merge.svd_rank
    try:
        model.add_weighted_adapter(adapters=names, weights=[w for _, _, w in adapters], adapter_name="universal",
                                   combination_type=merge.strategy.value, **options)
    except (ValueError, RuntimeError) as exc:
        raise IncompatibleAdapter(f"PEFT cannot merge {', '.join(names)} with {merge.strategy.value}: {exc}") from exc
    model.set_adapter("universal")
    for name in names:
        model.delete_adapter(name)
    merged = model.merge_and_unload().eval()
    out_dir.mkdir(parents=True, exist_ok=True)
    merged.save_pretrained(str(out_dir), safe_serialization=True)
    copy_tokenizer(base_dir, out_dir)
    log.info("merged %s with %s into %s", ", ".join(names), merge.strategy.value, out_dir)
    return merged


def copy_tokenizer(src: Path, dst: Path) -> None:
    """Copy the tokenizer files verbatim: re-saving can drop ``tokenizer.model`` and change ids."""
    for name in _TOKENIZER_FILES:
        if (src / name).is_file():
            shutil.copy2(src / name, dst / name)
