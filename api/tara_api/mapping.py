"""``DomainModelMapping``: the domain → base-model mapping file of the original design.

A configuration file (like the kubelet's ``KubeletConfiguration``), not a cluster resource:
``tara validate`` checks it with the same machinery, and the tests hold the example manifests in
``configs/`` to it; no command reads it to make or run manifests.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from tara_api.meta import ApiModel, DnsLabel, ObjectMeta

__all__ = ["MAPPING_API_VERSION", "DomainModelEntry", "DomainModelMapping"]

MAPPING_API_VERSION = "config.tara.dev/v1alpha1"

RepoId = str


class DomainModelEntry(ApiModel):
    """The base model a domain is trained on, and why."""

    base_model: RepoId = Field(
        min_length=3, max_length=200, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$",
        description="Hugging Face repository id of the base model.",
    )
    parameters: str = Field(min_length=1, max_length=16, description="Approximate parameter count, e.g. 3B.")
    phase: int = Field(ge=1, le=1000, description="GGUF phase the domain is served in.")
    alternatives: list[RepoId] = Field(default_factory=list, max_length=16, description="Other bases that fit.")
    rationale: str = Field(default="", max_length=2000, description="Why this base suits the domain.")


class DomainModelMapping(ApiModel):
    """Which base model each domain is fine-tuned from."""

    api_version: Literal["config.tara.dev/v1alpha1"] = Field(default=MAPPING_API_VERSION, description=MAPPING_API_VERSION)
    kind: Literal["DomainModelMapping"] = Field(default="DomainModelMapping", description="DomainModelMapping")
    metadata: ObjectMeta = Field(default_factory=ObjectMeta, description="Name of the mapping.")
    domains: dict[DnsLabel, DomainModelEntry] = Field(min_length=1, description="Domain name → base model.")
