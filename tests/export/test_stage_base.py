"""A base model whose tokenizer has no pad token is converted from a staged copy that uses eos as the
pad token (weights linked, the original untouched), and the build's cleanup report says so. Pure files:
no model, no llama.cpp."""

from __future__ import annotations

import json
from pathlib import Path

from tara_trainer.export.build import _stage_base
from tara_trainer.export.inputs import CleanupReport


def _base(tmp_path: Path, tokenizer_config: dict | None) -> Path:
    base = tmp_path / "base"
    base.mkdir(parents=True)
    (base / "model.safetensors").write_bytes(b"weights")
    if tokenizer_config is not None:
        (base / "tokenizer_config.json").write_text(json.dumps(tokenizer_config), encoding="utf-8")
    return base


def test_a_missing_pad_token_is_fixed_in_a_staged_copy_and_reported(tmp_path: Path) -> None:
    base, report = _base(tmp_path, {"eos_token": "</s>", "model_max_length": 2048}), CleanupReport()
    staged = _stage_base(base, tmp_path / "work", report)
    assert staged != base and staged.parent == tmp_path / "work"
    assert json.loads((staged / "tokenizer_config.json").read_text()) == {"eos_token": "</s>", "model_max_length": 2048,
                                                                          "pad_token": "</s>"}
    assert (staged / "model.safetensors").is_symlink() and (staged / "model.safetensors").read_bytes() == b"weights"
    assert "pad_token" not in json.loads((base / "tokenizer_config.json").read_text())  # the original is untouched
    assert report.fixed == [f"{base / 'tokenizer_config.json'}: no pad_token; the GGUF uses eos (</s>)"]


def test_a_tokenizer_with_a_pad_token_or_without_eos_is_used_as_it_is(tmp_path: Path) -> None:
    report = CleanupReport()
    with_pad = _base(tmp_path / "a", {"eos_token": "</s>", "pad_token": "<pad>"})
    assert _stage_base(with_pad, tmp_path / "work-a", report) == with_pad
    without_eos = _base(tmp_path / "b", {})
    assert _stage_base(without_eos, tmp_path / "work-b", report) == without_eos
    assert report.fixed == [] and report.warnings == [f"{without_eos / 'tokenizer_config.json'}: no pad_token and no eos_token "
                                                      "to use for it"]
