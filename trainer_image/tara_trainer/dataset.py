"""The trainer's dataset layer: read rows, count bad ones, tokenize, collate (``split.py`` holds rows out).

Pure functions over rows and a tokenizer, plus thin file reading; ``train.py`` wires them up.

Invariants:
- Bad rows are never dropped silently: each is counted under one of a fixed set of reasons
  (``REASONS``) with its line number, and more than ``max_bad_fraction`` of them is an error.
- Every :class:`DatasetError` names the file and, where there is one, the line.
- ``Example.key`` (a digest of the content alone) names a row for the eval split; changing it would
  move rows of existing runs.
- Chat data is tokenized exactly as ``apply_chat_template`` does at inference (the template writes
  BOS/EOS; nothing is added), with control tokens inside message text encoded as plain text, so a
  row that mentions ``</s>`` or ``<|im_end|>`` cannot forge turn boundaries. The loss covers
  assistant tokens only, found generically by rendering the conversation up to each assistant turn
  (with the generation prompt) and through it; it needs no generation tags in the template.
- Plain text gets the tokenizer's own special tokens (BOS where it adds one) plus a final EOS, and
  trains on every token. Truncation keeps the beginning; an example left with no trained token is
  skipped and counted (``truncated_away``), never lost silently.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["IGNORE", "REASONS", "BadRow", "CausalLMCollator", "DatasetError", "EncodeReport", "Example", "LoadReport",
           "encode_dataset", "encode_example", "load_examples", "render_messages", "rows_sha256"]

FORMATS = ("chat", "instruction", "text")
ROLES = ("system", "user", "assistant")
IGNORE = -100  # label of tokens that carry no loss
MAX_REPORTED = 20  # bad rows (and truncated-away lines) kept as examples in a report

# Why a row is bad: the keys of LoadReport.bad_by_reason (details go to BadRow.detail).
REASONS = (INVALID_JSON, NOT_OBJECT, MISSING_FIELD, UNKNOWN_ROLE, NO_ASSISTANT, NOT_ALTERNATING, WRONG_FORMAT) = (
    "invalid JSON", "not a JSON object", "missing or empty field", "unknown role", "no assistant turn",
    "roles do not alternate", "wrong format")

_FORMAT_LABELS = {"chat": "chat format (a 'messages' list)", "text": "text format (a 'text' field)",
                  "instruction": "instruction format ('instruction' and 'output')"}


class DatasetError(ValueError):
    """The dataset cannot be used; the message names the file and, where there is one, the line."""


@dataclass(frozen=True)
class Example:
    """One usable row: a conversation of (role, content) pairs, or a plain text document."""

    line: int
    messages: tuple[tuple[str, str], ...] = ()
    text: str | None = None
    source: str = field(default="", compare=False)  # the file, for error messages

    def __post_init__(self) -> None:
        if (self.text is None) == (not self.messages):
            raise ValueError("an Example holds either messages or text, not both or neither")

    @property
    def key(self) -> str:
        """A digest of the content alone (not the line) for the split; changing it would move rows of existing runs."""
        payload = self.text if self.text is not None else json.dumps(self.messages)
        return hashlib.sha256(payload.encode()).hexdigest()


@dataclass(frozen=True)
class BadRow:
    line: int
    reason: str  # one of REASONS
    detail: str = ""

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}" + (f" ({self.detail})" if self.detail else "")


@dataclass(frozen=True)
class LoadReport:
    path: str
    format: str
    total_rows: int
    good_rows: int
    bad_by_reason: Mapping[str, int] = field(default_factory=dict)
    bad: tuple[BadRow, ...] = ()  # the first MAX_REPORTED, in file order

    @property
    def bad_rows(self) -> int:
        return sum(self.bad_by_reason.values())


@dataclass(frozen=True)
class EncodeReport:
    examples: int  # encoded and kept
    tokens: int  # in the kept examples
    truncated: int  # longer than max_length (kept or not)
    truncated_away: int  # skipped: no trained token left after truncation
    label_tokens: int = 0  # tokens that carry loss
    truncated_away_lines: tuple[int, ...] = ()  # the first MAX_REPORTED


def _read_text(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except FileNotFoundError as exc:
        raise DatasetError(f"{path}: dataset file does not exist") from exc
    except IsADirectoryError as exc:
        raise DatasetError(f"{path}: is a directory, not a dataset file") from exc
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read the dataset: {exc.strerror or exc}") from exc
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise DatasetError(f"{path}:{line}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc


def _lines(raw: str) -> list[str]:
    # Only "\n" ends a row: str.splitlines() would also split at U+2028 etc., legal inside JSON strings.
    return [line.removesuffix("\r") for line in raw.split("\n")]


def _text_documents(raw: str) -> list[tuple[int, Any]]:
    """A .txt file: documents separated by blank lines, each numbered by its first line."""
    rows: list[tuple[int, Any]] = []
    start, buffer = 0, []
    for number, line in enumerate([*_lines(raw), ""], start=1):
        if line.strip():
            start = start if buffer else number
            buffer.append(line)
        elif buffer:
            rows.append((start, {"text": "\n".join(buffer)}))
            buffer = []
    return rows


def _json_rows(raw: str) -> list[tuple[int, Any]]:
    rows: list[tuple[int, Any]] = []
    for number, line in enumerate(_lines(raw), start=1):
        if not line.strip():
            continue
        try:
            rows.append((number, json.loads(line)))
        except json.JSONDecodeError as exc:
            rows.append((number, BadRow(number, INVALID_JSON, f"{exc.msg} at column {exc.colno}")))
        except (ValueError, RecursionError) as exc:  # huge integers, deep nesting
            rows.append((number, BadRow(number, INVALID_JSON, str(exc)[:100] or type(exc).__name__)))
    return rows


def _detect(row: Any) -> str | None:
    if not isinstance(row, dict):
        return None
    if "messages" in row:
        return "chat"
    if "instruction" in row or "output" in row:
        return "instruction"
    return "text" if "text" in row else None


def _nonempty(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _chat(row: dict, line: int, source: str) -> Example | BadRow:
    messages = row["messages"]
    if not isinstance(messages, list) or not messages:
        return BadRow(line, MISSING_FIELD, "'messages' must be a non-empty list")
    pairs = []
    for number, message in enumerate(messages, start=1):
        if not isinstance(message, dict):
            return BadRow(line, NOT_OBJECT, f"message {number} is a {type(message).__name__}")
        role, content = message.get("role"), message.get("content")
        if not isinstance(role, str) or role not in ROLES:
            return BadRow(line, UNKNOWN_ROLE, f"message {number} has role {role!r}; use system, user or assistant")
        if not _nonempty(content):
            return BadRow(line, MISSING_FIELD, f"message {number} has no 'content' text")
        pairs.append((role, content))
    turns = [role for role, _ in pairs if role != "system"]
    if "assistant" not in turns:
        return BadRow(line, NO_ASSISTANT)
    expected = [("user", "assistant")[i % 2] for i in range(len(turns))]
    if turns != expected or any(role == "system" for role, _ in pairs[1:]):
        return BadRow(line, NOT_ALTERNATING, "an optional first system message, then user/assistant in turn")
    return Example(line, tuple(pairs), source=source)


def _instruction(row: dict, line: int, source: str) -> Example | BadRow:
    instruction, extra, output = row.get("instruction"), row.get("input"), row.get("output")
    for name, value in (("instruction", instruction), ("output", output)):
        if not _nonempty(value):
            return BadRow(line, MISSING_FIELD, f"'{name}' must be a non-empty string")
    if extra is not None and not isinstance(extra, str):
        return BadRow(line, MISSING_FIELD, "'input' must be a string when present")
    user = instruction + (f"\n\n{extra}" if extra and extra.strip() else "")
    return Example(line, (("user", user), ("assistant", output)), source=source)


def _text(row: dict, line: int, source: str) -> Example | BadRow:
    if not _nonempty(row.get("text")):
        return BadRow(line, MISSING_FIELD, "'text' must be a non-empty string")
    return Example(line, text=row["text"], source=source)


_PARSERS = {"chat": _chat, "instruction": _instruction, "text": _text}


def _to_example(row: Any, fmt: str, line: int, source: str) -> Example | BadRow:
    if isinstance(row, BadRow):
        return row
    if not isinstance(row, dict):
        return BadRow(line, NOT_OBJECT, f"a JSON {type(row).__name__}")
    kind = _detect(row)
    if kind is None:
        return BadRow(line, MISSING_FIELD, f"expected {_FORMAT_LABELS[fmt]}; the row has keys {sorted(row)[:8]}")
    if kind != fmt:
        return BadRow(line, WRONG_FORMAT, f"a {kind} row in a {fmt} dataset")
    return _PARSERS[fmt](row, line, source)


def _resolve_format(path: Path, rows: list[tuple[int, Any]], fmt: str) -> str:
    """The format to parse with, from the first row that is a JSON object (other rows are bad anyway)."""
    first = next(((line, row) for line, row in rows if isinstance(row, dict)), None)
    if first is None:
        return fmt if fmt != "auto" else "chat"  # no object at all: every row is bad and reported as such
    line, row = first
    kind = _detect(row)
    if fmt == "auto":
        if kind is None:
            raise DatasetError(f"{path}:{line}: cannot detect the format: the row has keys {sorted(row)[:8]}; expected "
                               "'messages' (chat), 'instruction'/'output' or 'text', or set the format explicitly")
        return kind
    if kind not in (None, fmt):
        raise DatasetError(f"{path}:{line}: expected {_FORMAT_LABELS[fmt]} but the row has keys {sorted(row)[:8]}")
    return fmt


def _first_bad(bad: Sequence[BadRow], n: int = 5) -> str:
    return "; ".join(map(str, bad[:n])) + ("; ..." if len(bad) > n else "")


def load_examples(path: str | Path, fmt: str = "auto",
                  max_bad_fraction: float = 0.1) -> tuple[list[Example], LoadReport]:
    """Read a JSONL dataset (chat, instruction or text rows) or a .txt file of blank-line-separated documents.

    ``fmt`` is "auto" (from the first JSON-object row; rows of another format count as bad) or
    one of "chat", "instruction", "text". Raises DatasetError naming the file (and line).
    """
    path = Path(path)
    if fmt not in ("auto", *FORMATS):
        raise DatasetError(f"{path}: unknown format {fmt!r}; use auto, chat, instruction or text")
    if not 0.0 <= max_bad_fraction <= 1.0:
        raise DatasetError(f"{path}: max_bad_fraction {max_bad_fraction} is not between 0 and 1")
    is_txt = path.suffix.lower() == ".txt"
    if is_txt and fmt not in ("auto", "text"):
        raise DatasetError(f"{path}: a .txt file holds plain text documents; format {fmt!r} needs a JSONL file")
    raw = _read_text(path)
    rows = _text_documents(raw) if is_txt else _json_rows(raw)
    if not rows:
        raise DatasetError(f"{path}: dataset is empty (no non-blank lines)")
    fmt = _resolve_format(path, rows, fmt)
    examples: list[Example] = []
    bad: list[BadRow] = []
    for line, row in rows:
        result = _to_example(row, fmt, line, str(path))
        (examples if isinstance(result, Example) else bad).append(result)
    counts = Counter(b.reason for b in bad)
    report = LoadReport(str(path), fmt, len(rows), len(examples), {r: counts[r] for r in REASONS if counts[r]},
                        tuple(bad[:MAX_REPORTED]))
    if not examples:
        raise DatasetError(f"{path}: no usable rows: all {len(rows)} are bad ({_first_bad(bad)})")
    if len(bad) > max_bad_fraction * len(rows):
        raise DatasetError(f"{path}: {len(bad)} of {len(rows)} rows are bad, more than maxBadRowFraction "
                           f"{max_bad_fraction} ({_first_bad(bad)})")
    return examples, report


def rows_sha256(examples: Sequence[Example]) -> str:
    """sha256 of the rows, in order, each by ``Example.key`` (a digest of its content as the trainer reads
    it: the text, or the role/content pairs). The same rows hash the same from JSONL, a ConfigMap or a
    Hugging Face dataset, and an instruction row the same as the chat row it becomes; line numbers,
    bad rows, key order and JSON formatting do not count."""
    digest = hashlib.sha256()
    for example in examples:
        digest.update(example.key.encode() + b"\n")
    return digest.hexdigest()


def routing_utterances(examples: Sequence[Example], limit: int = 2000, max_chars: int = 600) -> list[str]:
    """What a user of this domain says: the user turns of the chat rows (the first ``max_chars`` of
    each), or the opening of each text document; unique, at most ``limit``. The GGUF build embeds
    them into the router's index, so a domain routes by its own data."""
    out: dict[str, None] = {}
    for e in examples:
        texts = [c for role, c in e.messages if role == "user"] if e.messages else [e.text or ""]
        for t in texts:
            t = " ".join(t.split())[:max_chars]
            if t:
                out.setdefault(t)
        if len(out) >= limit:
            break
    return list(out)[:limit]


