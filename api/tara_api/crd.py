"""Generate ``apiextensions.k8s.io/v1`` CRDs from the API types.

Pydantic's JSON schema is close to, but not, a Kubernetes *structural* schema. This module
turns one into the other: ``$ref`` inlined, ``Optional`` unwrapped (absent, never null),
``additionalProperties: false`` dropped (the API server prunes or, with strict field
validation, rejects unknown fields instead), draft-2020 ``exclusiveMinimum`` turned into the
OpenAPI v3.0 boolean form, titles dropped. Output is deterministic so a test can compare the
committed files byte for byte (``make crds`` rewrites them).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import yaml
from pydantic import BaseModel

from tara_api.domaintraining import DomainTraining, DomainTrainingSpec, DomainTrainingStatus
from tara_api.ggufphase import GGUFPhase, GGUFPhaseSpec, GGUFPhaseStatus
from tara_api.meta import GROUP, VERSION

__all__ = ["DOMAIN_TRAINING", "GGUF_PHASE", "KINDS", "PrinterColumn", "ResourceKind", "apply_defaults", "crd_for", "dump_yaml", "kind_by_name", "render_crds", "structural_schema"]


@dataclass(frozen=True)
class PrinterColumn:
    name: str
    type: str
    json_path: str
    description: str
    priority: int = 0

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "type": self.type,
            "jsonPath": self.json_path,
            "description": self.description,
        }
        if self.priority:
            out["priority"] = self.priority
        return out


@dataclass(frozen=True)
class ResourceKind:
    kind: str
    plural: str
    singular: str
    short_names: tuple[str, ...]
    model: type[BaseModel]
    spec_model: type[BaseModel]
    status_model: type[BaseModel]
    columns: tuple[PrinterColumn, ...]

    @property
    def crd_name(self) -> str:
        return f"{self.plural}.{GROUP}"

    @property
    def file_name(self) -> str:
        return f"{GROUP}_{self.plural}.yaml"


AGE = PrinterColumn("Age", "date", ".metadata.creationTimestamp", "Time since creation.")

KINDS: tuple[ResourceKind, ...] = (
    ResourceKind(
        kind="DomainTraining",
        plural="domaintrainings",
        singular="domaintraining",
        short_names=("dt", "dtrain"),
        model=DomainTraining,
        spec_model=DomainTrainingSpec,
        status_model=DomainTrainingStatus,
        columns=(
            PrinterColumn("Domain", "string", ".spec.domain", "Domain the adapter is trained for."),
            PrinterColumn("Phase", "string", ".status.phase", "Pending, Running, Succeeded, Failed or Suspended."),
            PrinterColumn("Progress", "number", ".status.progress.percent", "Percent of planned steps done."),
            PrinterColumn("Step", "integer", ".status.progress.step", "Optimizer steps done."),
            PrinterColumn("Loss", "number", ".status.progress.loss", "Latest training loss."),
            PrinterColumn("Eval", "number", ".status.progress.evalLoss", "Latest eval loss.", priority=1),
            PrinterColumn("Tok/s", "number", ".status.progress.tokensPerSecond", "Tokens per second.", priority=1),
            PrinterColumn("ETA", "integer", ".status.progress.etaSeconds", "Seconds to completion.", priority=1),
            PrinterColumn("Checkpoint", "integer", ".status.checkpoint.step", "Step of the latest valid checkpoint.", priority=1),
            AGE,
        ),
    ),
    ResourceKind(
        kind="GGUFPhase",
        plural="ggufphases",
        singular="ggufphase",
        short_names=("gp", "gguf"),
        model=GGUFPhase,
        spec_model=GGUFPhaseSpec,
        status_model=GGUFPhaseStatus,
        columns=(
            PrinterColumn("Phase", "string", ".status.phase", "Planning, Training, Merging, Compressing, Deploying, Deployed or Failed."),
            PrinterColumn("Domains", "string", ".status.domainsReady", "Domains whose training is complete."),
            PrinterColumn("Quant", "string", ".spec.quantization[0]", "First requested quantization type."),
            PrinterColumn("Endpoint", "string", ".status.endpoint", "Router endpoint."),
            PrinterColumn("Revision", "integer", ".status.servedRevision", "Build revision serving.", priority=1),
            PrinterColumn("Merge", "string", ".spec.merge.strategy", "Merge strategy.", priority=1),
            AGE,
        ),
    ),
)
# Each kind by name: the operator, the CLI and the trainer take plurals and singulars from here only.
DOMAIN_TRAINING, GGUF_PHASE = KINDS


def kind_by_name(kind: str) -> ResourceKind | None:
    return next((k for k in KINDS if k.kind == kind), None)


_DROP = {"title", "additionalProperties"}
_KEY_ORDER = (
    "description", "type", "format", "enum", "pattern", "minLength", "maxLength", "minimum", "exclusiveMinimum",
    "maximum", "exclusiveMaximum", "minItems", "maxItems", "default", "anyOf", "properties", "required", "items",
    "additionalProperties",
)


def _ordered(node: dict[str, Any]) -> dict[str, Any]:
    rank = {k: i for i, k in enumerate(_KEY_ORDER)}
    return dict(sorted(node.items(), key=lambda kv: (rank.get(kv[0], len(rank)), kv[0])))


def _merge_string_enums(branches: list[dict[str, Any]]) -> dict[str, Any] | None:
    values: list[Any] = []
    for branch in branches:
        if branch.get("type") != "string" or "enum" not in branch:
            return None
        values.extend(v for v in branch["enum"] if v not in values)
    return {"type": "string", "enum": values}


def _convert(node: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    node = dict(node)
    if "$ref" in node:
        target = _convert(defs[node.pop("$ref").rsplit("/", 1)[-1]], defs)
        target.update({k: v for k, v in node.items() if k not in _DROP})
        node = target
    if "const" in node:
        node["enum"] = [node.pop("const")]
    if "anyOf" in node and not node.get("x-kubernetes-int-or-string"):
        branches = [_convert(b, defs) for b in node.pop("anyOf") if b != {"type": "null"}]
        merged = branches[0] if len(branches) == 1 else _merge_string_enums(branches)
        if merged is None:
            raise ValueError(f"cannot express anyOf {branches} in a structural schema")
        node = {**merged, **node}
    if node.get("default", 0) is None:
        del node["default"]
    for bound, flag in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        if isinstance(node.get(bound), int | float) and not isinstance(node.get(bound), bool):
            node[flag] = node.pop(bound)
            node[bound] = True
    if isinstance(node.get("additionalProperties"), dict):
        node["additionalProperties"] = _convert(node["additionalProperties"], defs)
        keep_additional = True
    else:
        keep_additional = False
    if "properties" in node:
        node["properties"] = {k: _convert(v, defs) for k, v in node["properties"].items()}
    if "items" in node:
        node["items"] = _convert(node["items"], defs)
    return _ordered({k: v for k, v in node.items() if k not in _DROP or (k == "additionalProperties" and keep_additional)})


def apply_defaults(schema: dict[str, Any], value: Any) -> Any:
    """Structural defaulting as the API server does it when it reads an object: an absent field with
    a default gets it, then that value's own fields are defaulted (top-down)."""
    if isinstance(value, dict) and "properties" in schema:
        out = dict(value)
        for name, sub in schema["properties"].items():
            if name not in out and "default" in sub:
                out[name] = copy.deepcopy(sub["default"])
            if name in out:
                out[name] = apply_defaults(sub, out[name])
        return out
    if isinstance(value, list) and "items" in schema:
        return [apply_defaults(schema["items"], item) for item in value]
    return value


