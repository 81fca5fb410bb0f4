"""The router's Prometheus metrics: one registry per router (``Metrics``), holding every
``tara_router_*`` metric the service exports on ``/metrics`` and the dashboards query.

With several worker processes (``tara_router.workers``) each writes its samples to memory-mapped files
in a shared directory (prometheus_client's multiprocess mode, chosen when prometheus_client is
imported with ``PROMETHEUS_MULTIPROC_DIR`` set), and ``exposition`` sums every worker's files."""

from __future__ import annotations

from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, values
from prometheus_client.multiprocess import MultiProcessCollector

from tara_router.emotion import EmotionReading
from tara_router.scoring import Decision

__all__ = ["Metrics"]


class Metrics:
    def __init__(self, multiprocess_dir: Path | None = None) -> None:
        """``multiprocess_dir``: this process is one worker of several sharing their metrics there;
        RuntimeError when prometheus_client was not imported in multiprocess mode (it would count in
        memory and ``/metrics`` would show none of it)."""
        self.registry = CollectorRegistry()  # this process's own samples
        self.exposition = self.registry  # what /metrics reports
        if multiprocess_dir is not None:
            if values.ValueClass is values.MutexValue:
                raise RuntimeError("worker metrics need PROMETHEUS_MULTIPROC_DIR set before prometheus_client is imported "
                                   "(tara_router.workers sets it)")
            self.exposition = CollectorRegistry()
            MultiProcessCollector(self.exposition, path=str(multiprocess_dir))
        r = self.registry
        self.requests = Counter("tara_router_requests_total", "Requests by endpoint, domain and status.",
                                ["endpoint", "domain", "status"], registry=r)
        self.latency = Histogram("tara_router_request_seconds", "Time to the response headers.", ["endpoint"], registry=r,
                                 buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
        self.decision = Histogram("tara_router_decision_seconds", "Time to decide the domain (embedding included), by domain.",
                                  ["domain"], registry=r,
                                  buckets=(0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.003, 0.005, 0.01, 0.025, 0.05))
        self.confidence = Histogram("tara_router_confidence", "Routing confidence of tara-auto decisions (the chosen "
                                    "domain's similarity; base for fallbacks), by domain.", ["domain"], registry=r,
                                    buckets=(0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0))
        self.upstream_latency = Histogram("tara_router_upstream_seconds", "Time in llama-server (to the end of the answer), by domain.",
                                          ["domain"], registry=r, buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60))
        self.routed = Counter("tara_router_routed_total", "Routing decisions by domain and reason.", ["domain", "reason"], registry=r)
        self.emotions = Counter("tara_router_emotion_total", "Dominant emotion of routed conversations.", ["emotion"], registry=r)
        self.crisis = Counter("tara_router_crisis_total", "Requests that took the crisis path.", registry=r)
        self.crisis_semantic = Counter("tara_router_crisis_semantic_total",
                                       "Crisis decisions the semantic check made where no crisis rule matched.", registry=r)
        self.care = Counter("tara_router_care_total", "Requests answered with a care note (a possible risk signal).", registry=r)
        self.cache = Counter("tara_router_cache_total", "Routing cache lookups by result.", ["result"], registry=r)
        self.semantic = Gauge("tara_router_semantic_routing", "1 when tara-auto routes by sentence embeddings, 0 by keywords.",
                              registry=r, multiprocess_mode="max")  # every worker serves the same config
        self.workers = Gauge("tara_router_workers", "Worker processes serving the port (TARA_ROUTER_WORKERS).", registry=r,
                             multiprocess_mode="livesum")
        self.workers.set(1)
        self.upstream_errors = Counter("tara_router_upstream_errors_total", "Upstream failures by kind.", ["kind"], registry=r)
        self.internal_errors = Counter("tara_router_internal_errors_total",
                                       "Requests answered with a JSON 500 because a handler raised unexpectedly (a router bug).",
                                       registry=r)

    def observe_decision(self, decision: Decision, reading: EmotionReading, seconds: float) -> None:
        """Count one routing decision: its time, confidence (``tara-auto`` only), domain, reason,
        dominant emotion, and the crisis or care path."""
        domain = decision.domain or "base"
        self.decision.labels(domain).observe(seconds)
        if decision.reason in ("scored", "fallback"):
            self.confidence.labels(domain).observe(max(0.0, decision.confidence))
        self.routed.labels(domain, decision.reason).inc()
        self.emotions.labels(reading.dominant or "neutral").inc()
        if reading.crisis:
            self.crisis.inc()
        elif reading.care:
            self.care.inc()