def _template_kwargs(tokenizer: Any) -> dict[str, Any]:
    if getattr(tokenizer, "chat_template", None):
        return {}
    from tara_trainer.tiny import CHAT_TEMPLATE

    return {"chat_template": CHAT_TEMPLATE}  # an unset bos_token renders as "", not "None"


def _conversation(messages: Sequence[tuple[str, str]] | Sequence[Mapping[str, str]]) -> list[dict[str, str]]:
    return [dict(m) if isinstance(m, Mapping) else {"role": m[0], "content": m[1]} for m in messages]


def render_messages(messages: Sequence[tuple[str, str]] | Sequence[Mapping[str, str]], tokenizer: Any,
                    add_generation_prompt: bool = False) -> str:
    """The conversation as text, by the tokenizer's chat template (``tiny.CHAT_TEMPLATE`` when it has none)."""
    return tokenizer.apply_chat_template(_conversation(messages), tokenize=False,
                                         add_generation_prompt=add_generation_prompt, **_template_kwargs(tokenizer))


def _chat_ids(messages: Sequence[tuple[str, str]], tokenizer: Any, add_generation_prompt: bool = False) -> list[int]:
    encoded = tokenizer.apply_chat_template(_conversation(messages), tokenize=True, sanitize_control_tokens=True,
                                            add_generation_prompt=add_generation_prompt, **_template_kwargs(tokenizer))
    return list(encoded["input_ids"] if isinstance(encoded, Mapping) else encoded)


