"""Pure manifest logic behind ``tara phase``: build a GGUFPhase from arguments, add a domain to
one, find a resource among a file's documents, and check a result with the exact validation
``tara validate`` runs (so a problem reads the same wherever it is found).

No I/O: functions take and return plain dicts and text. Inputs are never mutated; every
function that changes a manifest returns a new one. Errors are ``ManifestError`` with a message
for the user.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Sequence
from typing import Any

from tara_api.crd import dump_yaml
from tara_api.meta import API_VERSION
from tara_api.safeyaml import SpecFileError, load_spec_text
from tara_api.validate import Document, Problem, validate_document

__all__ = [
    "ManifestError",
    "add_domain",
    "build_phase",
    "check",
    "domain_hint",
    "dump_documents",
    "find_document",
    "has_comments",
    "parse_assignments",
    "parse_documents",
    "phase_number_from_name",
]

PHASE_KIND = "GGUFPhase"


class ManifestError(Exception):
    """A request that cannot be turned into a manifest; the message says why."""


def parse_assignments(values: Iterable[str], flag: str) -> dict[str, str]:
    """``["healthcare=hc-v2", ...]`` → ``{"healthcare": "hc-v2"}``. Raises ManifestError."""
    out: dict[str, str] = {}
    for value in values:
        key, sep, rest = value.partition("=")
        if not sep or not key.strip() or not rest.strip():
            raise ManifestError(f"{flag} {value!r}: expected DOMAIN=VALUE")
        if key.strip() in out:
            raise ManifestError(f"{flag} names domain {key.strip()!r} twice")
        out[key.strip()] = rest.strip()
    return out


def phase_number_from_name(name: str) -> int:
    """The number a name like ``phase-2`` or ``phase-2-universal`` carries, else 1."""
    match = re.search(r"(\d+)", name)
    return int(match.group(1)) if match and 1 <= int(match.group(1)) <= 1000 else 1


def _split(values: Iterable[str]) -> list[str]:
    """Repeated flags and comma-separated lists mean the same: ``-q Q4_K_M,Q8_0`` = ``-q Q4_K_M -q Q8_0``."""
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def _weight(raw: str) -> float | str:
    try:
        return float(raw)
    except ValueError:
        return raw  # left to validation, which names the field


def build_phase(
    name: str,
    domains: Sequence[str],
    *,
    quantization: Sequence[str] = (),
    strategy: str | None = None,
    namespace: str | None = None,
    phase_number: int | None = None,
    trainings: dict[str, str] | None = None,
    weights: dict[str, str] | None = None,
    density: float | None = None,
    svd_rank: int | None = None,
) -> dict[str, Any]:
    """A GGUFPhase manifest as ``kubectl apply`` takes it. Values are not validated here (use
    ``check``), except that ``trainings``/``weights`` must name domains of the phase."""
    names = _split(domains)
    if not names:
        raise ManifestError("at least one --domain is needed")
    for flag, mapping in (("--training", trainings or {}), ("--weight", weights or {})):
        unknown = sorted(set(mapping) - set(names))
        if unknown:
            raise ManifestError(f"{flag} names {', '.join(unknown)}, not among the phase's domains ({', '.join(names)})")
    refs: list[dict[str, Any]] = []
    for domain in names:
        ref: dict[str, Any] = {"domain": domain}
        if trainings and domain in trainings:
            ref["training"] = trainings[domain]
        if weights and domain in weights:
            ref["weight"] = _weight(weights[domain])
        refs.append(ref)
    metadata: dict[str, Any] = {"name": name}
    if namespace:
        metadata["namespace"] = namespace
    spec: dict[str, Any] = {
        "phaseNumber": phase_number if phase_number is not None else phase_number_from_name(name),
        "domains": refs,
    }
    quants = _split(quantization)
    if quants:
        spec["quantization"] = quants
    merge: dict[str, Any] = {}
    if strategy:
        merge["strategy"] = strategy
    if density is not None:
        merge["density"] = density
    if svd_rank is not None:
        merge["svdRank"] = svd_rank
    if merge:
        spec["merge"] = merge
    return {"apiVersion": API_VERSION, "kind": PHASE_KIND, "metadata": metadata, "spec": spec}


def _name(body: dict[str, Any]) -> str | None:
    meta = body.get("metadata")
    return meta.get("name") if isinstance(meta, dict) else None


def add_domain(body: dict[str, Any], domain: str, *, training: str | None = None,
               weight: float | None = None) -> dict[str, Any]:
    """A copy of the GGUFPhase ``body`` with ``domain`` appended to ``spec.domains``.
    Raises ManifestError when the body is no GGUFPhase or already has the domain."""
    if not isinstance(body, dict) or body.get("kind") != PHASE_KIND:
        raise ManifestError("not a GGUFPhase")
    out = copy.deepcopy(body)
    spec = out.get("spec")
    if not isinstance(spec, dict):
        raise ManifestError("the GGUFPhase has no spec")
    current = spec.get("domains") or []
    if not isinstance(current, list):
        raise ManifestError("spec.domains is not a list")
    name = _name(out) or "?"
    if any(isinstance(d, dict) and d.get("domain") == domain for d in current):
        raise ManifestError(f"domain {domain!r} is already in phase {name}")
    ref: dict[str, Any] = {"domain": domain}
    if training:
        ref["training"] = training
    if weight is not None:
        ref["weight"] = weight
    spec["domains"] = [*current, ref]
    return out


def check(body: dict[str, Any], source: str, index: int = 1) -> list[Problem]:
    """What ``tara validate`` reports for this document (schema, CEL rules, API types)."""
    return validate_document(Document(source, index, body))


def domain_hint(problems: Iterable[Problem]) -> str | None:
    """A hint when a domain name is the problem: custom domains are allowed, as DNS labels."""
    for problem in problems:
        if re.fullmatch(r"spec\.domains\[\d+\]\.domain", problem.path):
            return ("domain names may be your own, but must be DNS-1123 labels: lowercase letters, digits and '-', "
                    "at most 63 characters (e.g. mental-health)")
    return None


# ---------------------------------------------------------------- multi-document text


def parse_documents(text: str, source: str) -> list[Any]:
    """Every document of a YAML stream, empty ones dropped, read within ``tara_api.safeyaml``'s
    limits. Raises ManifestError naming the line."""
    try:
        return [doc for doc in load_spec_text(text, source) if doc is not None]
    except SpecFileError as exc:
        where = f" at line {exc.line}" if exc.line else ""
        hint = f"; {exc.hint}" if exc.hint else ""
        raise ManifestError(f"{source}: {exc.kind}{where}: {exc.problem}{hint}") from None


def find_document(documents: Sequence[Any], kind: str, name: str | None, source: str) -> int:
    """Index of the ``kind`` document named ``name`` (any name when None and there is exactly
    one). Raises ManifestError listing what the file holds."""
    candidates = [i for i, d in enumerate(documents) if isinstance(d, dict) and d.get("kind") == kind]
    names = [str(_name(documents[i])) for i in candidates]
    if name is None:
        if len(candidates) == 1:
            return candidates[0]
        if not candidates:
            raise ManifestError(f"{source} holds no {kind}")
        raise ManifestError(f"{source} holds several {kind}s ({', '.join(names)}): name one")
    for i, found in zip(candidates, names, strict=True):
        if found == name:
            return i
    held = f" (it holds {', '.join(names)})" if names else ""
    raise ManifestError(f"no {kind} named {name} in {source}{held}")


def dump_documents(documents: Sequence[Any]) -> str:
    """A YAML stream in the documents' own key order, ``---`` between documents."""
    return "---\n".join(dump_yaml(doc) for doc in documents)


def has_comments(text: str) -> bool:
    """Whether rewriting the text through a YAML parser would drop comments."""
    return any(re.match(r"^\s*#|.*\s#", line) for line in text.splitlines())
