"""The trainer's dataset layer: read rows, count bad ones, split deterministically, tokenize.

Invariants:
- Bad rows are never dropped silently: each is counted by reason with its line number, and too
  many of them (``max_bad_fraction``) is an error that names the file and the first bad lines.
- The eval split depends only on (seed, row content): shuffling the file or appending rows does
  not move an existing row between train and eval.
- For chat data the loss covers assistant tokens only. Assistant spans are found by rendering
  the conversation up to each assistant turn with the tokenizer's own chat template (the plain
  template from ``tiny`` when it has none), so it works with any template, generation tags or not.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

__all__ = [
    "BadRow",
    "CausalLMCollator",
    "DatasetError",
    "EncodeReport",
    "Example",
    "LoadReport",
    "encode_dataset",
    "encode_example",
    "load_examples",
    "render_messages",
    "split_eval",
]

ROLES = ("system", "user", "assistant")
FORMATS = ("chat", "instruction", "text")
IGNORE = -100


class DatasetError(ValueError):
    """The dataset cannot be used; the message names the file and, where there is one, the line."""


@dataclass(frozen=True)
class Example:
    line: int
    messages: tuple[tuple[str, str], ...] = ()  # (role, content); empty for text rows
    text: str | None = None

    @property
    def key(self) -> str:
        payload = self.text if self.text is not None else json.dumps(self.messages)
        return hashlib.sha256(payload.encode()).hexdigest()


@dataclass(frozen=True)
class BadRow:
    line: int
    reason: str


@dataclass(frozen=True)
class LoadReport:
    path: str
    format: str
    total_rows: int
    good_rows: int
    bad_by_reason: dict[str, int] = field(default_factory=dict)
    bad: tuple[BadRow, ...] = ()  # the first 20


@dataclass(frozen=True)
class EncodeReport:
    examples: int
    tokens: int
    truncated: int
    truncated_away: int


def _detect(row: Any) -> str | None:
    if not isinstance(row, dict):
        return None
    if "messages" in row:
        return "chat"
    if "instruction" in row or "output" in row:
        return "instruction"
    if "text" in row:
        return "text"
    return None


def _parse_chat(row: dict) -> tuple[tuple[tuple[str, str], ...], str | None]:
    messages = row.get("messages")
    if not isinstance(messages, list) or not messages:
        return (), "missing or empty 'messages'"
    out = []
    for message in messages:
        if not isinstance(message, dict):
            return (), "a message is not an object"
        role, content = message.get("role"), message.get("content")
        if role not in ROLES:
            return (), f"unknown role {role!r}"
        if not isinstance(content, str) or not content.strip():
            return (), "empty message content"
        out.append((role, content))
    turns = [r for r, _ in out if r != "system"]
    if "assistant" not in turns:
        return (), "no assistant turn"
    if any(r == "system" for r, _ in out[1:]) or any(a == b for a, b in zip(turns, turns[1:], strict=False)) or turns[0] != "user":
        return (), "roles do not alternate user/assistant"
    return tuple(out), None


def _row_to_example(row: Any, fmt: str, line: int) -> tuple[Example | None, str | None]:
    kind = _detect(row)
    if not isinstance(row, dict):
        return None, "not a JSON object"
    if kind != fmt:
        return None, f"wrong format (expected {fmt}, row has keys {sorted(row)[:5]})"
    if fmt == "chat":
        messages, problem = _parse_chat(row)
        return (Example(line, messages), None) if problem is None else (None, problem)
    if fmt == "instruction":
        instruction, extra, output = row.get("instruction"), row.get("input") or "", row.get("output")
        if not isinstance(instruction, str) or not instruction.strip():
            return None, "missing or empty 'instruction'"
        if not isinstance(output, str) or not output.strip():
            return None, "missing or empty 'output'"
        if not isinstance(extra, str):
            return None, "'input' is not a string"
        user = instruction + (f"\n\n{extra}" if extra.strip() else "")
        return Example(line, (("user", user), ("assistant", output))), None
    text = row.get("text")
    if not isinstance(text, str) or not text.strip():
        return None, "missing or empty 'text'"
    return Example(line, text=text), None


def _read_rows(path: Path) -> list[tuple[int, Any]]:
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise DatasetError(f"{path}: dataset file does not exist") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(f"{path}: cannot read dataset: {exc}") from exc
    if path.suffix == ".txt":
        rows, start, buffer = [], 1, []
        for number, text in enumerate(raw.splitlines() + [""], start=1):
            if text.strip():
                if not buffer:
                    start = number
                buffer.append(text)
            elif buffer:
                rows.append((start, {"text": "\n".join(buffer)}))
                buffer = []
        return rows
    rows = []
    for number, text in enumerate(raw.splitlines(), start=1):
        if not text.strip():
            continue
        try:
            rows.append((number, json.loads(text)))
        except ValueError:
            rows.append((number, _Invalid()))
    return rows


class _Invalid:
    """Marker for a line that is not JSON."""


def load_examples(path: str | Path, fmt: str = "auto", max_bad_fraction: float = 0.1) -> tuple[list[Example], LoadReport]:
    """Read a JSONL (or .txt) dataset. Raises DatasetError naming the file and line."""
    path = Path(path)
    if fmt not in ("auto", *FORMATS):
        raise DatasetError(f"{path}: unknown format {fmt!r} (use auto, chat, instruction or text)")
    rows = _read_rows(path)
    if not rows:
        raise DatasetError(f"{path}: dataset is empty")
    first = next(((n, r) for n, r in rows if not isinstance(r, _Invalid)), None)
    if fmt == "auto":
        fmt = _detect(first[1]) if first else None
        if fmt is None:
            where = f"{path}:{first[0] if first else rows[0][0]}"
            raise DatasetError(f"{where}: cannot detect the format: expected 'messages', 'instruction'/'output' or 'text'")
    elif first is not None and _detect(first[1]) not in (None, fmt):
        keys = sorted(first[1]) if isinstance(first[1], dict) else type(first[1]).__name__
        label = {"chat": "chat format (a 'messages' list)", "instruction": "instruction format ('instruction'/'output')",
                 "text": "text format (a 'text' field)"}[fmt]
        raise DatasetError(f"{path}:{first[0]}: expected {label} but the row has keys {keys}")
    examples, bad = [], []
    for number, row in rows:
        if isinstance(row, _Invalid):
            bad.append(BadRow(number, "invalid JSON"))
            continue
        example, problem = _row_to_example(row, fmt, number)
        if example is None:
            bad.append(BadRow(number, problem or "unusable row"))
        else:
            examples.append(example)
    counts = dict(Counter(_reason_kind(b.reason) for b in bad))
    report = LoadReport(str(path), fmt, len(rows), len(examples), counts, tuple(bad[:20]))
    first_bad = "; ".join(f"line {b.line}: {b.reason}" for b in bad[:5])
    if not examples:
        raise DatasetError(f"{path}: no usable rows ({len(bad)} bad; {first_bad})")
    if len(bad) / len(rows) > max_bad_fraction:
        raise DatasetError(
            f"{path}: {len(bad)} of {len(rows)} rows are bad, more than maxBadRowFraction {max_bad_fraction} ({first_bad})"
        )
    return examples, report


_REASON_KINDS = (
    "invalid JSON", "not a JSON object", "wrong format", "missing or empty 'messages'", "a message is not an object",
    "unknown role", "empty message content", "no assistant turn", "roles do not alternate",
    "missing or empty 'instruction'", "missing or empty 'output'", "'input' is not a string", "missing or empty 'text'",
)


def _reason_kind(reason: str) -> str:
    """Group reasons with details (which role, which keys) under one countable kind."""
    return next((kind for kind in _REASON_KINDS if reason.startswith(kind)), reason)


def split_eval(examples: Sequence[Example], eval_fraction: float, seed: int) -> tuple[list[Example], list[Example]]:
    """Deterministic split by a hash of (seed, content): order-independent and stable under appends."""
    if eval_fraction <= 0 or len(examples) < 2:
        return list(examples), []

    def score(example: Example) -> float:
        digest = hashlib.sha256(f"{seed}:{example.key}".encode()).digest()
        return int.from_bytes(digest[:8], "big") / 2**64

    scored = [(score(e), e) for e in examples]
    train = [e for s, e in scored if s >= eval_fraction]
    held = [e for s, e in scored if s < eval_fraction]
    if not held:  # guarantee one eval example: the lowest score
        low = min(scored, key=lambda t: t[0])[1]
        train, held = [e for e in train if e is not low], [low]
    if not train:
        high = max(scored, key=lambda t: t[0])[1]
        held, train = [e for e in held if e is not high], [high]
    return train, held


def render_messages(messages: Sequence[tuple[str, str]] | Sequence[dict], tokenizer: Any, add_generation_prompt: bool = False) -> str:
    from tara_trainer.tiny import CHAT_TEMPLATE

    as_dicts = [m if isinstance(m, dict) else {"role": m[0], "content": m[1]} for m in messages]
    template = tokenizer.chat_template or CHAT_TEMPLATE
    return tokenizer.apply_chat_template(as_dicts, chat_template=template, tokenize=False, add_generation_prompt=add_generation_prompt)


def _ids(tokenizer: Any, text: str) -> list[int]:
    # Templates carry their own BOS; never add a second one.
    return list(tokenizer(text, add_special_tokens=False)["input_ids"])


def _common_prefix(a: list[int], b: list[int]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def encode_example(example: Example, tokenizer: Any, max_length: int) -> dict[str, list[int]]:
    """input_ids, attention_mask and labels (-100 outside assistant turns for chat data)."""
    if example.text is not None:
        ids = _ids(tokenizer, example.text)
        if tokenizer.bos_token_id is not None and (not ids or ids[0] != tokenizer.bos_token_id):
            ids = [tokenizer.bos_token_id, *ids]
        if tokenizer.eos_token_id is not None:
            ids.append(tokenizer.eos_token_id)
        ids = ids[:max_length]
        return {"input_ids": ids, "attention_mask": [1] * len(ids), "labels": list(ids)}
    messages = list(example.messages)
    ids = _ids(tokenizer, render_messages(messages, tokenizer))
    labels = [IGNORE] * len(ids)
    for i, (role, _) in enumerate(messages):
        if role != "assistant":
            continue
        start = _common_prefix(_ids(tokenizer, render_messages(messages[:i], tokenizer, add_generation_prompt=True)), ids)
        end = _common_prefix(_ids(tokenizer, render_messages(messages[: i + 1], tokenizer)), ids)
        labels[start:end] = ids[start:end]
    ids, labels = ids[:max_length], labels[:max_length]
    return {"input_ids": ids, "attention_mask": [1] * len(ids), "labels": labels}


def encode_dataset(examples: Sequence[Example], tokenizer: Any, max_length: int) -> tuple[list[dict[str, list[int]]], EncodeReport]:
    rows, tokens, truncated, away = [], 0, 0, 0
    for example in examples:
        full = encode_example(example, tokenizer, 1 << 30)
        row = encode_example(example, tokenizer, max_length) if len(full["input_ids"]) > max_length else full
        if len(full["input_ids"]) > max_length:
            truncated += 1
        if all(label == IGNORE for label in row["labels"]):
            away += 1
            continue
        rows.append(row)
        tokens += len(row["input_ids"])
    return rows, EncodeReport(len(rows), tokens, truncated, away)


class CausalLMCollator:
    """Pads a batch to its longest row; counts the real tokens it produced in ``tokens_seen``."""

    def __init__(self, pad_token_id: int) -> None:
        self.pad_token_id = pad_token_id
        self.tokens_seen = 0

    def __call__(self, rows: Sequence[dict[str, list[int]]]) -> dict[str, torch.Tensor]:
        width = max(len(r["input_ids"]) for r in rows)
        batch = {
            "input_ids": torch.full((len(rows), width), self.pad_token_id, dtype=torch.long),
            "attention_mask": torch.zeros((len(rows), width), dtype=torch.long),
            "labels": torch.full((len(rows), width), IGNORE, dtype=torch.long),
        }
        for i, row in enumerate(rows):
            n = len(row["input_ids"])
            batch["input_ids"][i, :n] = torch.tensor(row["input_ids"])
            batch["attention_mask"][i, :n] = 1
            batch["labels"][i, :n] = torch.tensor(row["labels"])
            self.tokens_seen += n
        return batch
