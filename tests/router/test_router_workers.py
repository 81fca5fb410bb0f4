"""``TARA_ROUTER_WORKERS``: worker processes sharing the port (``tara_router.workers``). Every worker
answers, ``/metrics`` of whichever answers reports the totals of all, SIGTERM stops them all (exit 0,
port free), and a worker that cannot start stops the router with its status."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tara_cli.serve import free_port
from tara_router.metrics import Metrics
from tara_router.workers import exit_status

STUB = """
import sys
from aiohttp import web
async def chat(request):
    await request.read()
    return web.json_response({"id": "c", "object": "chat.completion", "created": 0, "model": "stub",
                              "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}]})
app = web.Application()
app.router.add_post("/v1/chat/completions", chat)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
"""


@pytest.fixture
def upstream() -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-c", STUB, str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(20)


def _router(tmp_path: Path, config: dict, port: int, workers: int = 2) -> subprocess.Popen:
    path = tmp_path / "router.json"
    path.write_text(json.dumps(config))
    return subprocess.Popen([sys.executable, "-m", "tara_router.main", "--config", str(path), "--port", str(port),
                             "--host", "127.0.0.1"], env={**os.environ, "TARA_ROUTER_WORKERS": str(workers)},
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _alive(pid: int) -> bool:
    """Whether process ``pid`` runs (an exited one not yet reaped, a zombie, does not)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def _metric(text: str, line_start: str) -> float:
    return sum(float(m.group(1)) for m in re.finditer(rf"^{re.escape(line_start)}\S* (\S+)$", text, re.MULTILINE))


@pytest.mark.slow
def test_workers_share_the_port_and_metrics_report_totals(tmp_path: Path, upstream: str) -> None:
    from test_router_http import wait_http

    port = free_port()
    proc = _router(tmp_path, {"upstream": upstream, "domains": [{"name": "healthcare", "adapterId": 0}]}, port)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(url + "/healthz", proc)
        children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
        assert len(children) == 2
        body = {"model": "tara-auto", "messages": [{"role": "user", "content": "I have a fever and a cough"}]}
        for _ in range(30):  # a new connection each: the kernel spreads connections over the workers
            r = requests.post(url + "/v1/chat/completions", json=body, headers={"Connection": "close"}, timeout=10)
            assert r.status_code == 200 and r.headers["x-tara-domain"] == "healthcare"
        for _ in range(6):  # whichever worker answers, it reports every worker's requests
            text = requests.get(url + "/metrics", headers={"Connection": "close"}, timeout=10).text
            assert _metric(text, 'tara_router_requests_total{domain="healthcare",endpoint="chat",status="200"}') == 30
            assert _metric(text, "tara_router_workers") == 2
            assert _metric(text, "tara_router_decision_seconds_count") == 30
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()  # its workers get SIGTERM from the kernel (PR_SET_PDEATHSIG)
            proc.communicate()
    assert proc.returncode == 0, stderr.decode()[-2000:]
    assert b"Traceback" not in stderr and b"in 2 worker processes" in stderr
    assert not any(_alive(int(pid)) for pid in children)
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))


@pytest.mark.slow
def test_a_worker_that_cannot_start_stops_the_router(tmp_path: Path) -> None:
    index, model = tmp_path / "index.npz", tmp_path / "embedder.gguf"
    index.write_bytes(b"not an index")
    model.write_bytes(b"not a model")
    proc = _router(tmp_path, {"upstream": "http://127.0.0.1:9", "domains": [{"name": "healthcare", "adapterId": 0}],
                              "semantic": {"index": str(index), "model": str(model)}}, free_port())
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 2, stderr.decode()[-2000:]
    assert b"not a routing index" in stderr and b"stopping the other workers" in stderr


def test_workers_need_a_fixed_port(tmp_path: Path) -> None:
    proc = _router(tmp_path, {"upstream": "http://127.0.0.1:9", "domains": [{"name": "healthcare"}]}, 0)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 2 and b"needs a fixed port" in stderr


def test_worker_metrics_refuse_a_registry_that_is_not_shared(tmp_path: Path) -> None:
    # this test process imported prometheus_client without PROMETHEUS_MULTIPROC_DIR: samples would stay in memory
    with pytest.raises(RuntimeError, match="PROMETHEUS_MULTIPROC_DIR"):
        Metrics(tmp_path)


@pytest.mark.parametrize(("wait_status", "expected"), [(0, 0), (2 << 8, 2), (signal.SIGTERM, 128 + signal.SIGTERM),
                                                      (signal.SIGKILL, 128 + signal.SIGKILL)])
def test_exit_status(wait_status: int, expected: int) -> None:
    assert exit_status(wait_status) == expected


@pytest.mark.slow
def test_workers_end_when_the_supervisor_is_killed(tmp_path: Path) -> None:
    from test_router_http import wait_http

    port = free_port()
    proc = _router(tmp_path, {"upstream": "http://127.0.0.1:9", "domains": [{"name": "healthcare"}]}, port)
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz", proc)
        children = [int(c) for c in Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()]
        assert len(children) == 2
    finally:
        proc.kill()
        proc.communicate()
    deadline = time.monotonic() + 30
    while any(_alive(pid) for pid in children) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in children)
