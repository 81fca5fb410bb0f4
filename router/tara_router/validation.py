"""Request bodies, from bytes on the wire to a typed request (``contract``), with OpenAI-style
400/404/413 errors (``ApiError``) that name the offending parameter. No routing, no I/O beyond the
request body.

The steps, each with its limit:

1. read the whole body, whatever its transfer encoding and ``Expect: 100-continue``, up to
   ``TARA_ROUTER_MAX_BODY`` bytes (``RouterSettings.max_body_bytes``): a declared length beyond it is
   refused before the body is sent (``expect_handler``), a chunked body as soon as it passes it;
2. parse it as JSON (strict UTF-8; ``NaN``, ``Infinity``, numbers that overflow a double and integers
   beyond 64 bits refused, as llama-server's parser cannot hold them) with a depth guard: nesting
   deeper than ``MAX_JSON_DEPTH`` is a 400, never a ``RecursionError``;
3. refuse lone UTF-16 surrogates (``"\\ud800"``) anywhere: llama-server cannot encode them;
4. validate against the contract's model; the first, most specific error becomes the 400, its
   location the ``param`` (``messages[0].content[1].type``).

The ``Content-Type`` header is not checked: the body is read as JSON whatever it says, as llama-server
and curl's ``-d`` (form-encoded by default) expect.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Awaitable, Callable, Collection
from typing import Any, TypeVar

import aiohttp
from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from pydantic import BaseModel, ValidationError

from tara_router.errors import ApiError

__all__ = ["MAX_JSON_DEPTH", "check_model", "content_text", "expect_handler", "parse_json", "parse_request", "read_body",
           "validation_error"]

MAX_JSON_DEPTH = 64  # arrays and objects inside each other; tool schemas nest a dozen deep at most
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
RequestT = TypeVar("RequestT", bound=BaseModel)


def content_text(content: Any) -> str:
    """A message's text: the string, or the text parts of an OpenAI content-part array joined."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # OpenAI content parts
        return " ".join(p.get("text", "") for p in content if isinstance(p, dict) and isinstance(p.get("text"), str))
    return ""


def _too_large(max_bytes: int, size: int | None = None) -> ApiError:
    what = f"request body of {size} bytes" if size is not None else "request body"
    return ApiError(413, f"{what} exceeds the limit of {max_bytes} bytes (TARA_ROUTER_MAX_BODY)", code="request_too_large")


def expect_handler(max_bytes: int) -> Callable[[web.Request], Awaitable[web.StreamResponse | None]]:
    """An aiohttp ``expect_handler``: 413 before the body is sent when its declared length is over
    ``max_bytes``, ``100 Continue`` otherwise, and a JSON 417 for an expectation other than 100-continue."""

    async def handle(request: web.Request) -> web.StreamResponse | None:
        if request.headers.get("Expect", "").lower() != "100-continue":
            return ApiError(417, f"unsupported Expect header {request.headers.get('Expect', '')[:40]!r}; "
                                 "only 100-continue is supported", param="Expect").response()
        if request.content_length is not None and request.content_length > max_bytes:
            return _too_large(max_bytes, request.content_length).response()
        if request.version >= aiohttp.HttpVersion11:
            await request.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            request.writer.output_size = 0  # the interim response is not the answer's first byte
        return None

    return handle


async def read_body(request: web.Request, max_bytes: int) -> bytes:
    """The whole request body (every chunk, however it arrives); 413 past ``max_bytes``, 400 when
    the body cannot be read (a broken chunked encoding, a closed connection)."""
    if request.content_length is not None and request.content_length > max_bytes:
        raise _too_large(max_bytes, request.content_length)
    body = bytearray()
    try:
        while chunk := await request.content.readany():
            body += chunk
            if len(body) > max_bytes:
                raise _too_large(max_bytes)
    except (aiohttp.ClientPayloadError, HttpProcessingError, ConnectionError) as exc:
        raise ApiError(400, f"cannot read the request body: {type(exc).__name__}") from exc
    return bytes(body)


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number {text[:20]} is out of range")
    return value


def _int64(text: str) -> int:
    value = int(text)
    if not -(2**63) <= value < 2**64:
        raise ValueError(f"integer {text[:20]}... is beyond 64 bits")
    return value


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def _param(path: tuple[str | int, ...]) -> str:
    out = ""
    for key in path:
        name = key if isinstance(key, int) or len(key) <= 64 else key[:61] + "..."  # a client's key may be long
        out += f"[{name}]" if isinstance(name, int) else (f".{name}" if out else name)
    return out


def _too_deep(param: str | None) -> ApiError:
    return ApiError(400, f"the request body nests arrays and objects deeper than {MAX_JSON_DEPTH}", param=param,
                    code="json_too_deep")


