"""A GGUFPhase's ``status.cost``: read what its trainings, build Jobs and serving Deployment used,
and let ``cost`` do the arithmetic.

The trainings' figures are their own ``status.cost`` (the same prices, so the phase and the training
agree). The build's are every build Job of the phase that exists, from each Job's pod template and
its start and end. Serving time cannot be read back from Kubernetes later (old ReplicaSets' pods are
gone), so it is integrated at each reconcile from the Deployment's ready replicas and kept in the
status (``serving.readyReplicas``, ``serving.observedAt``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tara_api import GGUFPhase
from tara_operator import cost, k8s, names
from tara_operator import status as st
from tara_operator.settings import OperatorSettings

__all__ = ["observe_cost"]


def observe_cost(res: GGUFPhase, trainings: dict[str, dict[str, Any]], old: dict[str, Any], settings: OperatorSettings,
                 now: datetime) -> dict[str, Any]:
    """The phase's cost now: ``trainings`` by domain (bodies), ``old`` the phase's current status."""
    ns, name = res.metadata.namespace or "", res.metadata.name or ""
    prices, default_cores = settings.prices(), cost.cores_of(settings.default_cpu_request)
    build = cost.Figures()
    for body in k8s.list_jobs(ns, names.selector("GGUFPhase", name)):
        if (body["metadata"].get("labels") or {}).get("app.kubernetes.io/component") != "builder":
            continue
        job = st.observe_job(body)
        if job.start_time:
            seconds = ((job.ended_at or now) - job.start_time).total_seconds()
            build = build + cost.priced(seconds, job.usage or cost.PodUsage(), prices, default_cores)
    deployment = k8s.get("Deployment", ns, names.deployment_name(name))
    before = (old.get("cost") or {}).get("serving")
    if deployment is None:
        serving, state = cost.Figures.from_status(before), {"readyReplicas": 0}
    else:
        usage = cost.pod_usage(((deployment.get("spec") or {}).get("template") or {}).get("spec"))
        ready = int((deployment.get("status") or {}).get("readyReplicas") or 0)
        serving, state = cost.serving_hours(before, ready, usage, now, prices, default_cores)
    spent = {d: cost.Figures.from_status((t.get("status") or {}).get("cost")) for d, t in trainings.items()}
    return cost.phase_cost([d.domain for d in res.spec.domains], spent, build, serving, prices, state)
