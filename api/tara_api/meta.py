"""Shared building blocks of the API types: the base model, Kubernetes-style names,
quantities, conditions and object metadata.

Invariants: every model forbids unknown fields (as ``kubectl apply`` does with strict field
validation), uses camelCase on the wire, and carries a description on every field, because the
CRD generator turns those descriptions into ``kubectl explain`` text.
"""

from __future__ import annotations

import enum
import math
import re
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema
from pydantic.alias_generators import to_camel

__all__ = [
    "API_VERSION",
    "GROUP",
    "VERSION",
    "ApiModel",
    "CelRule",
    "Condition",
    "ConditionStatus",
    "DNS1123_LABEL",
    "DNS1123_SUBDOMAIN",
    "DnsLabel",
    "DnsSubdomain",
    "ObjectMeta",
    "ByteQuantity",
    "Quantity",
    "quantity_bytes",
]

GROUP = "tara.dev"
VERSION = "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"

DNS1123_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
DNS1123_SUBDOMAIN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
# The API server's resource.Quantity grammar (k8s.io/apimachinery/pkg/api/resource).
QUANTITY = r"^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$"


class CelRule(BaseModel):
    """One CEL ``x-kubernetes-validations`` rule, written into the CRD on the model it belongs to.

    The same rule is also enforced in Python by the model's validators; a test proves the two
    agree on every example and invalid case.
    """

    model_config = ConfigDict(frozen=True)

    rule: str
    message: str
    field_path: str | None = None

    def to_schema(self) -> dict[str, str]:
        out = {"rule": self.rule, "message": self.message}
        if self.field_path:
            out["fieldPath"] = self.field_path
        return out


def _attach_cel_rules(schema: dict[str, Any], cls: type) -> None:
    rules = getattr(cls, "cel_rules", ())
    if rules:
        schema["x-kubernetes-validations"] = [rule.to_schema() for rule in rules]


class ApiModel(BaseModel):
    """Base of every spec and status model: camelCase on the wire, unknown fields rejected."""

    model_config = ConfigDict(
        json_schema_extra=_attach_cel_rules,
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        frozen=True,
        use_enum_values=False,
        validate_default=True,
    )
    # CEL rules attached to this object in the generated CRD.
    cel_rules: ClassVar[tuple[CelRule, ...]] = ()

    def to_wire(self) -> dict[str, Any]:
        """The object as it travels to the API: camelCase, JSON types, unset optionals left out."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


DnsLabel = Annotated[
    str,
    Field(min_length=1, max_length=63, pattern=DNS1123_LABEL),
]
DnsSubdomain = Annotated[
    str,
    Field(min_length=1, max_length=253, pattern=DNS1123_SUBDOMAIN),
]


def _quantity_to_str(value: Any) -> Any:
    # YAML turns `cpu: 4` into an int; the API server accepts both, and so do we.
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return str(value)
    return value


def _quantity(pattern: str) -> Any:
    """A Kubernetes quantity field (an int or a string in the CRD) matching ``pattern``."""
    return Annotated[
        str,
        BeforeValidator(_quantity_to_str),
        Field(pattern=pattern),
        WithJsonSchema({"anyOf": [{"type": "integer"}, {"type": "string"}], "pattern": pattern, "x-kubernetes-int-or-string": True}),
    ]


Quantity = _quantity(QUANTITY)


# A size the user states as a limit: the same grammar without a sign ("-1Gi" is no limit).
UNSIGNED_QUANTITY = "^" + QUANTITY.removeprefix(r"^(\+|-)?")

ByteQuantity = _quantity(UNSIGNED_QUANTITY)

_SUFFIXES = {"": 1, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60,
             "n": Decimal("1e-9"), "u": Decimal("1e-6"), "m": Decimal("1e-3"),
             "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18}
_QUANTITY_PARTS = re.compile(r"^(?P<number>[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))"
                             r"(?:[eE](?P<exponent>[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))|(?P<suffix>[A-Za-z]*))$")


def quantity_bytes(value: str | int) -> int:
    """A memory-style quantity as whole bytes, rounded up as the API server does: ``"200Mi"`` →
    209715200, ``"1.5G"`` → 1500000000, ``"1e3"`` → 1000. Raises ValueError for anything else."""
    text = str(value).strip()
    m = _QUANTITY_PARTS.match(text)
    if not m or (m["exponent"] is None and m["suffix"] not in _SUFFIXES):
        raise ValueError(f"{value!r} is not a Kubernetes quantity")
    number = Decimal(m["number"])
    scaled = number * Decimal(10) ** Decimal(m["exponent"]) if m["exponent"] is not None else number * _SUFFIXES[m["suffix"]]
    return math.ceil(scaled)


class ConditionStatus(enum.StrEnum):
    TRUE = "True"
    FALSE = "False"
    UNKNOWN = "Unknown"


class Condition(ApiModel):
    """A Kubernetes-style condition (metav1.Condition): one observation of the resource's state."""

    type: str = Field(
        description="Condition type in CamelCase, e.g. Ready, Progressing, Degraded.",
        pattern=r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$",
        max_length=316,
    )
    status: ConditionStatus = Field(description="True, False or Unknown.")
    reason: str = Field(
        description="Machine-readable CamelCase reason for the last transition, e.g. JobRunning, QualityGateFailed.",
        pattern=r"^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$",
        min_length=1,
        max_length=1024,
    )
    message: str = Field(default="", description="Human-readable detail of the last transition.", max_length=32768)
    last_transition_time: datetime = Field(description="When the condition last changed status (RFC 3339).")
    observed_generation: int | None = Field(
        default=None, ge=0, description="The .metadata.generation the condition was computed from."
    )


class ObjectMeta(BaseModel):
    """The parts of Kubernetes object metadata that TARA checks; everything else passes through."""

    model_config = ConfigDict(extra="allow", frozen=True)

    name: DnsSubdomain | None = Field(default=None, description="Object name (DNS-1123 subdomain).")
    namespace: DnsLabel | None = Field(default=None, description="Namespace (DNS-1123 label).")
    generate_name: str | None = Field(default=None, alias="generateName", description="Name prefix.")
    labels: dict[str, str] | None = Field(default=None, description="Labels.")
    annotations: dict[str, str] | None = Field(default=None, description="Annotations.")
    generation: int | None = Field(default=None, description="Generation of the desired state.")
