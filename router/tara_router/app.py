"""The router's HTTP service (aiohttp): OpenAI-compatible endpoints in front of llama-server.

Per request: read and check the body against the typed contract (``contract``: OpenAI-style
400/404/413 errors naming the parameter, before anything reaches llama-server), decide the domain
(explicit ``tara-<domain>``, or scored for ``tara-auto``; cached), shape the system prompt by the
domain and the conversation's dominant emotion (or take the crisis path), select the domain's LoRA
in llama-server's per-request ``lora`` field (the others at scale 0), forward, and stream the
answer back (a broken stream ends with an error event, see ``proxy``). ``x-tara-domain``,
``x-tara-emotion`` and ``x-tara-scores`` say why. Prompts are not logged unless asked, and crisis
requests never are. Every error is OpenAI-style JSON, a handler's unexpected exception included
(``errors.error_middleware``: logged once, counted, a JSON 500). ``GET /openapi.json`` publishes the
contract (``openapi``).

This module wires the pieces: ``Handlers`` (parse → decide → forward, plus the health, readiness,
model list and metrics endpoints) and ``build_app``. The pieces live in ``errors`` (``ApiError``),
``contract`` (the request models), ``validation`` (body to request), ``decisions`` (``Router``: domain, emotion, prompt, LoRA),
``proxy`` (forwarding to llama-server) and ``metrics`` (``Metrics``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from tara_router.config import ConfigError as ConfigError  # re-exported: build_app raises it
from tara_router.config import RouterConfig
from tara_router.contract import ChatRequest, CompletionRequest
from tara_router.decisions import AUTO, Router
from tara_router.emotion import EmotionReading
from tara_router.errors import ApiError, error_middleware
from tara_router.metrics import Metrics as Metrics  # re-exported for importers of the old module
from tara_router.openapi import openapi_document
from tara_router.proxy import Proxy, decision_headers
from tara_router.scoring import Decision
from tara_router.settings import RouterSettings
from tara_router.validation import check_model, expect_handler, parse_request, read_body

__all__ = ["AUTO", "ROUTER", "Router", "build_app"]

log = logging.getLogger("tara_router")


class Handlers:
    def __init__(self, router: Router) -> None:
        self.router = router
        self.proxy = Proxy(router.upstream, router.settings, router.metrics)
        # one thread embeds: a llama.cpp context is not shared between threads, and the event loop
        # goes on serving other requests while a request is embedded
        self.embedding_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="embed")
        self.openapi_doc = openapi_document(router.settings, [AUTO, *router.models])

    async def start(self, _app: web.Application) -> None:
        await self.proxy.open()

    async def stop(self, _app: web.Application) -> None:
        await self.proxy.close()
        self.embedding_pool.shutdown(wait=True)  # at most one query in flight (milliseconds): nothing outlives the app

    async def _embedded(self, model: str, turns: list[str]) -> tuple[Any, float | None]:
        if not self.router.wants_vector(model, turns):
            return None, None
        return await asyncio.get_running_loop().run_in_executor(self.embedding_pool, self.router.embed_request, turns)

    async def chat(self, request: web.Request) -> web.StreamResponse:
        return await self._serve(request, "chat")

    async def completions(self, request: web.Request) -> web.StreamResponse:
        return await self._serve(request, "completions")

    async def _serve(self, request: web.Request, endpoint: str) -> web.StreamResponse:
        started = time.perf_counter()
        domain_label, status = "none", 500
        settings = self.router.settings
        try:
            raw = await read_body(request, settings.max_body_bytes)
            parsed = parse_request(raw, ChatRequest if endpoint == "chat" else CompletionRequest)
            model = check_model(parsed.model, AUTO, self.router.models)
            turns = parsed.user_turns()
            t0 = time.perf_counter()
            query_vector, view_crisis = await self._embedded(model, turns)
            decision, reading = self.router.decide(model, turns, query_vector, view_crisis)
            domain_label = decision.domain or "base"
            self.router.metrics.observe_decision(decision, reading, time.perf_counter() - t0)
            self._log_decision(decision, reading)
            upstream_body = self._upstream_body(parsed, decision, reading)
            if settings.log_prompts and not (reading.crisis or reading.care):
                log.info("request text: %s", turns[-1][:500] if turns else "")
            t1 = time.perf_counter()
            response = await self.proxy.forward(request, endpoint, upstream_body, decision_headers(decision, reading),
                                                decision.domain and self.router.model_name(decision.domain))
            self.router.metrics.upstream_latency.labels(domain_label).observe(time.perf_counter() - t1)
            status = response.status
            return response
        except ApiError as exc:
            status = exc.status
            if exc.type in ("upstream_unavailable", "upstream_error"):
                self.router.metrics.upstream_errors.labels(exc.code or "unavailable").inc()
            return exc.response()
        finally:
            self.router.metrics.requests.labels(endpoint, domain_label, str(status)).inc()
            self.router.metrics.latency.labels(endpoint).observe(time.perf_counter() - started)

    def _upstream_body(self, parsed: ChatRequest | CompletionRequest, decision: Decision,
                       reading: EmotionReading) -> dict[str, Any]:
        """What llama-server gets: the validated request without ``model``, ``max_tokens`` capped, with
        the domain's ``lora`` and, for chat, our system prompt."""
        upstream_body = parsed.upstream_fields(self.router.settings.max_tokens)
        lora = self.router.lora(decision.domain)
        if lora is not None:
            upstream_body["lora"] = lora
        if isinstance(parsed, ChatRequest):
            upstream_body["messages"] = self.router.with_system(parsed.upstream_messages(), decision, reading)
        return upstream_body

    @staticmethod
    def _log_decision(decision: Decision, reading: EmotionReading) -> None:
        if reading.crisis:
            log.warning("crisis path taken (content not logged)")
        elif not reading.care and log.isEnabledFor(logging.DEBUG):  # per request: metrics count decisions; a log line each costs ~6% of CPU
            log.debug("routed to %s (%s, %s) scores %s", decision.domain or "base", decision.reason, reading.label(), decision.header())

    async def models(self, _request: web.Request) -> web.Response:
        created = 0
        data = [{"id": AUTO, "object": "model", "created": created, "owned_by": "tara"}]
        data += [{"id": name, "object": "model", "created": created, "owned_by": "tara"} for name in self.router.models]
        return web.json_response({"object": "list", "data": data})

    async def healthz(self, _request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def readyz(self, _request: web.Request) -> web.Response:
        session = self.proxy.client
        try:
            async with session.get(self.router.upstream + "/health", timeout=aiohttp.ClientTimeout(total=2)) as r:
                if r.status == 200:
                    return web.json_response({"status": "ready", "upstream": self.router.upstream})
                detail = f"llama-server answered {r.status}"
        except (aiohttp.ClientError, TimeoutError) as exc:
            detail = f"llama-server unreachable: {type(exc).__name__}"
        return web.json_response({"status": "not ready", "reason": detail}, status=503)

    async def metrics(self, _request: web.Request) -> web.Response:
        return web.Response(body=generate_latest(self.router.metrics.exposition), headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def server_metrics(self, _request: web.Request) -> web.Response:
        """llama-server's own Prometheus metrics (tokens/s, requests processing). llama-server listens
        on the pod's loopback only, so the router passes them through for Prometheus to scrape."""
        session = self.proxy.client
        try:
            async with session.get(f"{self.router.upstream}/metrics", timeout=aiohttp.ClientTimeout(total=5)) as r:
                body = await r.read()
                if r.status == 200:
                    return web.Response(body=body, headers={"Content-Type": r.headers.get("Content-Type", CONTENT_TYPE_LATEST)})
                detail = f"llama-server answered {r.status} on /metrics (is it started with --metrics?)"
        except (aiohttp.ClientError, TimeoutError) as exc:
            detail = f"llama-server unreachable: {type(exc).__name__}"
        self.router.metrics.upstream_errors.labels("metrics").inc()
        return ApiError(502, detail, type_="upstream_error", code="upstream_metrics").response()

    async def openapi(self, _request: web.Request) -> web.Response:
        return web.json_response(self.openapi_doc)


ROUTER: web.AppKey[Router] = web.AppKey("router", Router)


def build_app(config: RouterConfig, settings: RouterSettings, embed: Any = None, metrics_dir: Path | None = None) -> web.Application:
    """The router's application; raises ConfigError when the config's semantic index cannot be used.
    ``metrics_dir``: one worker of several, which share their metrics there (``tara_router.workers``)."""
    router = Router(config, settings, embed, metrics_dir)
    handlers = Handlers(router)
    app = web.Application(client_max_size=settings.max_body_bytes + 1,
                          middlewares=[error_middleware(router.metrics.internal_errors.inc)])
    app[ROUTER] = router
    app.on_startup.append(handlers.start)
    app.on_cleanup.append(handlers.stop)
    expect = expect_handler(settings.max_body_bytes)
    app.router.add_post("/v1/chat/completions", handlers.chat, expect_handler=expect)
    app.router.add_post("/v1/completions", handlers.completions, expect_handler=expect)
    app.router.add_get("/v1/models", handlers.models)
    app.router.add_get("/healthz", handlers.healthz)
    app.router.add_get("/readyz", handlers.readyz)
    app.router.add_get("/metrics", handlers.metrics)
    app.router.add_get("/metrics/server", handlers.server_metrics)
    app.router.add_get("/openapi.json", handlers.openapi)
    return app