def _check_tree(value: Any, surrogates: bool) -> None:
    """Walk ``value`` without recursion: 400 past ``MAX_JSON_DEPTH``, and (``surrogates``) at a string
    or key holding a lone surrogate."""
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(value, ())]
    while stack:
        item, path = stack.pop()
        if isinstance(item, dict | list) and len(path) >= MAX_JSON_DEPTH:
            raise _too_deep(_param(path) or None)
        if isinstance(item, dict):
            for key, child in item.items():
                if surrogates and not _encodable(key):
                    raise ApiError(400, "a key holds a lone UTF-16 surrogate", param=_param((*path, "<key>")),
                                   code="invalid_string")
                stack.append((child, (*path, key)))
        elif isinstance(item, list):
            stack.extend((child, (*path, i)) for i, child in enumerate(item))
        elif surrogates and isinstance(item, str) and not _encodable(item):
            raise ApiError(400, "the string holds a lone UTF-16 surrogate (\\ud800-\\udfff without its pair)", param=_param(path),
                           code="invalid_string")


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def parse_json(raw: bytes) -> dict[str, Any]:
    """``raw`` as a JSON object within the depth limit and without lone surrogates (400 otherwise)."""
    try:
        # strict UTF-8: json.loads(bytes) would let UTF-8-encoded surrogates through ('surrogatepass')
        body = json.loads(raw.decode("utf-8"), parse_float=_finite, parse_int=_int64, parse_constant=_no_constant)
    except RecursionError as exc:
        raise _too_deep(None) from exc
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, ours, int digits past the limit
        raise ApiError(400, f"the request body is not valid JSON: {str(exc)[:200]}", code="invalid_json") from exc
    if not isinstance(body, dict):
        raise ApiError(400, f"the request body must be a JSON object, not {type(body).__name__}", code="invalid_json")
    surrogates = _SURROGATE_ESCAPE.search(raw) is not None
    if surrogates or raw.count(b"[") + raw.count(b"{") > MAX_JSON_DEPTH:  # else neither can occur
        _check_tree(body, surrogates)
    return body


def _real_path(loc: tuple[str | int, ...], body: Any, kind: str) -> tuple[str | int, ...]:
    """The part of a pydantic error location that is in the request: pydantic adds union branch tags
    (``str``, ``list[TextPart]``, ``user``) to the keys; the last key of a ``missing`` (required) or
    ``extra_forbidden`` (unknown) error is not in the request, and is kept."""
    path: list[str | int] = []
    node = body
    for i, key in enumerate(loc):
        if isinstance(node, dict) and key in node:
            node = node[key]
        elif isinstance(node, list) and isinstance(key, int) and 0 <= key < len(node):
            node = node[key]
        elif i < len(loc) - 1 or kind not in ("missing", "extra_forbidden"):
            continue  # a union tag
        path.append(key)
    return tuple(path)


def validation_error(exc: ValidationError, body: dict[str, Any]) -> ApiError:
    """The 400 for a failed validation: its most specific error (deepest location; a union's
    alternatives there joined), the location as ``param``."""
    errors = [(_real_path(e["loc"], body, e["type"]), e) for e in exc.errors(include_url=False)]
    depth = max(len(path) for path, _ in errors)
    path, first = next((p, e) for p, e in errors if len(p) == depth)
    param = _param(path) or None
    if first["type"] == "extra_forbidden":
        return ApiError(400, f"Unrecognized request argument supplied: {param}", param=param, code="unknown_parameter")
    if first["type"] in ("union_tag_invalid", "union_tag_not_found"):  # the discriminator: a message's role
        param = f"{param}.role" if param else "role"
    if first["type"] in ("missing", "union_tag_not_found"):
        return ApiError(400, f"'{param}' is required", param=param, code="missing_required_parameter")
    alternatives = dict.fromkeys(e["msg"] for p, e in errors if p == path)
    message = " or ".join(m if i == 0 else m.removeprefix("Input should be ") for i, m in enumerate(alternatives))
    return ApiError(400, f"{param}: {message}" if param else message, param=param, code="invalid_value")


def parse_request(raw: bytes, model: type[RequestT]) -> RequestT:
    """``raw`` as a ``model`` (``contract.ChatRequest`` or ``CompletionRequest``); ApiError (400) naming
    the parameter when it is not one."""
    body = parse_json(raw)
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise validation_error(exc, body) from None


def check_model(model: str | None, auto: str, known: Collection[str]) -> str:
    """The requested model: ``auto`` when absent or empty, else one of ``auto`` and ``known`` (404 otherwise)."""
    model = model or auto
    if model != auto and model not in known:
        names = ", ".join([auto, *known])
        raise ApiError(404, f"model {model[:100]!r} does not exist; use one of {names}", code="model_not_found", param="model")
    return model
