"""The operator watches the trainer's Jobs, not their pods (``status.pods_needed``), against the real
control plane: in its own module, so that no other operator (the module-scoped one of
``test_operator_training``, which resyncs every second) reconciles these trainings for it."""

from __future__ import annotations

import pytest
from operator_support import GROUP, VERSION, Operator, wait_for

pytestmark = pytest.mark.slow


def _dt(name: str) -> dict:
    return {"apiVersion": f"{GROUP}/{VERSION}", "kind": "DomainTraining", "metadata": {"name": name},
            "spec": {"domain": "healthcare", "baseModel": {"repo": "Qwen/Qwen2.5-3B-Instruct"}, "dataset": {"builtin": "healthcare"},
                     "resources": {"accelerator": "cpu", "cpu": "100m"}}}


def test_a_burst_reaches_running_at_its_jobs_events_not_at_a_resync(operator_kubeconfig, tmp_path, cluster) -> None:
    """Trainings created at once reach Running when their Jobs count a ready pod: the Job's event, not a
    resync (this operator's would come after 10 minutes), and no pod watch."""
    ns = cluster.namespace("jobready")
    # every namespace (the chart's default identity may not list namespaces, which a namespace list needs)
    op = Operator(operator_kubeconfig, tmp_path / "op.log", {"TARA_RESYNC_SECONDS": "600"}).start()
    try:
        names = [f"hc{i}" for i in range(8)]
        for name in names:
            cluster.custom.create_namespaced_custom_object(GROUP, VERSION, ns, "domaintrainings", _dt(name))
        for name in names:
            job = wait_for(f"{name}'s Job", lambda name=name: cluster.jobs(ns, f"tara.dev/domaintraining={name}"))[0]
            cluster.run_pod(ns, job.metadata.name)
        for name in names:
            status = wait_for(f"{name} Running", lambda name=name: (s := cluster.status(ns, name)).get("phase") == "Running" and s,
                              timeout=60)
            assert status["attempts"] == 1 and status["jobName"]
    finally:
        op.stop()