def _common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    n = min(len(a), len(b))
    return next((i for i in range(n) if a[i] != b[i]), n)


def _encode_chat(example: Example, tokenizer: Any) -> tuple[list[int], list[int]]:
    from jinja2 import TemplateError

    messages, where = example.messages, f"{example.source or '<examples>'}:{example.line}"
    try:
        ids = _chat_ids(messages, tokenizer)
        labels = [IGNORE] * len(ids)
        for i, (role, _) in enumerate(messages):
            if role != "assistant":
                continue
            # Common-prefix lengths, not len(): a boundary token may merge differently on its own.
            start = _common_prefix(_chat_ids(messages[:i], tokenizer, add_generation_prompt=True), ids)
            end = _common_prefix(_chat_ids(messages[: i + 1], tokenizer), ids)
            labels[start:end] = ids[start:end]
    except TemplateError as exc:  # e.g. a template's raise_exception("System role not supported")
        raise DatasetError(f"{where}: the chat template cannot render this conversation: {exc}") from exc
    if all(label == IGNORE for label in labels):
        raise DatasetError(f"{where}: the chat template renders no assistant tokens for this conversation")
    return ids, labels


def _encode_text(text: str, tokenizer: Any) -> list[int]:
    # The tokenizer's own special tokens (BOS for Llama, none for Qwen); "</s>" in the text stays text.
    ids = list(tokenizer(text, split_special_tokens=True)["input_ids"])
    eos = tokenizer.eos_token_id
    return ids + [eos] if eos is not None and (not ids or ids[-1] != eos) else ids


