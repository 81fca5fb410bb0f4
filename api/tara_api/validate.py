"""Validate manifests the way the API server would, plus what only our models know.

Three layers run on every TARA document, in this order:

1. **schema**: the CRD's OpenAPI v3 schema, checked by ``jsonschema``'s Draft 4 validator (the
   draft OpenAPI v3.0 schemas follow), with the API server's strict field validation mirrored:
   unknown fields are errors, ``x-kubernetes-list-type: set`` means unique items.
2. **cel**: the CRD's ``x-kubernetes-validations`` evaluated with ``cel-python`` on the object
   after structural defaulting, as the API server evaluates them.
3. **model**: the pydantic API types, which the operator and trainer use; they only add
   problems on paths the first two layers did not already report.

Pure: ``validate_document`` takes a parsed document; ``validate_paths`` is the thin file edge.
Files are read with ``tara_api.safeyaml`` (bounded size, depth and aliases; JSON values only), so
a file that cannot be read is one problem on one line and the other files are still checked.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
from pydantic import BaseModel, ValidationError

from tara_api.crd import KINDS, ResourceKind, apply_defaults, crd_for, kind_by_name
from tara_api.mapping import MAPPING_API_VERSION, DomainModelMapping
from tara_api.meta import API_VERSION, DNS1123_SUBDOMAIN, GROUP
from tara_api.safeyaml import SpecFileError, load_spec_documents

__all__ = [
    "Document",
    "Problem",
    "apply_defaults",
    "load_documents",
    "model_problems",
    "server_problems",
    "validate_document",
    "validate_paths",
    "yaml_files",
]

try:  # CEL is evaluated where a Python CEL library is available (it is a pinned dependency).
    import celpy
    from celpy import celtypes
except ImportError:  # pragma: no cover - exercised only without cel-python
    celpy = None


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one document."""

    document: str
    path: str
    message: str
    layer: str  # yaml | metadata | schema | cel | model

    def __str__(self) -> str:
        where = f"{self.path}: " if self.path else ""
        return f"{self.document}: {where}{self.message} [{self.layer}]"


@dataclass(frozen=True)
class Document:
    source: str
    index: int
    body: Any

    @property
    def label(self) -> str:
        ident = ""
        if isinstance(self.body, dict):
            name = (self.body.get("metadata") or {}).get("name") if isinstance(self.body.get("metadata"), dict) else None
            ident = f" ({self.body.get('kind', '?')}/{name or '?'})"
        return f"{self.source}#{self.index}{ident}"


# ---------------------------------------------------------------- schema layer


def _strict(schema: dict[str, Any]) -> dict[str, Any]:
    """Mirror the API server's strict field validation and list semantics in JSON-schema terms."""
    node = dict(schema)
    if "properties" in node:
        node["properties"] = {k: _strict(v) for k, v in node["properties"].items()}
        if not node.get("x-kubernetes-preserve-unknown-fields"):
            node["additionalProperties"] = False
    elif isinstance(node.get("additionalProperties"), dict):
        node["additionalProperties"] = _strict(node["additionalProperties"])
    if "items" in node:
        node["items"] = _strict(node["items"])
    if node.get("x-kubernetes-list-type") == "set":
        node["uniqueItems"] = True
    return node


@functools.cache
def _root_schema(kind: str) -> dict[str, Any]:
    resource = next(k for k in KINDS if k.kind == kind)
    return crd_for(resource)["spec"]["versions"][0]["schema"]["openAPIV3Schema"]


@functools.cache
def _validator(kind: str) -> jsonschema.Draft4Validator:
    return jsonschema.Draft4Validator(_strict(_root_schema(kind)))


