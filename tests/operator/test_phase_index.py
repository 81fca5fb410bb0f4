"""The kopf index of GGUFPhases by the DomainTrainings they use (handlers.phases_by_training)."""

from __future__ import annotations

import kopf

from tara_operator.handlers import phases_by_training


def _index(ns: str, name: str, *domains: dict) -> dict[tuple[str, str], str]:
    return phases_by_training(namespace=ns, name=name, spec={"domains": list(domains)})


def test_phases_are_indexed_by_training_name_or_by_domain() -> None:
    assert _index("a", "p1", {"domain": "healthcare"}, {"domain": "business", "training": "biz-v2"}) == {
        ("a", "healthcare"): "p1", ("a", "biz-v2"): "p1"}  # a named training wins over the domain
    assert _index("b", "p3", {"domain": "healthcare"}) == {("b", "healthcare"): "p3"}
    assert _index("a", "empty") == {}


def test_the_index_is_registered_under_the_name_handlers_receive_it_by() -> None:
    ids = [h.id for h in kopf.get_default_registry()._indexing.get_all_handlers()]
    assert "phases_by_training" in ids
