"""The claims ledger (docs/claims.yaml) keeps up with the API types, the README and the tests.

Every leaf field of both kinds' specs, read from the CRD schemas the API types generate, has an
entry naming tests that exercise it; an entry for a field that no longer exists fails; every named
test exists (its file is parsed with ``ast``, nothing is collected or run; a ``[case]`` id must be
written in that file); every README claim's anchor text is still in the README; an entry with no
behaviour test says why. Every sentence and table row of README.md's prose is accounted for by exactly
one category of entries (claims, measured, descriptive, untested; see "the README, sentence by sentence"
below); a measured entry names committed benchmark results that hold its figures. Failure messages
name the entries to add or fix in docs/claims.yaml.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import re
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from tara_api.crd import KINDS, crd_for

ROOT = Path(__file__).resolve().parents[1]
LEDGER_PATH = ROOT / "docs" / "claims.yaml"
LEDGER = yaml.safe_load(LEDGER_PATH.read_text(encoding="utf-8"))
README = (ROOT / "README.md").read_text(encoding="utf-8")
TEST_ID = re.compile(r"^(tests/[\w/]+\.py)::(\w+)(?:\[([^\]]+)\])?$")


def _leaves(schema: dict[str, Any], path: str) -> list[str]:
    """Leaf field paths: an object's properties recursed (array items included), anything else a leaf."""
    target = schema.get("items", schema) if schema.get("type") == "array" else schema
    if "properties" not in target:
        return [path]
    return [leaf for name, sub in target["properties"].items() for leaf in _leaves(sub, f"{path}.{name}")]


