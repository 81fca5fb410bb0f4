"""Routing decisions are cached by model and conversation, least recently used out first
(``TARA_ROUTER_CACHE_SIZE``; 0 turns the cache off), and counted in ``tara_router_cache_total``.
Pure: keyword routing over the built-in profiles, no embedding model."""

from __future__ import annotations

from prometheus_client import generate_latest

from tara_router.config import RouterConfig
from tara_router.decisions import Router
from tara_router.settings import RouterSettings

CONFIG = RouterConfig.model_validate({"upstream": "http://127.0.0.1:1", "domains": [{"name": "healthcare"},
                                                                                      {"name": "business"}]})
A, B, C = ["my blood pressure is high"], ["how do I price a SaaS product"], ["what should I eat after surgery"]


def _counts(router: Router) -> tuple[float, float]:
    text = generate_latest(router.metrics.registry).decode()
    value = {line.split(" ")[0]: float(line.split(" ")[1]) for line in text.splitlines() if line.startswith("tara_router_cache_total")}
    return value.get('tara_router_cache_total{result="hit"}', 0.0), value.get('tara_router_cache_total{result="miss"}', 0.0)


def test_decisions_are_cached_by_model_and_conversation_least_recently_used_out_first() -> None:
    router = Router(CONFIG, RouterSettings(cache_size=2))
    first = router.decide("tara-auto", A)
    assert router.decide("tara-auto", A) == first and _counts(router) == (1, 1)  # the same conversation: a hit
    router.decide("tara-healthcare", A)  # another model: its own entry (a miss); A under tara-auto is now the oldest
    assert _counts(router) == (1, 2)
    router.decide("tara-auto", A)  # a hit, and A is the most recent again
    router.decide("tara-auto", B)  # a miss: the cache is full, so the least recently used (tara-healthcare, A) goes
    assert _counts(router) == (2, 3)
    router.decide("tara-auto", A)
    assert _counts(router) == (3, 3)
    router.decide("tara-healthcare", A)
    assert _counts(router) == (3, 4)


def test_a_cache_size_of_zero_caches_nothing() -> None:
    router = Router(CONFIG, RouterSettings(cache_size=0))
    router.decide("tara-auto", C)
    router.decide("tara-auto", C)
    assert _counts(router) == (0, 2) and not router.cache
