"""The claims ledger (docs/claims.yaml) keeps up with the API types, the README and the tests.

Every leaf field of both kinds' specs, read from the CRD schemas the API types generate, has an
entry naming tests that exercise it; an entry for a field that no longer exists fails; every named
test exists (its file is parsed with ``ast``, nothing is collected or run; a ``[case]`` id must be
written in that file); every README claim's anchor text is still in the README; an entry with no
behaviour test says why. Failure messages name the entries to add or fix in docs/claims.yaml.
"""

from __future__ import annotations

import ast
import functools
import re
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


def test_every_readme_claim_is_still_in_the_readme() -> None:
    readme = _normal(README)
    gone = [claim["readme"] for claim in LEDGER.get("claims") or [] if _normal(claim["readme"]) not in readme]
    assert not gone, (f"{LEDGER_PATH.relative_to(ROOT)}: these `claims:` anchors are no longer in README.md; update the "
                      "anchor to the new sentence (and check its tests still prove it) or drop the claim:\n  "
                      + "\n  ".join(map(repr, gone)))


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
