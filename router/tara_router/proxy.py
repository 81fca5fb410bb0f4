"""Forwarding to llama-server: ``Proxy`` owns the upstream client session, posts a shaped request
(retrying refused connections with backoff), passes a streamed answer through event by event, names
the serving model in a buffered one. ``decision_headers`` are the ``x-tara-*`` headers that say why a
request went where it did.

What the client sees when llama-server fails, always as OpenAI-style JSON (``ApiError``):

- unreachable: 503 ``upstream_unavailable``/``upstream_unreachable``; a timeout: 504;
- an HTTP error from llama-server (``upstream_error``): its 503 (loading) stays 503, any other 5xx
  is a 502, a 4xx keeps its status; the message is llama-server's, the body ours, never its plain 500;
- a stream that breaks after it started (llama-server killed, the connection cut, a timeout, the
  end of the body without ``data: [DONE]``): the events that arrived whole are passed on, a partial
  one is dropped, then one ``data: {"error": {...}}`` event (type ``upstream_error``, code
  ``upstream_stream_broken``) and the end of the stream, without ``[DONE]``. OpenAI's client
  libraries raise on an event with an ``error`` key, so a cut answer is an error, never a silently
  truncated one.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import aiohttp
from aiohttp import web

from tara_router.emotion import EmotionReading
from tara_router.errors import ApiError
from tara_router.metrics import Metrics
from tara_router.scoring import Decision
from tara_router.settings import RouterSettings

__all__ = ["Proxy", "decision_headers", "stream_error_event", "upstream_error", "upstream_path"]

log = logging.getLogger("tara_router")


def decision_headers(decision: Decision, reading: EmotionReading) -> dict[str, str]:
    headers = {"x-tara-domain": decision.domain or "base", "x-tara-route": decision.reason,
               "x-tara-emotion": reading.label(), "x-tara-scores": decision.header() or "explicit",
               "x-tara-confidence": f"{decision.confidence:.3f}"}
    if reading.crisis:
        headers["x-tara-crisis"] = "true"
    elif reading.care:
        headers["x-tara-crisis"] = "possible"
    return headers


def upstream_path(endpoint: str) -> str:
    return "/v1/chat/completions" if endpoint == "chat" else "/v1/completions"


class Proxy:
    """llama-server at ``upstream`` behind one client session (opened on startup, closed on cleanup)."""

    def __init__(self, upstream: str, settings: RouterSettings, metrics: Metrics) -> None:
        self.upstream, self.settings, self.metrics = upstream, settings, metrics
        self.session: aiohttp.ClientSession | None = None

    async def open(self) -> None:
        timeout = aiohttp.ClientTimeout(total=self.settings.timeout_s, sock_connect=5)
        self.session = aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(limit=256))

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()

    @property
    def client(self) -> aiohttp.ClientSession:
        assert self.session is not None
        return self.session

    async def forward(self, request: web.Request, endpoint: str, body: dict[str, Any], headers: dict[str, str],
                      model_name: str | None) -> web.StreamResponse:
        """Post ``body`` to the endpoint's llama-server path and answer ``request`` with what comes back,
        ``headers`` added; a buffered 200 answer names ``model_name`` as its model."""
        upstream = await self._post(self.upstream + upstream_path(endpoint), body)
        async with upstream:
            if upstream.status >= 400:
                raise await self._failed(upstream)
            if body.get("stream"):
                return await self._stream(request, upstream, headers)
            return await self._buffered(upstream, headers, model_name)

    async def _post(self, url: str, body: dict[str, Any]) -> aiohttp.ClientResponse:
        session = self.client
        retries = self.settings.connect_retries
        for attempt in range(retries + 1):
            try:
                return await session.post(url, json=body)
            except aiohttp.ClientConnectionError as exc:
                if attempt == retries:
                    raise ApiError(503, f"llama-server at {self.upstream} is not reachable ({type(exc).__name__}); "
                                   "it may be starting or down", type_="upstream_unavailable", code="upstream_unreachable") from exc
                await asyncio.sleep(0.1 * 2 ** attempt)
            except TimeoutError as exc:
                raise ApiError(504, f"llama-server did not answer within {self.settings.timeout_s:.0f} s",
                               type_="upstream_unavailable", code="upstream_timeout") from exc
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def _failed(self, upstream: aiohttp.ClientResponse) -> ApiError:
        try:
            data = await upstream.content.read(64 * 1024)
        except (aiohttp.ClientError, TimeoutError):
            data = b""
        error = upstream_error(upstream.status, data)
        log.warning("llama-server answered HTTP %d (%s)", upstream.status, error.code)  # not its message: it may quote the prompt
        return error

    async def _stream(self, request: web.Request, upstream: aiohttp.ClientResponse,
                      headers: dict[str, str]) -> web.StreamResponse:
        """Pass whole events through; end a broken stream with ``stream_error_event``."""
        response = web.StreamResponse(status=upstream.status, headers={
            **headers, "Content-Type": upstream.headers.get("Content-Type", "text/event-stream"), "Cache-Control": "no-cache"})
        await response.prepare(request)
        pending, done, broken = b"", False, None
        try:
            async for chunk in upstream.content.iter_any():
                pending += chunk
                cut = _events_end(pending)
                if cut:
                    events, pending = pending[:cut], pending[cut:]
                    done = done or b"data: [DONE]" in events
                    if not await _write(response, events):
                        return response  # the client left: nobody to tell
        except (aiohttp.ClientError, TimeoutError) as exc:
            broken = type(exc).__name__
        if broken is None and not done:
            broken = "the stream ended without data: [DONE]"
        if broken is not None:
            self.metrics.upstream_errors.labels("stream_broken").inc()
            log.warning("upstream stream broke: %s", broken)
            await _write(response, stream_error_event(broken))
        elif pending:
            await _write(response, pending)
        await _write(response, None)
        return response

    async def _buffered(self, upstream: aiohttp.ClientResponse, headers: dict[str, str],
                        model_name: str | None) -> web.Response:
        try:
            data = await upstream.read()
        except aiohttp.ClientError as exc:
            raise ApiError(502, f"llama-server's answer broke off ({type(exc).__name__}); retry the request",
                           type_="upstream_error", code="upstream_answer_broken") from exc
        except TimeoutError as exc:
            raise ApiError(504, f"llama-server did not finish within {self.settings.timeout_s:.0f} s",
                           type_="upstream_unavailable", code="upstream_timeout") from exc
        if model_name:
            try:
                parsed = json.loads(data)
                parsed["model"] = model_name
                data = json.dumps(parsed).encode()
            except ValueError:
                pass
        return web.Response(status=upstream.status, body=data, headers={
            **headers, "Content-Type": upstream.headers.get("Content-Type", "application/json")})


def _events_end(data: bytes) -> int:
    """Where the last whole server-sent event in ``data`` ends (0: none yet); events end in a blank line."""
    lf, crlf = data.rfind(b"\n\n"), data.rfind(b"\r\n\r\n")
    return max(lf + 2 if lf >= 0 else 0, crlf + 4 if crlf >= 0 else 0)


async def _write(response: web.StreamResponse, data: bytes | None) -> bool:
    """Write ``data`` (None: the end of the stream); False when the client has gone."""
    try:
        await (response.write(data) if data is not None else response.write_eof())
    except ConnectionResetError:  # aiohttp's ClientConnectionResetError too
        return False
    return True


def _upstream_message(data: bytes) -> tuple[str, str | None]:
    """llama-server's error message and type from its body (JSON ``{"error": {...}}`` or text)."""
    try:
        parsed = json.loads(data)
    except ValueError:
        return data.decode("utf-8", "replace").strip()[:300], None
    error = parsed.get("error") if isinstance(parsed, dict) else None
    if isinstance(error, dict):
        kind = error.get("type")
        return str(error.get("message", ""))[:300], kind if isinstance(kind, str) else None
    return str(parsed)[:300], None


def upstream_error(status: int, data: bytes) -> ApiError:
    """The router's answer to llama-server's HTTP error ``status`` with body ``data``: 503 stays 503
    (loading), another 5xx is a 502, a 4xx keeps its status; OpenAI-style, llama-server's message kept."""
    message, kind = _upstream_message(data)
    if status == 503:
        return ApiError(503, f"llama-server is not ready (HTTP 503): {message}", type_="upstream_unavailable",
                        code="upstream_not_ready")
    if status >= 500:
        return ApiError(502, f"llama-server failed (HTTP {status}): {message}", type_="upstream_error", code="upstream_error")
    return ApiError(status, f"llama-server refused the request: {message}", type_=kind or "invalid_request_error",
                    code="upstream_rejected")


def stream_error_event(reason: str) -> bytes:
    """The server-sent event that ends a broken stream (see the module docstring)."""
    error = ApiError(502, f"the answer was cut off: llama-server's stream broke ({reason}); retry the request",
                     type_="upstream_error", code="upstream_stream_broken")
    return b"data: " + json.dumps(error.body()).encode() + b"\n\n"
