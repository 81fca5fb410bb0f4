"""Router benchmark: the latency the router adds, and its maximum requests/s, against calling the
upstream directly and against LiteLLM's proxy in front of the same upstream, in the same run.

    python benchmarks/bench_router.py [--build DIR] [--requests 400] [--concurrency 32] [--repeats 3]
                                      [--workers 2] [--output benchmarks/results/router.json]

Two routers: keyword routing (``router``) and semantic routing with the build's index and
embedding model (``semantic``; the decision cache is off, so every request is embedded: the worst
case); each also with ``--workers`` worker processes sharing its port (``TARA_ROUTER_WORKERS``;
the semantic workers embed on ``2 // workers`` threads each, so they do not oversubscribe two cores).
Two upstreams: ``stub`` (an aiohttp server answering a fixed chat completion at once, which
isolates what each proxy adds) and ``llama`` (llama-server on the tiny GGUF build with its two
LoRAs; ``--build`` reuses one, otherwise the script trains and builds it, about two minutes).
Each side sends the same chat requests (max_tokens 1) at the given concurrency after a warm-up;
added latency = the side's percentile minus the direct percentile. Each side's CPU time per
request (its processes' user + system time over the run, from ``/proc``) is recorded too: on a shared
machine it moves less than latency does. LiteLLM (``litellm[proxy]``,
pinned below) is installed once into its own virtual environment under ``~/.cache/tara`` so its
dependencies never touch the project's. Sides rotate between repeats; medians are reported and
every repeat recorded. Not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
for sub in ("api", "router", "trainer_image", "cli"):
    sys.path.insert(0, str(ROOT / sub))
sys.path.insert(0, str(ROOT / "benchmarks"))

from common import write_result  # noqa: E402

from tara_cli.serve import free_port  # noqa: E402

LITELLM = "1.98.1"  # newer releases need a certifi the registry does not serve yet
BODY = {"model": "tara-auto", "max_tokens": 1, "temperature": 0,
        "messages": [{"role": "user", "content": "How should I price my SaaS product for small business customers?"}]}
# What the router sends upstream for BODY (routed to business): the same LoRA selection goes to the
# direct and LiteLLM sides, so llama-server does the same work on every side.
LORA = [{"id": 0, "scale": 0.0}, {"id": 1, "scale": 1.0}]
STUB_ANSWER = {"id": "chatcmpl-1", "object": "chat.completion", "created": 0, "model": "tara",
               "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi"}, "finish_reason": "length"}],
               "usage": {"prompt_tokens": 12, "completion_tokens": 1, "total_tokens": 13}}



def wait_http(url: str, timeout: float = 120) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status < 500:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s")


def stub_server(port: int) -> subprocess.Popen:
    code = f"""
from aiohttp import web
body = {json.dumps(json.dumps(STUB_ANSWER))}.encode()
async def chat(request):
    await request.read()
    return web.Response(body=body, content_type="application/json")
async def health(request):
    return web.json_response({{"status": "ok"}})
