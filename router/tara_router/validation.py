"""Request bodies: reading them within the size limit and checking them, with OpenAI-style
400/404/413 errors (``ApiError``) that name the offending parameter. No routing, no I/O beyond the
request body."""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import Any

import aiohttp
from aiohttp import web

from tara_router.errors import ApiError

__all__ = ["check_chat", "check_model", "check_prompt", "content_text", "read_json"]


def content_text(content: Any) -> str:
    """A message's text: the string, or the text parts of an OpenAI content-part array joined."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # OpenAI content parts
        return " ".join(p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text")
    return ""


async def read_json(request: web.Request, max_bytes: int) -> dict[str, Any]:
    """The request body as a JSON object, read up to ``max_bytes`` (413 beyond, 400 when unreadable)."""
    if request.content_length is not None and request.content_length > max_bytes:
        raise ApiError(413, f"request body of {request.content_length} bytes exceeds the limit of {max_bytes}", code="request_too_large")
    try:
        raw = await request.content.read(max_bytes + 1)
    except (aiohttp.ClientPayloadError, ValueError) as exc:
        raise ApiError(400, f"cannot read the request body: {exc}") from exc
    if len(raw) > max_bytes:
        raise ApiError(413, f"request body exceeds the limit of {max_bytes} bytes", code="request_too_large")
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise ApiError(400, f"the request body is not valid JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise ApiError(400, "the request body must be a JSON object")
    return body


def check_model(body: dict[str, Any], auto: str, known: Collection[str]) -> str:
    """The requested model: ``auto`` when absent, else one of ``auto`` and ``known`` (404 otherwise)."""
    model = body.get("model") or auto
    if not isinstance(model, str):
        raise ApiError(400, "'model' must be a string", param="model")
    if model != auto and model not in known:
        names = ", ".join([auto, *known])
        raise ApiError(404, f"model {model!r} does not exist; use one of {names}", code="model_not_found", param="model")
    return model


def check_chat(body: dict[str, Any]) -> list[dict[str, Any]]:
    """A chat request's messages: a non-empty array with known roles and string or part-array content."""
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise ApiError(400, "'messages' must be a non-empty array", param="messages")
    for i, m in enumerate(messages):
        if not isinstance(m, dict) or m.get("role") not in ("system", "user", "assistant", "tool", "developer"):
            raise ApiError(400, f"messages[{i}].role must be system, user, assistant or tool", param=f"messages[{i}].role")
        if not isinstance(m.get("content"), str | list | None):
            raise ApiError(400, f"messages[{i}].content must be a string or an array of parts", param=f"messages[{i}].content")
    return messages


def check_prompt(body: dict[str, Any]) -> str:
    """A completion request's prompt: a non-empty string."""
    prompt = body.get("prompt")
    if not isinstance(prompt, str) or not prompt:
        raise ApiError(400, "'prompt' must be a non-empty string", param="prompt")
    return prompt
