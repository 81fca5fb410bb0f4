"""``tara serve --phase-dir DIR``: llama-server on a finished build, the router in front, locally.

Starts ``tara-trainer serve`` (which re-checks the build's sha256s and execs llama-server with the
served model and one LoRA per domain) and ``tara-router`` with a routing config made from the
build's manifest, waits until both answer, prints the URL, and stops both on Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import contextlib
import json
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
        procs.append(subprocess.Popen(server_cmd, stderr=subprocess.DEVNULL))
        _wait(upstream + "/health", procs[0], "llama-server", 120)
        procs.append(subprocess.Popen(router_cmd, stderr=subprocess.DEVNULL))
        url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '') else host}:{port}"
        _wait(url + "/readyz", procs[1], "tara-router", 30)
        yield Served(url, procs)
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                p.terminate()
        for p in procs:
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()


def serve(phase_dir: Path, port: int, host: str, ctx_size: int, threads: int | None, work: Path) -> int:
    manifest_path = phase_dir / "manifest.json"
    if not manifest_path.is_file():
        print(f"tara serve: {phase_dir} holds no manifest.json; build the phase first (tara-trainer build)", file=sys.stderr)
        return 2
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    stop = {"now": False}

    def on_signal(_sig: int, _frame: Any) -> None:
        stop["now"] = True

    previous = signal.signal(signal.SIGTERM, on_signal)
    try:
        with running(phase_dir, port, host, ctx_size, threads, work) as served:
            domains = manifest.get("domains") or []
            print(f"TARA is serving {', '.join(domains)} ({manifest['served']['quantization']}) at {served.url}/v1 "
                  f"(models: tara-auto, {', '.join('tara-' + d for d in domains)}); Ctrl-C stops", flush=True)
            while not stop["now"] and served.alive():
                time.sleep(0.2)
            if not stop["now"]:
                print("tara serve: llama-server or the router exited", file=sys.stderr)
                return 1
        return 0
    except KeyboardInterrupt:
        return 0
    except RuntimeError as exc:
        print(f"tara serve: {exc}", file=sys.stderr)
        return 1
    finally:
        signal.signal(signal.SIGTERM, previous)
