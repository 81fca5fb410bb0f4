"""The router's request contract, probe by probe, against the real app on a real port in front of a
fake llama-server (``conftest.LiveRouter``): bodies read whole however they arrive (raw sockets:
``Expect: 100-continue``, split writes, chunked), every bad request a 400 naming its parameter before
anything reaches llama-server, llama-server's failures as OpenAI-style 502/503 JSON, a broken stream
ending in an error event, a handler's bug a JSON 500, and ``/openapi.json`` generated from the models."""

from __future__ import annotations

import http.client
import json
import logging
import socket
import time
from typing import Any

import jsonschema
import pytest
import requests
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from tara_router.app import ROUTER
from tara_router.settings import RouterSettings

ROUTER_SETTINGS = RouterSettings()  # the defaults: a 1 MiB body limit, 2048 tokens at most
LIMIT = ROUTER_SETTINGS.max_body_bytes
CHAT = "/v1/chat/completions"


def chat_body(size: int = 0, **extra: Any) -> bytes:
    """A valid chat request of exactly ``size`` bytes (at least its minimum)."""
    body = {"model": "tara-healthcare", "messages": [{"role": "user", "content": ""}], **extra}
    blank = len(json.dumps(body).encode())
    body["messages"][0]["content"] = "a" * max(0, size - blank)
    return json.dumps(body).encode()


