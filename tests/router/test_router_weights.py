"""``serving.routerWeights`` and ``serving.confidenceThreshold`` of a GGUFPhase decide routes: the
operator renders them into the router's config, the router loads that config, and the same request
goes elsewhere when the weights or the threshold change."""

from __future__ import annotations

import numpy as np
import pytest

from tara_api import GGUFPhase
from tara_operator.render.phase import router_config
from tara_router.config import RouterConfig
from tara_router.emotion import read_text
from tara_router.scoring import route
from tara_router.semantic import SemanticScores

DOMAINS = ("healthcare", "business")
AFRAID = "I'm scared and worried about what is coming"


def _config(**serving) -> RouterConfig:
    phase = GGUFPhase.model_validate({"apiVersion": "tara.dev/v1alpha1", "kind": "GGUFPhase", "metadata": {"name": "p"},
                                      "spec": {"phaseNumber": 1, "domains": [{"domain": d} for d in DOMAINS],
                                               "serving": serving}})
    return RouterConfig.model_validate(router_config(phase, revision=1))


def _semantic(similarity: dict[str, float]) -> SemanticScores:
    sims = np.array([similarity[d] for d in DOMAINS])
    p = np.exp((sims - sims.max()) / 0.05)
    p /= p.sum()
    return SemanticScores(similarity, dict(zip(DOMAINS, p.tolist(), strict=True)), 0.0, max(similarity, key=similarity.get), True)


@pytest.mark.parametrize(("weights", "domain"), [
    ({}, "healthcare"),  # the defaults 0.4/0.3/0.2/0.1: the fearful tone breaks the near tie
    ({"content": 1.0, "emotion": 0.0, "speed": 0.0, "quality": 0.0}, "business"),  # content alone: the nearer domain
    ({"content": 0.1, "emotion": 0.9, "speed": 0.0, "quality": 0.0}, "healthcare"),
])
def test_router_weights_decide_a_near_tie(weights: dict, domain: str) -> None:
    config = _config(**({"routerWeights": weights} if weights else {}))
    decision = route(config.index(), AFRAID, AFRAID, read_text(AFRAID), config.weights_tuple(), config.confidence_threshold,
                     None, semantic=_semantic({"business": 0.52, "healthcare": 0.50}))
    assert (decision.domain, decision.reason) == (domain, "scored")


@pytest.mark.parametrize(("serving", "expected"), [
    ({}, ("business", "scored")),  # one business keyword clears the default threshold 0.35
    ({"confidenceThreshold": 0.9}, (None, "fallback")),  # not this one: the base model answers
    ({"confidenceThreshold": 0.9, "defaultDomain": "healthcare"}, ("healthcare", "fallback")),
])
def test_confidence_threshold_and_default_domain_from_the_phase(serving: dict, expected: tuple) -> None:
    text = "Tell me about the history of tea and my budget"
    config = _config(**serving)
    d = route(config.index(), text, text, read_text(text), config.weights_tuple(), config.confidence_threshold,
              config.default_domain)
    assert (d.domain, d.reason) == expected
