"""Operator benchmark: 500 DomainTrainings created at once against the API emulator; time from each
create to its Job, time until every resource is reconciled, and the operator's memory, for our
operator and, in the same run, for a minimal kopf operator that only creates a Job.

    python benchmarks/bench_operator.py [--count 500] [--repeats 2] [--output benchmarks/results/operator.json]

Both operators run as separate processes against the same kind of emulator (tests/operator/apiserver.py,
a fresh one per run, in this process's thread) over HTTP; resources are created by 8 client threads.
"Reconciled" means: ours has written the resource's status (after creating its Job, ConfigMap,
claim and RBAC); the minimal one has created the Job. The sides alternate between repeats;
medians are reported and every repeat is recorded. Not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from importlib import metadata
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "operator"))
sys.path.insert(0, str(ROOT / "benchmarks"))
for sub in ("api", "operator", "trainer_image"):
    sys.path.insert(0, str(ROOT / sub))

from apiserver import ServerThread  # noqa: E402
from common import write_result  # noqa: E402
from kubernetes import client  # noqa: E402

from tara_trainer.outputs import library_versions  # noqa: E402

NS = "bench"


def _kubeconfig(url: str, folder: Path) -> Path:
    path = folder / "kubeconfig"
    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "e",
        "clusters": [{"name": "e", "cluster": {"server": url}}], "users": [{"name": "u", "user": {"token": "t"}}],
        "contexts": [{"name": "e", "context": {"cluster": "e", "user": "u"}}]}))
    return path


def _body(i: int) -> dict[str, Any]:
    return {"apiVersion": "tara.dev/v1alpha1", "kind": "DomainTraining", "metadata": {"name": f"dt-{i:04d}"},
            "spec": {"domain": "healthcare", "baseModel": {"repo": "Qwen/Qwen2.5-3B-Instruct"}, "dataset": {"builtin": "healthcare"},
                     "resources": {"accelerator": "cpu"}}}


def _start(side: str, kubeconfig: Path, log: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TARA_", "KUBERNETES_"))}
    env.update(KUBECONFIG=str(kubeconfig), TARA_METRICS_PORT="0", TARA_LIVENESS_PORT="0", TARA_RESYNC_SECONDS="60",
               PYTHONPATH=os.pathsep.join(str(ROOT / s) for s in ("api", "operator", "trainer_image")))
    if side == "ours":
        cmd = [sys.executable, "-m", "tara_operator.main"]
    else:
        cmd = [sys.executable, "-m", "kopf", "run", "--standalone", "-A", str(ROOT / "benchmarks" / "minimal_operator.py")]
    return subprocess.Popen(cmd, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)


def _rss_mib(pid: int) -> tuple[float, float]:
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def run_side(side: str, count: int, work: Path) -> dict[str, Any]:
    srv = ServerThread().start()
    api = srv.api
    assert api is not None
    proc = _start(side, _kubeconfig(srv.url, work), work / f"{side}.log")
    try:
        time.sleep(4)  # let kopf start its watches (it has no readiness signal at port 0)
        if proc.poll() is not None:
            raise RuntimeError(f"{side} operator exited: {(work / f'{side}.log').read_text()[-2000:]}")
        custom = client.CustomObjectsApi(client.ApiClient(client.Configuration(host=srv.url)))
        started = time.monotonic()
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda i: custom.create_namespaced_custom_object("tara.dev", "v1alpha1", NS, "domaintrainings", _body(i)),
                          range(count)))
        created = time.monotonic() - started

        def key(name: str) -> tuple[str, str, str]:
            return ("domaintrainings", NS, name)

        def done(name: str) -> float | None:
            if side == "ours":
                return api.first_status_at.get(key(name))
            jobs = [t for (plural, ns, n), t in list(api.created_at.items()) if plural == "jobs" and n.startswith(f"{name}-")]
            return jobs[0] if jobs else None

        names = [f"dt-{i:04d}" for i in range(count)]
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and not all(done(n) for n in names):
            time.sleep(0.1)
        job_at = {}
        for (plural, _ns, n), t in list(api.created_at.items()):
            if plural == "jobs":
                job_at["-".join(n.split("-")[:2])] = t  # dt-0001-...-train-1 -> dt-0001
        latencies = [(job_at[n] - api.created_at[key(n)]) * 1000 for n in names if n in job_at]
        finished = [done(n) for n in names if done(n)]
        rss, peak = _rss_mib(proc.pid)
        return {
            "count": count, "createSeconds": round(created, 3), "jobs": len(latencies), "reconciled": len(finished),
            "createToJobMs": {"p50": round(_percentile(latencies, 50), 1), "p99": round(_percentile(latencies, 99), 1),
                              "max": round(max(latencies), 1)} if latencies else None,
            "allReconciledSeconds": round(max(finished) - started, 3) if finished else None,
            "rssMiB": round(rss, 1), "peakRssMiB": round(peak, 1),
        }
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
        srv.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--output", default=str(ROOT / "benchmarks" / "results" / "operator.json"))
    args = parser.parse_args()
    runs: dict[str, list[dict[str, Any]]] = {"minimal": [], "ours": []}
    order = ["minimal", "ours"]
    with tempfile.TemporaryDirectory(prefix="tara-bench-op-") as tmp:
        for r in range(args.repeats):
            for side in order:
                work = Path(tmp) / f"{side}-{r}"
                work.mkdir()
                result = run_side(side, args.count, work)
                runs[side].append(result)
                print(f"  repeat {r + 1} {side:>7}: {json.dumps(result)}", flush=True)
            order.reverse()

    def med(side: str, path: str) -> float:
        values = []
        for run in runs[side]:
            node: Any = run
            for part in path.split("."):
                node = node[part]
            values.append(node)
        return statistics.median(values)

    summary = {side: {"p50Ms": med(side, "createToJobMs.p50"), "p99Ms": med(side, "createToJobMs.p99"),
                      "allReconciledSeconds": med(side, "allReconciledSeconds"), "peakRssMiB": med(side, "peakRssMiB")}
               for side in runs}
    ratio = summary["ours"]["allReconciledSeconds"] / summary["minimal"]["allReconciledSeconds"]
    print(f"\n{args.count} DomainTrainings, median of {args.repeats}:")
    for side, s in summary.items():
        print(f"  {side:>7}: create->Job p50 {s['p50Ms']:.0f} ms, p99 {s['p99Ms']:.0f} ms, all reconciled {s['allReconciledSeconds']:.1f} s, "
              f"peak RSS {s['peakRssMiB']:.0f} MiB")
    print(f"  ours/minimal (all reconciled): {ratio:.2f} (targets: p50 <= 30 ms, all <= 15 s, <= 1.25x)")
    versions = {**library_versions(), **{d: metadata.version(d) for d in ("kopf", "kmock", "kubernetes")}}
    write_result(args.output, {"benchmark": "operator", "count": args.count, "summary": summary,
                               "oursOverMinimal": round(ratio, 3), "runs": runs, "versions": versions})
    return 0


if __name__ == "__main__":
    sys.exit(main())
