"""The pure manifest logic behind `tara phase create` and `add-domain`: tables of cases."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tara_api import GGUFPhase
from tara_cli.manifests import (
    ManifestError,
    add_domain,
    build_phase,
    check,
    domain_hint,
    dump_documents,
    find_document,
    has_comments,
    parse_assignments,
    parse_documents,
    phase_number_from_name,
)

ROOT = Path(__file__).resolve().parents[2]
HEAD = {"apiVersion": "tara.dev/v1alpha1", "kind": "GGUFPhase"}


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        pytest.param(
            {"name": "phase-3", "domains": ["healthcare"]},
            {**HEAD, "metadata": {"name": "phase-3"}, "spec": {"phaseNumber": 3, "domains": [{"domain": "healthcare"}]}},
            id="minimal-number-from-name",
        ),
        pytest.param(
            {"name": "p", "domains": ["a,b", "c"], "quantization": ["Q4_K_M,Q8_0", "Q2_K"], "strategy": "ties",
             "density": 0.5, "namespace": "ns", "phase_number": 7, "trainings": {"b": "b-v2"}, "weights": {"c": "0.8"}},
            {**HEAD, "metadata": {"name": "p", "namespace": "ns"},
             "spec": {"phaseNumber": 7, "domains": [{"domain": "a"}, {"domain": "b", "training": "b-v2"}, {"domain": "c", "weight": 0.8}],
                      "quantization": ["Q4_K_M", "Q8_0", "Q2_K"], "merge": {"strategy": "ties", "density": 0.5}}},
            id="everything",
        ),
        pytest.param(
            {"name": "universal", "domains": ["x"], "strategy": "svd", "svd_rank": 16},
            {**HEAD, "metadata": {"name": "universal"},
             "spec": {"phaseNumber": 1, "domains": [{"domain": "x"}], "merge": {"strategy": "svd", "svdRank": 16}}},
            id="svd-no-number-in-name",
        ),
    ],
)
def test_build_phase(kwargs: dict[str, Any], expected: dict[str, Any]) -> None:
    assert build_phase(**kwargs) == expected


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"name": "p", "domains": []}, "at least one --domain"),
        ({"name": "p", "domains": [" , "]}, "at least one --domain"),
        ({"name": "p", "domains": ["a"], "trainings": {"b": "x"}}, "--training names b, not among the phase's domains (a)"),
        ({"name": "p", "domains": ["a"], "weights": {"z": "1"}}, "--weight names z"),
    ],
    ids=["no-domain", "blank-domain", "training-unknown-domain", "weight-unknown-domain"],
)
def test_build_phase_refuses(kwargs: dict[str, Any], error: str) -> None:
    with pytest.raises(ManifestError, match=error.replace("(", r"\(").replace(")", r"\)")):
        build_phase(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "paths"),
    [
        ({"name": "p-1", "domains": ["mental-health", "career"]}, []),  # custom domains are fine
        ({"name": "p-1", "domains": ["mental_health"]}, ["spec.domains[0].domain"]),
        ({"name": "p-1", "domains": ["a", "a"]}, ["spec.domains"]),
        ({"name": "p-1", "domains": ["a"], "quantization": ["Q3_K"]}, ["spec.quantization[0]"]),
        ({"name": "p-1", "domains": ["a"], "quantization": ["Q8_0", "Q8_0"]}, ["spec.quantization"]),
        ({"name": "p-1", "domains": ["a"], "strategy": "adapters", "density": 0.5}, ["spec.merge"]),
        ({"name": "p-1", "domains": ["a"], "weights": {"a": "heavy"}}, ["spec.domains[0].weight"]),
        ({"name": "Phase_1", "domains": ["a"]}, ["metadata.name"]),
    ],
    ids=["custom-domains", "underscore", "duplicate", "bad-quant", "repeated-quant", "density-needs-ties",
         "weight-not-a-number", "bad-name"],
)
def test_built_manifests_validate_as_tara_validate_does(kwargs: dict[str, Any], paths: list[str]) -> None:
    problems = check(build_phase(**kwargs), "new")
    assert sorted({p.path for p in problems}) == paths, problems
    assert all(str(p).startswith(f"new#1 (GGUFPhase/{kwargs['name']}): ") for p in problems)
    if not paths:
        GGUFPhase.from_manifest(build_phase(**kwargs))  # and the API type agrees


def test_domain_hint_only_for_domain_names() -> None:
    assert "DNS-1123" in domain_hint(check(build_phase("p", ["Bad_Name"]), "new"))
    assert domain_hint(check(build_phase("p", ["a"], quantization=["nope"]), "new")) is None


@pytest.mark.parametrize(
    ("values", "expected", "error"),
    [
        (["a=b", " c = d "], {"a": "b", "c": "d"}, None),
        ([], {}, None),
        (["a"], None, "expected DOMAIN=VALUE"),
        (["=b"], None, "expected DOMAIN=VALUE"),
        (["a="], None, "expected DOMAIN=VALUE"),
        (["a=b", "a=c"], None, "twice"),
    ],
)
def test_parse_assignments(values: list[str], expected: dict[str, str] | None, error: str | None) -> None:
    if error:
        with pytest.raises(ManifestError, match=error):
            parse_assignments(values, "--training")
    else:
        assert parse_assignments(values, "--training") == expected


@pytest.mark.parametrize(("name", "number"), [("phase-2", 2), ("phase-2-universal", 2), ("edge", 1), ("p-5000", 1), ("p0", 1)])
def test_phase_number_from_name(name: str, number: int) -> None:
    assert phase_number_from_name(name) == number


PHASE = {**HEAD, "metadata": {"name": "p"}, "spec": {"phaseNumber": 1, "domains": [{"domain": "a"}], "quantization": ["Q8_0"]}}


@pytest.mark.parametrize(
    ("kwargs", "domains"),
    [
        ({"domain": "b"}, [{"domain": "a"}, {"domain": "b"}]),
        ({"domain": "b", "training": "b-v2", "weight": 0.5}, [{"domain": "a"}, {"domain": "b", "training": "b-v2", "weight": 0.5}]),
    ],
)
def test_add_domain_appends_and_keeps_the_rest(kwargs: dict[str, Any], domains: list[dict[str, Any]]) -> None:
    before = yaml.safe_dump(PHASE)
    out = add_domain(PHASE, **kwargs)
    assert out["spec"]["domains"] == domains
    assert list(out["spec"]) == ["phaseNumber", "domains", "quantization"]  # key order kept
    assert yaml.safe_dump(PHASE) == before  # the input is not mutated


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (PHASE, "domain 'a' is already in phase p"),
        ({**HEAD, "kind": "DomainTraining", "spec": {}}, "not a GGUFPhase"),
        ({**HEAD, "metadata": {"name": "p"}}, "has no spec"),
        ({**HEAD, "metadata": {"name": "p"}, "spec": {"domains": "a"}}, "not a list"),
    ],
    ids=["duplicate", "wrong-kind", "no-spec", "domains-not-list"],
)
def test_add_domain_refuses(body: dict[str, Any], error: str) -> None:
    with pytest.raises(ManifestError, match=error):
        add_domain(body, "a")


@pytest.mark.parametrize(
    ("kwargs", "path"),
    [({"domain": "Bad_Name"}, "spec.domains[1].domain"), ({"domain": "b", "weight": 11.0}, "spec.domains[1].weight")],
)
def test_add_domain_result_is_validated(kwargs: dict[str, Any], path: str) -> None:
    # Not the 64-domain limit: cel-python takes exponential time on the serving.defaultDomain
    # rule past about 24 domains (reported; validate.py's concern, not the CLI's).
    assert check(PHASE, "f") == []
    assert [p.path for p in check(add_domain(PHASE, **kwargs), "f")] == [path]


OTHER = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}}


@pytest.mark.parametrize(
    ("documents", "name", "index", "error"),
    [
        ([OTHER, PHASE], "p", 1, None),
        ([OTHER, PHASE], None, 1, None),
        ([PHASE, {**PHASE, "metadata": {"name": "q"}}], "q", 1, None),
        ([PHASE, {**PHASE, "metadata": {"name": "q"}}], None, None, "several GGUFPhases (p, q): name one"),
        ([OTHER], None, None, "f.yaml holds no GGUFPhase"),
        ([OTHER, PHASE], "nope", None, "no GGUFPhase named nope in f.yaml (it holds p)"),
        ([OTHER], "nope", None, "no GGUFPhase named nope in f.yaml$"),
        ([{**PHASE, "metadata": ["odd"]}], "p", None, "no GGUFPhase named p in f.yaml (it holds None)"),
    ],
)
def test_find_document(documents: list[Any], name: str | None, index: int | None, error: str | None) -> None:
    if error:
        with pytest.raises(ManifestError, match=error.replace("(", r"\(").replace(")", r"\)")):
            find_document(documents, "GGUFPhase", name, "f.yaml")
    else:
        assert find_document(documents, "GGUFPhase", name, "f.yaml") == index


def test_documents_round_trip_in_order() -> None:
    text = (ROOT / "configs" / "phases" / "phase-2.yaml").read_text()
    docs = parse_documents(text + "---\n" + yaml.safe_dump(OTHER, sort_keys=False), "f")
    again = parse_documents(dump_documents(docs), "f")
    assert again == docs
    assert list(again[0]["spec"]) == list(docs[0]["spec"])  # key order, not only equality


def test_parse_documents_names_the_line() -> None:
    with pytest.raises(ManifestError, match="f.yaml: invalid YAML at line 2"):
        parse_documents("a: 1\nkind: a: b\n", "f.yaml")


@pytest.mark.parametrize(
    ("text", "expected"),
    [("a: 1\n", False), ("# header\na: 1\n", True), ("a: 1  # why\n", True), ("a: 'x#y'\n", False)],
)
def test_has_comments(text: str, expected: bool) -> None:
    assert has_comments(text) is expected
