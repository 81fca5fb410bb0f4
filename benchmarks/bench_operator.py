"""Operator benchmark on a real control plane: DomainTrainings created at once, time from each create
to its Job, time until every resource is reconciled, the operator's memory, and where the time goes
(API calls and server time per resource, CPU per reconcile), for ``tara-operator`` and, in the same
run, for a minimal kopf operator that only creates a Job (``minimal_operator.py``).

    python benchmarks/bench_operator.py [--count 500] [--repeats 2] [--output benchmarks/results/operator.json]
    python benchmarks/bench_operator.py --count 100 --profile ours.prof   # our side alone, under cProfile

Each side of each repeat gets a fresh control plane (``tests/cluster/controlplane.py``: etcd,
kube-apiserver with token auth and RBAC, the controller manager, the scheduler and kwok nodes on
which the Jobs' pods run at once), our CRDs and the Helm chart's operator ServiceAccount and RBAC.
Fresh rather than a namespace emptied in between: deleting 500 trainings leaves the garbage
collector and kwok deleting 500 Jobs and pods for a while, and etcd and the server's watch caches
grown by the previous side; a fresh plane costs a few seconds and leaves nothing of one side
running under the other. Both operators run as processes with the chart ServiceAccount's token,
so each sees exactly what the chart grants. The resources are created by 8 client threads as the
admin. The sides alternate between repeats; medians are reported and every repeat is recorded.

Every figure comes from the API server's own record, its audit log (``audit.k8s.io/v1``, Metadata
level, for ServiceAccounts and the admin's DomainTraining creates only): a create's time is when the
server answered it (microseconds), "reconciled" is, for ours, its first status write, and for the
minimal operator, its Job's create; every request the operator makes after the first create is
counted by verb and resource, with the time the server spent on it. The operator's CPU time and peak
RSS come from /proc. Not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "cluster"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from binaries import ensure_binaries  # noqa: E402
from cluster_support import admin_client, chart_credentials, ensure_namespace, install_crds  # noqa: E402
from common import write_result  # noqa: E402
from controlplane import ADMIN_USER, ControlPlane  # noqa: E402
from kubernetes import client  # noqa: E402

NS = "bench"
SIDES = ("minimal", "ours")
# The watches each side opens before it can handle a creation: the burst starts once they are open.
WATCHES = {"minimal": {"domaintrainings"}, "ours": {"domaintrainings", "jobs", "ggufphases", "configmaps",
                                             "persistentvolumeclaims", "serviceaccounts", "roles", "rolebindings"}}
AUDIT_POLICY = {
    "apiVersion": "audit.k8s.io/v1", "kind": "Policy", "omitStages": ["RequestReceived"],
    "rules": [
        # The operator is the only client with a ServiceAccount's token (the controllers, the
        # scheduler and kwok use the admin's); the script keeps the operator's own user.
        {"level": "Metadata", "userGroups": ["system:serviceaccounts"]},
        {"level": "Metadata", "users": [ADMIN_USER], "verbs": ["create"],
         "resources": [{"group": "tara.dev", "resources": ["domaintrainings"]}]},
        {"level": "None"},
    ],
}
BINARIES = ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "etcd", "kwok")
_TRAINING = re.compile(r"dt-\d{4,}")
_CLK_TCK = os.sysconf("SC_CLK_TCK")
# Our operator's settings in the benchmark: no metrics or liveness servers; the resync timer at 60 s
# (15 s by default) so that a burst shorter than a minute is the creations' work alone.
OURS_ENV = {"TARA_METRICS_PORT": "0", "TARA_LIVENESS_PORT": "0", "TARA_RESYNC_SECONDS": "60"}


def _body(i: int) -> dict[str, Any]:
    return {"apiVersion": "tara.dev/v1alpha1", "kind": "DomainTraining", "metadata": {"name": f"dt-{i:04d}"},
            "spec": {"domain": "healthcare", "baseModel": {"repo": "Qwen/Qwen2.5-3B-Instruct"}, "dataset": {"builtin": "healthcare"},
                     "resources": {"accelerator": "cpu"}}}


def _stamp(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


@dataclass
class AuditTail:
    """What the audit log says so far about the burst, read incrementally as the server appends."""

    path: Path
    operator: str  # the operator's user name
    offset: int = 0
    rest: bytes = b""
    created: dict[str, float] = field(default_factory=dict)  # training -> its create answered
    received: dict[str, float] = field(default_factory=dict)  # training -> its create received
    job: dict[str, float] = field(default_factory=dict)  # training -> its first Job's create answered
    status: dict[str, float] = field(default_factory=dict)  # training -> the operator's first status write
    watching: set[str] = field(default_factory=set)
    calls: list[tuple[float, float, str, int]] = field(default_factory=list)  # received, answered, "verb resource", code
    jobs_created: int = 0

    def poll(self) -> None:
        if not self.path.exists():
            return
        with self.path.open("rb") as f:
            f.seek(self.offset)
            data = f.read()
        self.offset += len(data)
        lines = (self.rest + data).split(b"\n")
        self.rest = lines.pop()
        for line in lines:
            if line:
                self._event(json.loads(line))

    def _event(self, ev: dict[str, Any]) -> None:
        ref, user, verb = ev.get("objectRef") or {}, ev["user"]["username"], ev["verb"]
        resource = ref.get("resource", ev.get("requestURI", "?"))
        if verb == "watch":
            if user == self.operator and ev["stage"] == "ResponseStarted":
                self.watching.add(resource)
            return
        if ev["stage"] != "ResponseComplete":
            return
        code = (ev.get("responseStatus") or {}).get("code", 0)
        received, answered = _stamp(ev["requestReceivedTimestamp"]), _stamp(ev["stageTimestamp"])
        name = ref.get("name") or ""
        if user == ADMIN_USER:
            if code == 201:
                self.created[name], self.received[name] = answered, received
            return
        if user != self.operator:
            return
        sub = ref.get("subresource")
        self.calls.append((received, answered, f"{verb} {resource}{'/' + sub if sub else ''}", code))
        training = _TRAINING.match(name)
        if resource == "jobs" and verb == "create" and code == 201:
            self.jobs_created += 1
            if training:
                self.job.setdefault(training.group(), answered)
        elif resource == "domaintrainings" and sub == "status" and verb in ("patch", "update") and code < 300 and training:
            self.status.setdefault(training.group(), answered)


def _start(side: str, kubeconfig: Path, log: Path, profile: str | None = None) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TARA_", "KUBERNETES_"))}
    env.update(KUBECONFIG=str(kubeconfig), PYTHONUNBUFFERED="1", **OURS_ENV)
    if side == "ours":
        # cProfile sees the main thread only: kopf's event loop (watch events, indexes, handler dispatch)
        cmd = [sys.executable, *(["-m", "cProfile", "-o", profile] if profile else []), "-m", "tara_operator.main"]
    else:
        cmd = [sys.executable, "-m", "kopf", "run", "--standalone", "-A", str(ROOT / "benchmarks" / "minimal_operator.py")]
    with log.open("wb") as out:
        return subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _CLK_TCK  # utime, stime


def _rss_mib(pid: int) -> tuple[float, float]:
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def _wait(what: str, predicate: Any, timeout: float, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if proc.poll() is not None:
            raise RuntimeError(f"the operator exited: {log.read_text(errors='replace')[-3000:]}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}; the operator's log: {log.read_text(errors='replace')[-3000:]}")
        time.sleep(0.2)


def _calls(audit: AuditTail, since: float, until: float, count: int) -> dict[str, Any]:
    """The operator's requests received in [since, until]: per resource, by kind, and the server's time."""
    calls = [c for c in audit.calls if since <= c[0] <= until]
    by_call = Counter(c[2] for c in calls)
    return {
        "perResource": round(len(calls) / count, 2),
        "serverMsPerResource": round(sum(c[1] - c[0] for c in calls) * 1000 / count, 1),
        "byCall": {k: round(v / count, 2) for k, v in by_call.most_common()},
        "errors": dict(Counter(str(c[3]) for c in calls if c[3] >= 400)),
    }


def run_side(side: str, count: int, work: Path, profile: str | None = None) -> dict[str, Any]:
    plane = ControlPlane(work / "plane", audit_policy=AUDIT_POLICY).start()
    log = work / f"{side}.log"
    proc: subprocess.Popen | None = None
    api = admin_client(plane)
    try:
        install_crds(plane)
        kubeconfig = chart_credentials(plane, work / "operator.kubeconfig")
        ensure_namespace(client.CoreV1Api(api), NS)
        audit = AuditTail(plane.audit_log, yaml.safe_load(kubeconfig.read_text())["users"][0]["name"])
        proc = _start(side, kubeconfig, log, profile)

        def watching() -> bool:
            audit.poll()
            return WATCHES[side] <= audit.watching

        _wait("the operator's watches", watching, 120, proc, log)
        time.sleep(1)  # the rest of its start-up (other watches, warm-up) is not part of the burst
        server = {name: plane.procs[name].pid for name in ("apiserver", "etcd")}
        cpu0 = _cpu_seconds(proc.pid)
        server0 = {name: _cpu_seconds(pid) for name, pid in server.items()}
        custom = client.CustomObjectsApi(api)
        started = time.monotonic()
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda i: custom.create_namespaced_custom_object("tara.dev", "v1alpha1", NS, "domaintrainings", _body(i)),
                          range(count)))
        create_seconds = time.monotonic() - started
        done = audit.status if side == "ours" else audit.job

        def reconciled() -> bool:
            audit.poll()
            return len(done) >= count

        _wait(f"{count} resources reconciled", reconciled, 600, proc, log)
        cpu_reconciled = _cpu_seconds(proc.pid)
        server_reconciled = {name: _cpu_seconds(pid) - server0[name] for name, pid in server.items()}

        def quiet() -> bool:  # the operator's last request is 3 s old: the burst's work is over
            audit.poll()
            return time.time() - max(c[1] for c in audit.calls) > 3

        quiet_at = time.monotonic()
        try:
            _wait("the operator to go quiet", quiet, 60, proc, log)
        except RuntimeError:
            if proc.poll() is not None:
                raise
        quiet_after = time.monotonic() - quiet_at
        cpu_quiet = _cpu_seconds(proc.pid)
        rss, peak = _rss_mib(proc.pid)
        first = min(audit.received.values())
        last_reconciled = max(done.values())
        latencies = [(audit.job[n] - audit.created[n]) * 1000 for n in audit.created if n in audit.job]
        return {
            "count": count, "createSeconds": round(create_seconds, 3), "jobs": len(audit.job),
            "jobsCreated": audit.jobs_created, "reconciled": len(done),
            "createToJobMs": {"p50": round(_percentile(latencies, 50), 1), "p99": round(_percentile(latencies, 99), 1),
                              "max": round(max(latencies), 1)},
            "allReconciledSeconds": round(last_reconciled - first, 3),
            "rssMiB": round(rss, 1), "peakRssMiB": round(peak, 1),
            "cpu": {"operatorMsPerResource": round((cpu_reconciled - cpu0) * 1000 / count, 2),
                    "operatorMsPerResourceUntilQuiet": round((cpu_quiet - cpu0) * 1000 / count, 2),
                    **{f"{name}SecondsUntilReconciled": round(s, 2) for name, s in server_reconciled.items()}},
            "apiCalls": {"untilReconciled": _calls(audit, first, last_reconciled, count),
                         "untilQuiet": {**_calls(audit, first, float("inf"), count), "quietAfterSeconds": round(quiet_after, 1)}},
        }
    finally:
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
        api.close()
        plane.stop()


def _hardware() -> dict[str, Any]:
    def first(path: str, key: str) -> str:
        return next((line.split(":", 1)[1].strip() for line in Path(path).read_text().splitlines() if line.startswith(key)), "")

    return {"cpuModel": first("/proc/cpuinfo", "model name"),
            "memoryGiB": round(int(first("/proc/meminfo", "MemTotal").split()[0]) / 2**20, 1)}


def _versions() -> dict[str, str]:
    versions = {"python": platform.python_version(),
                **{d: metadata.version(d) for d in ("tara", "kopf", "kubernetes", "aiohttp", "pydantic")}}
    binaries = ensure_binaries()
    for name in BINARIES:  # what the binaries say of themselves, not what the pins meant
        out = subprocess.run([str(binaries.path(name)), "--version"], capture_output=True, text=True, check=False).stdout
        found = re.search(r"v?(\d+\.\d+\.\d+)", out)
        versions[name] = found.group(1) if found else out.strip()[:40]
    return versions


def _summary(runs: dict[str, list[dict[str, Any]]]) -> dict[str, dict[str, float]]:
    paths = {"p50Ms": "createToJobMs.p50", "p99Ms": "createToJobMs.p99", "allReconciledSeconds": "allReconciledSeconds",
             "peakRssMiB": "peakRssMiB", "cpuMsPerResource": "cpu.operatorMsPerResource",
             "apiCallsPerResource": "apiCalls.untilReconciled.perResource",
             "serverMsPerResource": "apiCalls.untilReconciled.serverMsPerResource",
             "cpuMsPerResourceUntilQuiet": "cpu.operatorMsPerResourceUntilQuiet",
             "apiCallsPerResourceUntilQuiet": "apiCalls.untilQuiet.perResource"}

    def med(side: str, path: str) -> float:
        values = []
        for run in runs[side]:
            node: Any = run
            for part in path.split("."):
                node = node[part]
            values.append(node)
        return round(statistics.median(values), 3)

    return {side: {key: med(side, path) for key, path in paths.items()} for side in runs}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--output", default=str(ROOT / "benchmarks" / "results" / "operator.json"))
    parser.add_argument("--profile", metavar="FILE", help="run our side alone, once, under cProfile (stats to FILE); "
                        "its times are not comparable")
    args = parser.parse_args()
    if args.profile:
        with tempfile.TemporaryDirectory(prefix="tara-bench-op-") as tmp:
            print(json.dumps(run_side("ours", args.count, Path(tmp), str(Path(args.profile).resolve()))))
        return 0
    runs: dict[str, list[dict[str, Any]]] = {side: [] for side in SIDES}
    order = list(SIDES)
    with tempfile.TemporaryDirectory(prefix="tara-bench-op-") as tmp:
        for r in range(args.repeats):
            for side in order:
                work = Path(tmp) / f"{side}-{r}"
                work.mkdir()
                result = run_side(side, args.count, work)
                runs[side].append(result)
                print(f"  repeat {r + 1} {side:>7}: {json.dumps(result)}", flush=True)
            order.reverse()
    summary = _summary(runs)
    ratios = {key: round(summary["ours"][key] / summary["minimal"][key], 3)
              for key in ("allReconciledSeconds", "p50Ms", "p99Ms", "cpuMsPerResource", "apiCallsPerResource")}
    print(f"\n{args.count} DomainTrainings, median of {args.repeats}, a fresh control plane per side:")
    for side, s in summary.items():
        print(f"  {side:>7}: create->Job p50 {s['p50Ms']:.0f} ms, p99 {s['p99Ms']:.0f} ms, all reconciled {s['allReconciledSeconds']:.1f} s, "
              f"peak RSS {s['peakRssMiB']:.0f} MiB, {s['cpuMsPerResource']:.1f} ms CPU and {s['apiCallsPerResource']:.1f} API calls "
              f"({s['serverMsPerResource']:.0f} ms of server time) per resource")
        print(f"  {'':>7}  until quiet: {s['cpuMsPerResourceUntilQuiet']:.1f} ms CPU and {s['apiCallsPerResourceUntilQuiet']:.1f} API calls "
              "per resource")
    print(f"  ours/minimal: all reconciled {ratios['allReconciledSeconds']:.2f} (goal <= 1.25), p50 {ratios['p50Ms']:.2f}, "
          f"CPU per resource {ratios['cpuMsPerResource']:.2f}, API calls per resource {ratios['apiCallsPerResource']:.2f}")
    write_result(args.output, {"benchmark": "operator", "count": args.count, "repeats": args.repeats,
                               "setup": "a fresh control plane per side and repeat; sides rotated; figures from the API server's audit log",
                               "oursEnv": OURS_ENV, "summary": summary, "oursOverMinimal": ratios, "runs": runs,
                               "versions": _versions(), "hardware": _hardware()})
    return 0


if __name__ == "__main__":
    sys.exit(main())
