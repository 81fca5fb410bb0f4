"""``tara-router`` stops cleanly on SIGINT and SIGTERM: aiohttp's ``run_app`` closes the listener and
returns, the process exits 0 (a server asked to stop) with no traceback, and its port is free again."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tara_cli.serve import free_port

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_router_exits_zero_and_releases_its_port(tmp_path: Path, signum: int) -> None:
    from test_router_http import wait_http

    config = tmp_path / "router.json"
    config.write_text(json.dumps({"phase": "phase-1", "upstream": f"http://127.0.0.1:{free_port()}",
                                  "domains": [{"name": "healthcare", "adapterId": 0}]}))
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "tara_router.main", "--config", str(config), "--port", str(port),
                             "--host", "127.0.0.1"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz", proc)
        proc.send_signal(signum)
        _, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, stderr.decode()[-2000:]
    assert b"Traceback" not in stderr
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
    with socket.socket() as s:  # the port is free again: Linux refuses the bind while a listener holds it
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # ... but not for closed connections in TIME_WAIT
        s.bind(("127.0.0.1", port))
        s.listen()
