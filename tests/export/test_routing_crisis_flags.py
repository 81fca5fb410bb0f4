"""The build's count of each domain's training requests that the crisis probe reads as possible crisis
language (the manifest's ``router.crisisFlagged``), and the domains it warns about. Pure: numpy arrays
stand in for the embeddings, a one-weight probe for the encoder's crisis head."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tara_trainer.export.routing import CRISIS_WARNING_SHARE, RoutingParams, crisis_flagged, crisis_warned

PROBE = (np.array([1.0, 0.0]), 0.0)  # the crisis probability of [x, _] is sigmoid(x)


def _vector(probability: float) -> list[float]:
    return [math.log(probability / (1 - probability)), 0.5]


def test_each_domain_counts_its_own_utterances_at_the_care_threshold_or_above() -> None:
    care = RoutingParams.care_threshold
    vectors = np.array([_vector(p) for p in (care + 0.001, care - 0.01, 0.99, 0.05, care + 0.2, 0.3)], dtype=np.float32)
    owner = np.array([0, 0, 0, 1, 1, -1])  # the last one is background: no domain's
    assert crisis_flagged(vectors, owner, ["healthcare", "business"], PROBE) == {"healthcare": 2, "business": 1}
    assert crisis_flagged(vectors, owner, ["healthcare", "business"], PROBE, threshold=0.995) == {"healthcare": 0,
                                                                                                   "business": 0}


@pytest.mark.parametrize(("flagged", "counts", "warned"), [
    pytest.param({"a": 0, "b": 0}, {"a": 100, "b": 10}, [], id="none-flagged"),
    pytest.param({"a": 2, "b": 1}, {"a": 100, "b": 100}, [], id="at-or-under-the-share"),
    pytest.param({"a": 3, "b": 1}, {"a": 100, "b": 10}, ["a", "b"], id="over-the-share"),
])
def test_a_build_warns_about_a_domain_whose_share_of_flagged_requests_is_over_the_limit(
        flagged: dict[str, int], counts: dict[str, int], warned: list[str]) -> None:
    assert CRISIS_WARNING_SHARE == 0.02
    assert crisis_warned(flagged, counts) == warned
