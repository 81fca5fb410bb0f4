"""``tara-router``: serve the router in front of llama-server.

    tara-router --config router.json [--port 8080] [--upstream http://127.0.0.1:8081]

Settings come from ``TARA_ROUTER_*`` variables; flags override them. A config that cannot be used
exits with status 2 and a message naming the file and field.

SIGINT or SIGTERM while serving: aiohttp's ``run_app`` closes the listening socket, lets requests in
flight finish and returns; exit 0, as a server that was asked to stop. While starting (loading the
config and the routing index), either signal ends the process with one line and 128 + the signal.

``TARA_ROUTER_WORKERS`` > 1: that many worker processes share the port (``workers``); the process
started supervises them, with the same exit statuses.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tara_router.config import RouterConfig
    from tara_router.settings import RouterSettings

__all__ = ["main"]


class _Stopped(BaseException):
    """SIGINT or SIGTERM before the server runs (``run_app`` installs its own handlers)."""


def _stop_starting(signum: int, _frame: FrameType | None) -> None:
    raise _Stopped(signum)


def main(argv: list[str] | None = None) -> int:
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _stop_starting)
    try:
        return _main(argv)
    except _Stopped as exc:
        signum = exc.args[0]
        print(f"tara-router: interrupted ({signal.Signals(signum).name}) while starting", file=sys.stderr)
        return 128 + signum


def _main(argv: list[str] | None) -> int:
    # One BLAS thread: the router's matrix-vector products are small, and OpenBLAS threads that spin
    # next to llama.cpp's on a 2-core pod made embedding a request 2-5x slower (measured). Set
    # before numpy is first imported.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    from tara_router.config import ConfigError, load_config
    from tara_router.settings import RouterSettings

    parser = argparse.ArgumentParser(prog="tara-router", description=__doc__.split("\n\n")[0].replace("``", ""))
    parser.add_argument("--config", help="routing config JSON (default $TARA_ROUTER_CONFIG)")
    parser.add_argument("--host")
    parser.add_argument("--port", type=int)
    parser.add_argument("--upstream", help="llama-server URL (default: the config's upstream)")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s", stream=sys.stderr)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    settings = RouterSettings.from_env()
    overrides = {k: v for k, v in {"config": Path(args.config) if args.config else None, "host": args.host,
                                    "port": args.port, "upstream": args.upstream}.items() if v is not None}
    settings = settings.model_copy(update=overrides)
    try:
        config = load_config(settings.config)
    except ConfigError as exc:
        print(f"tara-router: {exc}", file=sys.stderr)
        return 2
    if settings.workers > 1 and settings.port == 0:
        print("tara-router: TARA_ROUTER_WORKERS > 1 needs a fixed port (with port 0 each worker would listen on its own)",
              file=sys.stderr)
        return 2
    routing = "sentence embeddings" if config.semantic else "keywords and TF-IDF (no routing index in the config)"
    workers = f" in {settings.workers} worker processes" if settings.workers > 1 else ""
    listening = (f"tara-router: {len(config.domains)} domain(s) routed by {routing}, upstream {settings.upstream or config.upstream}, "
                 f"listening on http://{settings.host}:{settings.port}{workers}")
    if settings.workers == 1:
        return _serve(config, settings, None, listening)
    from tara_router.workers import serve_workers

    print(listening, file=sys.stderr, flush=True)
    return serve_workers(settings.workers, lambda metrics_dir: _serve(config, settings, metrics_dir))


def _serve(config: RouterConfig, settings: RouterSettings, metrics_dir: Path | None, listening: str | None = None) -> int:
    """Build the app, print ``listening`` and serve until SIGINT or SIGTERM (0); 2 when the config's
    routing index cannot be used. ``metrics_dir``: a worker of several (they share the port and their
    metrics there)."""
    from aiohttp import web

    from tara_router.app import build_app
    from tara_router.config import ConfigError

    try:
        app = build_app(config, settings, metrics_dir=metrics_dir)
    except ConfigError as exc:
        print(f"tara-router: {settings.config}: {exc}", file=sys.stderr)
        return 2
    if listening:
        print(listening, file=sys.stderr, flush=True)
    web.run_app(app, host=settings.host, port=settings.port, print=None, access_log=None, reuse_port=metrics_dir is not None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