def spec_fields() -> list[str]:
    out = []
    for kind in KINDS:
        root = crd_for(kind)["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
        out += _leaves(root["properties"]["spec"], f"{kind.kind}.spec")
    return out


@functools.cache
def _test_file(path: str) -> tuple[frozenset[str], str] | None:
    """Test function names (module level and in classes) and the source of a test file."""
    file = ROOT / path
    if not file.is_file():
        return None
    source = file.read_text(encoding="utf-8")
    names = {node.name for node in ast.walk(ast.parse(source)) if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
             and node.name.startswith("test")}
    return frozenset(names), source


def missing_test(test_id: str) -> str | None:
    """Why TEST_ID names no test, or None when it does."""
    match = TEST_ID.match(test_id)
    if not match:
        return "not of the form tests/<file>.py::<function>[<case>]"
    path, function, case = match.groups()
    found = _test_file(path)
    if found is None:
        return f"{path} does not exist"
    names, source = found
    if function not in names:
        return f"{path} has no test function {function}"
    if case is not None and f'"{case}"' not in source and f"'{case}'" not in source:
        return f"{path} does not write the case id {case!r}"
    return None


def _normal(text: str) -> str:
    return " ".join(text.split())


def _entries() -> list[tuple[str, dict[str, Any]]]:
    fields = [(f"fields: {name}", entry) for name, entry in (LEDGER.get("fields") or {}).items()]
    claims = [(f"claims: {claim.get('readme', '')[:60]!r}", claim) for claim in LEDGER.get("claims") or []]
    return fields + claims


def test_every_spec_field_has_an_entry_and_no_entry_is_stale() -> None:
    schema, ledger = spec_fields(), set(LEDGER.get("fields") or {})
    missing = [f for f in schema if f not in ledger]
    stale = sorted(ledger - set(schema))
    problems = []
    if missing:
        problems.append("add an entry under `fields:` for each of these spec fields (validation: and behaviour: test "
                        "ids; a note: when behaviour is empty):\n  " + "\n  ".join(missing))
    if stale:
        problems.append("these `fields:` entries name fields the API types no longer have; remove or rename them:\n  "
                        + "\n  ".join(stale))
    assert not problems, f"{LEDGER_PATH.relative_to(ROOT)}: " + "\n".join(problems)


def test_every_entry_names_a_test_and_says_why_when_no_behaviour_is_tested() -> None:
    problems = []
    for where, entry in _entries():
        if where.startswith("fields:"):
            unknown = set(entry) - {"validation", "behaviour", "note"}
            if unknown or "validation" not in entry or "behaviour" not in entry:
                problems.append(f"{where}: needs validation: and behaviour: lists (and only note: besides); has {sorted(entry)}")
                continue
            if not entry["validation"] and not entry["behaviour"]:
                if not entry.get("note"):
                    problems.append(f"{where}: no test at all and no note: write a test, or report the field")
            if not entry["behaviour"] and not entry.get("note"):
                problems.append(f"{where}: behaviour is empty: add a note: saying why and what would test it")
        elif not entry.get("behaviour"):
            problems.append(f"{where}: a README claim needs behaviour: tests (or the sentence goes)")
    assert not problems, f"{LEDGER_PATH.relative_to(ROOT)}:\n  " + "\n  ".join(problems)


def test_every_named_test_exists() -> None:
    problems = [f"{where}: {test_id}: {why}"
                for where, entry in _entries()
                for test_id in [*(entry.get("validation") or []), *(entry.get("behaviour") or [])]
                if (why := missing_test(test_id))]
    assert not problems, f"{LEDGER_PATH.relative_to(ROOT)} names tests that do not exist:\n  " + "\n  ".join(problems)


# ---------------------------------------------------------------- the README, sentence by sentence
#
# README.md's prose is cut into units, and every unit must be accounted for by the ledger:
# - fenced code blocks are skipped (tests/test_readme.py and tests/cli/test_cli_docs.py run them);
# - headings, image lines and a paragraph's run-in bold title ("**Routing.** ...") are titles, not units;
# - a paragraph or a list item (of any depth, its marker removed) is cut into sentences at ".", "?" or
#   "!" (closing brackets, quotes or bold marks after it kept) followed by white space, outside inline
#   code, double quotes and "...", except after the abbreviations "e.g.", "i.e.", "vs.", "etc.", "cf." and "incl.";
# - a table's body row is one unit; its header row and separator name the columns and promise nothing.
# An entry's anchor (the unit's text or a distinctive part of it, whitespace aside) must lie inside one
# unit and match only one; a unit is accounted for by the entries whose anchors it holds, all of one
# category: claims (behaviour tests), measured (a committed benchmark result), descriptive (promises
# no behaviour) or untested (a reason; counted in a warning, the test still passes).

FENCE = re.compile(r"^\s*(```|~~~)")
LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+\.)\s+")
TABLE_SEPARATOR = re.compile(r"^\s*\|[\s:|-]+\|\s*$")
RUN_IN_TITLE = re.compile(r"^\*\*[^*]+[.:]\*\*$")
SENTENCE_END = re.compile(r"[.?!][)\]\"'*]*(?=\s)")
ABBREVIATIONS = ("e.g.", "i.e.", "vs.", "etc.", "cf.", "incl.")
CATEGORIES = ("claims", "measured", "descriptive", "untested")


def _blocks(markdown: str) -> list[tuple[str, str]]:
    """(kind, text) for each paragraph or list item ("prose") and each table body row ("row")."""
    blocks: list[tuple[str, str]] = []
    current: list[str] = []
    lines = markdown.splitlines()

    def close() -> None:
        if current:
            blocks.append(("prose", " ".join(current)))
            current.clear()

    fenced = False
    for i, line in enumerate(lines):
        if FENCE.match(line):
            close()
            fenced = not fenced
            continue
        stripped = line.strip()
        if fenced or not stripped or stripped.startswith("#") or stripped.startswith("!["):
            close()
            continue
        if stripped.startswith("|"):
            close()
            header = i + 1 < len(lines) and TABLE_SEPARATOR.match(lines[i + 1])
            if not header and not TABLE_SEPARATOR.match(line):
                blocks.append(("row", stripped))
            continue
        if LIST_ITEM.match(line):
            close()
            line = LIST_ITEM.sub("", line)
        current.append(line.strip())
    close()
    return blocks


def _sentences(text: str) -> list[str]:
    masked = re.sub(r"`[^`]*`|\"[^\"]*\"|\.\.\.", lambda m: "x" * len(m.group()), text)
    out, start = [], 0
    for end in SENTENCE_END.finditer(masked):
        word = masked[start:end.start() + 1].rsplit(None, 1)[-1].lstrip("(").lower()
        if word in ABBREVIATIONS:
            continue
        out.append(text[start:end.end()].strip())
        start = end.end()
    out.append(text[start:].strip())
    return [sentence for sentence in out if sentence and not RUN_IN_TITLE.match(sentence)]


