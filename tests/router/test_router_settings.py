"""The router's settings as the README lists them, and what two of them do over HTTP (``tara_router.app``
in front of a stub upstream): a request llama-server does not answer within ``TARA_ROUTER_TIMEOUT`` is 504,
and a connect error is retried ``TARA_ROUTER_RETRIES`` times. Fast: no llama-server."""

from __future__ import annotations

import asyncio
import re
import socket
import time
from pathlib import Path

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from tara_router.app import build_app
from tara_router.config import RouterConfig
from tara_router.settings import RouterSettings

ROOT = Path(__file__).resolve().parents[2]
CHAT = {"model": "tara-business", "messages": [{"role": "user", "content": "How do I price a SaaS product?"}]}


def _router_section() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    return readme.split("## The router", 1)[1].split("\n## ", 1)[0]


def test_every_setting_the_readme_names_is_read_from_its_variable() -> None:
    named = set(re.findall(r"TARA_ROUTER_[A-Z_]+", _router_section()))
    values = {"TARA_ROUTER_CONFIG": "/x/router.json", "TARA_ROUTER_HOST": "127.0.0.2", "TARA_ROUTER_PORT": "9999",
              "TARA_ROUTER_UPSTREAM": "http://u:1", "TARA_ROUTER_TIMEOUT": "7.5", "TARA_ROUTER_RETRIES": "5",
              "TARA_ROUTER_MAX_BODY": "4096", "TARA_ROUTER_MAX_TOKENS": "64", "TARA_ROUTER_CACHE_SIZE": "3",
              "TARA_ROUTER_LOG_PROMPTS": "true", "TARA_ROUTER_CRISIS_RESOURCES": "call 112",
              "TARA_ROUTER_WORKERS": "3"}
    assert named <= set(values), f"the README names settings this test does not know: {sorted(named - set(values))}"
    read = RouterSettings.from_env(values)
    default = RouterSettings()
    assert (default.timeout_s, default.connect_retries, default.max_body_bytes, default.max_tokens) == (300.0, 2, 1_048_576, 2048)
    got = read.model_dump()
    for variable in named:
        [field] = [f for f, info in RouterSettings.model_fields.items() if f"[{variable}]" in (info.description or "")]
        assert got[field] != getattr(default, field), (variable, field)  # the variable moved its field


async def _ask(settings: RouterSettings, upstream_url: str) -> tuple[int, dict]:
    config = RouterConfig.model_validate({"upstream": upstream_url, "domains": [
        {"name": "healthcare", "adapterId": 0}, {"name": "business", "adapterId": 1}]})
    async with TestClient(TestServer(build_app(config, settings))) as client:
        r = await client.post("/v1/chat/completions", json=CHAT)
        return r.status, await r.json()


def test_an_upstream_slower_than_the_timeout_is_504() -> None:
    async def run() -> tuple[int, dict]:
        async def slow(request: web.Request) -> web.Response:
            await asyncio.sleep(3)
            return web.json_response({})

        upstream = web.Application()
        upstream.router.add_post("/v1/chat/completions", slow)
        async with TestServer(upstream) as stub:
            return await _ask(RouterSettings(timeout_s=0.3), str(stub.make_url("/")))

    status, body = asyncio.run(run())
    assert status == 504, body
    assert set(body["error"]) == {"message", "type", "param", "code"}


def test_connect_errors_are_retried_then_503_naming_llama_server() -> None:
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    t0 = time.monotonic()
    status, body = asyncio.run(_ask(RouterSettings(connect_retries=3), f"http://127.0.0.1:{port}"))
    assert status == 503 and "llama-server" in body["error"]["message"], body
    assert time.monotonic() - t0 >= 0.1 + 0.2 + 0.4  # three retries, each after its backoff
