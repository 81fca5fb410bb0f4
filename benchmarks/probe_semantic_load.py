"""Probe (not a benchmark of record): what semantic routing costs under load. 320 routing-eval
queries, uncached, at 32 concurrent through the router in front of an instant stub: the keyword
router against the semantic one, alternated twice. Needs the index ``bench_routing.py`` writes to
``/tmp/tara-bench-routing/index.npz`` (run that first).

    python benchmarks/probe_semantic_load.py
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_routing as br  # noqa: E402
from aiohttp import ClientSession, web  # noqa: E402
from aiohttp.test_utils import TestServer  # noqa: E402

from tara_router.app import build_app  # noqa: E402
from tara_router.settings import RouterSettings  # noqa: E402

ANSWER = {"id": "x", "object": "chat.completion", "created": 0, "model": "m",
          "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}]}
CONCURRENCY = 32


async def measure(config: Any, texts: list[str]) -> tuple[float, float, int]:
    """p50 and p99 latency (ms) and requests/s through the router for ``texts``."""
    async def chat(request: web.Request) -> web.Response:
        await request.read()
        return web.json_response(ANSWER)

    upstream = web.Application()
    upstream.router.add_post("/v1/chat/completions", chat)
    async with TestServer(upstream) as stub:
        routed = config.model_copy(update={"upstream": str(stub.make_url("/"))})
        async with TestServer(build_app(routed, RouterSettings(cache_size=0))) as server, ClientSession() as session:
            url = str(server.make_url("/v1/chat/completions"))
            gate = asyncio.Semaphore(CONCURRENCY)
            latencies: list[float] = []

            async def one(text: str) -> None:
                async with gate:
                    start = time.perf_counter()
                    body = {"model": "tara-auto", "messages": [{"role": "user", "content": text}]}
                    async with session.post(url, json=body) as response:
                        await response.read()
                    latencies.append((time.perf_counter() - start) * 1e3)

            await asyncio.gather(*(one(t) for t in texts[:CONCURRENCY]))  # warm-up
            latencies.clear()
            start = time.perf_counter()
            await asyncio.gather(*(one(t) for t in texts))
            wall = time.perf_counter() - start
    latencies.sort()
    return round(latencies[len(latencies) // 2], 1), round(latencies[int(len(latencies) * 0.99)], 1), round(len(texts) / wall)


def main() -> None:
    texts = [br.turns(r)[-1] for r in br.load()][:320]
    semantic = br.semantic_router(Path("/tmp/tara-bench-routing/index.npz"), br.embedder()[1]).config
    keywords = br.operator_config()
    for name, config in (("keywords", keywords), ("semantic", semantic)) * 2:
        p50, p99, rate = asyncio.run(measure(config, texts))
        print(f"{name:9} p50 {p50} ms, p99 {p99} ms, {rate} req/s")


if __name__ == "__main__":
    main()
