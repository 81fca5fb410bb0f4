"""``tara serve --phase-dir DIR``: llama-server on a finished build, the router in front, locally.

Starts ``tara-trainer serve`` (which re-checks the build's sha256s and execs llama-server with the
served model and one LoRA per domain) and ``tara-router`` with a routing config made from the
build's manifest, waits until both answer, prints the URL, and stops both on Ctrl-C or SIGTERM.

Both children run in their own process group and die with this process (``shutdown.spawn``); a stop
signals each group, waits a bounded time, then kills what is left and reaps it (``shutdown.stop``).
"""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tara_cli.shutdown import Interrupted, SignalCatcher, deferred, spawn, stop

__all__ = ["Served", "free_port", "router_config", "running", "serve"]


def router_config(manifest: dict[str, Any], upstream: str, build_dir: Path | None = None) -> dict[str, Any]:
    """The routing config for a build (pure): adapters in the manifest's domain order, as llama-server
    loads them, and the build's routing index when it shipped one (builds before it route by keywords)."""
    loras = manifest["served"].get("loras") or {}
    domains = manifest.get("domains") or []
    adapter_ids = {d: i for i, d in enumerate(d for d in domains if d in loras)}
    config: dict[str, Any] = {"phase": manifest.get("phase"), "upstream": upstream,
                              "domains": [{"name": d, "adapterId": adapter_ids.get(d)} for d in domains]}
    router = manifest.get("router")
    if router and build_dir is not None:
        config["semantic"] = {"index": str(build_dir / router["index"]), "model": str(build_dir / router["embedder"])}
    return config


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(url: str, proc: subprocess.Popen, what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with status {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{what} did not answer at {url} within {timeout:.0f} s")


@dataclass
class Served:
    url: str
    procs: list[subprocess.Popen]

    def alive(self) -> bool:
        return all(p.poll() is None for p in self.procs)


@contextlib.contextmanager
def running(phase_dir: Path, port: int, host: str, ctx_size: int, threads: int | None, work: Path) -> Iterator[Served]:
    """llama-server on the build and the router in front, until the block ends; yields the router URL.

    Raises RuntimeError when either does not come up (both are stopped again)."""
    manifest = json.loads((phase_dir / "manifest.json").read_text(encoding="utf-8"))
    llama_port = free_port()
    upstream = f"http://127.0.0.1:{llama_port}"
    work.mkdir(parents=True, exist_ok=True)
    config = work / "router.json"
    config.write_text(json.dumps(router_config(manifest, upstream, phase_dir.resolve()), indent=2), encoding="utf-8")
    server_cmd = [sys.executable, "-m", "tara_trainer.cli", "serve", "--build", str(phase_dir), "--port", str(llama_port),
                  "--ctx-size", str(ctx_size)] + (["--threads", str(threads)] if threads else [])
    router_cmd = [sys.executable, "-m", "tara_router.main", "--config", str(config), "--host", host, "--port", str(port)]
    procs: list[subprocess.Popen] = []
    try:
        with deferred():  # a child started is a child recorded, so the `finally` stops it
            procs.append(spawn(server_cmd, stderr=subprocess.DEVNULL))
        _wait(upstream + "/health", procs[0], "llama-server", 120)
        with deferred():
            procs.append(spawn(router_cmd, stderr=subprocess.DEVNULL))
        url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '') else host}:{port}"
        _wait(url + "/readyz", procs[1], "tara-router", 30)
        yield Served(url, procs)
    finally:
        stop(procs)


def serve(phase_dir: Path, port: int, host: str, ctx_size: int, threads: int | None, work: Path) -> int:
    """Serve until SIGINT or SIGTERM (exit 0: stopping is how a server ends, as for llama-server and the
    router); 130 or 143 when the signal came before both answered; 1 when either exits or fails to start."""
    manifest_path = phase_dir / "manifest.json"
    if not manifest_path.is_file():
        print(f"tara serve: {phase_dir} holds no manifest.json; build the phase first (tara-trainer build)", file=sys.stderr)
        return 2
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    serving = False
    with SignalCatcher():
        try:
            with running(phase_dir, port, host, ctx_size, threads, work) as served:
                domains = manifest.get("domains") or []
                print(f"TARA is serving {', '.join(domains)} ({manifest['served']['quantization']}) at {served.url}/v1 "
                      f"(models: tara-auto, {', '.join('tara-' + d for d in domains)}); Ctrl-C stops", flush=True)
                serving = True
                while served.alive():
                    time.sleep(0.2)
                print("tara serve: llama-server or the router exited", file=sys.stderr)
                return 1
        except Interrupted as exc:
            if serving:
                print(f"tara serve: stopped ({exc.name}); llama-server and the router stopped", file=sys.stderr)
                return 0
            print(f"tara serve: interrupted ({exc.name}) while starting; nothing left running", file=sys.stderr)
            return exc.exit_code
        except RuntimeError as exc:
            print(f"tara serve: {exc}", file=sys.stderr)
            return 1
