"""What TARA's work cost: GPU- and CPU-hours of what the pods requested, priced per GPU product.

Pure arithmetic, no I/O and no clock (``now`` is passed in). Usage comes from the pod templates as
the operator rendered them and the API server stored them (``pod_usage``): CPU is the containers'
requests (a limit alone counts, as Kubernetes then requests the limit), GPUs the ``nvidia.com/gpu``
limits, the product the ``nvidia.com/gpu.product`` node selector; a template that requests no CPU
counts the operator's default request, so CPU-hours are never 0 because a spec left ``cpu`` unset.

A GGUFPhase's cost (``phase_cost``) is its trainings' cost plus its build Jobs' and its serving
Deployment's, with the build and serving time shared equally by the phase's domains. Every figure
is rounded once, per domain; the totals are the sums of the rounded per-domain figures, so the
parts add up to the total exactly as shown.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

__all__ = ["Figures", "PodUsage", "Prices", "cores_of", "phase_cost", "pod_usage", "priced", "serving_hours"]

GPU_RESOURCE = "nvidia.com/gpu"
GPU_PRODUCT_LABEL = "nvidia.com/gpu.product"
HOURS_DIGITS, COST_DIGITS = 6, 4


def cores_of(quantity: str | int | float | None) -> float:
    """A CPU quantity in cores: 2, "2", "3500m", "0.5"; 0 for None or a value that is not one."""
    if quantity is None:
        return 0.0
    text = str(quantity).strip()
    try:
        cores = float(text[:-1]) / 1000 if text.endswith("m") else float(text)
    except ValueError:
        return 0.0
    return cores if math.isfinite(cores) and cores > 0 else 0.0


@dataclass(frozen=True)
class PodUsage:
    """What one pod template asks for, times the pods a Job runs at once."""

    cores: float = 0.0
    gpus: int = 0
    gpu_product: str | None = None
    pods: int = 1


def pod_usage(pod_spec: Mapping[str, Any] | None, pods: int | None = 1) -> PodUsage:
    """The usage of a pod spec (a Job's or Deployment's ``spec.template.spec``), for ``pods`` pods."""
    spec = pod_spec or {}
    cores, gpus = 0.0, 0
    for c in spec.get("containers") or []:
        res = c.get("resources") or {}
        requests, limits = res.get("requests") or {}, res.get("limits") or {}
        cores += cores_of(requests.get("cpu", limits.get("cpu")))
        gpu = limits.get(GPU_RESOURCE, requests.get(GPU_RESOURCE))
        gpus += int(gpu) if gpu is not None and str(gpu).isdigit() else 0
    product = (spec.get("nodeSelector") or {}).get(GPU_PRODUCT_LABEL) if gpus else None
    return PodUsage(cores=cores, gpus=gpus, gpu_product=product, pods=max(1, int(pods or 1)))


@dataclass(frozen=True)
class Prices:
    """Hourly prices: one GPU of a product (``gpu_by_product``, else ``gpu``), one CPU core."""

    gpu: float = 0.0
    cpu: float = 0.0
    gpu_by_product: Mapping[str, float] | None = None
    currency: str = "USD"

    @property
    def priced(self) -> bool:
        return bool(self.gpu or self.cpu or any((self.gpu_by_product or {}).values()))

    def gpu_hour(self, product: str | None) -> float:
        return (self.gpu_by_product or {}).get(product or "", self.gpu)


@dataclass(frozen=True)
class Figures:
    """GPU-hours, CPU core-hours and their price; they add and divide."""

    accelerator_hours: float = 0.0
    cpu_hours: float = 0.0
    cost: float = 0.0

    def __add__(self, other: Figures) -> Figures:
        return Figures(self.accelerator_hours + other.accelerator_hours, self.cpu_hours + other.cpu_hours, self.cost + other.cost)

    def share(self, parts: int) -> Figures:
        return Figures(self.accelerator_hours / parts, self.cpu_hours / parts, self.cost / parts) if parts else Figures()

    def rounded(self) -> Figures:
        return Figures(round(self.accelerator_hours, HOURS_DIGITS), round(self.cpu_hours, HOURS_DIGITS), round(self.cost, COST_DIGITS))

    def to_status(self, prices: Prices) -> dict[str, Any]:
        """The status' fields: estimatedCost only when prices are set (as the training's ``cost``)."""
        out: dict[str, Any] = {"acceleratorHours": round(self.accelerator_hours, HOURS_DIGITS),
                               "cpuHours": round(self.cpu_hours, HOURS_DIGITS)}
        if prices.priced and math.isfinite(self.cost):
            out["estimatedCost"] = round(self.cost, COST_DIGITS)
        return out

    @classmethod
    def from_status(cls, body: Mapping[str, Any] | None) -> Figures:
        body = body or {}
        return cls(float(body.get("acceleratorHours") or 0), float(body.get("cpuHours") or 0), float(body.get("estimatedCost") or 0))


def priced(seconds: float, usage: PodUsage, prices: Prices, default_cores: float) -> Figures:
    """``seconds`` of wall time of ``usage``'s pods: a pod that requests no CPU counts ``default_cores``."""
    hours = max(0.0, seconds) / 3600 * usage.pods
    gpu_hours, cpu_hours = hours * usage.gpus, hours * (usage.cores or default_cores)
    return Figures(gpu_hours, cpu_hours, gpu_hours * prices.gpu_hour(usage.gpu_product) + cpu_hours * prices.cpu)


def serving_hours(before: Mapping[str, Any] | None, ready: int, usage: PodUsage, now: datetime,
                  prices: Prices, default_cores: float) -> tuple[Figures, dict[str, Any]]:
    """Serving time integrated up to ``now``: the replicas ready at the previous observation
    (``before``: the status' ``serving`` with ``readyReplicas`` and ``observedAt``) served since then.
    Returns the running total and what to remember for the next observation."""
    before = before or {}
    total = Figures.from_status(before)
    since = before.get("observedAt")
    if since:
        elapsed = (now - datetime.fromisoformat(str(since).replace("Z", "+00:00"))).total_seconds()
        total = total + _replicas(priced(elapsed, usage, prices, default_cores), int(before.get("readyReplicas") or 0))
    return total, {"readyReplicas": int(ready), "observedAt": now.strftime("%Y-%m-%dT%H:%M:%SZ")}


def _replicas(one: Figures, replicas: int) -> Figures:
    return Figures(one.accelerator_hours * replicas, one.cpu_hours * replicas, one.cost * replicas)


def phase_cost(domains: Sequence[str], trainings: Mapping[str, Figures], build: Figures, serving: Figures,
               prices: Prices, serving_state: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The GGUFPhase's ``status.cost``: per domain its training plus an equal share of the build and
    serving figures, and a total that is the sum of the domains' rounded figures."""
    parts = len(domains)
    rows, total = [], Figures()
    for d in domains:
        training = trainings.get(d, Figures()).rounded()
        own_build, own_serving = build.share(parts).rounded(), serving.share(parts).rounded()
        whole = (training + own_build + own_serving).rounded()
        total = (total + whole).rounded()
        rows.append({"domain": d, **whole.to_status(prices), "training": training.to_status(prices),
                     "build": own_build.to_status(prices), "serving": own_serving.to_status(prices)})
    out: dict[str, Any] = {"domains": rows, "build": build.to_status(prices),
                           "serving": {**serving.to_status(prices), **(serving_state or {})}, "total": total.to_status(prices)}
    if prices.priced:
        out["currency"] = prices.currency
    return out