def _dotted(parts: Iterable[Any]) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _schema_problems(doc: Document, kind: str) -> list[Problem]:
    problems = []
    for error in sorted(_validator(kind).iter_errors(doc.body), key=lambda e: list(map(str, e.absolute_path))):
        path = _dotted(error.absolute_path)
        message = error.message
        if error.validator == "additionalProperties":
            extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
            for name in extra:
                problems.append(Problem(doc.label, _dotted([*error.absolute_path, name]), "unknown field", "schema"))
            continue
        if error.validator == "required":
            for name in error.validator_value:
                if isinstance(error.instance, dict) and name not in error.instance:
                    problems.append(Problem(doc.label, _dotted([*error.absolute_path, name]), "required field is missing", "schema"))
            continue
        if error.validator == "anyOf" and error.schema.get("x-kubernetes-int-or-string"):
            message = f"must be an integer or a string, got {error.instance!r}"
        elif error.validator == "minItems" and error.instance == []:
            message = "must not be empty"
        elif error.validator in ("maxItems", "minItems") and isinstance(error.instance, list):  # not the whole list
            bound = "at most" if error.validator == "maxItems" else "at least"
            message = f"has {len(error.instance)} items, {bound} {error.validator_value} allowed"
        elif error.validator in ("maxProperties", "minProperties") and isinstance(error.instance, dict):
            bound = "at most" if error.validator == "maxProperties" else "at least"
            message = f"has {len(error.instance)} entries, {bound} {error.validator_value} allowed"
        problems.append(Problem(doc.label, path, message, "schema"))
    return problems


# ---------------------------------------------------------------- defaulting and CEL


def _to_cel(value: Any, schema: dict[str, Any]) -> Any:
    """Convert JSON to CEL values typed by the schema (a `number` holding 1 is a double, as in Kubernetes)."""
    kind = schema.get("type")
    if isinstance(value, dict):
        props = schema.get("properties", {})
        extra = schema.get("additionalProperties") if isinstance(schema.get("additionalProperties"), dict) else {}
        return celtypes.MapType(
            {celtypes.StringType(k): _to_cel(v, props.get(k, extra)) for k, v in value.items()}
        )
    if isinstance(value, list):
        return celtypes.ListType([_to_cel(v, schema.get("items", {})) for v in value])
    if isinstance(value, bool):
        return celtypes.BoolType(value)
    if kind == "number" and isinstance(value, int | float):
        return celtypes.DoubleType(float(value))
    if isinstance(value, int):
        return celtypes.IntType(value)
    if isinstance(value, float):
        return celtypes.DoubleType(value)
    if isinstance(value, str):
        return celtypes.StringType(value)
    return value


@functools.cache
def _cel_program(rule: str) -> Any:
    env = celpy.Environment()
    return env.program(env.compile(rule))


def _walk_rules(schema: dict[str, Any], value: Any, path: list[Any]) -> Iterator[tuple[list[Any], dict[str, Any], Any, dict]]:
    for rule in schema.get("x-kubernetes-validations", ()):
        yield path, rule, value, schema
    if isinstance(value, dict):
        for name, sub in schema.get("properties", {}).items():
            if name in value:
                yield from _walk_rules(sub, value[name], [*path, name])
    elif isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            yield from _walk_rules(schema["items"], item, [*path, i])


def _cel_problems(doc: Document, kind: str) -> list[Problem]:
    if celpy is None:
        return []
    schema = _root_schema(kind)
    body = apply_defaults(schema, doc.body)
    problems = []
    for path, rule, value, node in _walk_rules(schema, body, []):
        where = _dotted(path) + (rule.get("fieldPath") or "")
        try:
            ok = _cel_program(rule["rule"]).evaluate({"self": _to_cel(value, node)})
        except Exception as exc:  # a rule that cannot run is itself a problem to report
            problems.append(Problem(doc.label, where, f"rule {rule['rule']!r} could not be evaluated: {exc}", "cel"))
            continue
        if not bool(ok):
            problems.append(Problem(doc.label, where, rule["message"], "cel"))
    return problems


# ---------------------------------------------------------------- model layer


def _model_problems(doc: Document, model: type[BaseModel]) -> list[Problem]:
    try:
        # Strict JSON-mode validation: "10" is not an integer here either, as in the schema.
        model.model_validate_json(json.dumps(doc.body), strict=True)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            message = error["msg"].removeprefix("Value error, ")
            if error["type"] == "extra_forbidden":
                message = "unknown field"
            problems.append(Problem(doc.label, _dotted(error["loc"]), message, "model"))
        return problems
    return []


