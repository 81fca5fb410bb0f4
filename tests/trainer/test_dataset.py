"""The dataset layer: formats, bad-row accounting, errors, assistant-only labels, collation (the split: test_split.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tara_trainer.dataset import (
    IGNORE,
    REASONS,
    CausalLMCollator,
    DatasetError,
    Example,
    encode_dataset,
    encode_example,
    load_examples,
    render_messages,
)
from tara_trainer.split import split_eval
from tara_trainer.tiny import CHAT_TEMPLATE, load_tokenizer

DATA = Path(__file__).resolve().parents[2] / "trainer_image" / "tara_trainer" / "data"
DOMAINS = ["healthcare", "business", "education", "creative", "leadership"]


def _chat(*contents: str, system: str | None = None) -> dict:
    roles = ["user", "assistant"] * len(contents)
    messages = [{"role": "system", "content": system}] if system else []
    return {"messages": messages + [{"role": r, "content": c} for r, c in zip(roles, contents, strict=False)]}


CHAT = _chat("Hi there", "Hello, how can I help?", system="Be kind.")
INSTRUCTION = {"instruction": "Summarise", "input": "Cash is king.", "output": "Cash matters most."}
TEXT = {"text": "Plain text about sleep and water."}


def _write(tmp_path: Path, rows: list, name: str = "data.jsonl") -> Path:
    path = tmp_path / name
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows), encoding="utf-8")
    return path


# --- formats -----------------------------------------------------------------------------------

CHAT_PAIRS = (("system", "Be kind."), ("user", "Hi there"), ("assistant", "Hello, how can I help?"))
FORMATS = [
    ("chat-auto", CHAT, "auto", "chat", CHAT_PAIRS),
    ("chat-forced", CHAT, "chat", "chat", CHAT_PAIRS),
    ("instruction-auto", INSTRUCTION, "auto", "instruction",
     (("user", "Summarise\n\nCash is king."), ("assistant", "Cash matters most."))),
    ("instruction-no-input", {"instruction": "Say hi", "output": "Hi"}, "instruction", "instruction",
     (("user", "Say hi"), ("assistant", "Hi"))),
    ("instruction-blank-input", {"instruction": "Say hi", "input": " ", "output": "Hi"}, "auto", "instruction",
     (("user", "Say hi"), ("assistant", "Hi"))),
    ("text-auto", TEXT, "auto", "text", None),
    ("text-forced", TEXT, "text", "text", None),
]


@pytest.mark.parametrize(("row", "fmt", "detected", "messages"), [f[1:] for f in FORMATS], ids=[f[0] for f in FORMATS])
def test_each_format_is_parsed(tmp_path: Path, row: dict, fmt: str, detected: str, messages: tuple | None) -> None:
    examples, report = load_examples(_write(tmp_path, [row, "", row, row]), fmt)
    assert report.format == detected and (report.total_rows, report.good_rows, report.bad_rows) == (3, 3, 0)
    assert [e.line for e in examples] == [1, 3, 4] and all(e.source == report.path for e in examples)
    if messages is None:
        assert examples[0].text == row["text"] and examples[0].messages == ()
    else:
        assert examples[0].messages == messages and examples[0].text is None


def test_txt_documents_are_split_on_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("first line\nsecond line\n\n \nthird doc\r\n\n\nfourth\n")
    examples, report = load_examples(path)
    assert report.format == "text" and [e.text for e in examples] == ["first line\nsecond line", "third doc", "fourth"]
    assert [e.line for e in examples] == [1, 5, 8]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ('{"text": "a\u2028b"}\n', ["a\u2028b"]),  # U+2028 is legal inside a JSON string: still one row
        ('\ufeff{"text": "bom"}\r\n{"text": "crlf"}\r\n', ["bom", "crlf"]),
    ],
    ids=["line-separator-in-string", "bom-and-crlf"],
)
def test_only_newline_ends_a_row(tmp_path: Path, raw: str, expected: list[str]) -> None:
    path = tmp_path / "data.jsonl"
    path.write_text(raw, encoding="utf-8", newline="")
    assert [e.text for e in load_examples(path)[0]] == expected


def test_auto_detects_from_the_first_object_row_and_counts_other_formats(tmp_path: Path) -> None:
    rows = ["{oops", "[1]", INSTRUCTION, *[INSTRUCTION] * 7, CHAT, TEXT, *[INSTRUCTION] * 8]
    examples, report = load_examples(_write(tmp_path, rows), "auto", max_bad_fraction=0.2)
    assert report.format == "instruction" and len(examples) == 16
    assert report.bad_by_reason == {"invalid JSON": 1, "not a JSON object": 1, "wrong format": 2}
    assert [(b.line, b.reason) for b in report.bad] == [(1, "invalid JSON"), (2, "not a JSON object"),
                                                         (11, "wrong format"), (12, "wrong format")]
    assert str(report.bad[2]) == "line 11: wrong format (a chat row in a instruction dataset)"


# --- bad rows ----------------------------------------------------------------------------------

def _msgs(*pairs: tuple[Any, Any]) -> str:
    return json.dumps({"messages": [{"role": r, "content": c} for r, c in pairs]})


BAD_ROWS = [
    ("invalid-json", "chat", "{not json", "invalid JSON"),
    ("truncated-json", "chat", '{"messages": [', "invalid JSON"),
    ("array", "chat", "[1, 2]", "not a JSON object"),
    ("string", "chat", '"hello"', "not a JSON object"),
    ("message-not-object", "chat", json.dumps({"messages": ["hi", "there"]}), "not a JSON object"),
    ("empty-messages", "chat", json.dumps({"messages": []}), "missing or empty field"),
    ("messages-not-list", "chat", json.dumps({"messages": "hi"}), "missing or empty field"),
    ("blank-content", "chat", _msgs(("user", " "), ("assistant", "y")), "missing or empty field"),
    ("non-string-content", "chat", _msgs(("user", "x"), ("assistant", 5)), "missing or empty field"),
    ("no-known-keys", "chat", json.dumps({"prompt": "x", "completion": "y"}), "missing or empty field"),
    ("unknown-role", "chat", _msgs(("bot", "x"), ("assistant", "y")), "unknown role"),
    ("missing-role", "chat", json.dumps({"messages": [{"content": "x"}, {"role": "assistant", "content": "y"}]}),
     "unknown role"),
    ("no-assistant", "chat", _msgs(("user", "only a question")), "no assistant turn"),
    ("system-only", "chat", _msgs(("system", "rules")), "no assistant turn"),
    ("two-users", "chat", _msgs(("user", "a"), ("user", "b"), ("assistant", "c")), "roles do not alternate"),
    ("assistant-first", "chat", _msgs(("assistant", "a"), ("user", "b"), ("assistant", "c")), "roles do not alternate"),
    ("late-system", "chat", _msgs(("user", "a"), ("system", "b"), ("assistant", "c")), "roles do not alternate"),
    ("text-in-chat", "chat", json.dumps(TEXT), "wrong format"),
    ("no-output", "instruction", json.dumps({"instruction": "x", "output": ""}), "missing or empty field"),
    ("input-not-string", "instruction", json.dumps({**INSTRUCTION, "input": 3}), "missing or empty field"),
    ("chat-in-instruction", "instruction", json.dumps(CHAT), "wrong format"),
    ("empty-text", "text", json.dumps({"text": "  "}), "missing or empty field"),
    ("instruction-in-text", "text", json.dumps(INSTRUCTION), "wrong format"),
]
GOOD = {"chat": CHAT, "instruction": INSTRUCTION, "text": TEXT}


@pytest.mark.parametrize(("fmt", "bad", "reason"), [b[1:] for b in BAD_ROWS], ids=[b[0] for b in BAD_ROWS])
@pytest.mark.parametrize("mode", ["forced", "auto"])
def test_each_bad_row_is_counted_with_its_line(tmp_path: Path, fmt: str, bad: str, reason: str, mode: str) -> None:
    rows = [GOOD[fmt]] * 5 + [bad] + [GOOD[fmt]] * 14
    examples, report = load_examples(_write(tmp_path, rows), fmt if mode == "forced" else "auto")
    assert reason in REASONS and report.format == fmt
    assert len(examples) == 19 and report.bad_by_reason == {reason: 1} and report.bad_rows == 1
    assert (report.bad[0].line, report.bad[0].reason) == (6, reason)
    assert str(report.bad[0]).startswith(f"line 6: {reason}")


def test_the_report_keeps_the_first_20_bad_rows(tmp_path: Path) -> None:
    rows = [CHAT, *["{bad"] * 30, *[CHAT] * 9]
    _, report = load_examples(_write(tmp_path, rows), max_bad_fraction=1.0)
    assert report.bad_by_reason == {"invalid JSON": 30} and [b.line for b in report.bad] == list(range(2, 22))


# --- unusable datasets -------------------------------------------------------------------------

UNUSABLE = [
    ("empty", [], "auto", "data.jsonl: dataset is empty"),
    ("blank-lines-only", ["", "  "], "auto", "data.jsonl: dataset is empty"),
    ("undetectable", [{"prompt": "x"}], "auto", "data.jsonl:1: cannot detect the format: the row has keys ['prompt']"),
    ("forced-wrong-format", ["", TEXT, TEXT], "chat",
     "data.jsonl:2: expected chat format (a 'messages' list) but the row has keys ['text']"),
    ("forced-instruction-on-chat", [CHAT], "instruction",
     "data.jsonl:1: expected instruction format ('instruction' and 'output') but the row has keys ['messages']"),
    ("too-many-bad", [CHAT, "{bad", "[1]", CHAT], "chat",
     "data.jsonl: 2 of 4 rows are bad, more than maxBadRowFraction 0.1 (line 2: invalid JSON"),
    ("no-usable-rows", [_msgs(("user", "q")), "{x"], "chat",
     "data.jsonl: no usable rows: all 2 are bad (line 1: no assistant turn"),
    ("all-invalid-json", ["{x", "{y"], "auto", "data.jsonl: no usable rows: all 2 are bad (line 1: invalid JSON"),
    ("unknown-format", [CHAT], "sharegpt", "data.jsonl: unknown format 'sharegpt'"),
]


@pytest.mark.parametrize(("rows", "fmt", "message"), [u[1:] for u in UNUSABLE], ids=[u[0] for u in UNUSABLE])
def test_unusable_datasets_name_file_and_line(tmp_path: Path, rows: list, fmt: str, message: str) -> None:
    path = _write(tmp_path, rows)
    with pytest.raises(DatasetError) as error:
        load_examples(path, fmt)
    assert str(error.value).startswith(str(path)) and message in str(error.value), str(error.value)


def test_too_many_bad_rows_lists_the_first_lines(tmp_path: Path) -> None:
    path = _write(tmp_path, [CHAT, *["{bad"] * 8, CHAT])
    with pytest.raises(DatasetError, match=r"8 of 10 rows are bad") as error:
        load_examples(path, max_bad_fraction=0.5)
    message = str(error.value)
    assert "(line 2: invalid JSON (Expecting property name enclosed in double quotes at column 2); line 3" in message
    assert "line 6: invalid JSON" in message and "line 7" not in message and message.endswith("; ...)")
    assert load_examples(path, max_bad_fraction=0.8)[1].bad_rows == 8  # exactly at the limit is allowed


@pytest.mark.parametrize(
    ("setup", "fmt", "message"),
    [
        (lambda p: p / "nope.jsonl", "auto", "nope.jsonl: dataset file does not exist"),
        (lambda p: p, "auto", ": is a directory"),
        (lambda p: (p / "x.jsonl").write_bytes(b'{"text": "ok"}\n{"text": "\xff"}\n') and p / "x.jsonl", "auto",
         "x.jsonl:2: not UTF-8 text"),
        (lambda p: (p / "x.txt").write_text("doc") and p / "x.txt", "chat", "x.txt: a .txt file holds plain text"),
    ],
    ids=["missing", "directory", "not-utf8", "txt-forced-chat"],
)
def test_unreadable_files_name_the_path(tmp_path: Path, setup: Any, fmt: str, message: str) -> None:
    path = setup(tmp_path)
    with pytest.raises(DatasetError) as error:
        load_examples(path, fmt)
    assert str(error.value).startswith(str(path)) and message in str(error.value), str(error.value)


@pytest.mark.parametrize("domain", DOMAINS)
def test_bundled_datasets_load_cleanly(domain: str) -> None:
    path = DATA / f"{domain}.jsonl"
    examples, report = load_examples(path, "auto", max_bad_fraction=0.0)
    assert report.format == "chat" and report.bad_by_reason == {} and len(examples) == report.total_rows >= 100
    train, held = split_eval(examples, 0.1, seed=0)
    assert train and held and len(train) + len(held) == len(examples)


# --- encoding with the tiny tokenizer ----------------------------------------------------------

@pytest.fixture
def tokenizer(tiny_model_dir: Path) -> Any:
    return load_tokenizer(tiny_model_dir)  # fresh: some tests change its template or vocabulary


def _spans(row: dict[str, list[int]]) -> list[list[int]]:
    """The runs of labelled tokens; each label must equal its input id."""
    spans: list[list[int]] = []
    previous = IGNORE
    for token, label in zip(row["input_ids"], row["labels"], strict=True):
        assert label in (IGNORE, token)
        if label != IGNORE:
            if previous == IGNORE:
                spans.append([])
            spans[-1].append(token)
        previous = label
    return spans


def _masked(row: dict[str, list[int]], tokenizer: Any) -> str:
    return tokenizer.decode([t for t, label in zip(row["input_ids"], row["labels"], strict=True) if label == IGNORE])


CONVERSATIONS = [
    ("single-turn", (("user", "How do I sleep better?"), ("assistant", "Keep a schedule.")), ["Keep a schedule."]),
    ("system", (("system", "Be brief."), ("user", "How do I sleep better?"), ("assistant", "Keep a schedule.")),
     ["Keep a schedule."]),
    ("multi-turn", (("system", "Be brief."), ("user", "How do I sleep better?"), ("assistant", "Keep a schedule."),
                    ("user", "And caffeine?"), ("assistant", "Stop after noon.")), ["Keep a schedule.", "Stop after noon."]),
    ("trailing-user", (("user", "Hi"), ("assistant", "Hello."), ("user", "Bye")), ["Hello."]),
    ("control-tokens-in-text", (("user", "What do <s> and </s> mean?"), ("assistant", "</s> ends a turn.")),
     ["</s> ends a turn."]),
]


@pytest.mark.parametrize(("messages", "answers"), [c[1:] for c in CONVERSATIONS], ids=[c[0] for c in CONVERSATIONS])
def test_only_assistant_tokens_are_labelled(tokenizer: Any, messages: tuple, answers: list[str]) -> None:
    row = encode_example(Example(1, messages), tokenizer, 512)
    ids = row["input_ids"]
    assert row["attention_mask"] == [1] * len(ids) and len(row["labels"]) == len(ids)
    assert ids[0] == tokenizer.bos_token_id and ids.count(tokenizer.bos_token_id) == 1  # the template's BOS only
    assert ids.count(tokenizer.eos_token_id) == len(answers)  # "</s>" written in a message stays text
    assert [tokenizer.decode(span) for span in _spans(row)] == [a + "</s>" for a in answers]
    masked = _masked(row, tokenizer)
    for role, content in messages:
        assert (content in masked) == (role != "assistant"), (role, content, masked)
    assert tokenizer.decode(ids) == render_messages(messages, tokenizer)


QWEN = (
    "{%- if messages[0]['role'] == 'system' %}{{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}"
    "{%- else %}{{- '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}{%- endif %}"
    "{%- for message in messages %}{%- if message['role'] != 'system' %}"
    "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}{%- endif %}{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)
LLAMA3 = (
    "{{- bos_token }}{%- for message in messages %}"
    "{{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' + message['content'] | trim + '<|eot_id|>' }}"
    "{%- endfor %}{%- if add_generation_prompt %}{{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{%- endif %}"
)
TEMPLATES = [
    ("qwen-chatml", QWEN, ["<|im_start|>", "<|im_end|>"], "{}<|im_end|>\n", "<|im_start|>system\nYou are a helpful", 10),
    ("llama3", LLAMA3, ["<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"], "{}<|eot_id|>",
     "<s><|start_header_id|>user", 12),
    ("no-template", None, [], "{}</s>", "<s>### User:\n", 0),
]


@pytest.mark.parametrize(("template", "specials", "span", "start", "written"), [t[1:] for t in TEMPLATES],
                         ids=[t[0] for t in TEMPLATES])
def test_real_model_templates_without_generation_tags(tokenizer: Any, template: str | None, specials: list[str],
                                                      span: str, start: str, written: int) -> None:
    tokenizer.add_special_tokens({"additional_special_tokens": specials})
    tokenizer.chat_template = template  # None: falls back to tiny.CHAT_TEMPLATE
    messages = (("user", "Name a colour."), ("assistant", "Blue."), ("user", "Another, <|im_end|><|eot_id|>?"),
                ("assistant", "Green."))
    row = encode_example(Example(1, messages), tokenizer, 512)
    assert [tokenizer.decode(s) for s in _spans(row)] == [span.format("Blue."), span.format("Green.")]
    assert tokenizer.decode(row["input_ids"]).startswith(start)
    assert "<|im_end|><|eot_id|>?" in _masked(row, tokenizer)  # control tokens in user text: masked, encoded as text
    control = set(tokenizer.convert_tokens_to_ids(specials))
    assert sum(t in control for t in row["input_ids"]) == written  # only the template's own control tokens


def test_a_generation_prompt_that_is_not_a_token_prefix_falls_back_to_the_common_prefix(tokenizer: Any) -> None:
    # As when a prompt ends in a space the answer's first token absorbs: here "### Assist" is one piece
    # short of "### Assistant", so the labels start at the first token where the two tokenizations differ.
    tokenizer.chat_template = CHAT_TEMPLATE.replace("{{ '### Assistant:\n' }}{% endif %}", "{{ '### Assist' }}{% endif %}")
    messages = (("user", "Hi"), ("assistant", "Hello."), ("user", "Bye"), ("assistant", "Bye."))
    prompt = tokenizer.apply_chat_template([{"role": "user", "content": "Hi"}], add_generation_prompt=True)["input_ids"]
    row = encode_example(Example(1, messages), tokenizer, 512)
    assert row["input_ids"][: len(prompt)] != prompt
    assert [tokenizer.decode(s) for s in _spans(row)] == [" Assistant:\nHello.</s>", " Assistant:\nBye.</s>"]


def test_a_tokenizer_without_bos_or_template_renders_the_fallback_cleanly(tokenizer: Any) -> None:
    tokenizer.chat_template = None
    tokenizer.bos_token = None
    messages = (("user", "hi"), ("assistant", "yo"))
    assert render_messages(messages, tokenizer) == "### User:\nhi\n\n### Assistant:\nyo</s>"
    assert render_messages(messages[:1], tokenizer, add_generation_prompt=True) == "### User:\nhi\n\n### Assistant:\n"
    assert [tokenizer.decode(s) for s in _spans(encode_example(Example(1, messages), tokenizer, 64))] == ["yo</s>"]


def test_a_template_that_refuses_a_conversation_names_the_line(tokenizer: Any) -> None:
    tokenizer.chat_template = ("{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}"
                               "{% endif %}x")
    example = Example(7, (("system", "s"), ("user", "u"), ("assistant", "a")), source="data.jsonl")
    with pytest.raises(DatasetError, match=r"^data\.jsonl:7: the chat template cannot render .*System role not supported"):
        encode_example(example, tokenizer, 64)


def test_text_rows_train_on_every_token(tokenizer: Any) -> None:
    row = encode_example(Example(1, text="Plain text about </s> and sleep."), tokenizer, 64)
    ids = row["input_ids"]
    assert row["labels"] == ids and ids[0] == tokenizer.bos_token_id and ids[-1] == tokenizer.eos_token_id
    assert ids.count(tokenizer.eos_token_id) == 1 and tokenizer.decode(ids) == "<s>Plain text about </s> and sleep.</s>"


def test_truncation_keeps_the_beginning_and_counts_what_it_drops(tokenizer: Any) -> None:
    long_user = Example(1, (("user", "word " * 200), ("assistant", "short answer")))
    long_answer = Example(2, (("user", "hi"), ("assistant", "many words " * 100)))
    fits = Example(3, (("user", "hi"), ("assistant", "hello")))
    text = Example(4, text="text " * 100)
    rows, report = encode_dataset([long_user, long_answer, fits, text], tokenizer, max_length=32)
    assert (report.examples, report.truncated, report.truncated_away) == (3, 3, 1)
    assert report.truncated_away_lines == (1,) and report.tokens == sum(len(r["input_ids"]) for r in rows)
    assert report.label_tokens == sum(label != IGNORE for r in rows for label in r["labels"])
    full = encode_example(long_answer, tokenizer, 10_000)
    assert rows[0] == {key: value[:32] for key, value in full.items()}
    assert all(len(r["input_ids"]) <= 32 for r in rows) and rows[1] == encode_example(fits, tokenizer, 32)
    assert all(label == IGNORE for label in encode_example(long_user, tokenizer, 32)["labels"])


# --- collation ---------------------------------------------------------------------------------

def test_collator_pads_to_the_longest_row_and_counts_real_tokens() -> None:
    collate = CausalLMCollator(pad_token_id=3)
    batch = collate([{"input_ids": [1, 5, 6], "labels": [IGNORE, 5, 6], "attention_mask": [1, 1, 1]},
                     {"input_ids": [1, 7], "labels": [IGNORE, 7], "attention_mask": [1, 1]}])
    assert batch["input_ids"].tolist() == [[1, 5, 6], [1, 7, 3]]
    assert batch["labels"].tolist() == [[IGNORE, 5, 6], [IGNORE, 7, IGNORE]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1], [1, 1, 0]]
    assert {str(t.dtype) for t in batch.values()} == {"torch.int64"} and collate.tokens_seen == 5
    collate([{"input_ids": [9], "labels": [9], "attention_mask": [1]}])
    assert collate.tokens_seen == 6


def test_collator_with_encoded_rows(tokenizer: Any) -> None:
    examples = [Example(1, (("user", "hi"), ("assistant", "hello"))), Example(2, text="longer text " * 5)]
    rows, report = encode_dataset(examples, tokenizer, 128)
    collate = CausalLMCollator(tokenizer.pad_token_id)
    batch = collate(rows)
    assert batch["input_ids"].shape == (2, max(len(r["input_ids"]) for r in rows))
    assert collate.tokens_seen == report.tokens == int(batch["attention_mask"].sum())
