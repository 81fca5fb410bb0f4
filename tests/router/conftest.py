"""Router test support: a fake llama-server (``FakeUpstream``) and the real router app in front of it,
both on real loopback ports, served by one background event loop (``live``), so tests can speak raw
HTTP to the router (split writes, ``Expect: 100-continue``, chunked bodies). A test module sets
``ROUTER_SETTINGS`` to change the router's settings. ``stub_chat`` is one chat request through the router
app in front of a stub upstream, in the test's own event loop (aiohttp's test server). Also prints the fuzz counts in the terminal
summary (``pytest_terminal_summary``), so CI output shows them without ``-s``."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from tara_router.app import build_app
from tara_router.config import RouterConfig
from tara_router.settings import RouterSettings

FUZZ_COUNTS = pytest.StashKey[list[str]]()


def sse_chunk(text: str) -> bytes:
    return b"data: " + json.dumps({"object": "chat.completion.chunk", "choices": [
        {"index": 0, "delta": {"content": text}, "finish_reason": None}]}).encode() + b"\n\n"


class FakeUpstream:
    """A stand-in for llama-server that records every body it gets. ``mode`` says how it answers:
    ``ok`` (JSON, or three events and ``data: [DONE]`` when streaming; ``crlf``: the same events
    ending in CRLF CRLF, each in two writes), ``plain500``, ``json500``,
    ``loading503``, ``reject400``, or a stream that breaks after two events and half a third:
    ``cut`` (the connection closed), ``reset`` (aborted) or ``no-done`` (ended cleanly, no [DONE])."""

    def __init__(self) -> None:
        self.mode = "ok"
        self.received: list[dict[str, Any]] = []

    def app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/v1/chat/completions", self.answer)
        app.router.add_post("/v1/completions", self.answer)
        return app

    async def answer(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.received.append(body)
        if self.mode == "plain500":
            return web.Response(status=500, text="500 Internal Server Error\nstd::runtime_error")
        if self.mode == "json500":
            return web.json_response({"error": {"code": 500, "message": "image input is not supported", "type": "server_error"}},
                                     status=500)
        if self.mode == "loading503":
            return web.json_response({"error": {"code": 503, "message": "Loading model", "type": "unavailable_error"}}, status=503)
        if self.mode == "reject400":
            return web.json_response({"error": {"code": 400, "message": "the request exceeds the available context size",
                                                 "type": "exceed_context_size_error"}}, status=400)
        if not body.get("stream"):
            return web.json_response({"id": "cmpl-1", "object": "chat.completion", "created": 0, "model": "fake",
                                      "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"},
                                                   "finish_reason": "stop"}]})
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        if self.mode == "crlf":  # events end in CRLF CRLF, each split over two writes
            for part in (sse_chunk(w).replace(b"\n\n", b"\r\n\r\n") for w in ("one", "two", "three")):
                await response.write(part[:9])
                await response.write(part[9:])
            await response.write(b"data: [DONE]\r\n\r\n")
            await response.write_eof()
            return response
        for word in ("one", "two"):
            await response.write(sse_chunk(word))
        if self.mode == "ok":
            await response.write(sse_chunk("three") + b"data: [DONE]\n\n")
            await response.write_eof()
            return response
        await response.write(sse_chunk("three")[:20])  # half an event, then the break
        await asyncio.sleep(0.05)
        if self.mode == "no-done":
            await response.write_eof()
        elif request.transport is not None:
            request.transport.close() if self.mode == "cut" else request.transport.abort()
        return response


class LiveRouter:
    """The router app (``build_app``) in front of a ``FakeUpstream``, on loopback ports, in a
    background event loop; ``url`` and ``port`` are the router's."""

    def __init__(self, settings: RouterSettings) -> None:
        self.settings = settings
        self.upstream = FakeUpstream()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="live-router", daemon=True)
        self.runners: list[web.AppRunner] = []
        self.app: web.Application | None = None
        self.port = 0

    def call(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=60)

    async def _serve(self, app: web.Application) -> int:
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self.runners.append(runner)
        return runner.addresses[0][1]

    async def _start(self) -> None:
        upstream_port = await self._serve(self.upstream.app())
        config = RouterConfig.model_validate({"upstream": f"http://127.0.0.1:{upstream_port}", "domains": [
            {"name": "healthcare", "adapterId": 0}, {"name": "business", "adapterId": 1}]})
        self.app = build_app(config, self.settings)
        self.port = await self._serve(self.app)

    async def _stop(self) -> None:
        for runner in reversed(self.runners):
            await runner.cleanup()
        # a connection still draining a refused body outlives its server's cleanup: end it here
        rest = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in rest:
            task.cancel()
        await asyncio.gather(*rest, return_exceptions=True)

    def __enter__(self) -> LiveRouter:
        self.thread.start()
        self.call(self._start())
        return self

    def __exit__(self, *_exc: object) -> None:
        try:
            self.call(self._stop())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(30)
            self.loop.close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def metric(self, name: str) -> float:
        """The value of an unlabelled metric of the router."""
        from tara_router.app import ROUTER

        assert self.app is not None
        value = self.app[ROUTER].metrics.registry.get_sample_value(name)
        return 0.0 if value is None else value


STUB_ANSWER = {"id": "chatcmpl-1", "object": "chat.completion", "created": 0, "model": "tara",
               "choices": [{"index": 0, "message": {"role": "assistant", "content": "I'm here."}, "finish_reason": "stop"}]}
StubChat = Callable[..., Awaitable[tuple[int, dict[str, str], list[dict[str, Any]], str]]]


async def chat_through_stub(messages: list[dict[str, Any]], settings: RouterSettings | None = None,
                            model: str = "tara-business") -> tuple[int, dict[str, str], list[dict[str, Any]], str]:
    """One chat request through the router (domains healthcare and business) in front of a stub upstream:
    the status, the response headers, the bodies the upstream received, and ``/metrics`` after it."""
    received: list[dict[str, Any]] = []

    async def chat(request: web.Request) -> web.Response:
        received.append(await request.json())
        return web.json_response(STUB_ANSWER)

    upstream = web.Application()
    upstream.router.add_post("/v1/chat/completions", chat)
    async with TestServer(upstream) as stub:
        config = RouterConfig.model_validate({"upstream": str(stub.make_url("/")), "domains": [
            {"name": "healthcare", "adapterId": 0}, {"name": "business", "adapterId": 1}]})
        async with TestClient(TestServer(build_app(config, settings or RouterSettings()))) as client:
            r = await client.post("/v1/chat/completions", json={"model": model, "messages": messages})
            metrics = await (await client.get("/metrics")).text()
            return r.status, dict(r.headers), received, metrics


@pytest.fixture
def stub_chat() -> StubChat:
    return chat_through_stub


@pytest.fixture(scope="module")
def live(request: pytest.FixtureRequest) -> Iterator[LiveRouter]:
    with LiveRouter(getattr(request.module, "ROUTER_SETTINGS", RouterSettings())) as router:
        yield router


@pytest.fixture
def upstream(live: LiveRouter) -> Iterator[FakeUpstream]:
    """The live router's fake upstream, answering ``ok`` again after the test."""
    yield live.upstream
    live.upstream.mode = "ok"


@pytest.fixture
def fuzz_report(request: pytest.FixtureRequest) -> list[str]:
    """Lines for the terminal summary's "router fuzz" section."""
    return request.config.stash.setdefault(FUZZ_COUNTS, [])


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    lines = config.stash.get(FUZZ_COUNTS, [])
    if lines:
        terminalreporter.section("router fuzz")
        for line in lines:
            terminalreporter.write_line(line)