def _covered(path: str, seen: set[str]) -> bool:
    return any(path == p or path.startswith(p + ".") or path.startswith(p + "[") or p.startswith(path) for p in seen)


def _metadata_problems(doc: Document) -> list[Problem]:
    meta = doc.body.get("metadata")
    if not isinstance(meta, dict) or not (meta.get("name") or meta.get("generateName")):
        return [Problem(doc.label, "metadata.name", "required: every resource needs a name", "metadata")]
    name = meta.get("name")
    if name is not None and (not isinstance(name, str) or len(name) > 253 or not re.match(DNS1123_SUBDOMAIN, name)):
        return [Problem(doc.label, "metadata.name", f"{name!r} is not a DNS-1123 subdomain (lowercase letters, digits, '-', '.')", "metadata")]
    return []


def _resource(doc: Document) -> ResourceKind:
    resource = kind_by_name(doc.body.get("kind")) if isinstance(doc.body, dict) else None
    if resource is None:
        raise ValueError(f"{doc.label} is not a TARA resource")
    return resource


def server_problems(doc: Document) -> list[Problem]:
    """What the API server would reject: the CRD's schema, then its CEL rules."""
    kind = _resource(doc).kind
    return _schema_problems(doc, kind) + _cel_problems(doc, kind)


def model_problems(doc: Document) -> list[Problem]:
    """What the pydantic API types reject."""
    return _model_problems(doc, _resource(doc).model)


def validate_document(doc: Document) -> list[Problem]:
    """All problems of one parsed document; an empty list means valid. Non-TARA documents are skipped."""
    body = doc.body
    if not isinstance(body, dict):
        return [Problem(doc.label, "", "document is not a mapping", "yaml")]
    api_version = body.get("apiVersion")
    if api_version == MAPPING_API_VERSION:
        return _metadata_problems(doc) + _model_problems(doc, DomainModelMapping)
    if not isinstance(api_version, str) or api_version.split("/")[0] != GROUP:
        return []
    if kind_by_name(body.get("kind")) is None:
        known = ", ".join(k.kind for k in KINDS)
        return [Problem(doc.label, "kind", f"unknown kind {body.get('kind')!r} (known: {known})", "schema")]
    if api_version != API_VERSION:
        return [Problem(doc.label, "apiVersion", f"unsupported version {api_version!r} (use {API_VERSION})", "schema")]
    problems = _metadata_problems(doc) + server_problems(doc)
    seen = {p.path for p in problems}
    problems += [p for p in model_problems(doc) if not _covered(p.path, seen)]
    return problems


def is_tara_document(body: Any) -> bool:
    if not isinstance(body, dict) or not isinstance(body.get("apiVersion"), str):
        return False
    return body["apiVersion"].split("/")[0] == GROUP or body["apiVersion"] == MAPPING_API_VERSION


# ---------------------------------------------------------------- file edge


def yaml_files(paths: Iterable[str | Path]) -> list[Path]:
    """The given files, and the YAML files under the given folders (recursively, sorted)."""
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file()))
        else:
            files.append(path)
    return files


def load_documents(path: Path) -> tuple[list[Document], list[Problem]]:
    """Parse a multi-document YAML file within ``tara_api.safeyaml``'s limits. A file that cannot
    be read (missing, too large, not UTF-8, broken or hostile YAML) is one problem naming the line."""
    try:
        bodies = load_spec_documents(path)
    except SpecFileError as exc:
        return [], [Problem(str(path), "", exc.detail, "yaml")]
    return [Document(str(path), i + 1, b) for i, b in enumerate(bodies) if b is not None], []


def validate_paths(paths: Iterable[str | Path]) -> tuple[list[Document], list[Problem]]:
    """Validate every YAML file under the given files and folders."""
    checked: list[Document] = []
    problems: list[Problem] = []
    files = yaml_files(paths)
    if not files:
        problems.append(Problem(", ".join(map(str, paths)), "", "no YAML files found", "yaml"))
    for file in files:
        docs, load_problems = load_documents(file)
        problems += load_problems
        for doc in docs:
            if is_tara_document(doc.body) or not isinstance(doc.body, dict):
                checked.append(doc)
                problems += validate_document(doc)
    return checked, problems
