"""The dataset layer: formats, bad-row accounting, deterministic split, assistant-only labels."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from tara_trainer.dataset import (
    IGNORE,
    CausalLMCollator,
    DatasetError,
    Example,
    encode_dataset,
    encode_example,
    load_examples,
    split_eval,
)
from tara_trainer.tiny import load_tokenizer

CHAT = {"messages": [{"role": "user", "content": "Hi there"}, {"role": "assistant", "content": "Hello, how can I help?"}]}
INSTRUCTION = {"instruction": "Summarise", "input": "Cash is king.", "output": "Cash matters most."}
TEXT = {"text": "Plain text about sleep and water."}


def _write(tmp_path: Path, rows: list, name: str = "data.jsonl") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n")
    return path


@pytest.mark.parametrize(
    ("row", "fmt", "expected"),
    [
        (CHAT, "auto", "chat"),
        (INSTRUCTION, "auto", "instruction"),
        (TEXT, "auto", "text"),
        (CHAT, "chat", "chat"),
        (INSTRUCTION, "instruction", "instruction"),
    ],
)
def test_formats(tmp_path: Path, row: dict, fmt: str, expected: str) -> None:
    examples, report = load_examples(_write(tmp_path, [row] * 3), fmt)
    assert report.format == expected and len(examples) == 3


def test_instruction_becomes_a_conversation(tmp_path: Path) -> None:
    (example,), _ = load_examples(_write(tmp_path, [INSTRUCTION]))
    assert example.messages == (("user", "Summarise\n\nCash is king."), ("assistant", "Cash matters most."))


def test_txt_documents_are_split_on_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("first line\nsecond line\n\n\nthird doc\n")
    examples, report = load_examples(path)
    assert [e.text for e in examples] == ["first line\nsecond line", "third doc"] and [e.line for e in examples] == [1, 5]


BAD_ROWS = [
    ("{not json", "invalid JSON"),
    ("[1, 2]", "not a JSON object"),
    (json.dumps({"messages": []}), "missing or empty 'messages'"),
    (json.dumps({"messages": [{"role": "bot", "content": "x"}, {"role": "assistant", "content": "y"}]}), "unknown role"),
    (json.dumps({"messages": [{"role": "user", "content": " "}, {"role": "assistant", "content": "y"}]}), "empty message content"),
    (json.dumps({"messages": [{"role": "user", "content": "only a question"}]}), "no assistant turn"),
    (json.dumps({"messages": [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}, {"role": "assistant", "content": "c"}]}),
     "roles do not alternate"),
    (json.dumps(TEXT), "wrong format"),
]


@pytest.mark.parametrize(("bad", "reason"), BAD_ROWS, ids=[r for _, r in BAD_ROWS])
def test_each_bad_row_is_counted_with_its_line(tmp_path: Path, bad: str, reason: str) -> None:
    rows = [CHAT] * 5 + [bad] + [CHAT] * 14
    examples, report = load_examples(_write(tmp_path, rows), "chat", max_bad_fraction=0.1)
    assert len(examples) == 19 and report.bad_by_reason == {reason: 1}
    assert report.bad[0].line == 6 and report.bad[0].reason.startswith(reason)


@pytest.mark.parametrize(
    ("rows", "fmt", "message"),
    [
        ([], "auto", "data.jsonl: dataset is empty"),
        (["{bad", "{worse"], "auto", "cannot detect the format"),
        ([TEXT, TEXT], "chat", "data.jsonl:1: expected chat format (a 'messages' list) but the row has keys ['text']"),
        ([CHAT, "{bad", "{bad", CHAT], "chat", "2 of 4 rows are bad, more than maxBadRowFraction 0.1 (line 2: invalid JSON; line 3"),
        ([json.dumps({"messages": [{"role": "user", "content": "q"}]})], "chat", "no usable rows"),
    ],
    ids=["empty", "undetectable", "forced-wrong-format", "too-many-bad", "no-usable"],
)
def test_unusable_datasets_name_file_and_line(tmp_path: Path, rows: list, fmt: str, message: str) -> None:
    path = tmp_path / "data.jsonl"
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows))
    with pytest.raises(DatasetError) as error:
        load_examples(path, fmt)
    assert message in str(error.value) and str(path) in str(error.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="does not exist"):
        load_examples(tmp_path / "nope.jsonl")


def _examples(n: int) -> list[Example]:
    return [Example(i + 1, (("user", f"question {i}"), ("assistant", f"answer {i}"))) for i in range(n)]


def test_split_is_deterministic_order_independent_and_stable_under_appends() -> None:
    examples = _examples(1000)
    train, held = split_eval(examples, 0.1, seed=42)
    assert 70 <= len(held) <= 130 and len(train) + len(held) == 1000
    shuffled = examples[:]
    random.Random(1).shuffle(shuffled)
    assert {e.key for e in split_eval(shuffled, 0.1, 42)[1]} == {e.key for e in held}
    more = examples + _examples(1200)[1000:]
    assert {e.key for e in held} <= {e.key for e in split_eval(more, 0.1, 42)[1]}
    assert {e.key for e in split_eval(examples, 0.1, seed=7)[1]} != {e.key for e in held}


@pytest.mark.parametrize(("n", "fraction"), [(2, 0.1), (3, 0.01), (5, 0.5)])
def test_split_keeps_at_least_one_on_each_side(n: int, fraction: float) -> None:
    train, held = split_eval(_examples(n), fraction, seed=0)
    assert train and held


def test_assistant_only_labels(tiny_model_dir: Path) -> None:
    tokenizer = load_tokenizer(tiny_model_dir)
    example = Example(1, (("system", "Be brief."), ("user", "How do I sleep better?"), ("assistant", "Keep a schedule."),
                          ("user", "And caffeine?"), ("assistant", "Stop after noon.")))
    row = encode_example(example, tokenizer, 512)
    ids, labels = row["input_ids"], row["labels"]
    assert ids[0] == tokenizer.bos_token_id and ids.count(tokenizer.bos_token_id) == 1
    spans, current = [], []
    for token, label in zip(ids, labels, strict=True):
        if label != IGNORE:
            assert label == token
            current.append(token)
        elif current:
            spans.append(current)
            current = []
    if current:
        spans.append(current)
    decoded = [tokenizer.decode(span) for span in spans]
    assert decoded == ["Keep a schedule.</s>", "Stop after noon.</s>"], decoded
    masked = tokenizer.decode([t for t, label in zip(ids, labels, strict=True) if label == IGNORE])
    assert "How do I sleep better?" in masked and "Be brief." in masked and "Keep a schedule" not in masked


def test_truncation_and_truncated_away(tiny_model_dir: Path) -> None:
    tokenizer = load_tokenizer(tiny_model_dir)
    long_user = Example(1, (("user", "word " * 200), ("assistant", "short answer")))
    fits = Example(2, (("user", "hi"), ("assistant", "hello")))
    rows, report = encode_dataset([long_user, fits], tokenizer, max_length=32)
    assert report.truncated == 1 and report.truncated_away == 1 and report.examples == 1
    assert len(rows) == 1 and len(rows[0]["input_ids"]) <= 32


def test_text_rows_train_on_every_token(tiny_model_dir: Path) -> None:
    tokenizer = load_tokenizer(tiny_model_dir)
    row = encode_example(Example(1, text="Plain text about sleep."), tokenizer, 64)
    assert row["labels"] == row["input_ids"] and row["input_ids"][-1] == tokenizer.eos_token_id


def test_collator_pads_and_counts() -> None:
    collate = CausalLMCollator(pad_token_id=3)
    batch = collate([{"input_ids": [1, 5, 6], "labels": [IGNORE, 5, 6], "attention_mask": [1, 1, 1]},
                     {"input_ids": [1, 7], "labels": [IGNORE, 7], "attention_mask": [1, 1]}])
    assert batch["input_ids"].tolist() == [[1, 5, 6], [1, 7, 3]]
    assert batch["labels"].tolist() == [[IGNORE, 5, 6], [IGNORE, 7, IGNORE]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1], [1, 1, 0]]
    assert collate.tokens_seen == 5
