"""Chaos on the real control plane: 50 DomainTrainings and 5 GGUFPhases in flight while the operator
is SIGKILLed 20 times at random moments and kube-apiserver itself is killed and restarted once (its
watch cache starts empty, so the operator's watches resume from versions it no longer has: 410
Gone). Every resource must reach the right phase with no duplicate children, and deleting
everything must leave no orphans. The counts are printed (``pytest -s`` shows them)."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from controlplane import annotate_exit
from operator_support import GROUP, VERSION, Operator, wait_for

from tara_operator import names

pytestmark = pytest.mark.slow

TRAININGS, PHASES, KILLS = 50, 5, 20


def _dt(name: str) -> dict:
    return {"apiVersion": f"{GROUP}/{VERSION}", "kind": "DomainTraining", "metadata": {"name": name},
            "spec": {"domain": name, "baseModel": {"repo": "Qwen/Qwen2.5-3B-Instruct"}, "dataset": {"builtin": "healthcare"},
                     "resources": {"accelerator": "cpu"}}}


def _phase(i: int) -> dict:
    return {"apiVersion": f"{GROUP}/{VERSION}", "kind": "GGUFPhase", "metadata": {"name": f"phase-{i}"},
            "spec": {"phaseNumber": i + 1, "domains": [{"domain": f"d{2 * i:02d}"}, {"domain": f"d{2 * i + 1:02d}"}],
                     "quantization": ["Q8_0"]}}


class Kubelet(threading.Thread):
    """Ends each running Job pod with exit 0 a little after it started, in random order."""

    def __init__(self, cluster, ns: str, rng: random.Random) -> None:
        super().__init__(name="chaos-kubelet")
        self.cluster, self.ns, self.rng, self.done = cluster, ns, rng, threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        while not self.done.wait(0.3):
            try:
                for pod in self.cluster.core.list_namespaced_pod(self.ns, label_selector=names.JOB_NAME_LABEL).items:
                    if (pod.status.phase == "Running" and not pod.metadata.deletion_timestamp
                            and "test.tara.dev/exit-code" not in (pod.metadata.annotations or {}) and self.rng.random() < 0.3):
                        annotate_exit(self.cluster.core, self.ns, pod.metadata.name, 0)
            except Exception as exc:  # noqa: BLE001 - the API server restarts under us; try again
                self.error = exc


def _children(cluster, ns: str) -> dict[str, list]:
    return {
        "Job": cluster.batch.list_namespaced_job(ns).items,
        "Pod": cluster.core.list_namespaced_pod(ns).items,
        "Deployment": cluster.apps.list_namespaced_deployment(ns).items,
        "ReplicaSet": cluster.apps.list_namespaced_replica_set(ns).items,
        "Service": cluster.core.list_namespaced_service(ns).items,
        "ConfigMap": [c for c in cluster.core.list_namespaced_config_map(ns).items if c.metadata.name != "kube-root-ca.crt"],
        "PersistentVolumeClaim": cluster.core.list_namespaced_persistent_volume_claim(ns).items,
    }


def test_operator_killed_20_times_and_apiserver_restarted(control_plane, operator_kubeconfig: Path, cluster,
                                                          tmp_path: Path) -> None:
    ns = cluster.namespace("chaos")
    rng = random.Random(12)
    env: dict[str, str] = {}  # every namespace, as the chart's defaults deploy it
    args = ("--verbose",)  # kopf says at debug level when a watch restarts after 410 Gone
    op = Operator(operator_kubeconfig, tmp_path / "operator-0.log", env, args).start()
    kubelet = Kubelet(cluster, ns, rng)
    kubelet.start()
    kills = apiserver_restarts = 0
    try:
        for i in range(TRAININGS):
            cluster.custom.create_namespaced_custom_object(GROUP, VERSION, ns, "domaintrainings", _dt(f"d{i:02d}"))
        for i in range(PHASES):
            cluster.custom.create_namespaced_custom_object(GROUP, VERSION, ns, "ggufphases", _phase(i))
        while kills < KILLS:
            time.sleep(rng.uniform(0.2, 2.5))
            if kills == KILLS // 2:  # under a running operator: its watches resume from versions that are gone
                # A write the operator does not watch moves etcd's revision past every watch's version, so
                # the compaction removes them even when the resources happen to be quiet at this moment.
                cluster.namespace("chaos-revision")
                control_plane.compact_etcd()
                control_plane.restart_apiserver()
                apiserver_restarts += 1
                time.sleep(3)
            op.proc.kill()  # SIGKILL: no cleanup, no goodbye to the server
            op.proc.wait(10)
            kills += 1
            op = Operator(operator_kubeconfig, tmp_path / f"operator-{kills}.log", env, args).start()

        def phases() -> Counter:
            trainings = cluster.custom.list_namespaced_custom_object(GROUP, VERSION, ns, "domaintrainings")["items"]
            phases_ = cluster.custom.list_namespaced_custom_object(GROUP, VERSION, ns, "ggufphases")["items"]
            return Counter([("DomainTraining", (t.get("status") or {}).get("phase")) for t in trainings]
                           + [("GGUFPhase", (p.get("status") or {}).get("phase")) for p in phases_])

        wait_for("every resource done", lambda: phases() == Counter({("DomainTraining", "Succeeded"): TRAININGS,
                                                                     ("GGUFPhase", "Deployed"): PHASES}), timeout=300)
        children = _children(cluster, ns)
        jobs_per_owner = Counter(o.uid for j in children["Job"] for o in j.metadata.owner_references or [])
        duplicates = {uid: n for uid, n in jobs_per_owner.items() if n > 1}
        deployments = Counter(o.uid for d in children["Deployment"] for o in d.metadata.owner_references or [])
        trainings = cluster.custom.list_namespaced_custom_object(GROUP, VERSION, ns, "domaintrainings")["items"]
        attempts = Counter(t["status"]["attempts"] for t in trainings)
        restarted = sum(p.read_text(errors="replace").count("Restarting the watch-stream") for p in tmp_path.glob("operator-*.log"))
        print(f"\nchaos: {kills} operator SIGKILLs, {apiserver_restarts} kube-apiserver restart, "
              f"{len(children['Job'])} Jobs for {TRAININGS} trainings + {PHASES} builds, duplicate children: "
              f"{len(duplicates)}, attempts per training: {dict(attempts)}, watches restarted after 410 Gone: {restarted}")
        assert not duplicates and len(children["Job"]) == TRAININGS + PHASES
        assert all(n == 1 for n in deployments.values()) and len(deployments) == PHASES
        assert attempts == Counter({1: TRAININGS})  # a killed operator is no failed attempt
        assert restarted > 0  # the restarted server did answer 410, and the operator carried on
        for p in cluster.custom.list_namespaced_custom_object(GROUP, VERSION, ns, "ggufphases")["items"]:
            assert p["status"]["revision"] == 1 and p["status"]["servedRevision"] == 1

        # deleting everything leaves nothing behind but what retention keeps (the checkpoint claims)
        for plural in ("ggufphases", "domaintrainings"):
            cluster.custom.delete_collection_namespaced_custom_object(GROUP, VERSION, ns, plural)
        wait_for("resources gone", lambda: not any(
            cluster.custom.list_namespaced_custom_object(GROUP, VERSION, ns, p)["items"] for p in ("ggufphases", "domaintrainings")),
            timeout=120)

        def leftovers() -> dict[str, list[str]]:
            kept = lambda o: not o.metadata.owner_references and (  # noqa: E731
                o.metadata.name.endswith("-checkpoints") or o.metadata.name == "tara-artifacts")
            found = {kind: [o.metadata.name for o in items if kind != "PersistentVolumeClaim" or not kept(o)]
                     for kind, items in _children(cluster, ns).items()}
            return {k: v for k, v in found.items() if v}

        wait_for("no orphans", lambda: not leftovers() or None, timeout=120)
        print(f"chaos: after deletion, orphans: 0; claims kept by retention: "
              f"{len(cluster.core.list_namespaced_persistent_volume_claim(ns).items)}")
    finally:
        kubelet.done.set()
        kubelet.join(10)
        op.stop()