def readme_units(markdown: str) -> list[str]:
    """The units of a Markdown text that the ledger must account for, whitespace normalised (see above)."""
    units = []
    for kind, text in _blocks(markdown):
        units += [_normal(text)] if kind == "row" else [_normal(s) for s in _sentences(text)]
    return units


def _anchors(entry: Any) -> list[str]:
    anchors = entry if isinstance(entry, str) else entry.get("readme", "") if isinstance(entry, dict) else ""
    return [_normal(a) for a in (anchors if isinstance(anchors, list) else [anchors])]


@dataclasses.dataclass(frozen=True)
class Accounting:
    """What the ledger leaves open: units no entry accounts for, units claimed by two categories, anchors
    that match no unit, and anchors that match more than one."""
    unaccounted: tuple[str, ...]
    mixed: tuple[tuple[str, tuple[str, ...]], ...]
    lost: tuple[tuple[str, str], ...]
    ambiguous: tuple[tuple[str, str, int], ...]
    untested: tuple[str, ...]


def account(units: list[str], ledger: dict[str, Any]) -> Accounting:
    """Match every anchor of the ledger's four categories against the README's units (pure)."""
    seen: dict[int, set[str]] = {}
    lost, ambiguous, untested = [], [], []
    for category in CATEGORIES:
        for entry in ledger.get(category) or []:
            for anchor in _anchors(entry):
                hits = [i for i, unit in enumerate(units) if anchor and anchor in unit]
                if not hits:
                    lost.append((category, anchor))
                elif len(hits) > 1:
                    ambiguous.append((category, anchor, len(hits)))
                for i in hits[:1]:
                    seen.setdefault(i, set()).add(category)
                    if category == "untested":
                        untested.append(units[i])
    return Accounting(
        unaccounted=tuple(unit for i, unit in enumerate(units) if i not in seen),
        mixed=tuple((units[i], tuple(sorted(cats))) for i, cats in sorted(seen.items()) if len(cats) > 1),
        lost=tuple(lost), ambiguous=tuple(ambiguous), untested=tuple(dict.fromkeys(untested)))


def accounting_problems(accounting: Accounting) -> list[str]:
    """The failure message's paragraphs, each naming where in docs/claims.yaml to act."""
    problems = []
    if accounting.unaccounted:
        problems.append(
            "these README.md sentences are accounted for by no entry; add each (its text, or a distinctive part "
            "of it, as the anchor) to exactly one of `claims:` (with behaviour: tests), `measured:` (results: "
            "the benchmarks/results/ file that produced the figure), `descriptive:` (only if it promises no "
            "behaviour) or `untested:` (reason:), or rewrite the sentence:\n  "
            + "\n  ".join(map(repr, accounting.unaccounted)))
    if accounting.mixed:
        problems.append("these sentences are anchored by entries of different categories; keep one:\n  "
                        + "\n  ".join(f"{unit!r}: {', '.join(cats)}" for unit, cats in accounting.mixed))
    if accounting.lost:
        problems.append("these anchors are no longer inside one README.md sentence; update the anchor to the new "
                        "sentence (and check its tests still prove it) or drop the entry:\n  "
                        + "\n  ".join(f"{cat}: {anchor!r}" for cat, anchor in accounting.lost))
    if accounting.ambiguous:
        problems.append("these anchors match several sentences; lengthen them until one matches:\n  "
                        + "\n  ".join(f"{cat}: {anchor!r} ({n} sentences)" for cat, anchor, n in accounting.ambiguous))
    return problems


def test_every_readme_sentence_is_accounted_for() -> None:
    accounting = account(readme_units(README), LEDGER)
    problems = accounting_problems(accounting)
    assert not problems, f"{LEDGER_PATH.relative_to(ROOT)}:\n" + "\n".join(problems)
    if accounting.untested:
        warnings.warn(f"{len(accounting.untested)} README.md sentence(s) have no test yet (docs/claims.yaml "
                      "`untested:`): " + "; ".join(map(repr, accounting.untested)), stacklevel=1)


