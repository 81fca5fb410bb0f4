"""``tara_api.safeyaml``: what a spec file may hold, and the one line for what it may not.

Tables of cases: YAML that loads (and the JSON data it loads as), YAML that is refused (and the
message), the limits at their boundary, and the same refusals from PyYAML's pure-Python parser,
which the loader falls back to without libyaml. Hostile files through ``tara validate`` are in
``tests/cli/test_validate_hostile.py``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tara_api import safeyaml
from tara_api.safeyaml import (
    MAX_DEPTH,
    MAX_FILE_BYTES,
    MAX_NODES,
    SpecFileError,
    load_spec_documents,
    load_spec_file,
    load_spec_text,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("", [], id="empty"),
        pytest.param("a: 1\n---\n---\nb: [x]\n", [{"a": 1}, None, {"b": ["x"]}], id="empty-document-kept-as-none"),
        pytest.param("\ufeffa: 1\n", [{"a": 1}], id="byte-order-mark"),
        pytest.param("a: 2024-01-01\nb: 2024-01-01T10:00:00Z\n", [{"a": "2024-01-01", "b": "2024-01-01T10:00:00Z"}],
                     id="dates-stay-strings"),
        pytest.param("2024-01-01: x\n", [{"2024-01-01": "x"}], id="date-key"),
        pytest.param("a: =\nb: <<\n", [{"a": "=", "b": "<<"}], id="value-and-merge-scalars"),
        pytest.param("a: !!str 12\nb: !!int '7'\nc: !!float 1\nd: !!bool 'true'\ne: !!null ''\n",
                     [{"a": "12", "b": 7, "c": 1.0, "d": True, "e": None}], id="core-tags"),
        pytest.param("a: !!map {x: !!seq [1]}\n", [{"a": {"x": [1]}}], id="collection-tags"),
        pytest.param("base: &b {x: 1, y: 2}\nmore: {<<: *b, y: 3}\n", [{"base": {"x": 1, "y": 2}, "more": {"x": 1, "y": 3}}],
                     id="merge-key"),
        pytest.param("a: &a [1, 2]\nb: *a\n", [{"a": [1, 2], "b": [1, 2]}], id="alias"),
        pytest.param('a: "x\\u0000y"\n', [{"a": "x\x00y"}], id="escaped-nul-in-a-string"),
    ],
)
def test_loads_as_json_data(text: str, expected: list[Any]) -> None:
    assert load_spec_text(text, "f.yaml") == expected


REFUSED = [
    pytest.param("a: !!binary aGk=\n", r"invalid YAML: line 1, column 4: tag !!binary is not supported; remove it",
                 id="binary"),
    pytest.param("a: !!timestamp 2024-01-01\n", "tag !!timestamp is not supported", id="explicit-timestamp"),
    pytest.param("a: !!set {x}\n", "tag !!set is not supported", id="set"),
    pytest.param("a: !!omap [{x: 1}]\n", "tag !!omap is not supported", id="omap"),
    pytest.param("!!python/name:os.system\n", "line 1, column 1: tag !!python/name:os.system is not supported",
                 id="python-name"),
    pytest.param("a: !vault x\n", "tag !vault is not supported", id="custom-tag"),
    pytest.param("a: !<tag:example.com,2024:x> y\n", "tag tag:example.com,2024:x is not supported", id="verbatim-tag"),
    pytest.param("a: !!int abc\n", r"line 1, column 4: 'abc' is not a valid int$", id="bad-int"),
    pytest.param("a: !!bool maybe\n", "'maybe' is not a valid bool", id="bad-bool"),
    pytest.param("a: !!float x\n", "'x' is not a valid float", id="bad-float"),
    pytest.param("a: " + "9" * 5000 + "\n", r"'9{36}\.\.\. is not a valid int", id="int-of-5000-digits"),
    pytest.param("a:\n  1: x\n", r"line 2, column 3: mapping key '1' is not a string \(!!int\); quote it", id="int-key"),
    pytest.param("on: push\n", r"mapping key 'on' is not a string \(!!bool\)", id="bool-key"),
    pytest.param("~: x\n", r"mapping key '~' is not a string \(!!null\)", id="null-key"),
    pytest.param("? [a]\n: x\n", r"mapping key a sequence is not a string \(!!seq\)", id="sequence-key"),
    pytest.param("a: &a [*a]\n", "line 1, column 8: alias \\*a refers to the block that contains it", id="self-alias"),
    pytest.param("a: &a {<<: *a}\n", "alias \\*a refers to the block that contains it", id="self-merge"),
    pytest.param("a: *nope\n", "line 1, column 4: found undefined alias 'nope'", id="undefined-alias"),
    pytest.param("a: &a 1\nb: &a 2\n", r"line 2, column 4: second occurrence \(found duplicate anchor 'a'; first "
                 r"occurrence at line 1, column 4\)", id="duplicate-anchor"),
    pytest.param("a: b\x00c\n", r"line 1, column 5: character U\+0000 is not allowed; remove it", id="nul-character"),
    pytest.param("a: \ud800\n", r"not UTF-8: line 1, column 4: character U\+D800 cannot be encoded", id="lone-surrogate"),
    pytest.param("a: [" * (MAX_DEPTH + 1), f"nested deeper than {MAX_DEPTH} levels", id="deep-flow"),
    pytest.param("".join("  " * i + "- \n" for i in range(MAX_DEPTH + 2)), f"nested deeper than {MAX_DEPTH} levels",
                 id="deep-block"),
    pytest.param("".join(f"a{i}: &a{i} [[[[[[[[[[*a{i - 1}]]]]]]]]]]\n" if i else "a0: &a0 [1]\n" for i in range(8)),
                 f"alias \\*a6 expands to deeper than {MAX_DEPTH} levels", id="deep-through-aliases"),
    pytest.param("a: [" + ",".join(["1"] * MAX_NODES) + "]\n", f"the file has more than {MAX_NODES:,} nodes",
                 id="too-many-nodes"),
    pytest.param("x" * (MAX_FILE_BYTES + 1), r"too large: more than 1024 KiB, the limit for a spec file; split it",
                 id="too-large"),
]


@pytest.mark.parametrize(("text", "message"), REFUSED)
def test_refuses_with_one_line(text: str, message: str) -> None:
    with pytest.raises(SpecFileError) as caught:
        load_spec_text(text, "f.yaml")
    assert re.search(message, caught.value.detail), caught.value.detail
    assert str(caught.value) == f"f.yaml: {caught.value.detail}" and "\n" not in str(caught.value)


def test_pure_python_parser_refuses_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without libyaml the loader reads PyYAML's pure-Python events; the limits and tags read the same.
    (The size and node-count cases are left out: the same code counts, only five times slower.)"""
    cases = [case for case in REFUSED if case.id not in ("too-many-nodes", "too-large")]
    expected = {}
    for case in cases:
        with pytest.raises(SpecFileError) as caught:
            load_spec_text(case.values[0], "f.yaml")
        expected[case.id] = caught.value.detail
    monkeypatch.setattr(safeyaml, "_SpecLoader", safeyaml._loader(safeyaml._PyEventParser))
    for case in cases:
        with pytest.raises(SpecFileError) as caught:
            load_spec_text(case.values[0], "f.yaml")
        assert caught.value.detail == expected[case.id], case.id


