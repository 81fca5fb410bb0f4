"""docs/install.md documents every value and each command it shows works; the Argo CD Application
installing the chart is valid; the helm fetcher caches where the rest of TARA does."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml
from chart_support import CHART, ROOT, one, render_objects
from helmbin import HELM_PACKAGE_VERSION, cache_dir

from tara_trainer.settings import TrainerSettings

DOC = (ROOT / "docs" / "install.md").read_text(encoding="utf-8")
VALUES = yaml.safe_load((CHART / "values.yaml").read_text(encoding="utf-8"))
SCHEMA = json.loads((CHART / "values.schema.json").read_text(encoding="utf-8"))
APPLICATION = ROOT / "configs" / "argocd" / "application-chart.yaml"


def _values_table() -> dict[str, str]:
    """First column of the "Values" table -> the row."""
    section = DOC.split("\n## Values\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    keys: dict[str, str] = {}
    for row in rows:
        first, *more = re.findall(r"`([\w.]+)`", row.split("|")[1])
        parent = first.rpartition(".")[0]
        # `operator.metricsPort` / `livenessPort`: the later keys share the first one's parent.
        for key in [first, *(f"{parent}.{k}" if parent and "." not in k else k for k in more)]:
            keys[key] = row
    return keys


def test_values_table_names_every_top_level_key() -> None:
    documented = _values_table()
    missing = sorted(set(VALUES) - set(documented))
    assert not missing, f"docs/install.md's values table lacks {missing}"
    unknown = sorted(k for k in documented if k.split(".")[0] not in VALUES)
    assert not unknown, f"docs/install.md documents values that do not exist: {unknown}"


def test_values_table_names_every_operator_setting() -> None:
    documented = _values_table()
    for key in VALUES["operator"]:
        assert f"operator.{key}" in documented, f"operator.{key} is not documented"


def test_documented_values_file_installs(helm) -> None:
    """The values file in the "Install" section renders."""
    block = DOC.split("cat > my-values.yaml <<'YAML'\n", 1)[1].split("\nYAML\n", 1)[0]
    values = yaml.safe_load(block)
    objects = render_objects(helm, values)
    env = {e["name"]: e["value"] for e in one(objects, "Deployment")["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["TARA_NAMESPACES"] == "ml" and env["TARA_STORAGE_CLASS"] == "nfs"
    assert one(objects, "ServiceMonitor") and one(objects, "PrometheusRule")


def test_documented_leader_election_values_render(helm) -> None:
    block = DOC.split("## Leader election", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    objects = render_objects(helm, yaml.safe_load(block))
    assert one(objects, "ClusterKopfPeering") and one(objects, "PodDisruptionBudget")


def test_argocd_application_installs_the_chart() -> None:
    app = yaml.safe_load(APPLICATION.read_text(encoding="utf-8"))
    assert (app["apiVersion"], app["kind"]) == ("argoproj.io/v1alpha1", "Application")
    source = app["spec"]["source"]
    assert source["repoURL"] == "https://github.com/tara-dev/tara.git"
    assert source["path"] == "helm/tara" and (ROOT / source["path"] / "Chart.yaml").is_file()
    jsonschema.Draft7Validator(SCHEMA).validate(source["helm"]["valuesObject"])
    assert app["spec"]["destination"]["namespace"]


def test_argocd_values_render(helm) -> None:
    values = yaml.safe_load(APPLICATION.read_text(encoding="utf-8"))["spec"]["source"]["helm"]["valuesObject"]
    objects = render_objects(helm, values)
    assert [p["metadata"]["namespace"] for p in objects if p["kind"] == "KopfPeering"] == values["watchNamespaces"]


def test_schema_rejects_a_bad_argocd_values_object() -> None:
    values = yaml.safe_load(APPLICATION.read_text(encoding="utf-8"))["spec"]["source"]["helm"]["valuesObject"]
    values["serviceMonitor"]["enable"] = True
    with pytest.raises(jsonschema.ValidationError, match="enable"):
        jsonschema.Draft7Validator(SCHEMA).validate(values)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"TARA_CACHE_DIR": "/c", "XDG_CACHE_HOME": "/x", "HOME": "/h"}, "/c"),
        ({"XDG_CACHE_HOME": "/x", "HOME": "/h"}, "/x/tara"),
        ({"HOME": "/h"}, "/h/.cache/tara"),
    ],
    ids=["tara-cache-dir", "xdg", "home"],
)
def test_helm_cache_follows_the_trainer_cache_rule(env: dict[str, str], expected: str, monkeypatch) -> None:
    monkeypatch.setenv("HOME", env["HOME"])
    assert cache_dir(env) == Path(expected)
    assert TrainerSettings.from_env(env).cache_dir == Path(expected)


def test_helm_binary_is_the_pinned_one(helm) -> None:
    assert helm.parent.name == HELM_PACKAGE_VERSION and helm.parent.parent.name == "helm"
