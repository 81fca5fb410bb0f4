"""The routing config: what the operator writes into the ``<phase>-router`` ConfigMap and the local
mode writes to a file. Validated once when loaded; built-in profiles fill what a domain omits.

    {"phase": "phase-1", "revision": 3, "upstream": "http://127.0.0.1:8081",
     "domains": [{"name": "healthcare", "model": "tara-healthcare", "adapterId": 0,
                  "keywords": [...], "corpus": [...], "systemPrompt": "...", "tones": {"fear": "..."},
                  "quality": 0.8, "speed": 0.6, "scale": 1.0}],
     "defaultDomain": null, "confidenceThreshold": 0.35,
     "weights": {"content": 0.4, "emotion": 0.3, "speed": 0.2, "quality": 0.1},
     "semantic": {"index": "/phases/phase-1/r3/router/index.npz",
                  "model": "/phases/phase-1/r3/router/embedder.gguf"}}   # what the phase build shipped
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic.alias_generators import to_camel

from tara_router.profiles import EMOTIONS, PROFILES
from tara_router.scoring import DomainDocs, DomainIndex, Weights

__all__ = ["ConfigError", "DomainRoute", "RouterConfig", "load_config"]


class ConfigError(ValueError):
    """The routing config cannot be used; the message names the file and field."""


class _Model(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True)


class DomainRoute(_Model):
    name: str = Field(pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", max_length=63)
    model: str | None = Field(default=None, description="Model name clients use (default tara-<name>).")
    adapter_id: int | None = Field(default=None, ge=0, description="llama-server LoRA id; None for a merged model.")
    scale: float = Field(default=1.0, gt=0, le=4)
    system_prompt: str | None = None
    tones: dict[str, str] = Field(default_factory=dict)
    keywords: list[str] = Field(default_factory=list)
    corpus: list[str] = Field(default_factory=list, description="Sample texts (e.g. training rows) for TF-IDF.")
    quality: float | None = Field(default=None, ge=0, le=1,
                                  description="Quality 0..1 (default: what the build measured, shipped in its routing index; else 0.5).")
    speed: float | None = Field(default=None, ge=0, le=1)
    affinity: dict[str, float] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _emotions(self) -> DomainRoute:
        unknown = (set(self.tones) | set(self.affinity)) - set(EMOTIONS)
        if unknown:
            raise ValueError(f"unknown emotion(s) {sorted(unknown)}; use {', '.join(EMOTIONS)}")
        return self

    @property
    def model_name(self) -> str:
        return self.model or f"tara-{self.name}"


class WeightsConfig(_Model):
    content: float = Field(default=0.4, ge=0, le=1)
    emotion: float = Field(default=0.3, ge=0, le=1)
    speed: float = Field(default=0.2, ge=0, le=1)
    quality: float = Field(default=0.1, ge=0, le=1)


class SemanticConfig(_Model):
    """Semantic routing: the routing index and embedding model a phase build ships (``router/``)."""

    index: str = Field(description="The build's routing index (router/index.npz).")
    model: str = Field(description="The sentence-embedding GGUF the index was made with (router/embedder.gguf).")
    threads: int = Field(default=2, ge=1, le=64, description="CPU threads for embedding a request.")
    threshold: float | None = Field(default=None, ge=-1, le=1,
                                    description="Least similarity to a domain's utterances to route there (default: the index's calibrated value).")
    margin: float | None = Field(default=None, ge=-1, le=1,
                                 description="How much nearer the background may be than the best domain (default: the index's).")


class RouterConfig(_Model):
    phase: str | None = None
    revision: int | None = None
    upstream: str = "http://127.0.0.1:8081"
    domains: list[DomainRoute] = Field(min_length=1)
    default_domain: str | None = None
    confidence_threshold: float = Field(default=0.35, ge=0, le=1)
    weights: WeightsConfig = Field(default_factory=WeightsConfig)
    semantic: SemanticConfig | None = None

    @model_validator(mode="after")
    def _consistent(self) -> RouterConfig:
        names = [d.name for d in self.domains]
        if len(set(names)) != len(names):
            raise ValueError(f"domains must be unique: {names}")
        if self.default_domain is not None and self.default_domain not in names:
            raise ValueError(f"defaultDomain {self.default_domain!r} is not one of the domains {names}")
        w = self.weights
        if w.content + w.emotion + w.speed + w.quality <= 0:
            raise ValueError("weights must not all be zero")
        return self

    def domain(self, name: str) -> DomainRoute | None:
        return next((d for d in self.domains if d.name == name), None)

    def system_prompt(self, name: str) -> str | None:
        d = self.domain(name)
        profile = PROFILES.get(name)
        return (d.system_prompt if d and d.system_prompt else None) or (profile.system_prompt if profile else None)

    def tone(self, name: str, emotion: str | None) -> str | None:
        if emotion is None:
            return None
        d = self.domain(name)
        profile = PROFILES.get(name)
        return (d.tones.get(emotion) if d else None) or (profile.tones.get(emotion) if profile else None)

    def domain_texts(self) -> list[str]:
        """What each domain is about, as one text (for TF-IDF)."""
        return [doc.text for doc in self._docs({})]

    def index(self, measured_quality: Mapping[str, float] | None = None) -> DomainIndex:
        """TF-IDF vectors and per-domain parts; ``measured_quality`` (from the build) fills the
        quality a domain's config does not set."""
        return DomainIndex(self._docs(measured_quality or {}))

    def _docs(self, measured_quality: Mapping[str, float]) -> list[DomainDocs]:
        docs = []
        for d in self.domains:
            p = PROFILES.get(d.name)
            keywords = set(d.keywords) | set(p.keywords if p else ())
            text = " ".join([p.description if p else d.name, " ".join(sorted(keywords)), *d.corpus])
            docs.append(DomainDocs(d.name, frozenset(k.lower() for k in keywords), text,
                                   d.affinity or (p.affinity if p else {}), d.speed if d.speed is not None else (p.speed if p else 0.5),
                                   d.quality if d.quality is not None else measured_quality.get(d.name, 0.5)))
        return docs

    def weights_tuple(self) -> Weights:
        return Weights(**self.weights.model_dump())


def load_config(path: Path) -> RouterConfig:
    """Read and validate a routing config. Raises ConfigError naming the file and the problem."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read routing config {path}: {exc.strerror or exc}") from exc
    except ValueError as exc:
        raise ConfigError(f"{path}: not JSON: {exc}") from exc
    try:
        return RouterConfig.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or '(root)'}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"{path}: {problems}") from exc
