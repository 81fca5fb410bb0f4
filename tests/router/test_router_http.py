"""The router (a ``tara-router`` process) in front of a real llama-server serving the tiny GGUF and
its two domain LoRAs: adapter selection reaches upstream, streaming, upstream down then up,
malformed input, headers and metrics."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tara_cli.serve import free_port

pytestmark = pytest.mark.slow



def wait_http(url: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"{proc.args[:3]} exited: {proc.stderr.read().decode()[-2000:] if proc.stderr else ''}")
        try:
            if requests.get(url, timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} did not answer")


class Llama:
    def __init__(self, build: Path, port: int, cache_dir: Path) -> None:
        self.build, self.port, self.cache_dir, self.proc = build, port, cache_dir, None
        self.url = f"http://127.0.0.1:{port}"

    def start(self) -> Llama:
        env = {**os.environ, "TARA_CACHE_DIR": str(self.cache_dir)}
        self.proc = subprocess.Popen([sys.executable, "-m", "tara_trainer.cli", "serve", "--build", str(self.build),
                                      "--port", str(self.port), "--ctx-size", "512", "--threads", "2"],
                                     env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wait_http(self.url + "/health", self.proc)
        return self

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(20)


@pytest.fixture(scope="module")
def llama(tiny_phase_build: Path, settings) -> Iterator[Llama]:
    server = Llama(tiny_phase_build, free_port(), settings.cache_dir).start()
    yield server
    server.stop()


def start_router(tmp: Path, upstream: str, **extra_env: str) -> tuple[subprocess.Popen, str]:
    config = tmp / "router.json"
    config.write_text(json.dumps({"phase": "phase-1", "upstream": upstream, "defaultDomain": None,
                                  "domains": [{"name": "healthcare", "adapterId": 0}, {"name": "business", "adapterId": 1}]}))
    port = free_port()
    env = {**os.environ, "TARA_ROUTER_MAX_BODY": "65536", "TARA_ROUTER_RETRIES": "1", **extra_env}
    proc = subprocess.Popen([sys.executable, "-m", "tara_router.main", "--config", str(config), "--port", str(port),
                             "--host", "127.0.0.1"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    wait_http(url + "/healthz", proc)
    return proc, url


@pytest.fixture(scope="module")
def router(llama: Llama, tmp_path_factory) -> Iterator[str]:
    proc, url = start_router(tmp_path_factory.mktemp("router"), llama.url)
    yield url
    proc.terminate()
    proc.wait(20)


PROMPT = "### User:\nWhat should I do about a fever and a cough?\n### Assistant:\n"


def _direct(llama: Llama, lora: list[dict]) -> str:
    r = requests.post(llama.url + "/v1/completions", json={"prompt": PROMPT, "max_tokens": 24, "temperature": 0,
                                                           "lora": lora}, timeout=60)
    r.raise_for_status()
    return r.json()["choices"][0]["text"]


def test_the_chosen_adapter_reaches_llama_server(router: str, llama: Llama) -> None:
    healthcare = _direct(llama, [{"id": 0, "scale": 1.0}, {"id": 1, "scale": 0.0}])
    business = _direct(llama, [{"id": 0, "scale": 0.0}, {"id": 1, "scale": 1.0}])
    base = _direct(llama, [{"id": 0, "scale": 0.0}, {"id": 1, "scale": 0.0}])
    assert len({healthcare, business, base}) == 3, "the adapters should change the tiny model's greedy output"
    for model, expected in (("tara-healthcare", healthcare), ("tara-business", business)):
        r = requests.post(router + "/v1/completions", json={"model": model, "prompt": PROMPT, "max_tokens": 24, "temperature": 0},
                          timeout=60)
        assert r.status_code == 200, r.text
        assert r.json()["choices"][0]["text"] == expected and r.json()["model"] == model
        assert r.headers["x-tara-domain"] == model.removeprefix("tara-") and r.headers["x-tara-route"] == "explicit"


def test_auto_routing_headers_and_chat(router: str) -> None:
    r = requests.post(router + "/v1/chat/completions", timeout=60, json={
        "model": "tara-auto", "max_tokens": 8, "temperature": 0,
        "messages": [{"role": "user", "content": "I'm really worried, my blood pressure medication makes me dizzy"}]})
    assert r.status_code == 200, r.text
    assert r.headers["x-tara-domain"] == "healthcare" and r.headers["x-tara-route"] == "scored"
    assert r.headers["x-tara-emotion"].startswith("fear:") and "healthcare=" in r.headers["x-tara-scores"]
    assert r.json()["choices"][0]["message"]["role"] == "assistant"
    # nothing domain-like: the base model answers (no default domain configured)
    r = requests.post(router + "/v1/chat/completions", timeout=60, json={
        "max_tokens": 4, "messages": [{"role": "user", "content": "Hello there"}]})
    assert r.status_code == 200 and r.headers["x-tara-domain"] == "base" and r.headers["x-tara-route"] == "fallback"


def test_streaming_passes_server_sent_events_through(router: str) -> None:
    with requests.post(router + "/v1/chat/completions", stream=True, timeout=60, json={
            "model": "tara-business", "stream": True, "max_tokens": 12, "temperature": 0,
            "messages": [{"role": "user", "content": "How should I price my product?"}]}) as r:
        assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/event-stream")
        assert r.headers["x-tara-domain"] == "business"
        events = [line for line in r.iter_lines() if line.startswith(b"data: ")]
    assert events[-1] == b"data: [DONE]" and len(events) >= 3
    assert json.loads(events[0][6:])["object"] == "chat.completion.chunk"


def test_crisis_language_takes_the_safe_path(router: str) -> None:
    r = requests.post(router + "/v1/chat/completions", timeout=60, json={
        "model": "tara-business", "max_tokens": 4,
        "messages": [{"role": "user", "content": "Work is hopeless and I want to end my life"}]})
    assert r.status_code == 200 and r.headers["x-tara-crisis"] == "true"
    assert r.headers["x-tara-domain"] == "healthcare" and r.headers["x-tara-route"] == "crisis"
    metrics = requests.get(router + "/metrics", timeout=5).text
    assert "tara_router_crisis_total 1.0" in metrics


def _crisis_total(router: str) -> float:
    metrics = requests.get(router + "/metrics", timeout=5).text
    return float(next(line.split()[1] for line in metrics.splitlines() if line.startswith("tara_router_crisis_total ")))


def test_indirect_crisis_language_in_an_earlier_turn_takes_the_safe_path(router: str) -> None:
    before = _crisis_total(router)
    r = requests.post(router + "/v1/chat/completions", timeout=60, json={
        "model": "tara-business", "max_tokens": 4,
        "messages": [{"role": "user", "content": "Sometimes I think everyone would be better off without me."},
                     {"role": "assistant", "content": "I'm sorry you're feeling this way."},
                     {"role": "user", "content": "Anyway, how should I price my product?"}]})
    assert r.status_code == 200 and r.headers["x-tara-crisis"] == "true"
    assert r.headers["x-tara-domain"] == "healthcare" and r.headers["x-tara-route"] == "crisis"
    assert _crisis_total(router) == before + 1


@pytest.mark.parametrize(
    ("body", "status", "text"),
    [
        (b"{not json", 400, "not valid JSON"),
        (json.dumps({"model": "tara-auto"}).encode(), 400, "'messages' is required"),
        (json.dumps({"messages": [{"role": "robot", "content": "hi"}]}).encode(), 400, "messages[0].role"),
        (json.dumps({"model": "gpt-4", "messages": [{"role": "user", "content": "hi"}]}).encode(), 404, "does not exist"),
        (json.dumps({"messages": [{"role": "user", "content": "x" * 70000}]}).encode(), 413, "exceeds the limit"),
    ],
    ids=["invalid-json", "no-messages", "bad-role", "unknown-model", "too-large"],
)
def test_malformed_requests_get_openai_style_errors(router: str, body: bytes, status: int, text: str) -> None:
    r = requests.post(router + "/v1/chat/completions", data=body, headers={"Content-Type": "application/json"}, timeout=10)
    assert r.status_code == status
    error = r.json()["error"]
    assert text in error["message"] and error["type"]


TOOL = {"type": "function", "function": {"name": "lookup", "description": "Look a word up.",
                                         "parameters": {"type": "object", "properties": {"word": {"type": "string"}}}}}
EDGES = [  # every parameter of the contract at its edges: what the router accepts, llama-server must take
    {"max_tokens": 1, "temperature": 0, "top_p": 0, "presence_penalty": -2, "frequency_penalty": -2, "seed": 0, "top_k": 0,
     "min_p": 0, "typical_p": 0, "repeat_penalty": 0.1, "repeat_last_n": 0, "n": 1, "stream": False, "cache_prompt": False},
    {"max_tokens": 10**9, "temperature": 2, "top_p": 1, "presence_penalty": 2, "frequency_penalty": 2, "seed": 2**31 - 1,
     "top_k": 1_000_000, "min_p": 1, "typical_p": 1, "repeat_penalty": 10, "repeat_last_n": 65_536, "user": "u" * 256},
    {"max_completion_tokens": 3, "stop": ["\n"] * 16, "logprobs": True, "top_logprobs": 20,
     "logit_bias": {"1": -100, "2": 100, "999999999": 5, "hello": 1}},
    {"stop": "", "response_format": {"type": "text"}},
    {"response_format": {"type": "json_object"}},
    {"response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object"}}}},
    {"tools": [TOOL], "tool_choice": "auto", "parallel_tool_calls": False},
    {"tools": [TOOL], "tool_choice": {"type": "function", "function": {"name": "lookup"}}},
    {"stream": True, "stream_options": {"include_usage": True}},
    {"messages": [{"role": "developer", "content": "Be brief."}, {"role": "user", "content": [{"type": "text", "text": "Hi"}], "name": "ann"},
                  {"role": "assistant", "content": None, "tool_calls": [{"id": "c1", "type": "function",
                                                                       "function": {"name": "lookup", "arguments": "{}"}}]},
                  {"role": "tool", "tool_call_id": "c1", "content": "nothing"}, {"role": "assistant"},
                  {"role": "user", "content": "and?"}]},
]


@pytest.mark.parametrize("fields", EDGES, ids=["low", "high", "lists", "empty-stop", "json-object", "json-schema", "tools",
                                                "tool-choice", "stream-usage", "every-role"])
def test_what_the_contract_accepts_llama_server_takes(router: str, fields: dict) -> None:
    body = {"model": "tara-business", "max_tokens": 2, "messages": [{"role": "user", "content": "How do I price a product?"}], **fields}
    r = requests.post(router + "/v1/chat/completions", json=body, timeout=60)
    assert r.status_code == 200, r.text
    if fields.get("stream"):
        assert r.text.rstrip().endswith("data: [DONE]")
    completion = {k: v for k, v in fields.items() if k not in ("messages", "tools", "tool_choice", "parallel_tool_calls",
                                                                 "response_format", "top_logprobs", "max_completion_tokens")}
    completion["logprobs"] = 20 if "logprobs" in fields else completion.pop("logprobs", None)
    r = requests.post(router + "/v1/completions", json={"model": "tara-business", "prompt": PROMPT, "max_tokens": 2,
                                                        **{k: v for k, v in completion.items() if v is not None}}, timeout=60)
    assert r.status_code == 200, r.text


def test_models_health_and_metrics(router: str) -> None:
    models = [m["id"] for m in requests.get(router + "/v1/models", timeout=5).json()["data"]]
    assert models == ["tara-auto", "tara-healthcare", "tara-business", "tara-base"]  # base: every adapter off
    assert requests.get(router + "/readyz", timeout=5).status_code == 200
    metrics = requests.get(router + "/metrics", timeout=5).text
    assert 'tara_router_requests_total{domain="healthcare",endpoint="completions",status="200"}' in metrics
    assert "tara_router_decision_seconds_bucket" in metrics and 'tara_router_emotion_total{emotion="fear"}' in metrics
    # llama-server listens on loopback only: its own metrics come through the router
    server = requests.get(router + "/metrics/server", timeout=5)
    assert server.status_code == 200 and "llamacpp:predicted_tokens_seconds" in server.text
    assert "llamacpp:tokens_predicted_total" in server.text and "llamacpp:requests_processing" in server.text


def test_upstream_down_then_up(tiny_phase_build: Path, settings, tmp_path) -> None:
    port = free_port()
    proc, url = start_router(tmp_path, f"http://127.0.0.1:{port}")
    try:
        assert requests.get(url + "/readyz", timeout=5).status_code == 503
        down = requests.get(url + "/metrics/server", timeout=10)
        assert down.status_code == 502 and "unreachable" in down.text
        assert 'tara_router_upstream_errors_total{kind="metrics"} 1.0' in requests.get(url + "/metrics", timeout=5).text
        r = requests.post(url + "/v1/completions", json={"model": "tara-healthcare", "prompt": "hi", "max_tokens": 2}, timeout=10)
        assert r.status_code == 503 and "not reachable" in r.json()["error"]["message"]
        server = Llama(tiny_phase_build, port, settings.cache_dir).start()
        try:
            assert requests.get(url + "/readyz", timeout=5).status_code == 200
            r = requests.post(url + "/v1/completions", json={"model": "tara-healthcare", "prompt": "hi", "max_tokens": 2}, timeout=30)
            assert r.status_code == 200
        finally:
            server.stop()
    finally:
        proc.terminate()
        proc.wait(20)


def test_tara_serve_runs_both_and_stops_both(tiny_phase_build: Path, settings) -> None:
    import signal

    from tara_cli.serve import router_config

    manifest = json.loads((tiny_phase_build / "manifest.json").read_text())
    assert router_config(manifest, "http://u") == {"phase": "phase-1", "upstream": "http://u", "domains": [
        {"name": "healthcare", "adapterId": 0}, {"name": "business", "adapterId": 1}]}
    port = free_port()
    env = {**os.environ, "TARA_CACHE_DIR": str(settings.cache_dir)}
    proc = subprocess.Popen([sys.executable, "-m", "tara_cli.main", "serve", "--phase-dir", str(tiny_phase_build), "--port", str(port),
                             "--ctx-size", "512", "--threads", "2"], env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        line = proc.stdout.readline()
        assert f"at http://127.0.0.1:{port}/v1" in line and "tara-healthcare" in line, line
        r = requests.post(f"http://127.0.0.1:{port}/v1/chat/completions", timeout=60, json={
            "max_tokens": 4, "messages": [{"role": "user", "content": "How do I price my SaaS product for customers?"}]})
        assert r.status_code == 200 and r.headers["x-tara-domain"] == "business"
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2)


def test_semantic_routing_with_the_index_the_build_shipped(llama: Llama, tiny_phase_build: Path, tmp_path: Path) -> None:
    """The build embedded each domain's training rows (and the built-in scope) into router/index.npz
    with all-MiniLM-L6-v2; the router embeds each request in process with the same file. A build
    without an index still serves (keywords), and an index from another model is refused."""
    import asyncio

    from aiohttp.test_utils import TestClient, TestServer

    from tara_cli.serve import router_config
    from tara_router.app import build_app
    from tara_router.config import ConfigError, RouterConfig
    from tara_router.settings import RouterSettings

    manifest = json.loads((tiny_phase_build / "manifest.json").read_text())
    raw = router_config(manifest, llama.url, tiny_phase_build)
    assert raw["semantic"] == {"index": str(tiny_phase_build / "router" / "index.npz"),
                               "model": str(tiny_phase_build / "router" / "embedder.gguf")}
    assert manifest["router"]["sources"]["healthcare"]["trainingRows"] > 100  # the trainer saved its user turns
    assert set(manifest["router"]["quality"]) == {"healthcare", "business"}
    assert all(0 <= q <= 1 for q in manifest["router"]["quality"].values())

    async def ask(config: RouterConfig, texts: list[str]) -> tuple[list[tuple[str, str]], str]:
        app = build_app(config, RouterSettings())
        async with TestClient(TestServer(app)) as client:
            seen = []
            for text in texts:
                r = await client.post("/v1/chat/completions", json={"max_tokens": 2, "messages": [{"role": "user", "content": text}]})
                assert r.status == 200, await r.text()
                seen.append((r.headers["x-tara-domain"], r.headers["x-tara-route"]))
            return seen, await (await client.get("/metrics")).text()

    texts = ["Can I take amoxicillin if I'm allergic to penicillin?", "What KPIs should an e-commerce store track weekly?",
             "good morning!"]  # no keyword of either profile in the first two
    seen, metrics = asyncio.run(ask(RouterConfig.model_validate(raw), texts))
    assert seen == [("healthcare", "scored"), ("business", "scored"), ("base", "fallback")]
    assert "tara_router_semantic_routing 1.0" in metrics

    missing = RouterConfig.model_validate({**raw, "semantic": {**raw["semantic"], "index": str(tmp_path / "gone.npz")}})
    seen, metrics = asyncio.run(ask(missing, ["How should I price my SaaS product for customers?"]))  # a keyword of business
    assert seen == [("business", "scored")] and "tara_router_semantic_routing 0.0" in metrics

    other = tmp_path / "other.gguf"
    other.write_bytes((tiny_phase_build / "router" / "embedder.gguf").read_bytes()[:-1] + b"x")
    with pytest.raises(ConfigError, match="is not the embedding model"):
        build_app(RouterConfig.model_validate({**raw, "semantic": {**raw["semantic"], "model": str(other)}}), RouterSettings())
    only_one = {**raw, "domains": raw["domains"][:1]}
    with pytest.raises(ConfigError, match="the index and the config come from different builds"):
        build_app(RouterConfig.model_validate(only_one), RouterSettings())