def raw_post(port: int, body: bytes, transfer: str, path: str = CHAT) -> tuple[int, dict[str, Any]]:
    """POST ``body`` over a raw socket: ``length`` (Content-Length), ``chunked`` (64 KiB chunks),
    ``expect`` (Content-Length and ``Expect: 100-continue``, the body only after the interim 100) or
    ``split`` (two TCP writes 0.1 s apart). The status and the JSON answer."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    head = f"POST {path} HTTP/1.1\r\nHost: router\r\nContent-Type: application/json\r\nConnection: close\r\n"
    head += "Transfer-Encoding: chunked\r\n" if transfer == "chunked" else f"Content-Length: {len(body)}\r\n"
    head += "Expect: 100-continue\r\n" if transfer == "expect" else ""
    try:
        sock.sendall(head.encode() + b"\r\n")
        if transfer == "expect" and not _continue(sock):
            return _response(sock)  # refused before the body was sent
        if transfer == "chunked":
            payload = b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in (body[i:i + 65536] for i in range(0, len(body), 65536)))
            body = payload + b"0\r\n\r\n"
        try:
            if transfer == "split":
                sock.sendall(body[:len(body) // 2])
                time.sleep(0.1)
                sock.sendall(body[len(body) // 2:])
            else:
                sock.sendall(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused part way: the answer is waiting
        return _response(sock)
    finally:
        sock.close()


def _continue(sock: socket.socket) -> bool:
    """Consume an interim ``100 Continue``; False when the final answer came instead."""
    seen = sock.recv(4096, socket.MSG_PEEK)
    if not seen.startswith(b"HTTP/1.1 100"):
        return False
    while b"\r\n\r\n" not in seen:
        seen = sock.recv(4096, socket.MSG_PEEK)
    sock.recv(seen.index(b"\r\n\r\n") + 4)
    return True


def _response(sock: socket.socket) -> tuple[int, dict[str, Any]]:
    response = http.client.HTTPResponse(sock)
    response.begin()
    return response.status, json.loads(response.read())


# -- reading the body ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "transfer", "status"),
    [
        (276, "split", 200),
        (300_000, "expect", 200),
        (300_000, "split", 200),
        (400_000, "length", 200),
        (700_000, "chunked", 200),
        (1_000_000, "length", 200),
        (LIMIT, "chunked", 200),
        (LIMIT + 1, "length", 413),
        (LIMIT + 1, "chunked", 413),
        (5_000_000, "chunked", 413),
        (5_000_000, "expect", 413),
    ],
    ids=["276B-split", "300KB-expect", "300KB-split", "400KB", "700KB-chunked", "1MB", "limit-chunked", "limit+1",
         "limit+1-chunked", "5MB-chunked", "5MB-expect"],
)
def test_the_whole_body_is_read_up_to_the_limit(live, upstream, size: int, transfer: str, status: int) -> None:
    before = len(upstream.received)
    status_got, answer = raw_post(live.port, chat_body(size), transfer)
    assert status_got == status, answer
    if status == 200:
        assert len(upstream.received) == before + 1
        assert len(json.dumps(upstream.received[-1]["messages"][-1]["content"])) >= size - 100  # all of it arrived
    else:
        assert answer["error"]["code"] == "request_too_large" and str(LIMIT) in answer["error"]["message"]
        assert len(upstream.received) == before


def test_the_body_limit_is_a_documented_setting() -> None:
    field = RouterSettings.model_fields["max_body_bytes"]
    assert field.default == 1_048_576 and "TARA_ROUTER_MAX_BODY" in (field.description or "")
    assert RouterSettings.from_env({"TARA_ROUTER_MAX_BODY": "2048"}).max_body_bytes == 2048
    assert RouterSettings.from_env({"TARA_ROUTER_MAX_TOKENS": "64"}).max_tokens == 64


# -- bad requests: 400 naming the parameter, nothing upstream ------------------------------------------

USER = {"role": "user", "content": "How do I price my product?"}


def _chat(**fields: Any) -> dict[str, Any]:
    return {"messages": [USER], **fields}


def _parts(*parts: Any) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": list(parts)}]}


BAD_REQUESTS: list[tuple[str, str, Any, int, str | None, str]] = [
    # (id, endpoint, body (dict, or raw bytes), status, param, text in the message)
    ("text-null", CHAT, _parts({"type": "text", "text": None}), 400, "messages[0].content[0].text", "valid string"),
    ("text-list", CHAT, _parts({"type": "text", "text": ["a"]}), 400, "messages[0].content[0].text", "valid string"),
    ("text-number", CHAT, _parts({"type": "text", "text": 5}), 400, "messages[0].content[0].text", "valid string"),
    ("image-part", CHAT, _parts({"type": "text", "text": "see"}, {"type": "image_url", "image_url": {"url": "http://x/y.png"}}),
     400, "messages[0].content[1].type", "only content parts of type 'text'"),
    ("no-parts", CHAT, _parts(), 400, "messages[0].content", "at least 1"),
    ("content-number", CHAT, {"messages": [{"role": "user", "content": 5}]}, 400, "messages[0].content", "valid string or a valid list"),
    ("deep-5000", CHAT, b'{"messages": ' + b"[" * 5000 + b"]" * 5000 + b"}", 400, None, "deeper than 64"),
    ("deep-in-a-field", CHAT, json.dumps(_chat(tools=[{"type": "function", "function": {
        "name": "f", "parameters": json.loads("[" * 70 + "]" * 70)}}])).encode(), 400, "tools[0].function.parameters" + "[0]" * 60,
     "deeper than 64"),
    ("surrogate", CHAT, b'{"messages": [{"role": "user", "content": "caf\\ud800e"}]}', 400, "messages[0].content", "lone UTF-16 surrogate"),
    ("surrogate-key", CHAT, b'{"messages": [{"role": "user", "content": "x"}], "\\udc00": 1}', 400, "<key>", "lone UTF-16 surrogate"),
    ("utf8-surrogate", CHAT, b'{"messages": [{"role": "user", "content": "\xed\xa0\x80"}]}', 400, None, "not valid JSON"),
    ("max-tokens-minus-1", CHAT, _chat(max_tokens=-1), 400, "max_tokens", "greater than or equal to 1"),
    ("max-tokens-0", CHAT, _chat(max_tokens=0), 400, "max_tokens", "greater than or equal to 1"),
    ("max-tokens-string", CHAT, _chat(max_tokens="10"), 400, "max_tokens", "valid integer"),
    ("max-tokens-float", CHAT, _chat(max_tokens=1.5), 400, "max_tokens", "valid integer"),
    ("n-2", CHAT, _chat(n=2), 400, "n", "less than or equal to 1"),
    ("n-0", CHAT, _chat(n=0), 400, "n", "greater than or equal to 1"),
    ("n-true", CHAT, _chat(n=True), 400, "n", "valid integer"),
    ("temperature-3", CHAT, _chat(temperature=3), 400, "temperature", "less than or equal to 2"),
    ("temperature-negative", CHAT, _chat(temperature=-0.1), 400, "temperature", "greater than or equal to 0"),
    ("temperature-string", CHAT, _chat(temperature="hot"), 400, "temperature", "valid number"),
    ("top-p", CHAT, _chat(top_p=1.5), 400, "top_p", "less than or equal to 1"),
    ("stream-string", CHAT, _chat(stream="true"), 400, "stream", "valid boolean"),
    ("stream-1", CHAT, _chat(stream=1), 400, "stream", "valid boolean"),
    ("stop-number", CHAT, _chat(stop=5), 400, "stop", "valid string or a valid list"),
    ("stop-17", CHAT, _chat(stop=["x"] * 17), 400, "stop", "at most 16"),
    ("lora-is-the-routers", CHAT, _chat(lora=[{"id": 1, "scale": 1}]), 400, "lora", "Unrecognized request argument"),
    ("n-predict-bypasses-the-cap", CHAT, _chat(n_predict=-1), 400, "n_predict", "Unrecognized request argument"),
    ("unknown-message-field", CHAT, {"messages": [{**USER, "mood": "x"}]}, 400, "messages[0].mood", "Unrecognized"),
    ("no-messages", CHAT, {"model": "tara-auto"}, 400, "messages", "'messages' is required"),
    ("empty-messages", CHAT, {"messages": []}, 400, "messages", "at least 1"),
    ("bad-role", CHAT, {"messages": [{"role": "robot", "content": "hi"}]}, 400, "messages[0].role", "'robot'"),
    ("no-role", CHAT, {"messages": [USER, {"content": "hi"}]}, 400, "messages[1].role", "'messages[1].role' is required"),
    ("message-string", CHAT, {"messages": ["hi"]}, 400, "messages[0]", "valid dictionary"),
    ("tool-without-id", CHAT, {"messages": [USER, {"role": "tool", "content": "42"}]}, 400, "messages[1].tool_call_id", "required"),
    ("model-number", CHAT, _chat(model=5), 400, "model", "valid string"),
    ("unknown-model", CHAT, _chat(model="gpt-4"), 404, "model", "does not exist"),
    ("nan", CHAT, b'{"messages": [{"role": "user", "content": "x"}], "temperature": NaN}', 400, None, "NaN is not JSON"),
    ("overflow", CHAT, b'{"messages": [{"role": "user", "content": "x"}], "temperature": 1e999}', 400, None, "out of range"),
    ("int-beyond-64-bits", CHAT, b'{"messages": [{"role": "user", "content": "x"}], "max_tokens": 1' + b"0" * 30 + b"}", 400, None,
     "beyond 64 bits"),
    ("not-json", CHAT, b"{not json", 400, None, "not valid JSON"),
    ("empty-body", CHAT, b"", 400, None, "not valid JSON"),
    ("a-list", CHAT, b"[]", 400, None, "must be a JSON object"),
    ("prompt-missing", "/v1/completions", {"max_tokens": 2}, 400, "prompt", "'prompt' is required"),
    ("prompt-empty", "/v1/completions", {"prompt": ""}, 400, "prompt", "at least 1 character"),
    ("prompt-list", "/v1/completions", {"prompt": ["a", "b"]}, 400, "prompt", "valid string"),
    ("completion-messages", "/v1/completions", {"prompt": "x", "messages": [USER]}, 400, "messages", "Unrecognized"),
]


@pytest.mark.parametrize(("endpoint", "body", "status", "param", "text"), [c[1:] for c in BAD_REQUESTS],
                         ids=[c[0] for c in BAD_REQUESTS])
def test_bad_requests_get_an_openai_error_naming_the_parameter(live, upstream, endpoint: str, body: Any, status: int,
                                                              param: str | None, text: str) -> None:
    before = len(upstream.received)
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    r = requests.post(live.url + endpoint, data=data, headers={"Content-Type": "application/json"}, timeout=30)
    assert r.status_code == status, r.text
    error = r.json()["error"]
    assert set(error) == {"message", "type", "param", "code"} and error["type"] == "invalid_request_error"
    assert text in error["message"], error
    assert error["param"] == param or (param == "<key>" and param in error["param"]), error
    assert len(upstream.received) == before, "a bad request reached llama-server"


@pytest.mark.parametrize(
    ("fields", "sent"),
    [
        ({}, {"max_tokens": 2048}),
        ({"max_tokens": 10**9}, {"max_tokens": 2048}),
        ({"max_tokens": 7}, {"max_tokens": 7}),
        ({"max_completion_tokens": 5}, {"max_tokens": 5}),
        ({"temperature": None, "top_k": 40, "stop": "\n"}, {"max_tokens": 2048, "top_k": 40, "stop": "\n"}),
        ({"n": 1, "stream": False, "seed": 3}, {"max_tokens": 2048, "n": 1, "stream": False, "seed": 3}),
    ],
    ids=["default-is-the-cap", "capped", "kept", "newer-name", "nulls-left-out", "n-1"],
)
def test_what_reaches_llama_server(live, upstream, fields: dict[str, Any], sent: dict[str, Any]) -> None:
    r = requests.post(live.url + CHAT, json=_chat(model="tara-business", **fields), timeout=30)
    assert r.status_code == 200, r.text
    got = upstream.received[-1]
    assert got == {**sent, "messages": got["messages"], "lora": [{"id": 0, "scale": 0.0}, {"id": 1, "scale": 1.0}]}
    assert got["messages"][-1] == USER


def test_content_parts_and_assistant_tool_calls_pass(live, upstream) -> None:
    messages = [{"role": "system", "content": [{"type": "text", "text": "Be brief."}]},
                {"role": "user", "content": [{"type": "text", "text": "What is 6 x 7?"}]},
                {"role": "assistant", "content": None, "tool_calls": [{"id": "c1", "type": "function",
                                                                     "function": {"name": "mul", "arguments": "{\"a\": 6}"}}]},
                {"role": "tool", "tool_call_id": "c1", "content": "42"}]
    r = requests.post(live.url + CHAT, json={"model": "tara-base", "messages": messages}, timeout=30)
    assert r.status_code == 200, r.text
    sent = upstream.received[-1]["messages"]
    assert [m["role"] for m in sent] == ["system", "user", "assistant", "tool"]
    assert "content" not in sent[2] and sent[2]["tool_calls"][0]["function"]["name"] == "mul"


# -- llama-server failing ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "status", "type_", "code", "text"),
    [
        ("plain500", 502, "upstream_error", "upstream_error", "llama-server failed (HTTP 500)"),
        ("json500", 502, "upstream_error", "upstream_error", "image input is not supported"),
        ("loading503", 503, "upstream_unavailable", "upstream_not_ready", "Loading model"),
        ("reject400", 400, "exceed_context_size_error", "upstream_rejected", "exceeds the available context size"),
    ],
)
@pytest.mark.parametrize("stream", [False, True], ids=["buffered", "stream"])
def test_llama_server_errors_become_openai_errors(live, upstream, mode: str, status: int, type_: str, code: str, text: str,
                                                  stream: bool) -> None:
    upstream.mode = mode
    r = requests.post(live.url + CHAT, json=_chat(stream=stream), timeout=30)
    assert r.status_code == status and r.headers["Content-Type"].startswith("application/json"), r.text
    error = r.json()["error"]
    assert (error["type"], error["code"]) == (type_, code) and text in error["message"] and "param" in error


def _events(live, **fields: Any) -> list[bytes]:
    with requests.post(live.url + CHAT, json=_chat(stream=True, **fields), stream=True, timeout=30) as r:
        assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/event-stream")
        return [line for line in r.iter_lines() if line]


@pytest.mark.parametrize("mode", ["ok", "crlf"])
def test_a_whole_stream_ends_with_done(live, upstream, mode: str) -> None:
    upstream.mode = mode
    events = _events(live)
    assert events[-1] == b"data: [DONE]" and len(events) == 4, events
    assert [json.loads(e[6:])["choices"][0]["delta"]["content"] for e in events[:3]] == ["one", "two", "three"]


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (500, b"500 Internal Server Error", (502, "upstream_error", "upstream_error", "failed (HTTP 500): 500 Internal Server Error")),
        (502, b'{"error": {"message": "bad gateway"}}', (502, "upstream_error", "upstream_error", "failed (HTTP 502): bad gateway")),
        (503, b'{"error": {"code": 503, "message": "Loading model"}}', (503, "upstream_unavailable", "upstream_not_ready", "Loading model")),
        (400, b'{"error": {"code": 400, "message": "too long", "type": "exceed_context_size_error"}}',
         (400, "exceed_context_size_error", "upstream_rejected", "refused the request: too long")),
        (404, b"[1, 2]", (404, "invalid_request_error", "upstream_rejected", "[1, 2]")),
        (500, b"\xff" * 5000, (502, "upstream_error", "upstream_error", "failed (HTTP 500)")),
    ],
    ids=["plain-500", "json-502", "loading-503", "json-400", "odd-json-404", "binary-500"],
)
def test_upstream_error_mapping(status: int, body: bytes, expected: tuple[int, str, str, str]) -> None:
    from tara_router.proxy import upstream_error

    error = upstream_error(status, body)
    assert (error.status, error.type, error.code) == expected[:3] and expected[3] in error.message
    assert len(error.message) < 400  # llama-server's message is cut


@pytest.mark.parametrize("mode", ["cut", "reset", "no-done"])
def test_a_broken_stream_ends_with_an_error_event(live, upstream, mode: str) -> None:
    before = _stream_broken(live)
    upstream.mode = mode
    events = _events(live)
    assert [json.loads(e[6:])["choices"][0]["delta"]["content"] for e in events[:2]] == ["one", "two"]
    assert len(events) == 3, events  # the half event is dropped, and no [DONE]
    error = json.loads(events[2].removeprefix(b"data: "))["error"]
    assert error["type"] == "upstream_error" and error["code"] == "upstream_stream_broken" and "cut off" in error["message"]
    assert _stream_broken(live) == before + 1


def _stream_broken(live) -> float:
    value = live.app[ROUTER].metrics.registry.get_sample_value("tara_router_upstream_errors_total", {"kind": "stream_broken"})
    return value or 0.0


def test_an_upstream_that_is_down_is_a_quick_503() -> None:
    import asyncio

    from aiohttp.test_utils import TestClient, TestServer

    from tara_cli.serve import free_port
    from tara_router.app import build_app
    from tara_router.config import RouterConfig

    async def ask() -> tuple[int, dict[str, Any]]:
        config = RouterConfig.model_validate({"upstream": f"http://127.0.0.1:{free_port()}", "domains": [{"name": "healthcare"}]})
        async with TestClient(TestServer(build_app(config, RouterSettings(connect_retries=1)))) as client:
            r = await client.post(CHAT, json=_chat())
            return r.status, await r.json()

    status, answer = asyncio.run(ask())
    assert status == 503 and answer["error"]["code"] == "upstream_unreachable"


def test_200_concurrent_clients_all_get_their_answer(live, upstream) -> None:
    import asyncio

    import aiohttp

    async def one(session: aiohttp.ClientSession, i: int) -> tuple[int, bool]:
        async with session.post(live.url + CHAT, json=_chat(stream=i % 2 == 1, user=f"client-{i}")) as r:
            text = await r.text()
            return r.status, text.rstrip().endswith("data: [DONE]") if i % 2 else json.loads(text)["choices"][0]["message"]["content"] == "ok"

    async def all_of_them() -> list[tuple[int, bool]]:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
            return await asyncio.gather(*(one(session, i) for i in range(200)))

    before = len(upstream.received)
    answers = asyncio.run(all_of_them())
    assert answers == [(200, True)] * 200
    assert sorted(b["user"] for b in upstream.received[before:]) == sorted(f"client-{i}" for i in range(200))


# -- the last resort -----------------------------------------------------------------------------------


def test_a_handler_bug_is_a_json_500_logged_once_without_the_prompt(live, upstream, monkeypatch, caplog) -> None:
    router = live.app[ROUTER]

    def broken(_model: str, turns: list[str], *_args: Any) -> Any:
        raise RuntimeError(f"cannot route {turns[-1]!r}")  # an exception whose message quotes the request

    monkeypatch.setattr(router, "decide", broken)
    caplog.set_level(logging.DEBUG, logger="tara_router")
    before = live.metric("tara_router_internal_errors_total")
    r = requests.post(live.url + CHAT, json={"messages": [{"role": "user", "content": "I want to end it all"}]}, timeout=30)
    assert r.status_code == 500 and r.json()["error"]["type"] == "internal_error"
    assert "Traceback" not in r.text and "RuntimeError" not in r.text
    assert live.metric("tara_router_internal_errors_total") == before + 1
    errors = [rec for rec in caplog.records if rec.levelno >= logging.ERROR]
    assert len(errors) == 1 and "RuntimeError" in errors[0].getMessage() and "end it all" not in caplog.text


@pytest.mark.parametrize(("method", "path", "status"), [("GET", CHAT, 405), ("GET", "/v2/nothing", 404)])
def test_aiohttp_errors_are_json_too(live, method: str, path: str, status: int) -> None:
    r = requests.request(method, live.url + path, timeout=10)
    assert r.status_code == status and set(r.json()["error"]) == {"message", "type", "param", "code"}


# -- the published contract ----------------------------------------------------------------------------


def _validator(doc: dict[str, Any], name: str) -> jsonschema.Draft202012Validator:
    """A validator of the document's schema ``name``, its ``#/components/...`` references resolved in the document."""
    registry = Registry().with_resource("urn:router", Resource.from_contents(doc, default_specification=DRAFT202012))
    return jsonschema.Draft202012Validator({"$ref": f"urn:router#/components/schemas/{name}"}, registry=registry)