def measured_problems(ledger: dict[str, Any], read: Callable[[str], str | None]) -> list[str]:
    """What is wrong with the ledger's measured: and untested: entries (pure: ``read(path)`` gives a
    benchmarks/results/ file's text, None when there is no such file)."""
    problems = []
    for entry in ledger.get("measured") or []:
        where = f"measured: {_anchors(entry)[0][:60]!r}"
        results = entry.get("results") or []
        if not results:
            problems.append(f"{where}: needs results: the benchmarks/results/ file(s) the figures come from")
        texts = []
        for path in results:
            text = read(path) if path.startswith("benchmarks/results/") else None
            if text is None:
                problems.append(f"{where}: {path} is not a file under benchmarks/results/")
            else:
                texts.append(text)
        problems += [f"{where}: figure {figure!r} is in none of {results}"
                     for figure in entry.get("figures") or [] if texts and not any(str(figure) in t for t in texts)]
    for entry in ledger.get("untested") or []:
        if not isinstance(entry, dict) or not entry.get("reason"):
            problems.append(f"untested: {_anchors(entry)[0][:60]!r}: needs reason: (why no test, what would test it)")
    return problems


def _read_result(path: str) -> str | None:
    file = ROOT / path
    return file.read_text(encoding="utf-8") if file.is_file() else None


def test_measured_entries_name_committed_results_holding_their_figures() -> None:
    problems = measured_problems(LEDGER, _read_result)
    assert not problems, f"{LEDGER_PATH.relative_to(ROOT)}:\n  " + "\n  ".join(problems)


@pytest.mark.parametrize(("test_id", "why"), [
    ("tests/test_claims.py::test_every_named_test_exists", None),
    ("tests/api/test_validation.py::test_invalid_manifest_is_rejected_naming_the_field[zero-steps]", None),
    ("tests/api/test_validation.py::test_invalid_manifest_is_rejected_naming_the_field[no-such-case]", "does not write the case id"),
    ("tests/test_claims.py::test_nothing_by_this_name", "has no test function"),
    ("tests/no_such_file.py::test_x", "does not exist"),
    ("test_claims.py::test_x", "not of the form"),
])
def test_the_checker_finds_what_is_missing(test_id: str, why: str | None) -> None:
    found = missing_test(test_id)
    assert (found is None) if why is None else (found is not None and why in found), found


def test_leaves_of_a_schema() -> None:
    schema = {"type": "object", "properties": {
        "a": {"type": "string"},
        "b": {"type": "object", "properties": {"c": {"type": "integer"}}},
        "d": {"type": "array", "items": {"type": "object", "properties": {"e": {"type": "string"}}}},
        "f": {"type": "array", "items": {"type": "string"}},
        "g": {"type": "object", "additionalProperties": {"type": "string"}}}}
    assert _leaves(schema, "K.spec") == ["K.spec.a", "K.spec.b.c", "K.spec.d.e", "K.spec.f", "K.spec.g"]


SAMPLE = """# Title

Intro with `code. Not a cut` and e.g. an abbreviation. Second sentence (with a bracket.) Third?
**Run-in.** Fourth sentence
across lines.

```sh
make demo. Never a unit.
```

- A list item. Its second sentence.
  1. A nested item.

| a | b |
|---|---|
| row one | 1.5 |

![image](x.svg)
"""


def test_readme_units_cut_sentences_items_and_rows() -> None:
    assert readme_units(SAMPLE) == [
        "Intro with `code. Not a cut` and e.g. an abbreviation.", "Second sentence (with a bracket.)", "Third?",
        "Fourth sentence across lines.", "A list item.", "Its second sentence.", "A nested item.",
        "| row one | 1.5 |"]


