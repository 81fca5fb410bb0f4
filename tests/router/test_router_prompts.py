"""What the router logs of a request and what it sends upstream as the system message, over HTTP
(``tara_router.app``) in front of a stub upstream that records what it receives. Fast: no llama-server."""

from __future__ import annotations

import asyncio
import logging

import pytest

from tara_router.settings import RouterSettings

QUESTION = "How should I price the zanzibar-17 widget for small shops?"


@pytest.mark.parametrize("log_prompts", [False, True], ids=["default", "log-prompts"])
def test_prompts_are_logged_only_when_asked(log_prompts: bool, caplog, stub_chat) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, at every level
    status, *_ = asyncio.run(stub_chat([{"role": "user", "content": QUESTION}], RouterSettings(log_prompts=log_prompts)))
    assert status == 200
    assert ("zanzibar-17" in caplog.text) is log_prompts, caplog.text


def test_a_requests_own_system_message_is_kept_after_ours_in_one_system_message(stub_chat) -> None:
    status, _headers, received, _metrics = asyncio.run(stub_chat([{"role": "system", "content": "Answer in French."},
                                                                  {"role": "user", "content": QUESTION}]))
    assert status == 200
    messages = received[0]["messages"]
    assert [m["role"] for m in messages] == ["system", "user"]
    ours, theirs = messages[0]["content"].rsplit("\n\n", 1)
    assert theirs == "Answer in French." and "business" in ours.lower(), messages[0]["content"]
