"""Proof that a GGUF file is what it claims to be, before anything serves it.

Each check runs llama.cpp in-process (the ``llama_cpp`` bindings over the cached ``libllama``):
the file loads and generates tokens; llama.cpp tokenizes sample text to the same ids as the
Hugging Face tokenizer; and the next-token logits at every position of a sample sequence match a
Hugging Face reference model (the base with the LoRA merged, or the merged universal model) within
the spec's tolerance, which catches exports that load fine but compute something else. A build's
files are re-checked against the sha256 recorded in its manifest before serving. ``probe_serving``
times what serving the chosen file costs: its load, the time to a first token and decode speed; the
build runs it in a fresh process (``serveprobe``), which adds the resident memory it took.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tara_trainer.checkpoints import file_digest
from tara_trainer.errors import ArtifactInvalid
from tara_trainer.llamacpp import LlamaCpp, import_llama_cpp

__all__ = [
    "LogitsCheck",
    "ServingProbe",
    "compare_logits",
    "generate",
    "llama_logits",
    "probe_serving",
    "sample_texts",
    "tokenization_mismatches",
    "verify_manifest",
]

log = logging.getLogger(__name__)

FIXED_SAMPLES = (
    "Hello, world! How are you today?",
    "The patient reported 3 days of fever (38.5 C) and a dry cough.",
    "Revenue grew 12% year over year; margins held at 4.2%.",
    "  leading spaces, tabs\tand\nnew lines  ",
    "Café, naïve, 東京, emoji 🙂 and symbols: <>&{}[]",
)


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """llama.cpp logs model loading to fd 2 even with verbose=False; keep build logs readable."""
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def _load(tc: LlamaCpp, model: Path, lora: Path | None = None, vocab_only: bool = False, n_ctx: int = 256,
          logits_all: bool = False, threads: int = 2) -> Any:
    llama_cpp = import_llama_cpp(tc)
    kwargs: dict[str, Any] = {"model_path": str(model), "n_ctx": n_ctx, "verbose": False, "seed": 0,
                              "n_threads": threads, "n_gpu_layers": 0, "vocab_only": vocab_only,
                              "logits_all": logits_all}
    if lora is not None:
        kwargs["lora_path"] = str(lora)
    try:
        with _quiet_stderr():
            return llama_cpp.Llama(**kwargs)
    except (ValueError, RuntimeError, OSError) as exc:
        what = f"{model.name}" + (f" with LoRA {lora.name}" if lora else "")
        raise ArtifactInvalid(f"llama.cpp cannot load {what}: {exc}") from exc


def generate(tc: LlamaCpp, model: Path, prompt_ids: Sequence[int], n: int = 8, lora: Path | None = None) -> list[int]:
    """Greedy-generate ``n`` tokens (end-of-text included) from ``prompt_ids``.

    Raises ArtifactInvalid when the model does not load or yields fewer tokens.
    """
    llm = _load(tc, model, lora)
    try:
        vocab = llm.n_vocab()
        out: list[int] = []
        for token in llm.generate(list(prompt_ids), temp=0.0, top_k=1, reset=True):
            out.append(int(token))
            if len(out) >= n:
                break
    finally:
        llm.close()
    if len(out) < n:
        raise ArtifactInvalid(f"{model.name}: generated {len(out)} of {n} tokens")
    if any(t < 0 or t >= vocab for t in out):
        raise ArtifactInvalid(f"{model.name}: generated token ids outside the vocabulary: {out}")
    return out


@dataclass(frozen=True)
class ServingProbe:
    """One load of a served model (with a domain's LoRA) and one greedy generation from it."""

    load_seconds: float  # llama.cpp's load, page cache warm (the build just wrote the file)
    first_token_seconds: float  # the prompt evaluated and the first token sampled
    tokens: int  # generated tokens, the first included
    tokens_per_second: float  # decode speed after the first token
    # the peak resident memory of a fresh process from the load to the last token, less that process's
    # own before the load (``serveprobe``); None where unreadable or not measured
    memory_bytes: int | None = None


def probe_serving(tc: LlamaCpp, model: Path, prompt_ids: Sequence[int], n_ctx: int, lora: Path | None = None,
                  n: int = 32, threads: int = 2) -> ServingProbe:
    """Load MODEL (+ LORA) as llama-server would (context N_CTX, memory-mapped) and greedily generate
    N tokens after PROMPT_IDS, timing each part. Memory is not read here: in a process that loaded
    models before, freed memory is reused and the reading says nothing (``serveprobe`` reads it in a
    fresh process around this call).

    Raises ArtifactInvalid when the model does not load or stops early."""
    started = time.perf_counter()
    llm = _load(tc, model, lora, n_ctx=n_ctx, threads=threads)
    loaded = time.perf_counter()
    try:
        stamps = []
        for _token in llm.generate(list(prompt_ids), temp=0.0, top_k=1, reset=True):
            stamps.append(time.perf_counter())
            if len(stamps) >= n:
                break
    finally:
        llm.close()
    if len(stamps) < n:
        raise ArtifactInvalid(f"{model.name}: generated {len(stamps)} of {n} tokens")
    decode = stamps[-1] - stamps[0]
    return ServingProbe(load_seconds=loaded - started, first_token_seconds=stamps[0] - loaded, tokens=len(stamps),
                        tokens_per_second=(len(stamps) - 1) / decode if decode > 0 else 0.0)


def sample_texts(eval_texts: Sequence[str], per_text: int = 3, max_chars: int = 400) -> list[str]:
    """Fixed samples plus the first paragraphs of each domain's eval text (whitespace kept as is)."""
    samples = list(FIXED_SAMPLES)
    for text in eval_texts:
        samples += [p[:max_chars] for p in text.split("\n\n") if p.strip()][:per_text]
    return samples


def tokenization_mismatches(tc: LlamaCpp, model: Path, hf_tokenizer: Any, texts: Sequence[str]) -> list[str]:
    """Texts that llama.cpp tokenizes differently from Hugging Face.

    No BOS/EOS is added; special-token text (``<s>`` in a rendered chat template) is parsed as the
    special token on both sides, as llama-server does with a chat template.
    """
    llm = _load(tc, model, vocab_only=True)
    problems = []
    try:
        for text in texts:
            ours = list(llm.tokenize(text.encode("utf-8"), add_bos=False, special=True))
            theirs = list(hf_tokenizer(text, add_special_tokens=False)["input_ids"])
            if ours != theirs:
                at = next((i for i, (a, b) in enumerate(zip(ours, theirs, strict=False)) if a != b), min(len(ours), len(theirs)))
                problems.append(f"{text[:40]!r}: llama.cpp {ours[at:at + 5]} vs Hugging Face {theirs[at:at + 5]} at token {at}")
    finally:
        llm.close()
    return problems


@dataclass(frozen=True)
class LogitsCheck:
    what: str
    tokens: int
    max_abs_diff: float
    tolerance: float
    logit_scale: float  # max |logit| of the reference, for context in messages

    @property
    def passed(self) -> bool:
        return self.max_abs_diff <= self.tolerance

    def to_dict(self) -> dict[str, Any]:
        return {"what": self.what, "tokens": self.tokens, "maxAbsDiff": self.max_abs_diff,
                "tolerance": self.tolerance, "logitScale": self.logit_scale, "passed": self.passed}


def llama_logits(tc: LlamaCpp, model: Path, sequences: Sequence[Sequence[int]], lora: Path | None = None,
                 threads: int = 2) -> list[Any]:
    """llama.cpp's next-token logits (MODEL + LORA) at every position of each sequence: one float64
    array of shape (tokens, vocabulary) per sequence, from one load of the model."""
    import numpy as np

    lists = [list(ids) for ids in sequences]
    llm = _load(tc, model, lora, n_ctx=max(64, max(map(len, lists), default=0) + 8), logits_all=True, threads=threads)
    out = []
    try:
        for ids in lists:
            llm.reset()
            llm.eval(ids)
            out.append(np.asarray(llm.scores[: len(ids)], dtype=np.float64))
    finally:
        llm.close()
    return out


def compare_logits(tc: LlamaCpp, model: Path, reference: Any, token_ids: Sequence[int], tolerance: float,
                   lora: Path | None = None, what: str = "") -> LogitsCheck:
    """Next-token logits of llama.cpp (MODEL + LORA) vs the Hugging Face REFERENCE at every position."""
    import numpy as np
    import torch

    ids = list(token_ids)
    ours = llama_logits(tc, model, [ids], lora)[0]
    with torch.no_grad():
        theirs = reference(torch.tensor([ids])).logits[0].double().numpy()
    if ours.shape != theirs.shape:
        raise ArtifactInvalid(f"{what or model.name}: llama.cpp logits shape {ours.shape} vs Hugging Face {theirs.shape}")
    diff = float(np.max(np.abs(ours - theirs)))
    return LogitsCheck(what or model.name, len(ids), diff, tolerance, float(np.max(np.abs(theirs))))


def verify_manifest(build_dir: Path, manifest_name: str = "manifest.json") -> list[str]:
    """Re-hash every artifact listed in a build manifest; returns the problems (empty = intact)."""
    manifest = json.loads((build_dir / manifest_name).read_text(encoding="utf-8"))
    problems = []
    for artifact in manifest.get("artifacts", []):
        path = build_dir / artifact["path"]
        if not path.is_file():
            problems.append(f"{artifact['path']}: missing")
        elif path.stat().st_size != artifact["bytes"]:
            problems.append(f"{artifact['path']}: {path.stat().st_size} bytes, manifest says {artifact['bytes']}")
        elif file_digest(path) != artifact["sha256"]:
            problems.append(f"{artifact['path']}: sha256 differs from the manifest (corrupted or replaced)")
    return problems