@pytest.mark.parametrize(("ledger", "expected"), [
    pytest.param({"claims": [{"readme": "Third"}], "descriptive": ["Intro with", "Second", "Fourth", "A list",
                                                                    "Its second", "nested", "row one"]},
                 Accounting((), (), (), (), ()), id="all-accounted"),
    pytest.param({"descriptive": ["Intro with", "Second", "Third", "Fourth", "A list", "Its second", "nested"]},
                 Accounting(("| row one | 1.5 |",), (), (), (), ()), id="one-row-missing"),
    pytest.param({"descriptive": ["Intro with", "Second", "Third", "Fourth", "A list", "Its second", "nested",
                                  "row one"], "measured": [{"readme": "1.5", "results": []}]},
                 Accounting((), (("| row one | 1.5 |", ("descriptive", "measured")),), (), (), ()), id="mixed"),
    pytest.param({"descriptive": ["Intro with", "Second", "Third", "Fourth", "A list", "Its second", "nested",
                                  "row one", "no such words"]},
                 Accounting((), (), (("descriptive", "no such words"),), (), ()), id="lost"),
    pytest.param({"descriptive": ["Intro with", "Second", "Third", "Fourth", "Its second", "nested", "row one"],
                  "untested": [{"readme": "A list", "reason": "r"}]},
                 Accounting((), (), (), (), ("A list item.",)), id="untested-counted"),
    pytest.param({"descriptive": ["Intro with", "Third", "A list", "nested", "row one"],
                  "untested": [{"readme": "sentence", "reason": "r"}]},
                 Accounting(("Fourth sentence across lines.", "Its second sentence."), (), (), (("untested", "sentence", 3),),
                            ("Second sentence (with a bracket.)",)), id="ambiguous"),
])
def test_the_accounting_finds_what_is_open(ledger: dict[str, Any], expected: Accounting) -> None:
    accounting = account(readme_units(SAMPLE), ledger)
    assert accounting == expected
    assert bool(accounting_problems(accounting)) == bool(expected.unaccounted or expected.mixed or expected.lost
                                                         or expected.ambiguous)


@pytest.mark.parametrize(("ledger", "found"), [
    pytest.param({"measured": [{"readme": "x", "results": ["benchmarks/results/a.json"], "figures": ["0.95"]}]}, [],
                 id="figure-found"),
    pytest.param({"measured": [{"readme": "x", "results": ["benchmarks/results/a.json"], "figures": ["0.96"]}]},
                 ["figure '0.96' is in none"], id="figure-missing"),
    pytest.param({"measured": [{"readme": "x", "results": ["benchmarks/results/b.json"]}]},
                 ["is not a file under benchmarks/results/"], id="no-such-file"),
    pytest.param({"measured": [{"readme": "x", "results": ["docs/a.json"]}]},
                 ["is not a file under benchmarks/results/"], id="outside-results"),
    pytest.param({"measured": [{"readme": "x"}]}, ["needs results:"], id="no-results"),
    pytest.param({"untested": [{"readme": "x"}]}, ["needs reason:"], id="untested-without-reason"),
])
def test_the_measured_check_finds_what_is_missing(ledger: dict[str, Any], found: list[str]) -> None:
    files = {"benchmarks/results/a.json": '{"accuracy": 0.95}', "docs/a.json": "0.95"}
    problems = measured_problems(ledger, files.get)
    assert len(problems) == len(found) and all(f in p for f, p in zip(found, problems, strict=True)), problems


@pytest.mark.parametrize(("text", "sentences"), [
    pytest.param('Short texts (labels, "Yes.") join nothing. Next.', ['Short texts (labels, "Yes.") join nothing.', "Next."],
                 id="quoted-full-stop"),
    pytest.param("talk, weather, tech support...) with the encoder. Next.",
                 ["talk, weather, tech support...) with the encoder.", "Next."], id="ellipsis"),
    pytest.param("tokenizer incl. `tokenizer.model` and vs. others, e.g. this. kwok plays the kubelet.",
                 ["tokenizer incl. `tokenizer.model` and vs. others, e.g. this.", "kwok plays the kubelet."],
                 id="abbreviations-and-a-lowercase-start"),
    pytest.param("**Routing.** `model: x` picks it.", ["`model: x` picks it."], id="run-in-title"),
])
def test_sentences_are_cut_at_full_stops_outside_code_quotes_and_abbreviations(text: str, sentences: list[str]) -> None:
    assert _sentences(text) == sentences