def _encode_full(example: Example, tokenizer: Any) -> tuple[list[int], list[int]]:
    if example.text is not None:
        ids = _encode_text(example.text, tokenizer)
        return ids, list(ids)
    return _encode_chat(example, tokenizer)


def _row(ids: list[int], labels: list[int]) -> dict[str, list[int]]:
    return {"input_ids": ids, "attention_mask": [1] * len(ids), "labels": labels}


def encode_example(example: Example, tokenizer: Any, max_length: int) -> dict[str, list[int]]:
    """``input_ids``, ``attention_mask`` and ``labels`` (IGNORE outside assistant turns), cut to ``max_length``.

    The result may hold no trained token when truncation cut every assistant turn; ``encode_dataset``
    skips and counts such rows.
    """
    if max_length < 1:
        raise ValueError(f"max_length must be positive, got {max_length}")
    ids, labels = _encode_full(example, tokenizer)
    return _row(ids[:max_length], labels[:max_length])


def encode_dataset(examples: Sequence[Example], tokenizer: Any,
                   max_length: int) -> tuple[list[dict[str, list[int]]], EncodeReport]:
    """Encode every example; skip (and count) those with no trained token left after truncation."""
    if max_length < 1:
        raise ValueError(f"max_length must be positive, got {max_length}")
    rows: list[dict[str, list[int]]] = []
    tokens = label_tokens = truncated = 0
    away: list[int] = []
    for example in examples:
        ids, labels = _encode_full(example, tokenizer)
        if len(ids) > max_length:
            truncated += 1
            ids, labels = ids[:max_length], labels[:max_length]
        trained = sum(label != IGNORE for label in labels)
        if not trained:
            away.append(example.line)
            continue
        rows.append(_row(ids, labels))
        tokens += len(ids)
        label_tokens += trained
    return rows, EncodeReport(len(rows), tokens, truncated, len(away), label_tokens, tuple(away[:MAX_REPORTED]))


class CausalLMCollator:
    """Pads a batch to its longest row (labels with IGNORE, attention 0); returns torch tensors.

    ``tokens_seen`` counts the real (non-pad) tokens of every batch produced so far.
    """

    def __init__(self, pad_token_id: int) -> None:
        if pad_token_id is None:
            raise ValueError("pad_token_id is None: give the tokenizer a pad token (e.g. its EOS) first")
        self.pad_token_id = int(pad_token_id)
        self.tokens_seen = 0

    def __call__(self, rows: Sequence[Mapping[str, Sequence[int]]]) -> dict[str, Any]:
        import torch

        if not rows:
            raise ValueError("cannot collate an empty batch")
        width = max(len(row["input_ids"]) for row in rows)
        ids, mask, labels = [], [], []
        for row in rows:
            n, pad = len(row["input_ids"]), width - len(row["input_ids"])
            ids.append([*row["input_ids"], *[self.pad_token_id] * pad])
            mask.append([1] * n + [0] * pad)
            labels.append([*row["labels"], *[IGNORE] * pad])
            self.tokens_seen += n
        return {name: torch.tensor(value, dtype=torch.long)
                for name, value in (("input_ids", ids), ("attention_mask", mask), ("labels", labels))}
