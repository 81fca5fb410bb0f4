"""The router's OpenAPI document (``GET /openapi.json``), generated from the contract's pydantic
models (``contract``), never written by hand: the schemas the router validates with are the schemas
it publishes. Pure: settings and model names in, a JSON-ready dict out."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic.json_schema import models_json_schema

from tara_router.contract import ChatRequest, CompletionRequest, ErrorBody
from tara_router.settings import RouterSettings
from tara_router.validation import MAX_JSON_DEPTH

__all__ = ["openapi_document"]

_REF = "#/components/schemas/{model}"
_ERRORS = {
    "400": "Invalid request: the error's param names the offending parameter.",
    "404": "Unknown model.",
    "413": "Request body over the router's limit.",
    "500": "A router bug (logged and counted in tara_router_internal_errors_total); never a plain-text 500.",
    "502": "llama-server failed or its answer broke off.",
    "503": "llama-server is unreachable or not ready.",
    "504": "llama-server did not answer in time.",
}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _completion_operation(summary: str, request_ref: dict[str, Any], error_ref: dict[str, Any]) -> dict[str, Any]:
    responses: dict[str, Any] = {"200": {
        "description": "The answer (as llama-server gives it, model named) or, with stream, server-sent events ending "
                       "in data: [DONE]; a stream that breaks ends with data: {\"error\": {...}} and no [DONE].",
        "headers": {h: {"schema": {"type": "string"}} for h in ("x-tara-domain", "x-tara-route", "x-tara-emotion",
                                                                "x-tara-scores", "x-tara-confidence", "x-tara-crisis")},
        "content": {**_json({"type": "object"}), "text/event-stream": {"schema": {"type": "string"}}}}}
    responses.update({status: {"description": text, "content": _json(error_ref)} for status, text in _ERRORS.items()})
    return {"post": {"summary": summary, "requestBody": {"required": True, "content": _json(request_ref)}, "responses": responses}}


def _get(summary: str, content_type: str = "application/json") -> dict[str, Any]:
    return {"get": {"summary": summary, "responses": {"200": {"description": summary, "content": {content_type: {}}}}}}


def openapi_document(settings: RouterSettings, models: Sequence[str]) -> dict[str, Any]:
    """The OpenAPI 3.1 document of a router with ``settings`` serving ``models``."""
    refs, defs = models_json_schema([(ChatRequest, "validation"), (CompletionRequest, "validation"),
                                     (ErrorBody, "serialization")], ref_template=_REF)
    error_ref = refs[(ErrorBody, "serialization")]
    limits = {"maxBodyBytes": settings.max_body_bytes, "maxTokens": settings.max_tokens, "maxJsonDepth": MAX_JSON_DEPTH}
    return {
        "openapi": "3.1.0",
        "info": {"title": "TARA router", "version": "1",
                 "description": (f"OpenAI-compatible chat and text completions in front of llama-server. Bodies up to "
                                 f"{settings.max_body_bytes} bytes (TARA_ROUTER_MAX_BODY), JSON nested at most {MAX_JSON_DEPTH} "
                                 f"deep; max_tokens is lowered to {settings.max_tokens} (TARA_ROUTER_MAX_TOKENS). Models: "
                                 f"{', '.join(models)}."),
                 "x-tara-limits": limits, "x-tara-models": list(models)},
        "paths": {
            "/v1/chat/completions": _completion_operation("Chat completion", refs[(ChatRequest, "validation")], error_ref),
            "/v1/completions": _completion_operation("Text completion", refs[(CompletionRequest, "validation")], error_ref),
            "/v1/models": _get("The models: tara-auto and one per domain"),
            "/healthz": _get("Liveness"),
            "/readyz": _get("Readiness: 503 while llama-server is not answering"),
            "/metrics": _get("The router's Prometheus metrics", "text/plain"),
            "/metrics/server": _get("llama-server's Prometheus metrics, passed through", "text/plain"),
            "/openapi.json": _get("This document"),
        },
        "components": {"schemas": defs.get("$defs", {})},
    }