def _complete_defaults(node: dict[str, Any]) -> None:
    """Write each object default in full. The API server checks a default against the CEL rules of
    its own node exactly as written, without filling nested defaults first (apiextensions-apiserver,
    schema/defaulting/validation.go): ``default: {}`` under a rule that reads ``self.content`` makes
    the whole CRD invalid. The full default is what the server stores anyway."""
    for sub in node.get("properties", {}).values():
        _complete_defaults(sub)
    if isinstance(node.get("items"), dict):
        _complete_defaults(node["items"])
    if isinstance(node.get("default"), dict):
        node["default"] = apply_defaults(node, node["default"])


def structural_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The structural OpenAPI v3 schema of one model (spec or status)."""
    raw = model.model_json_schema(by_alias=True, mode="validation")
    defs = raw.pop("$defs", {})
    schema = _convert(raw, defs)
    _complete_defaults(schema)
    return schema


def crd_for(kind: ResourceKind) -> dict[str, Any]:
    """The CustomResourceDefinition of one kind, as a plain dict."""
    schema = {
        "description": (kind.model.__doc__ or "").strip(),
        "type": "object",
        "properties": {
            "apiVersion": {"description": "APIVersion of this object: tara.dev/v1alpha1.", "type": "string"},
            "kind": {"description": f"Kind of this object: {kind.kind}.", "type": "string"},
            "metadata": {"type": "object"},
            "spec": structural_schema(kind.spec_model),
            "status": structural_schema(kind.status_model),
        },
        "required": ["spec"],
    }
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {
            "name": kind.crd_name,
            "labels": {"app.kubernetes.io/name": "tara", "app.kubernetes.io/part-of": "tara"},
        },
        "spec": {
            "group": GROUP,
            "names": {
                "kind": kind.kind,
                "listKind": f"{kind.kind}List",
                "plural": kind.plural,
                "singular": kind.singular,
                "shortNames": list(kind.short_names),
                "categories": ["tara"],
            },
            "scope": "Namespaced",
            "versions": [
                {
                    "name": VERSION,
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "additionalPrinterColumns": [c.to_dict() for c in kind.columns],
                    "schema": {"openAPIV3Schema": schema},
                }
            ],
        },
    }


class _Dumper(yaml.SafeDumper):
    pass


def _str_presenter(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(str, _str_presenter)


def dump_yaml(obj: Any) -> str:
    """Deterministic YAML: insertion order kept, no line wrapping."""
    return yaml.dump(copy.deepcopy(obj), Dumper=_Dumper, sort_keys=False, width=1_000_000, allow_unicode=False)


HEADER = "# Generated from the API types in api/tara_api by `make crds`. Do not edit.\n"


def render_crds() -> dict[str, str]:
    """File name -> YAML text of every CRD."""
    return {kind.file_name: HEADER + dump_yaml(crd_for(kind)) for kind in KINDS}
