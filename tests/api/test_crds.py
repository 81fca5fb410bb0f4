"""The committed CRDs and reference are exactly what the API types generate, and they are structural."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tara_api.crd import KINDS, render_crds
from tara_api.reference import render_reference

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", sorted(render_crds()))
def test_committed_crd_is_generated(name: str) -> None:
    committed = (ROOT / "crds" / name).read_text(encoding="utf-8")
    assert committed == render_crds()[name], f"crds/{name} is stale: run `make crds`"


def test_committed_reference_is_generated() -> None:
    committed = (ROOT / "docs" / "reference.md").read_text(encoding="utf-8")
    assert committed == render_reference(), "docs/reference.md is stale: run `make crds`"


def test_no_extra_files_in_crds_folder() -> None:
    assert sorted(p.name for p in (ROOT / "crds").iterdir()) == sorted(render_crds())


def _walk(node: dict, path: str = ""):
    yield path, node
    for name, sub in node.get("properties", {}).items():
        yield from _walk(sub, f"{path}.{name}")
    if isinstance(node.get("items"), dict):
        yield from _walk(node["items"], f"{path}[]")
    if isinstance(node.get("additionalProperties"), dict):
        yield from _walk(node["additionalProperties"], f"{path}{{}}")


def _schema(kind_name: str) -> dict:
    crd = yaml.safe_load(render_crds()[next(k.file_name for k in KINDS if k.kind == kind_name)].split("\n", 1)[1])
    return crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]


@pytest.mark.parametrize("kind", [k.kind for k in KINDS])
def test_schema_is_structural(kind: str) -> None:
    """Every node has a type (or is int-or-string), no $ref, no nullable unions, descriptions on fields."""
    for path, node in _walk(_schema(kind)):
        assert "$ref" not in node and "allOf" not in node and "oneOf" not in node, path
        assert "title" not in node, path
        if node.get("x-kubernetes-int-or-string"):
            assert node["anyOf"] == [{"type": "integer"}, {"type": "string"}], path
            continue
        assert "anyOf" not in node, path
        assert node.get("type") in {"object", "array", "string", "integer", "number", "boolean"}, path
        if "properties" in node:
            assert "additionalProperties" not in node, f"{path}: properties and additionalProperties together"
        if path.count(".") >= 2 and not path.endswith("[]") and not path.endswith("{}"):
            assert node.get("description"), f"{path} has no description (kubectl explain would be empty)"


@pytest.mark.parametrize(
    ("kind", "path", "expected"),
    [
        ("DomainTraining", ".spec.lora.r", {"default": 8, "minimum": 1}),
        ("DomainTraining", ".spec.lora.alpha", {"default": 16}),
        ("DomainTraining", ".spec.lora.dropout", {"default": 0.05, "maximum": 1.0, "exclusiveMaximum": True}),
        ("DomainTraining", ".spec.training.learningRate", {"default": 0.0002, "minimum": 0, "exclusiveMinimum": True}),
        ("DomainTraining", ".spec.training.saveSteps", {"default": 100}),
        ("DomainTraining", ".spec.training.keepCheckpoints", {"default": 3}),
        ("DomainTraining", ".spec.resources.accelerator", {"enum": ["gpu", "cpu"], "default": "gpu"}),
        ("DomainTraining", ".status.phase", {"enum": ["Pending", "Queued", "Running", "Succeeded", "Failed", "Suspended"]}),
        ("DomainTraining", ".spec.training.batchSize", {"x-kubernetes-int-or-string": True, "default": 4}),
        ("GGUFPhase", ".spec.quantization", {"x-kubernetes-list-type": "set", "minItems": 1}),
        ("GGUFPhase", ".spec.quantization[]", {"enum": ["Q2_K", "Q4_K_M", "Q5_K_M", "Q8_0"]}),
        ("GGUFPhase", ".spec.merge.strategy", {"enum": ["adapters", "linear", "ties", "dare_ties", "svd"]}),
        ("GGUFPhase", ".status.phase", {"enum": ["Planning", "Training", "Merging", "Compressing", "Deploying", "Deployed", "Failed"]}),
        ("GGUFPhase", ".spec.serving.quantization", {"enum": ["Q2_K", "Q4_K_M", "Q5_K_M", "Q8_0", "auto"]}),
    ],
)
def test_schema_carries_defaults_enums_and_bounds(kind: str, path: str, expected: dict) -> None:
    node = dict(_walk(_schema(kind)))[path]
    for key, value in expected.items():
        assert node.get(key) == value, f"{kind}{path}.{key}: {node.get(key)!r} != {value!r}"


def test_cel_rules_present_for_cross_field_rules() -> None:
    rules = {
        (kind.kind, path, rule["message"])
        for kind in KINDS
        for path, node in _walk(_schema(kind.kind))
        for rule in node.get("x-kubernetes-validations", ())
    }
    messages = {m for _, _, m in rules}
    assert "lora.qlora (4-bit) needs resources.accelerator: gpu" in messages
    assert "gpu needs accelerator: gpu" in messages
    assert "domains must be unique" in messages
    assert "set exactly one of path, configMap, huggingFace or builtin" in messages


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.kind)
def test_crd_names_columns_and_status_subresource(kind) -> None:
    crd = yaml.safe_load(render_crds()[kind.file_name].split("\n", 1)[1])
    names = crd["spec"]["names"]
    assert names["categories"] == ["tara"] and names["shortNames"]
    version = crd["spec"]["versions"][0]
    assert version["subresources"] == {"status": {}}
    columns = [c["name"] for c in version["additionalPrinterColumns"] if not c.get("priority")]
    expected = {
        "DomainTraining": ["Domain", "Phase", "Progress", "Step", "Loss", "Age"],
        "GGUFPhase": ["Phase", "Domains", "Quant", "Endpoint", "Age"],
    }[kind.kind]
    assert columns == expected


def _default_violations(schema: dict) -> list[str]:
    """Every CEL rule that fails on a schema default as written, the way kube-apiserver checks a CRD
    when it is created: each default against the rules of its own node and of the nodes under it,
    without filling nested defaults first."""
    from tara_api.validate import _cel_program, _to_cel, _walk_rules

    found = []
    for path, node in _walk(schema):
        if "default" not in node:
            continue
        for where, rule, value, sub in _walk_rules(node, node["default"], []):
            try:
                ok = bool(_cel_program(rule["rule"]).evaluate({"self": _to_cel(value, sub)}))
            except Exception as exc:  # noqa: BLE001 - the server refuses a rule that errors just the same
                ok, rule = False, {**rule, "message": f"{rule['message']} ({type(exc).__name__})"}
            if not ok:
                found.append(f"{path}{''.join(f'.{p}' for p in where)}: default {node['default']!r} breaks {rule['rule']!r}")
    return found


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.kind)
def test_every_default_passes_the_cel_rules_as_the_server_checks_them(kind) -> None:
    schema = yaml.safe_load(render_crds()[kind.file_name])["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    assert _default_violations(schema) == []


def test_the_default_check_finds_an_empty_default_under_a_rule() -> None:
    # what crds/tara.dev_ggufphases.yaml had before: `routerWeights: {default: {}}` under a rule reading self.content
    schema = yaml.safe_load(render_crds()["tara.dev_ggufphases.yaml"])["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    weights = schema["properties"]["spec"]["properties"]["serving"]["properties"]["routerWeights"]
    weights["default"] = {}
    assert [v.split(":")[0] for v in _default_violations(schema)] == [".spec.serving.routerWeights"]
