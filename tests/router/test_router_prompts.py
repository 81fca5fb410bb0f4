"""What the router logs of a request and what it sends upstream as the system message, over HTTP
(``tara_router.app``) in front of a stub upstream that records what it receives. Fast: no llama-server."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from tara_router.app import build_app
from tara_router.config import RouterConfig
from tara_router.settings import RouterSettings

ANSWER = {"id": "chatcmpl-1", "object": "chat.completion", "created": 0, "model": "tara",
          "choices": [{"index": 0, "message": {"role": "assistant", "content": "Sure."}, "finish_reason": "stop"}]}
QUESTION = "How should I price the zanzibar-17 widget for small shops?"


async def _chat(messages: list[dict[str, Any]], settings: RouterSettings) -> tuple[int, list[dict[str, Any]]]:
    received: list[dict[str, Any]] = []

    async def chat(request: web.Request) -> web.Response:
        received.append(await request.json())
        return web.json_response(ANSWER)

    upstream = web.Application()
    upstream.router.add_post("/v1/chat/completions", chat)
    async with TestServer(upstream) as stub:
        config = RouterConfig.model_validate({"upstream": str(stub.make_url("/")), "domains": [
            {"name": "healthcare", "adapterId": 0}, {"name": "business", "adapterId": 1}]})
        async with TestClient(TestServer(build_app(config, settings))) as client:
            r = await client.post("/v1/chat/completions", json={"model": "tara-business", "messages": messages})
            return r.status, received


@pytest.mark.parametrize("log_prompts", [False, True], ids=["default", "log-prompts"])
def test_prompts_are_logged_only_when_asked(log_prompts: bool, caplog) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, at every level
    status, _ = asyncio.run(_chat([{"role": "user", "content": QUESTION}], RouterSettings(log_prompts=log_prompts)))
    assert status == 200
    assert ("zanzibar-17" in caplog.text) is log_prompts, caplog.text


def test_a_requests_own_system_message_is_kept_after_ours_in_one_system_message() -> None:
    status, received = asyncio.run(_chat([{"role": "system", "content": "Answer in French."},
                                          {"role": "user", "content": QUESTION}], RouterSettings()))
    assert status == 200
    messages = received[0]["messages"]
    assert [m["role"] for m in messages] == ["system", "user"]
    ours, theirs = messages[0]["content"].rsplit("\n\n", 1)
    assert theirs == "Answer in French." and "business" in ours.lower(), messages[0]["content"]