def test_openapi_is_generated_from_the_models_and_covers_every_route(live) -> None:
    from tara_router.contract import ChatRequest
    from tara_router.openapi import openapi_document

    doc = requests.get(live.url + "/openapi.json", timeout=10).json()
    assert doc == json.loads(json.dumps(openapi_document(ROUTER_SETTINGS, [m["id"] for m in requests.get(
        live.url + "/v1/models", timeout=10).json()["data"]])))
    routes = {r.resource.canonical for r in live.app.router.routes() if r.method != "HEAD"}
    assert routes == set(doc["paths"])
    schemas = doc["components"]["schemas"]
    assert schemas["ChatRequest"]["properties"]["temperature"] == ChatRequest.model_json_schema()["properties"]["temperature"]
    assert doc["info"]["x-tara-limits"] == {"maxBodyBytes": LIMIT, "maxTokens": 2048, "maxJsonDepth": 64}
    chat = _validator(doc, "ChatRequest")
    assert chat.is_valid(_chat(max_tokens=5, stream=True))
    for _id, endpoint, body, *_rest in BAD_REQUESTS:  # what the router refuses, the schema refuses (JSON-level cases)
        if endpoint == CHAT and isinstance(body, dict) and _id not in ("unknown-model", "deep-in-a-field"):
            assert not chat.is_valid(body), _id
