"""The index that maps a DomainTraining to the GGUFPhases using it (handlers._PhaseIndex)."""

from __future__ import annotations

from tara_operator.handlers import _PhaseIndex


def _phase(ns: str, name: str, *domains: dict) -> dict:
    return {"metadata": {"namespace": ns, "name": name}, "spec": {"domains": list(domains)}}


def test_phases_are_found_by_training_name_or_by_domain() -> None:
    index = _PhaseIndex()
    index.observe(_phase("a", "p1", {"domain": "healthcare"}, {"domain": "business", "training": "biz-v2"}))
    index.observe(_phase("a", "p2", {"domain": "healthcare"}))
    index.observe(_phase("b", "p3", {"domain": "healthcare"}))
    assert index.using("a", "healthcare") == ["p1", "p2"]
    assert index.using("a", "biz-v2") == ["p1"] and index.using("a", "business") == []  # named training wins
    index.observe(_phase("a", "p2", {"domain": "creative"}))  # a spec change moves the references
    assert index.using("a", "healthcare") == ["p1"]
    index.forget(("a", "p1"))
    assert index.using("a", "healthcare") == [] and index.using("b", "healthcare") == ["p3"]