app = web.Application()
app.router.add_post("/v1/chat/completions", chat)
app.router.add_get("/health", health)
web.run_app(app, host="127.0.0.1", port={port}, print=None, access_log=None)
"""
    return subprocess.Popen([sys.executable, "-c", code])


def litellm_python() -> Path:
    venv = Path.home() / ".cache" / "tara" / f"bench-litellm-{LITELLM}"
    python = venv / "bin" / "python"
    if not (venv / ".installed").is_file():
        print(f"installing litellm[proxy]=={LITELLM} into {venv} (once)", flush=True)
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", f"litellm[proxy]=={LITELLM}"], check=True)
        (venv / ".installed").write_text(LITELLM)
    return python


def start_litellm(upstream: str, port: int, work: Path) -> subprocess.Popen:
    config = work / f"litellm-{port}.yaml"
    config.write_text(json.dumps({"model_list": [{"model_name": "tara-auto", "litellm_params": {
        "model": "openai/tara", "api_base": upstream + "/v1", "api_key": "none"}}],
        "litellm_settings": {"drop_params": True, "telemetry": False}}))
    python = litellm_python()
    env = {**os.environ, "LITELLM_LOG": "ERROR", "LITELLM_TELEMETRY": "False", "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    proc = subprocess.Popen([str(python.parent / "litellm"), "--config", str(config), "--port", str(port), "--host", "127.0.0.1",
                             "--num_workers", "1"], env=env, stdout=subprocess.DEVNULL, stderr=(work / f"litellm-{port}.log").open("wb"))
    wait_http(f"http://127.0.0.1:{port}/health/liveliness", 180)
    return proc


def router_sides(workers: int, baseline: str | None) -> list[tuple[str, bool, int, Path]]:
    """The router sides: (name, semantic routing, worker processes, source root)."""
    sides = [("router", False, 1, ROOT), ("semantic", True, 1, ROOT)]
    if workers > 1:
        sides += [(f"router x{workers}", False, workers, ROOT), (f"semantic x{workers}", True, workers, ROOT)]
    if baseline:
        sides += [("router@baseline", False, 1, Path(baseline)), ("semantic@baseline", True, 1, Path(baseline))]
    return sides


def start_router(upstream: str, port: int, work: Path, build: Path | None = None, workers: int = 1,
                 root: Path = ROOT) -> subprocess.Popen:
    """The router in front of ``upstream``: keyword routing, or with ``build`` the build's routing
    index and embedding model (every request embedded: the decision cache is off), in ``workers``
    processes."""
    config = work / f"router-{port}.json"
    body: dict[str, Any] = {"upstream": upstream, "domains": [{"name": "healthcare", "adapterId": 0}, {"name": "business", "adapterId": 1}]}
    if build is not None:
        body["semantic"] = {"index": str(build / "router" / "index.npz"), "model": str(build / "router" / "embedder.gguf"),
                            "threads": max(1, 2 // workers)}
    config.write_text(json.dumps(body))
    proc = subprocess.Popen([sys.executable, "-m", "tara_router.main", "--config", str(config), "--port", str(port),
                             "--host", "127.0.0.1"], env={**os.environ, "TARA_ROUTER_CACHE_SIZE": "0", "TARA_ROUTER_WORKERS": str(workers),
                                                          "PYTHONPATH": str(root / "router") + os.pathsep + str(root / "api")},
                            stdout=subprocess.DEVNULL, stderr=(work / f"router-{port}.log").open("wb"))
    wait_http(f"http://127.0.0.1:{port}/healthz", 120)
    time.sleep(1.0 if workers == 1 else 10.0)  # every worker listening (the semantic ones load their model)
    return proc


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` and its children so far (Linux ``/proc``)."""
    pids = [pid, *(int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split())]
    ticks = 0
    for p in pids:
        fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


async def load(url: str, total: int, concurrency: int, body: dict[str, Any]) -> dict[str, Any]:
    import aiohttp

    latencies: list[float] = []
    errors = 0
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(total):
        queue.put_nowait(i)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:
        for _ in range(min(20, total)):  # warm-up
            async with session.post(url, json=body) as r:
                await r.read()

        async def worker() -> None:
            nonlocal errors
            while True:
                try:
                    queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                started = time.perf_counter()
                async with session.post(url, json=body) as r:
                    await r.read()
                    if r.status != 200:
                        errors += 1
                latencies.append((time.perf_counter() - started) * 1000)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    pick = (lambda q: latencies[min(len(latencies) - 1, int(q / 100 * len(latencies)))])  # noqa: E731
    return {"p50Ms": round(pick(50), 3), "p99Ms": round(pick(99), 3), "rps": round(total / elapsed, 1), "errors": errors}


