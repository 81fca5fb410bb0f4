"""Forwarding to llama-server: ``Proxy`` owns the upstream client session, posts a shaped request
(retrying refused connections with backoff), passes a streamed answer through chunk by chunk, names
the serving model in a buffered one, and maps an unreachable upstream to 503 and a timeout to 504
(``ApiError`` with type ``upstream_unavailable``). ``decision_headers`` are the ``x-tara-*``
headers that say why a request went where it did."""

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

__all__ = ["Proxy", "decision_headers", "upstream_path"]

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

    async def _stream(self, request: web.Request, upstream: aiohttp.ClientResponse,
                      headers: dict[str, str]) -> web.StreamResponse:
        response = web.StreamResponse(status=upstream.status, headers={
            **headers, "Content-Type": upstream.headers.get("Content-Type", "text/event-stream"), "Cache-Control": "no-cache"})
        await response.prepare(request)
        try:
            async for chunk in upstream.content.iter_any():
                await response.write(chunk)
        except (aiohttp.ClientPayloadError, aiohttp.ClientConnectionError) as exc:
            self.metrics.upstream_errors.labels("stream_broken").inc()
            log.warning("upstream stream broke: %s", exc)
        await response.write_eof()
        return response

    async def _buffered(self, upstream: aiohttp.ClientResponse, headers: dict[str, str],
                        model_name: str | None) -> web.Response:
        data = await upstream.read()
        if upstream.status == 200 and model_name:
            try:
                parsed = json.loads(data)
                parsed["model"] = model_name
                data = json.dumps(parsed).encode()
            except ValueError:
                pass
        return web.Response(status=upstream.status, body=data, headers={
            **headers, "Content-Type": upstream.headers.get("Content-Type", "application/json")})
