"""The router's HTTP service (aiohttp): OpenAI-compatible endpoints in front of llama-server.

Per request: parse and check the body (OpenAI-style 400/404/413 errors), decide the domain
(explicit ``tara-<domain>``, or scored for ``tara-auto``; cached), shape the system prompt by the
domain and the conversation's dominant emotion (or take the crisis path), select the domain's LoRA
in llama-server's per-request ``lora`` field (the others at scale 0), forward, and stream the
answer back unchanged. ``x-tara-domain``, ``x-tara-emotion`` and ``x-tara-scores`` say why.
Prompts are not logged unless asked, and crisis requests never are.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import logging
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from tara_router.config import ConfigError, RouterConfig
from tara_router.emotion import EmotionReading, read_conversation
from tara_router.scoring import Decision, route
from tara_router.semantic import Embedder, SemanticIndex, open_index
from tara_router.settings import RouterSettings

__all__ = ["AUTO", "ROUTER", "Router", "build_app"]

log = logging.getLogger("tara_router")
AUTO = "tara-auto"
CRISIS_PROMPT = ("The person you are talking with may be in crisis. Respond with warmth and without judgement, take "
                 "what they say seriously, encourage them to reach out to someone they trust and to a crisis line now, "
                 "and do not give instructions that could cause harm. Include this guidance: {resources}")


CARE_NOTE = ("This message may hint that the person is struggling or at risk of harming themselves. Answer what they "
             "asked, and if anything suggests distress, respond with care, gently ask how they are doing and include: {resources}")


class ApiError(Exception):
    def __init__(self, status: int, message: str, type_: str = "invalid_request_error", code: str | None = None,
                 param: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.type, self.code, self.param = status, message, type_, code, param

    def response(self) -> web.Response:
        return web.json_response({"error": {"message": self.message, "type": self.type, "param": self.param,
                                            "code": self.code}}, status=self.status)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter("tara_router_requests_total", "Requests by endpoint, domain and status.",
                                ["endpoint", "domain", "status"], registry=r)
        self.latency = Histogram("tara_router_request_seconds", "Time to the response headers.", ["endpoint"], registry=r,
                                 buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
        self.decision = Histogram("tara_router_decision_seconds", "Time to decide the domain (embedding included), by domain.",
                                  ["domain"], registry=r,
                                  buckets=(0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.003, 0.005, 0.01, 0.025, 0.05))
        self.confidence = Histogram("tara_router_confidence", "Routing confidence of tara-auto decisions (the chosen "
                                    "domain's similarity; base for fallbacks), by domain.", ["domain"], registry=r,
                                    buckets=(0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0))
        self.upstream_latency = Histogram("tara_router_upstream_seconds", "Time in llama-server (to the end of the answer), by domain.",
                                          ["domain"], registry=r, buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60))
        self.routed = Counter("tara_router_routed_total", "Routing decisions by domain and reason.", ["domain", "reason"], registry=r)
        self.emotions = Counter("tara_router_emotion_total", "Dominant emotion of routed conversations.", ["emotion"], registry=r)
        self.crisis = Counter("tara_router_crisis_total", "Requests that took the crisis path.", registry=r)
        self.crisis_semantic = Counter("tara_router_crisis_semantic_total",
                                       "Crisis decisions the semantic check made where no crisis rule matched.", registry=r)
        self.care = Counter("tara_router_care_total", "Requests answered with a care note (a possible risk signal).", registry=r)
        self.cache = Counter("tara_router_cache_total", "Routing cache lookups by result.", ["result"], registry=r)
        self.semantic = Gauge("tara_router_semantic_routing", "1 when tara-auto routes by sentence embeddings, 0 by keywords.",
                              registry=r)
        self.upstream_errors = Counter("tara_router_upstream_errors_total", "Upstream failures by kind.", ["kind"], registry=r)


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # OpenAI content parts
        return " ".join(p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text")
    return ""


class Router:
    """Decisions and request shaping (no I/O), plus the upstream session."""

    def __init__(self, config: RouterConfig, settings: RouterSettings, embed: Any = None) -> None:
        """``embed`` (texts → unit vectors) replaces the configured embedding model (tests)."""
        self.config, self.settings = config, settings
        self.index = config.index()
        self.weights = config.weights_tuple()
        self.cache: OrderedDict[str, tuple[Decision, EmotionReading]] = OrderedDict()
        self.metrics = Metrics()
        self.upstream = (settings.upstream or config.upstream).rstrip("/")
        self.models = {d.model_name: d.name for d in config.domains}
        self.adapters = [d for d in config.domains if d.adapter_id is not None]
        self.semantic: SemanticIndex | None = None
        self.embed = embed
        if config.semantic is not None and not Path(config.semantic.index).is_file():
            log.warning("semantic routing is off: %s does not exist (a build made before builds shipped a routing "
                        "index?); routing by keywords and TF-IDF until the phase is rebuilt", config.semantic.index)
        elif config.semantic is not None:
            sem = config.semantic
            try:
                self.semantic = open_index(sem.index, sem.model, [d.name for d in config.domains], sem.threshold, sem.margin)
                if self.embed is None:
                    self.embed = Embedder(sem.model, threads=sem.threads)
            except (ValueError, OSError, RuntimeError) as exc:
                raise ConfigError(f"semantic routing: {exc}") from exc
        self.metrics.semantic.set(1 if self.semantic is not None else 0)

    @staticmethod
    def key(model: str, user_turns: list[str]) -> str:
        return hashlib.sha256(json.dumps([model, user_turns]).encode()).hexdigest()

    @staticmethod
    def query_text(user_turns: list[str]) -> str:
        """What is embedded: the last three user turns (a follow-up reads with what it follows)."""
        return " ".join(user_turns[-3:])

    def wants_vector(self, model: str, user_turns: list[str]) -> bool:
        """Every uncached request is embedded when an index is loaded: ``tara-auto`` to route it, an
        explicit model too, for the semantic crisis check."""
        return self.semantic is not None and self.key(model, user_turns) not in self.cache

    def embed_query(self, user_turns: list[str]) -> Any:
        return self.embed([self.query_text(user_turns)])[0]

    def decide(self, model: str, user_turns: list[str], query_vector: Any = None) -> tuple[Decision, EmotionReading]:
        """The domain for a request (cached). With semantic routing, ``query_vector`` is the request's
        embedding (``embed_query``); when absent it is computed here."""
        key = self.key(model, user_turns)
        hit = self.cache.get(key)
        if hit is not None:
            self.cache.move_to_end(key)
            self.metrics.cache.labels("hit").inc()
            return hit
        self.metrics.cache.labels("miss").inc()
        reading = read_conversation(user_turns)
        semantic = None
        if self.semantic is not None:
            vector = query_vector if query_vector is not None else self.embed_query(user_turns)
            semantic = self.semantic.score(vector)
            if semantic.crisis_signal and not reading.crisis:  # no rule matched; the meaning did
                reading = dataclasses.replace(reading, crisis=True)
                self.metrics.crisis_semantic.inc()
            elif semantic.care and not reading.crisis:
                reading = dataclasses.replace(reading, care=True)
        if model in self.models:
            decision = Decision(self.models[model], "explicit", 1.0)
        else:
            last = user_turns[-1] if user_turns else ""
            decision = route(self.index, last, " ".join(user_turns), reading, self.weights,
                             self.config.confidence_threshold, self.config.default_domain, semantic=semantic)
        if reading.crisis:
            safe = "healthcare" if self.config.domain("healthcare") else decision.domain
            decision = Decision(safe, "crisis", 1.0, decision.scores, decision.parts)
        if self.settings.cache_size:
            self.cache[key] = (decision, reading)
            if len(self.cache) > self.settings.cache_size:
                self.cache.popitem(last=False)
        return decision, reading

    def lora(self, domain: str | None) -> list[dict[str, Any]] | None:
        if not self.adapters:
            return None
        return [{"id": d.adapter_id, "scale": d.scale if d.name == domain else 0.0} for d in self.adapters]

    def system_prompt(self, domain: str | None, reading: EmotionReading) -> str | None:
        if reading.crisis:
            return CRISIS_PROMPT.format(resources=self.settings.crisis_resources)
        parts: list[str | None] = []
        if domain is not None:
            parts.append(self.config.system_prompt(domain))
            tone = self.config.tone(domain, reading.dominant)
            if tone:
                strength = "strongly" if reading.intensity >= 0.6 else "gently"
                parts.append(f"The user seems to feel {reading.dominant} ({reading.intensity:.0%}); {strength} adapt: {tone}")
        if reading.care:
            parts.append(CARE_NOTE.format(resources=self.settings.crisis_resources))
        text = " ".join(p for p in parts if p)
        return text or None


def _headers(decision: Decision, reading: EmotionReading) -> dict[str, str]:
    headers = {"x-tara-domain": decision.domain or "base", "x-tara-route": decision.reason,
               "x-tara-emotion": reading.label(), "x-tara-scores": decision.header() or "explicit",
               "x-tara-confidence": f"{decision.confidence:.3f}"}
    if reading.crisis:
        headers["x-tara-crisis"] = "true"
    elif reading.care:
        headers["x-tara-crisis"] = "possible"
    return headers


async def _read_json(request: web.Request, max_bytes: int) -> dict[str, Any]:
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


def _check_chat(body: dict[str, Any]) -> list[dict[str, Any]]:
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise ApiError(400, "'messages' must be a non-empty array", param="messages")
    for i, m in enumerate(messages):
        if not isinstance(m, dict) or m.get("role") not in ("system", "user", "assistant", "tool", "developer"):
            raise ApiError(400, f"messages[{i}].role must be system, user, assistant or tool", param=f"messages[{i}].role")
        if not isinstance(m.get("content"), str | list | None):
            raise ApiError(400, f"messages[{i}].content must be a string or an array of parts", param=f"messages[{i}].content")
    return messages


class Handlers:
    def __init__(self, router: Router) -> None:
        self.router = router
        self.session: aiohttp.ClientSession | None = None
        # one thread embeds: a llama.cpp context is not shared between threads, and the event loop
        # goes on serving other requests while a request is embedded
        self.embedding_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="embed")

    async def start(self, _app: web.Application) -> None:
        timeout = aiohttp.ClientTimeout(total=self.router.settings.timeout_s, sock_connect=5)
        self.session = aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(limit=256))

    async def _query_vector(self, model: str, turns: list[str]) -> Any:
        if not self.router.wants_vector(model, turns):
            return None
        return await asyncio.get_running_loop().run_in_executor(self.embedding_pool, self.router.embed_query, turns)

    async def stop(self, _app: web.Application) -> None:
        if self.session is not None:
            await self.session.close()
        self.embedding_pool.shutdown(wait=False)

    def _model(self, body: dict[str, Any]) -> str:
        model = body.get("model") or AUTO
        if not isinstance(model, str):
            raise ApiError(400, "'model' must be a string", param="model")
        if model != AUTO and model not in self.router.models:
            known = ", ".join([AUTO, *self.router.models])
            raise ApiError(404, f"model {model!r} does not exist; use one of {known}", code="model_not_found", param="model")
        return model

    async def chat(self, request: web.Request) -> web.StreamResponse:
        return await self._serve(request, "chat")

    async def completions(self, request: web.Request) -> web.StreamResponse:
        return await self._serve(request, "completions")

    async def _serve(self, request: web.Request, endpoint: str) -> web.StreamResponse:
        started = time.perf_counter()
        domain_label, status = "none", 500
        try:
            body = await _read_json(request, self.router.settings.max_body_bytes)
            model = self._model(body)
            if endpoint == "chat":
                messages = _check_chat(body)
                turns = [_text(m.get("content")) for m in messages if m.get("role") == "user"]
            else:
                prompt = body.get("prompt")
                if not isinstance(prompt, str) or not prompt:
                    raise ApiError(400, "'prompt' must be a non-empty string", param="prompt")
                turns = [prompt]
            t0 = time.perf_counter()
            query_vector = await self._query_vector(model, turns)
            decision, reading = self.router.decide(model, turns, query_vector)
            domain_label = decision.domain or "base"
            self.router.metrics.decision.labels(domain_label).observe(time.perf_counter() - t0)
            if decision.reason in ("scored", "fallback"):
                self.router.metrics.confidence.labels(domain_label).observe(max(0.0, decision.confidence))
            self._count(decision, reading)
            upstream_body = dict(body)
            upstream_body.pop("model", None)
            lora = self.router.lora(decision.domain)
            if lora is not None:
                upstream_body["lora"] = lora
            if endpoint == "chat":
                upstream_body["messages"] = self._with_system(messages, decision, reading)
            if self.router.settings.log_prompts and not (reading.crisis or reading.care):
                log.info("request text: %s", turns[-1][:500])
            t1 = time.perf_counter()
            response = await self._forward(request, endpoint, upstream_body, _headers(decision, reading),
                                           decision.domain and self._model_name(decision.domain))
            self.router.metrics.upstream_latency.labels(domain_label).observe(time.perf_counter() - t1)
            status = response.status
            return response
        except ApiError as exc:
            status = exc.status
            if exc.type == "upstream_unavailable":
                self.router.metrics.upstream_errors.labels(exc.code or "unavailable").inc()
            return exc.response()
        finally:
            self.router.metrics.requests.labels(endpoint, domain_label, str(status)).inc()
            self.router.metrics.latency.labels(endpoint).observe(time.perf_counter() - started)

    def _model_name(self, domain: str) -> str:
        d = self.router.config.domain(domain)
        return d.model_name if d else f"tara-{domain}"

    def _count(self, decision: Decision, reading: EmotionReading) -> None:
        m = self.router.metrics
        m.routed.labels(decision.domain or "base", decision.reason).inc()
        m.emotions.labels(reading.dominant or "neutral").inc()
        if reading.crisis:
            m.crisis.inc()
            log.warning("crisis path taken (content not logged)")
        elif reading.care:
            m.care.inc()
        elif log.isEnabledFor(logging.DEBUG):  # per request: metrics count decisions; a log line each costs ~6% of CPU
            log.debug("routed to %s (%s, %s) scores %s", decision.domain or "base", decision.reason, reading.label(), decision.header())

    def _with_system(self, messages: list[dict[str, Any]], decision: Decision, reading: EmotionReading) -> list[dict[str, Any]]:
        ours = self.router.system_prompt(decision.domain, reading)
        if not ours:
            return messages
        if messages[0].get("role") == "system":  # one system message: chat templates often allow only one
            theirs = _text(messages[0].get("content"))
            return [{"role": "system", "content": f"{ours}\n\n{theirs}"}, *messages[1:]]
        return [{"role": "system", "content": ours}, *messages]

    async def _forward(self, request: web.Request, endpoint: str, body: dict[str, Any], headers: dict[str, str],
                       model_name: str | None) -> web.StreamResponse:
        assert self.session is not None
        path = "/v1/chat/completions" if endpoint == "chat" else "/v1/completions"
        url = self.router.upstream + path
        retries = self.router.settings.connect_retries
        for attempt in range(retries + 1):
            try:
                upstream = await self.session.post(url, json=body)
                break
            except aiohttp.ClientConnectionError as exc:
                if attempt == retries:
                    raise ApiError(503, f"llama-server at {self.router.upstream} is not reachable ({type(exc).__name__}); "
                                   "it may be starting or down", type_="upstream_unavailable", code="upstream_unreachable") from exc
                await asyncio.sleep(0.1 * 2 ** attempt)
            except TimeoutError as exc:
                raise ApiError(504, f"llama-server did not answer within {self.router.settings.timeout_s:.0f} s",
                               type_="upstream_unavailable", code="upstream_timeout") from exc
        async with upstream:
            if body.get("stream"):
                response = web.StreamResponse(status=upstream.status, headers={
                    **headers, "Content-Type": upstream.headers.get("Content-Type", "text/event-stream"), "Cache-Control": "no-cache"})
                await response.prepare(request)
                try:
                    async for chunk in upstream.content.iter_any():
                        await response.write(chunk)
                except (aiohttp.ClientPayloadError, aiohttp.ClientConnectionError) as exc:
                    self.router.metrics.upstream_errors.labels("stream_broken").inc()
                    log.warning("upstream stream broke: %s", exc)
                await response.write_eof()
                return response
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

    async def models(self, _request: web.Request) -> web.Response:
        created = 0
        data = [{"id": AUTO, "object": "model", "created": created, "owned_by": "tara"}]
        data += [{"id": d.model_name, "object": "model", "created": created, "owned_by": "tara"} for d in self.router.config.domains]
        return web.json_response({"object": "list", "data": data})

    async def healthz(self, _request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def readyz(self, _request: web.Request) -> web.Response:
        assert self.session is not None
        try:
            async with self.session.get(self.router.upstream + "/health", timeout=aiohttp.ClientTimeout(total=2)) as r:
                if r.status == 200:
                    return web.json_response({"status": "ready", "upstream": self.router.upstream})
                detail = f"llama-server answered {r.status}"
        except (aiohttp.ClientError, TimeoutError) as exc:
            detail = f"llama-server unreachable: {type(exc).__name__}"
        return web.json_response({"status": "not ready", "reason": detail}, status=503)

    async def metrics(self, _request: web.Request) -> web.Response:
        return web.Response(body=generate_latest(self.router.metrics.registry), headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def server_metrics(self, _request: web.Request) -> web.Response:
        """llama-server's own Prometheus metrics (tokens/s, requests processing). llama-server listens
        on the pod's loopback only, so the router passes them through for Prometheus to scrape."""
        assert self.session is not None
        try:
            async with self.session.get(f"{self.router.upstream}/metrics", timeout=aiohttp.ClientTimeout(total=5)) as r:
                body = await r.read()
                if r.status == 200:
                    return web.Response(body=body, headers={"Content-Type": r.headers.get("Content-Type", CONTENT_TYPE_LATEST)})
                detail = f"llama-server answered {r.status} on /metrics (is it started with --metrics?)"
        except (aiohttp.ClientError, TimeoutError) as exc:
            detail = f"llama-server unreachable: {type(exc).__name__}"
        self.router.metrics.upstream_errors.labels("metrics").inc()
        return web.Response(status=502, text=detail + "\n")


ROUTER: web.AppKey[Router] = web.AppKey("router", Router)


def build_app(config: RouterConfig, settings: RouterSettings, embed: Any = None) -> web.Application:
    """The router's application; raises ConfigError when the config's semantic index cannot be used."""
    router = Router(config, settings, embed)
    handlers = Handlers(router)
    app = web.Application(client_max_size=settings.max_body_bytes + 1)
    app[ROUTER] = router
    app.on_startup.append(handlers.start)
    app.on_cleanup.append(handlers.stop)
    app.router.add_post("/v1/chat/completions", handlers.chat)
    app.router.add_post("/v1/completions", handlers.completions)
    app.router.add_get("/v1/models", handlers.models)
    app.router.add_get("/healthz", handlers.healthz)
    app.router.add_get("/readyz", handlers.readyz)
    app.router.add_get("/metrics", handlers.metrics)
    app.router.add_get("/metrics/server", handlers.server_metrics)
    return app
