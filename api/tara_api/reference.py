"""Generate the Markdown resource reference from the CRD schemas (and so from the API types).

Each object gets one table of its fields (type, default, constraints, description) followed by
its cross-field rules; nested objects get their own section, linked by anchor.
"""

from __future__ import annotations

import json
from typing import Any

from tara_api.crd import KINDS, ResourceKind, crd_for
from tara_api.quant import QUANT_TYPES

__all__ = ["render_reference"]


def _type(schema: dict[str, Any]) -> str:
    if schema.get("x-kubernetes-int-or-string"):
        return "int or string"
    kind = schema.get("type", "any")
    if kind == "array":
        return f"[]{_type(schema.get('items', {}))}"
    if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        return f"map[string]{_type(schema['additionalProperties'])}"
    return kind


def _constraints(schema: dict[str, Any]) -> str:
    parts = []
    if "enum" in schema:
        parts.append("one of " + ", ".join(f"`{v}`" for v in schema["enum"]))
    for key, sign in (("minimum", ">"), ("maximum", "<")):
        if key in schema:
            exclusive = schema.get("exclusiveMinimum" if key == "minimum" else "exclusiveMaximum")
            parts.append(f"{sign}{'' if exclusive else '='} {schema[key]}")
    if "minLength" in schema or "maxLength" in schema:
        parts.append(f"length {schema.get('minLength', 0)}..{schema.get('maxLength', '∞')}")
    if "minItems" in schema or "maxItems" in schema:
        parts.append(f"items {schema.get('minItems', 0)}..{schema.get('maxItems', '∞')}")
    if schema.get("x-kubernetes-list-type") == "set":
        parts.append("unique")
    if "pattern" in schema:
        parts.append(f"pattern `{schema['pattern']}`")
    for rule in schema.get("x-kubernetes-validations", ()) if schema.get("type") != "object" else ():
        parts.append(rule["message"])
    return "; ".join(parts)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _section(title: str, anchor: str, schema: dict[str, Any], out: list[str]) -> None:
    out += [f'<a id="{anchor}"></a>', f"### `{title}`", "", schema.get("description", ""), ""]
    required = set(schema.get("required", ()))
    out += ["| Field | Type | Required | Default | Constraints | Description |", "|---|---|---|---|---|---|"]
    nested: list[tuple[str, str, dict[str, Any]]] = []
    for name, sub in schema.get("properties", {}).items():
        target = sub.get("items", sub) if sub.get("type") == "array" else sub
        type_text = _type(sub)
        if "properties" in target:
            child_anchor = f"{anchor}-{name.lower()}"
            nested.append((f"{title}.{name}", child_anchor, target))
            type_text = f"[{type_text}](#{child_anchor})"
        default = f"`{json.dumps(sub['default'])}`" if "default" in sub else ""
        out.append(
            f"| `{name}` | {type_text} | {'yes' if name in required else ''} | {_cell(default)} | "
            f"{_cell(_constraints(sub))} | {_cell(sub.get('description', ''))} |"
        )
    rules = schema.get("x-kubernetes-validations", ())
    if rules:
        out += ["", "Rules:", ""] + [f"- {r['message']} (`{_cell(r['rule'])}`)" for r in rules]
    out.append("")
    for child in nested:
        _section(*child, out)


def _kind(kind: ResourceKind, out: list[str]) -> None:
    crd = crd_for(kind)
    version = crd["spec"]["versions"][0]
    root = version["schema"]["openAPIV3Schema"]
    out += [f"## {kind.kind}", "", root["description"], ""]
    out += [
        f"- API: `{crd['spec']['group']}/{version['name']}`, namespaced; plural `{kind.plural}`; "
        f"short names {', '.join(f'`{s}`' for s in kind.short_names)}; category `tara` (`kubectl get tara`).",
        "- `kubectl get` columns: " + ", ".join(c.name for c in kind.columns if not c.priority)
        + "; with `-o wide` also " + ", ".join(c.name for c in kind.columns if c.priority) + ".",
        "",
    ]
    _section(f"{kind.kind}.spec", f"{kind.kind.lower()}-spec", root["properties"]["spec"], out)
    _section(f"{kind.kind}.status", f"{kind.kind.lower()}-status", root["properties"]["status"], out)


def render_reference() -> str:
    out = [
        "# TARA resource reference",
        "",
        "Generated from the API types in `api/tara_api` by `make crds`; do not edit by hand.",
        "The same text is in the CRDs, so `kubectl explain domaintraining.spec.training` shows it too.",
        "",
        "Contents: " + ", ".join(f"[{k.kind}](#{k.kind.lower()})" for k in KINDS) + ", [Quantization types](#quantization-types).",
        "",
    ]
    for kind in KINDS:
        _kind(kind, out)
    out += [
        "## Quantization types",
        "",
        "| Type | Nominal bits/weight | Default max perplexity increase | Use |",
        "|---|---|---|---|",
    ]
    out += [
        f"| `{q.type}` | {q.nominal_bits_per_weight} | {q.default_max_perplexity_increase:.0%} | {q.use} |"
        for q in QUANT_TYPES.values()
    ]
    return "\n".join(out) + "\n"
