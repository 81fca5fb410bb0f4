"""The router's settings: one object per process, from ``TARA_ROUTER_*`` variables, read once."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["RouterSettings"]

_FIELDS = {
    "config": "TARA_ROUTER_CONFIG", "host": "TARA_ROUTER_HOST", "port": "TARA_ROUTER_PORT",
    "upstream": "TARA_ROUTER_UPSTREAM", "timeout_s": "TARA_ROUTER_TIMEOUT", "connect_retries": "TARA_ROUTER_RETRIES",
    "max_body_bytes": "TARA_ROUTER_MAX_BODY", "max_tokens": "TARA_ROUTER_MAX_TOKENS",
    "cache_size": "TARA_ROUTER_CACHE_SIZE", "log_prompts": "TARA_ROUTER_LOG_PROMPTS",
    "crisis_resources": "TARA_ROUTER_CRISIS_RESOURCES", "workers": "TARA_ROUTER_WORKERS",
}


class RouterSettings(BaseModel):
    """Process settings of ``tara-router`` (environment variable in brackets)."""

    model_config = ConfigDict(frozen=True)

    config: Path = Field(default=Path("/etc/tara/router/router.json"), description="Routing config [TARA_ROUTER_CONFIG].")
    host: str = Field(default="0.0.0.0", description="Listen address [TARA_ROUTER_HOST].")
    port: int = Field(default=8080, ge=0, le=65535, description="Listen port [TARA_ROUTER_PORT].")
    workers: int = Field(default=1, ge=1, le=64,
                         description="Server processes sharing the listen port (SO_REUSEPORT; the kernel spreads connections "
                                     "over them). Each loads its own embedding model and decision cache; /metrics reports the "
                                     "totals of all. More than one helps only where the pod has a core to spare for each "
                                     "(the sidecar requests 500m CPU) [TARA_ROUTER_WORKERS].")
    upstream: str | None = Field(default=None, description="llama-server URL, overrides the config's [TARA_ROUTER_UPSTREAM].")
    timeout_s: float = Field(default=300.0, gt=0, description="Upstream request timeout [TARA_ROUTER_TIMEOUT].")
    connect_retries: int = Field(default=2, ge=0, le=10, description="Retries on upstream connect errors [TARA_ROUTER_RETRIES].")
    max_body_bytes: int = Field(default=1_048_576, ge=1024, description="Largest request body in bytes, however it is sent "
                                "(Content-Length or chunked); more is 413 [TARA_ROUTER_MAX_BODY].")
    max_tokens: int = Field(default=2048, ge=1, le=2**31 - 1,
                            description="Most tokens one answer may generate: a request's max_tokens above it is lowered to it, "
                                        "and a request without one gets it [TARA_ROUTER_MAX_TOKENS].")
    cache_size: int = Field(default=1024, ge=0, description="Routing decisions kept (LRU) [TARA_ROUTER_CACHE_SIZE].")
    log_prompts: bool = Field(default=False, description="Log request text (never crisis requests) [TARA_ROUTER_LOG_PROMPTS].")
    crisis_resources: str = Field(
        default="If you are in immediate danger, call your local emergency number now. In the US you can call or text 988 "
                "(Suicide & Crisis Lifeline); in the UK and Ireland call Samaritans on 116 123; elsewhere, "
                "findahelpline.com lists free, confidential lines.",
        description="Crisis-resource guidance added to the safe path [TARA_ROUTER_CRISIS_RESOURCES].")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> RouterSettings:
        env = os.environ if env is None else env
        return cls.model_validate({f: env[v] for f, v in _FIELDS.items() if env.get(v)})