def make_build(work: Path) -> Path:
    import yaml

    from tara_api import DomainTraining, GGUFPhase
    from tara_trainer import tiny
    from tara_trainer.export.build import BuildRequest, build
    from tara_trainer.settings import TrainerSettings
    from tara_trainer.train import TrainRequest, train

    settings = TrainerSettings.from_env({**os.environ, "TARA_STATE_INTERVAL": "60"})
    model = tiny.build_tiny_model(work / "tiny")
    for domain in ("healthcare", "business"):
        res = DomainTraining.model_validate({"apiVersion": "tara.dev/v1alpha1", "kind": "DomainTraining", "metadata": {"name": domain},
                                             "spec": {"domain": domain, "baseModel": {"path": str(model)}, "dataset": {"builtin": domain},
                                                      "training": {"maxSteps": 20, "batchSize": 8, "sequenceLength": 128,
                                                                   "learningRate": 3e-3, "gradientCheckpointing": False},
                                                      "resources": {"accelerator": "cpu"}, "qualityGate": {"enabled": False}}})
        train(TrainRequest(name=domain, spec=res.spec, output_dir=work / "trainings" / domain, base_dir=work), settings)
    phase = GGUFPhase.model_validate(yaml.safe_load(yaml.safe_dump({
        "apiVersion": "tara.dev/v1alpha1", "kind": "GGUFPhase", "metadata": {"name": "bench"},
        "spec": {"phaseNumber": 1, "domains": [{"domain": "healthcare"}, {"domain": "business"}], "quantization": ["Q8_0"]}})))
    return build(BuildRequest(phase=phase, output_dir=work / "build", trainings_dir=work / "trainings"), settings).output_dir


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build", help="a finished tiny build to serve (default: train and build one)")
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2, help="worker processes of the extra router sides (1: none)")
    parser.add_argument("--baseline", help="another checkout's source root (e.g. from git worktree add): its router is "
                                           "measured too, as sides router@baseline and semantic@baseline")
    parser.add_argument("--output", default=str(ROOT / "benchmarks" / "results" / "router.json"))
    args = parser.parse_args()
    litellm_python()
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="tara-bench-router-") as tmp:
        work = Path(tmp)
        build_dir = Path(args.build) if args.build else make_build(work)
        for upstream_kind in ("stub", "llama"):
            port = free_port()
            if upstream_kind == "stub":
                upstream_proc = stub_server(port)
            else:
                upstream_proc = subprocess.Popen([sys.executable, "-m", "tara_trainer.cli", "serve", "--build", str(build_dir),
                                                  "--port", str(port), "--ctx-size", "512", "--threads", "2"],
                                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            upstream = f"http://127.0.0.1:{port}"
            procs = []
            try:
                wait_http(upstream + "/health", 120)
                # side -> (url, process): the routers (keyword, semantic; one worker and --workers), LiteLLM
                sides: dict[str, tuple[str, subprocess.Popen | None]] = {"direct": (upstream + "/v1/chat/completions", None)}
                for name, semantic, workers, root in router_sides(args.workers, args.baseline):
                    port_ = free_port()
                    procs.append(start_router(upstream, port_, work, build_dir if semantic else None, workers, root))
                    sides[name] = (f"http://127.0.0.1:{port_}/v1/chat/completions", procs[-1])
                l_port = free_port()
                procs.append(start_litellm(upstream, l_port, work))
                sides["litellm"] = (f"http://127.0.0.1:{l_port}/v1/chat/completions", procs[-1])
                # llama-server's first requests with a LoRA are slow (seconds): warm it up before measuring
                asyncio.run(load(sides["direct"][0], 2 * args.concurrency, args.concurrency, {**BODY, "lora": LORA}))
                runs: dict[str, list[dict[str, Any]]] = {k: [] for k in sides}
                order = list(sides)
                for r in range(args.repeats):
                    for side in order:
                        url, proc = sides[side]
                        body = {**BODY, "lora": LORA} if side in ("direct", "litellm") else BODY  # the routers choose the LoRA
                        cpu = cpu_seconds(proc.pid) if proc else 0.0
                        run = asyncio.run(load(url, args.requests, args.concurrency, body))
                        if proc:  # the warm-up's 20 requests included
                            run["cpuUsPerRequest"] = round((cpu_seconds(proc.pid) - cpu) / (args.requests + 20) * 1e6)
                        runs[side].append(run)
                        print(f"  {upstream_kind} repeat {r + 1} {side:>12}: {run}", flush=True)
                    order = order[1:] + order[:1]
                keys = ("p50Ms", "p99Ms", "rps", "cpuUsPerRequest")
                med = {side: {k: statistics.median(run[k] for run in v) for k in keys if k in v[0]} for side, v in runs.items()}
                added = {side: {"p50Ms": round(med[side]["p50Ms"] - med["direct"]["p50Ms"], 3),
                                "p99Ms": round(med[side]["p99Ms"] - med["direct"]["p99Ms"], 3)} for side in sides if side != "direct"}
                results[upstream_kind] = {"median": med, "added": added, "runs": runs}
            finally:
                for p in [*procs, upstream_proc]:
                    p.terminate()
                    try:
                        p.wait(20)
                    except subprocess.TimeoutExpired:
                        p.kill()
    print(f"\nconcurrency {args.concurrency}, {args.requests} requests per side, median of {args.repeats}:")
    for kind, res in results.items():
        m, a = res["median"], res["added"]
        print(f"  upstream {kind}: direct p50 {m['direct']['p50Ms']:.2f} ms / {m['direct']['rps']:.0f} req/s")
        for side, added in a.items():
            print(f"    {side:>14} adds p50 {added['p50Ms']:+8.2f} ms, p99 {added['p99Ms']:+8.2f} ms ({m[side]['rps']:5.0f} req/s, "
                  f"{m[side]['cpuUsPerRequest']:.0f} µs CPU per request)")
    write_result(args.output, {"benchmark": "router", "concurrency": args.concurrency, "requests": args.requests,
                               "repeats": args.repeats, "workers": args.workers, "baseline": args.baseline,
                               "results": results, "litellm": LITELLM})
    return 0


if __name__ == "__main__":
    sys.exit(main())