def test_limits_hold_at_their_boundary() -> None:
    assert load_spec_text("a: " + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1) + "\n", "f")  # the mapping is level 1
    assert len(load_spec_text("a: [" + ",".join(["1"] * (MAX_NODES - 3)) + "]\n", "f")[0]["a"]) == MAX_NODES - 3
    assert load_spec_text("#" * MAX_FILE_BYTES, "f") == []


def test_aliases_count_what_they_stand_for() -> None:
    block = "a: &a [" + ",".join(["1"] * 999) + "]\n"  # 1,000 nodes
    assert load_spec_text(block + "b: [" + ", ".join(["*a"] * 98) + "]\n", "f")  # 1,000 + 98,000 + 6 nodes
    with pytest.raises(SpecFileError, match=f"alias \\*a makes the file expand to more than {MAX_NODES:,} nodes"):
        load_spec_text(block + "b: [" + ", ".join(["*a"] * 100) + "]\n", "f")


def test_the_node_budget_is_per_file() -> None:
    document = "a: &a [" + ",".join(["1"] * 999) + "]\nb: [" + ", ".join(["*a"] * 30) + "]\n"  # ~31,000 nodes
    assert len(load_spec_text("---\n".join([document] * 3), "f")) == 3
    with pytest.raises(SpecFileError, match="more than 100,000 nodes"):
        load_spec_text("---\n".join([document] * 4), "f")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param(b"a: 1\nkind: \xff\xfe\n", "not UTF-8: line 2, column 7: byte 0xff cannot be decoded; save the file as UTF-8",
                     id="latin-1"),
        pytest.param("a: é\n".encode("utf-16"), "not UTF-8: line 1, column 1: byte 0xff", id="utf-16"),
        pytest.param(b"x" * (MAX_FILE_BYTES + 1), "too large: more than 1024 KiB", id="too-large"),
    ],
)
def test_file_bytes_are_checked_before_parsing(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "spec.yaml"
    path.write_bytes(content)
    with pytest.raises(SpecFileError) as caught:
        load_spec_documents(path)
    assert str(caught.value).startswith(f"{path}: {message}")


def test_missing_file_cannot_be_read(tmp_path: Path) -> None:
    with pytest.raises(SpecFileError, match="nope.yaml: cannot read: No such file or directory"):
        load_spec_documents(tmp_path / "nope.yaml")


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        pytest.param("---\nkind: DomainTraining\n...\n", {"kind": "DomainTraining"}, id="manifest"),
        pytest.param("- a list\n", ["a list"], id="shape-left-to-the-caller"),
        pytest.param("", "the file holds 0 documents; a spec file holds exactly one manifest", id="empty"),
        pytest.param("a: 1\n---\nb: 2\n", "the file holds 2 documents", id="two-documents"),
        pytest.param("a: !!binary aGk=\n", "tag !!binary is not supported", id="refused"),
    ],
)
def test_load_spec_file(tmp_path: Path, content: str, expected: Any) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text(content, encoding="utf-8")
    if isinstance(expected, str):
        with pytest.raises(SpecFileError, match=re.escape(expected)):
            load_spec_file(path)
    else:
        assert load_spec_file(path) == expected


def test_error_is_a_yaml_error() -> None:
    """Readers that already catch ``yaml.YAMLError`` (the trainer's) catch refusals too."""
    import yaml

    assert issubclass(SpecFileError, yaml.YAMLError) and issubclass(SpecFileError, ValueError)
