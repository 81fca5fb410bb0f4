"""Label values of owner names: the labels children carry and the selectors that find them agree,
for every valid name up to 253 characters, and each value is a valid label value."""

from __future__ import annotations

import re

import pytest

from tara_api import DomainTraining, GGUFPhase
from tara_operator import names
from tara_operator.render.phase import render_serving
from tara_operator.render.training import render_training
from tara_operator.settings import OperatorSettings

SETTINGS = OperatorSettings(service_monitor=True)
# k8s.io/apimachinery/pkg/util/validation: IsValidLabelValue.
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")

NAMES = [
    ("short", "hc"),
    ("60 chars", "a" * 60),
    ("63 chars", "b" * 63),
    ("64 chars", "c" * 64),
    ("63rd char is a dash", "d" * 62 + "-" + "e" * 10),
    ("63rd char is a dot", "f" * 62 + "." + "g" * 10),
    ("62nd and 63rd chars are dashes", "h" * 61 + "--" + "i" * 30),
    ("dashes where the hash goes", "j-" * 40 + "k"),
    ("253 chars", ("l" * 62 + ".") * 3 + "m" * 64),
]


@pytest.mark.parametrize("name", [n for _, n in NAMES], ids=[i for i, _ in NAMES])
def test_label_value_is_valid_and_the_selector_matches_the_label(name: str) -> None:
    value = names.label_value(name)
    assert len(value) <= 63 and LABEL_VALUE.match(value), value
    assert value == name if len(name) <= 63 else value != name[:63]
    for kind in ("DomainTraining", "GGUFPhase"):
        labels = names.labels(kind, name, "trainer")
        key, selected = names.selector(kind, name).split("=")
        assert labels[key] == selected == value


@pytest.mark.parametrize("name", [n for _, n in NAMES], ids=[i for i, _ in NAMES])
def test_rendered_children_carry_the_label_their_selectors_ask_for(name: str) -> None:
    training = DomainTraining.model_validate({
        "apiVersion": "tara.dev/v1alpha1", "kind": "DomainTraining", "metadata": {"name": name, "namespace": "ml"},
        "spec": {"domain": "healthcare", "baseModel": {"repo": "Qwen/Qwen2.5-0.5B"}, "dataset": {"builtin": "healthcare"}}})
    job = render_training(training, SETTINGS, attempt=1, uid="u")["job"]
    key, value = names.selector("DomainTraining", name).split("=")
    assert job["metadata"]["labels"][key] == job["spec"]["template"]["metadata"]["labels"][key] == value
    assert job["spec"]["template"]["metadata"]["annotations"][key] == name  # the pod names its training in full

    phase = GGUFPhase.model_validate({
        "apiVersion": "tara.dev/v1alpha1", "kind": "GGUFPhase", "metadata": {"name": name, "namespace": "ml"},
        "spec": {"phaseNumber": 1, "domains": [{"domain": "healthcare"}]}})
    out = render_serving(phase, SETTINGS, revision=1, uid="u")
    deployment = out["deployment"]
    selector = deployment["spec"]["selector"]["matchLabels"]
    assert selector.items() <= deployment["spec"]["template"]["metadata"]["labels"].items()
    assert out["service"]["spec"]["selector"] == selector
    assert out["serviceMonitor"]["spec"]["selector"]["matchLabels"].items() <= out["service"]["metadata"]["labels"].items()
    assert all(LABEL_VALUE.match(v) and len(v) <= 63 for v in selector.values())


def test_long_names_with_a_common_start_get_different_values() -> None:
    """Cutting at 63 characters would make one training's selector find another's Jobs."""
    first, second = "n" * 70 + "-v1", "n" * 70 + "-v2"
    assert names.label_value(first) != names.label_value(second)
    assert names.label_value(first) == names.label_value(first)
