"""Does a dequantized GGUF base compute what llama.cpp computes on the original file?

The Hugging Face folder that ``ggufbase`` writes is run on a few short texts next to llama.cpp
running the original ``.gguf``, token by token, and the two next-token distributions are compared.
They are not identical even when the dequantization is exact: llama.cpp multiplies quantized
weights by activations it quantizes to 8 bits on the fly, while the folder holds the dequantized
weights in float. So the measure is the mean KL divergence between the two distributions, not the
largest logit difference (one rare token's logit moves by a few units while the distributions
agree): the check passes when it is at most ``KL_TOLERANCE`` (0.02 nats per token) and both sides
tokenize every text the same way. Measured: SmolLM2-135M-Instruct Q4_1, 0.005 nats per token
(perplexity 62.5 in llama.cpp, 62.0 dequantized); the tiny test model, F16 and Q8_0, below 1e-4.
A wrong dequantization (swapped or mis-permuted weights, another architecture's layout) lands
orders of magnitude above the tolerance.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tara_trainer.llamacpp import LlamaCpp

__all__ = ["KL_TOLERANCE", "Agreement", "agreement", "compare_with_llamacpp", "sample_texts"]

log = logging.getLogger(__name__)

KL_TOLERANCE = 0.02  # nats per token, mean over every position of every sample
_CHAT = (
    {"role": "user", "content": "What is the capital of France?"},
    {"role": "assistant", "content": "The capital of France is Paris."},
)


@dataclass(frozen=True)
class Agreement:
    """llama.cpp on the original file (p) against the dequantized folder (q) over the same tokens."""

    texts: int
    tokens: int
    mean_kl: float  # KL(p || q) in nats, mean over positions
    max_kl: float
    top1: float  # fraction of positions where both predict the same next token
    max_abs_logit_diff: float
    perplexity_llamacpp: float  # of each text's own next tokens
    perplexity_dequantized: float
    tokenizer_mismatches: tuple[str, ...] = ()
    tolerance: float = KL_TOLERANCE
    seconds: float = field(default=0.0, compare=False)

    @property
    def passed(self) -> bool:
        return self.mean_kl <= self.tolerance and not self.tokenizer_mismatches

    def to_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "tolerance": self.tolerance,
            "texts": self.texts,
            "tokens": self.tokens,
            "meanKlDivergence": round(self.mean_kl, 6),
            "maxKlDivergence": round(self.max_kl, 6),
            "top1Agreement": round(self.top1, 4),
            "maxAbsLogitDiff": round(self.max_abs_logit_diff, 4),
            "perplexityLlamaCpp": round(self.perplexity_llamacpp, 4),
            "perplexityDequantized": round(self.perplexity_dequantized, 4),
            "tokenizerMismatches": list(self.tokenizer_mismatches),
            "seconds": round(self.seconds, 2),
        }

    def summary(self) -> str:
        return (
            f"mean KL {self.mean_kl:.4g} nats/token (tolerance {self.tolerance}), top-1 {self.top1:.0%}, "
            f"perplexity {self.perplexity_llamacpp:.2f} (llama.cpp) vs {self.perplexity_dequantized:.2f} "
            f"(dequantized) over {self.tokens} tokens"
        )


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def agreement(
    samples: Sequence[tuple[Sequence[int], np.ndarray, np.ndarray]],
    mismatches: Sequence[str] = (),
    tolerance: float = KL_TOLERANCE,
) -> Agreement:
    """Compare llama.cpp's logits (p) with the dequantized model's (q) per sample of
    ``(token ids, p logits, q logits)``, each logits array shaped (tokens, vocabulary) (pure).

    Raises ValueError when a pair of arrays differ in shape or nothing was compared.
    """
    kl: list[np.ndarray] = []
    same: list[np.ndarray] = []
    nll_p: list[np.ndarray] = []
    nll_q: list[np.ndarray] = []
    max_diff = 0.0
    for ids, p_logits, q_logits in samples:
        p, q = np.asarray(p_logits, dtype=np.float64), np.asarray(q_logits, dtype=np.float64)
        if p.shape != q.shape or p.shape[0] != len(ids):
            raise ValueError(
                f"logits shapes differ: llama.cpp {p.shape}, dequantized {q.shape}, {len(ids)} tokens"
            )
        lp, lq = _log_softmax(p), _log_softmax(q)
        kl.append((np.exp(lp) * (lp - lq)).sum(axis=-1))
        same.append(p.argmax(axis=-1) == q.argmax(axis=-1))
        nxt = np.asarray(ids[1:], dtype=np.int64)
        rows = np.arange(len(nxt))
        nll_p.append(-lp[rows, nxt])
        nll_q.append(-lq[rows, nxt])
        max_diff = max(max_diff, float(np.abs(p - q).max()))
    if not kl:
        raise ValueError("no sample to compare")
    all_kl = np.concatenate(kl)
    return Agreement(
        texts=len(kl),
        tokens=int(all_kl.size),
        mean_kl=float(all_kl.mean()),
        max_kl=float(all_kl.max()),
        top1=float(np.concatenate(same).mean()),
        max_abs_logit_diff=max_diff,
        perplexity_llamacpp=float(np.exp(np.concatenate(nll_p).mean())),
        perplexity_dequantized=float(np.exp(np.concatenate(nll_q).mean())),
        tokenizer_mismatches=tuple(mismatches),
        tolerance=tolerance,
    )


def sample_texts(tokenizer: Any) -> list[str]:
    """The export check's fixed samples, plus one chat turn rendered by the tokenizer's own template."""
    from jinja2 import TemplateError

    from tara_trainer.export.verify import FIXED_SAMPLES

    texts = list(FIXED_SAMPLES)
    if getattr(tokenizer, "chat_template", None):
        try:
            texts.append(tokenizer.apply_chat_template(list(_CHAT), tokenize=False))
        except (TemplateError, ValueError, TypeError) as exc:  # reported; the plain samples still run
            log.warning("the chat template does not render a plain conversation: %s", exc)
    return texts


def compare_with_llamacpp(
    tc: LlamaCpp, gguf: Path, folder: Path, threads: int = 2, tolerance: float = KL_TOLERANCE
) -> Agreement:
    """Run the folder (float32, plain ``from_pretrained``) and llama.cpp on GGUF over ``sample_texts``.

    Raises ToolchainError when the llama.cpp bindings do not load, ArtifactInvalid when llama.cpp
    cannot load the file.
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from tara_trainer.export.verify import llama_logits, tokenization_mismatches

    started = time.monotonic()
    tokenizer = AutoTokenizer.from_pretrained(folder)
    texts = sample_texts(tokenizer)
    mismatches = tokenization_mismatches(tc, gguf, tokenizer, texts)
    sequences = [list(tokenizer(text)["input_ids"]) for text in texts]
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32)
    model.eval()
    with torch.no_grad():
        ours = [model(torch.tensor([ids])).logits[0].double().numpy() for ids in sequences]
    del model
    theirs = llama_logits(tc, gguf, sequences, threads=threads)
    result = agreement(list(zip(sequences, theirs, ours, strict=True)), mismatches, tolerance)
    return Agreement(**{**result.__dict__, "seconds": time.monotonic() - started})
