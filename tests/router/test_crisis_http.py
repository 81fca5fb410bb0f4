"""The crisis path over HTTP (``tara_router.app``) in front of a stub upstream that records what it
receives: a crisis turn anywhere in a multi-turn conversation sends the healthcare adapter and the
crisis system prompt upstream whatever model was asked for, says so in ``x-tara-crisis``, is
counted, and its text is never logged, even with prompt logging on. Fast: no llama-server."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from tara_router.settings import RouterSettings

LOGGING = RouterSettings(log_prompts=True)  # prompt logging on: only crisis text is withheld
CRISIS_TURN = "honestly sometimes i think evryone would be better off without me"


@pytest.mark.parametrize(
    "messages",
    [
        [{"role": "system", "content": "You are a helpful business assistant."},
         {"role": "user", "content": CRISIS_TURN},
         {"role": "assistant", "content": "I'm sorry you feel that way. What's going on?"},
         {"role": "user", "content": "never mind. how do I price my SaaS product?"}],
        [{"role": "user", "content": "How do I price my SaaS product?"},
         {"role": "assistant", "content": "Start from the value to the customer."},
         {"role": "user", "content": [{"type": "text", "text": CRISIS_TURN}]}],
    ],
    ids=["earlier-turn", "last-turn-as-content-parts"],
)
def test_a_crisis_turn_anywhere_takes_the_crisis_path(messages: list[dict[str, Any]], caplog, stub_chat) -> None:
    caplog.set_level(logging.DEBUG, logger="tara_router")
    status, headers, received, metrics = asyncio.run(stub_chat(messages, LOGGING))
    assert status == 200
    assert headers["x-tara-crisis"] == "true" and headers["x-tara-route"] == "crisis"
    assert headers["x-tara-domain"] == "healthcare"  # the asked-for business adapter is overridden
    body = received[0]
    assert body["lora"] == [{"id": 0, "scale": 1.0}, {"id": 1, "scale": 0.0}]
    system = body["messages"][0]
    assert system["role"] == "system" and system["content"].startswith("The person you are talking with may be in crisis")
    assert "988" in system["content"]  # the crisis resources
    assert sum(m["role"] == "system" for m in body["messages"]) == 1  # a request's own system message goes after ours
    assert "tara_router_crisis_total 1.0" in metrics
    assert "crisis path taken" in caplog.text and "better off" not in caplog.text


def test_an_ordinary_conversation_stays_on_its_domain(caplog, stub_chat) -> None:
    caplog.set_level(logging.INFO, logger="tara_router")
    status, headers, received, metrics = asyncio.run(stub_chat([
        {"role": "user", "content": "This pricing bug is killing me"},
        {"role": "user", "content": "How do I price my SaaS product for small businesses?"}], LOGGING))
    assert status == 200 and "x-tara-crisis" not in headers
    assert headers["x-tara-domain"] == "business" and headers["x-tara-route"] == "explicit"
    assert received[0]["lora"] == [{"id": 0, "scale": 0.0}, {"id": 1, "scale": 1.0}]
    assert "tara_router_crisis_total 0.0" in metrics
    assert "How do I price" in caplog.text  # prompt logging is on: only crisis text is withheld


def test_tara_base_answers_with_every_adapter_off_but_still_takes_the_crisis_path(stub_chat) -> None:
    status, headers, received, _metrics = asyncio.run(stub_chat([{"role": "user", "content": "How do I price my SaaS product?"}], LOGGING,
                                                                        "tara-base"))
    assert status == 200 and headers["x-tara-domain"] == "base" and headers["x-tara-route"] == "explicit"
    assert received[0]["lora"] == [{"id": 0, "scale": 0.0}, {"id": 1, "scale": 0.0}]
    _status, headers, received, _metrics = asyncio.run(stub_chat([{"role": "user", "content": CRISIS_TURN}], LOGGING, "tara-base"))
    assert headers["x-tara-route"] == "crisis" and received[0]["lora"] == [{"id": 0, "scale": 1.0}, {"id": 1, "scale": 0.0}]
