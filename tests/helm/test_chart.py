"""The chart renders valid Kubernetes objects: lint, schema, the official client's models, the CRDs
generated from the API types, the operator's settings, pod security and leader election."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from chart_support import ALL_ON, CASES, CHART, NAMESPACE, RELEASE, find, one, run_helm
from kubernetes import client

from tara_api.crd import render_crds
from tara_operator.settings import _FIELDS, OperatorSettings

SCHEMA = json.loads((CHART / "values.schema.json").read_text(encoding="utf-8"))
DEFAULTS = yaml.safe_load((CHART / "values.yaml").read_text(encoding="utf-8"))
KOPF_CRDS = "kopf.dev_peerings.yaml"
FULLNAME = RELEASE  # the release name contains the chart name, so it is the full name

# Built-in kinds the chart renders -> the official client's model.
MODELS = {
    ("v1", "ServiceAccount"): "V1ServiceAccount",
    ("v1", "Service"): "V1Service",
    ("v1", "ConfigMap"): "V1ConfigMap",
    ("apps/v1", "Deployment"): "V1Deployment",
    ("rbac.authorization.k8s.io/v1", "ClusterRole"): "V1ClusterRole",
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"): "V1ClusterRoleBinding",
    ("rbac.authorization.k8s.io/v1", "Role"): "V1Role",
    ("rbac.authorization.k8s.io/v1", "RoleBinding"): "V1RoleBinding",
    ("policy/v1", "PodDisruptionBudget"): "V1PodDisruptionBudget",
    ("networking.k8s.io/v1", "NetworkPolicy"): "V1NetworkPolicy",
    ("apiextensions.k8s.io/v1", "CustomResourceDefinition"): "V1CustomResourceDefinition",
}
# Custom kinds: checked structurally by the tests that own them (test_monitoring, below).
CUSTOM = {("monitoring.coreos.com/v1", "ServiceMonitor"), ("monitoring.coreos.com/v1", "PodMonitor"),
          ("monitoring.coreos.com/v1", "PrometheusRule"), ("kopf.dev/v1", "KopfPeering"),
          ("kopf.dev/v1", "ClusterKopfPeering")}
CLUSTER_SCOPED = {"ClusterRole", "ClusterRoleBinding", "ClusterKopfPeering", "CustomResourceDefinition"}


def round_trip(obj: dict[str, Any]) -> dict[str, Any]:
    """``obj`` loaded into its client model and serialized back: a field the model does not know
    (a typo, a wrong nesting) is dropped on the way and so shows up as a difference."""
    api = client.ApiClient()
    try:
        model = api._ApiClient__deserialize(obj, MODELS[(obj["apiVersion"], obj["kind"])])
        return api.sanitize_for_serialization(model)
    finally:
        api.close()


def differences(before: Any, after: Any, path: str = "") -> list[str]:
    if isinstance(before, dict) and isinstance(after, dict):
        out = [f"{path}.{k}: dropped" for k in before.keys() - after.keys()]
        out += [f"{path}.{k}: added" for k in after.keys() - before.keys()]
        for k in before.keys() & after.keys():
            out += differences(before[k], after[k], f"{path}.{k}")
        return out
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        return [d for i, (b, a) in enumerate(zip(before, after, strict=True)) for d in differences(b, a, f"{path}[{i}]")]
    return [] if before == after else [f"{path}: {before!r} became {after!r}"]


def chart_crds() -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted((CHART / "crds").iterdir())}


# --- lint and values -----------------------------------------------------------------------------


@pytest.mark.parametrize("strict", [False, True], ids=["lint", "lint-strict"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_helm_lint(helm: Path, case: str, strict: bool) -> None:
    got = run_helm(helm, "lint", *(["--strict"] if strict else []), values=CASES[case])
    assert got.returncode == 0, got.stdout + got.stderr
    assert "0 chart(s) failed" in got.stdout


@pytest.mark.parametrize("case", sorted(CASES))
def test_values_validate_against_schema(case: str) -> None:
    merged = _merge(DEFAULTS, CASES[case])
    jsonschema.Draft7Validator(SCHEMA).validate(merged)


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        out[k] = _merge(base[k], v) if isinstance(v, dict) and isinstance(base.get(k), dict) else v
    return out


def _object_nodes(node: Any, path: str = "$"):
    if isinstance(node, dict):
        if node.get("type") == "object":
            yield path, node
        for k, v in node.items():
            yield from _object_nodes(v, f"{path}.{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _object_nodes(v, f"{path}[{i}]")


# Objects whose content is a Kubernetes structure passed through as it is (affinity terms), or
# Helm's own `global`.
FREE_FORM = {"$.properties.global", "$.properties.affinity.properties.nodeAffinity",
             "$.properties.affinity.properties.podAffinity", "$.properties.affinity.properties.podAntiAffinity"}


def test_schema_closes_every_object() -> None:
    """Every object in the schema either lists its properties and forbids others, or is a map
    whose values have a schema; a misspelled key anywhere is an error."""
    seen = 0
    for path, node in _object_nodes(SCHEMA):
        seen += 1
        if path in FREE_FORM:
            continue
        if "properties" in node:
            assert node.get("additionalProperties") is False, f"{path} accepts unknown keys"
        else:
            assert isinstance(node.get("additionalProperties"), dict), f"{path}: a map without a value schema"
    assert seen > 20


def test_schema_names_every_default_key() -> None:
    def walk(values: dict[str, Any], schema: dict[str, Any], path: str) -> None:
        if "$ref" in schema:
            schema = SCHEMA["definitions"][schema["$ref"].rsplit("/", 1)[1]]
        for key, value in values.items():
            props = schema.get("properties", {})
            assert key in props or isinstance(schema.get("additionalProperties"), dict), f"{path}.{key} not in schema"
            if isinstance(value, dict) and key in props:
                walk(value, props[key], f"{path}.{key}")

    walk(DEFAULTS, SCHEMA, "")


BAD_VALUES = [
    # (case, values, words the error must contain)
    ("replicas-not-int", {"replicas": "two"}, ["replicas"]),
    ("unknown-top-key", {"replica": 1}, ["replica"]),
    ("unknown-nested-key", {"operator": {"trainerImages": "x"}}, ["trainerImages"]),
    ("bad-pull-policy", {"image": {"pullPolicy": "Sometimes"}}, ["pullPolicy"]),
    ("bad-operator-pull-policy", {"operator": {"imagePullPolicy": "always"}}, ["imagePullPolicy"]),
    ("port-zero", {"operator": {"metricsPort": 0}}, ["metricsPort"]),
    ("negative-price", {"operator": {"gpuHourPrice": -1}}, ["gpuHourPrice"]),
    ("negative-product-price", {"operator": {"gpuHourPrices": {"NVIDIA-A100-SXM4-80GB": -2}}}, ["gpuHourPrices"]),
    ("product-price-word", {"operator": {"gpuHourPrices": {"NVIDIA-A100-SXM4-80GB": "cheap"}}}, ["gpuHourPrices"]),
    ("bad-default-cpu", {"operator": {"defaultCpuRequest": "one core"}}, ["defaultCpuRequest"]),
    ("bad-interval", {"serviceMonitor": {"interval": "soon"}}, ["interval"]),
    ("bad-namespace", {"watchNamespaces": ["Not_A_Namespace"]}, ["watchNamespaces"]),
    ("bad-peer", {"networkPolicy": {"metricsFrom": [{"podSelektor": {}}]}}, ["podSelektor"]),
    ("ratio-over-one", {"prometheusRule": {"routerErrorRatio": 5}}, ["routerErrorRatio"]),
    ("replicas-without-leader-election", {"replicas": 2}, ["replicas", "leaderElection.enabled"]),
    ("same-ports", {"operator": {"livenessPort": 8080}}, ["metricsPort", "livenessPort"]),
    ("external-sa-without-name", {"serviceAccount": {"create": False}}, ["serviceAccount.name"]),
]


@pytest.mark.parametrize(("values", "words"), [(v, w) for _, v, w in BAD_VALUES], ids=[c for c, _, _ in BAD_VALUES])
def test_bad_values_fail_naming_the_field(helm: Path, values: dict[str, Any], words: list[str]) -> None:
    got = run_helm(helm, "template", RELEASE, "--namespace", NAMESPACE, values=values)
    assert got.returncode != 0, f"helm template accepted {values}"
    for word in words:
        assert word in got.stderr, f"error does not name {word!r}: {got.stderr}"


# --- rendered objects ----------------------------------------------------------------------------


@pytest.mark.parametrize("case", sorted(CASES))
def test_objects_load_into_kubernetes_models(render, case: str) -> None:
    objects = render(CASES[case])
    assert objects
    for obj in objects:
        key = (obj["apiVersion"], obj["kind"])
        assert key in MODELS or key in CUSTOM, f"unexpected kind {key}"
        if key in MODELS:
            assert not differences(obj, round_trip(obj)), f"{obj['kind']} {obj['metadata']['name']}: {differences(obj, round_trip(obj))}"


def test_round_trip_catches_a_misspelled_field() -> None:
    """The check above is not vacuous: a typo in a pod spec is dropped by the model."""
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "x"},
                  "spec": {"selector": {"matchLabels": {"a": "b"}},
                           "template": {"spec": {"containers": [{"name": "c", "image": "i", "readinesProbe": {}}]}}}}
    assert any("readinesProbe" in d for d in differences(deployment, round_trip(deployment)))


@pytest.mark.parametrize("case", sorted(CASES))
def test_common_labels_and_scopes(render, case: str) -> None:
    for obj in render(CASES[case]):
        meta = obj["metadata"]
        labels = meta.get("labels", {})
        where = f"{obj['kind']} {meta['name']}"
        assert labels.get("app.kubernetes.io/name") == "tara", where
        assert labels.get("app.kubernetes.io/instance") == RELEASE, where
        assert labels.get("app.kubernetes.io/managed-by") == "Helm", where
        assert labels.get("app.kubernetes.io/version") == "0.1.0", where
        assert labels.get("helm.sh/chart") == "tara-0.1.0", where
        assert len(meta["name"]) <= 63, where
        assert ("namespace" in meta) == (obj["kind"] not in CLUSTER_SCOPED), where


def test_name_overrides(render) -> None:
    assert one(render({"fullnameOverride": "ops"}), "Deployment")["metadata"]["name"] == "ops"
    renamed = one(render({"nameOverride": "llm"}), "Deployment")
    assert renamed["metadata"]["name"] == f"{RELEASE}-llm"
    assert renamed["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/name"] == "llm"


# --- CRDs ----------------------------------------------------------------------------------------


def test_chart_crds_are_the_generated_ones() -> None:
    """One source of truth: helm/tara/crds/ holds exactly what the API types generate (plus kopf's)."""
    generated = render_crds()
    chart = chart_crds()
    assert sorted(chart) == sorted([*generated, KOPF_CRDS])
    for name, text in generated.items():
        assert chart[name] == text, f"helm/tara/crds/{name} is stale: run `make crds`"


@pytest.mark.parametrize("name", sorted(chart_crds()))
def test_chart_crds_load_into_kubernetes_models(name: str) -> None:
    for crd in yaml.safe_load_all(chart_crds()[name]):
        assert not differences(crd, round_trip(crd)), name


def test_kopf_peering_crds() -> None:
    crds = {c["metadata"]["name"]: c for c in yaml.safe_load_all(chart_crds()[KOPF_CRDS])}
    expected = {"kopfpeerings.kopf.dev": ("Namespaced", "KopfPeering"), "clusterkopfpeerings.kopf.dev": ("Cluster", "ClusterKopfPeering")}
    assert set(crds) == set(expected)
    for name, (scope, kind) in expected.items():
        spec = crds[name]["spec"]
        assert (spec["group"], spec["scope"], spec["names"]["kind"], spec["names"]["plural"]) == ("kopf.dev", scope, kind, name.split(".")[0])
        (version,) = spec["versions"]
        assert version["name"] == "v1" and version["served"] and version["storage"]
        # kopf patches its peers into `status` of the object itself: no status subresource.
        assert "subresources" not in version
        props = version["schema"]["openAPIV3Schema"]["properties"]
        assert props["status"]["x-kubernetes-preserve-unknown-fields"] is True


# --- the operator Deployment ---------------------------------------------------------------------


def _env(deployment: dict[str, Any]) -> dict[str, str]:
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    env = container["env"]
    assert len({e["name"] for e in env}) == len(env), "duplicate variables"
    assert all(isinstance(e["value"], str) for e in env)
    return {e["name"]: e["value"] for e in env}


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_variable_is_an_operator_setting(render, case: str) -> None:
    env = _env(one(render(CASES[case]), "Deployment"))
    unknown = {name for name in env if name.startswith("TARA_")} - set(_FIELDS.values())
    assert not unknown, f"the operator reads no such settings: {unknown}"
    OperatorSettings.from_env(env)  # and they validate


def test_every_operator_setting_is_set(render) -> None:
    """1:1 with settings.py: every TARA_* setting has a value in the chart (with everything on),
    except the priority, which each replica derives from its pod name (HOSTNAME)."""
    env = _env(one(render(ALL_ON), "Deployment"))
    expected = set(_FIELDS.values()) - {"TARA_PRIORITY", "HOSTNAME"}
    assert expected - set(env) == set()


def test_chart_defaults_are_the_operator_defaults(render) -> None:
    assert OperatorSettings.from_env(_env(one(render({}), "Deployment"))) == OperatorSettings()


def test_values_reach_the_operator(render) -> None:
    deployment = one(render(ALL_ON), "Deployment")
    settings = OperatorSettings.from_env(_env(deployment))
    assert settings.namespaces == ("a", "b")
    assert settings.peering == FULLNAME
    assert settings.service_monitor is True and settings.storage_class == "fast"
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports == {"metrics": settings.metrics_port, "healthz": settings.liveness_port}
    assert container["args"] == ["--verbose"]
    custom = OperatorSettings.from_env(_env(one(render({"operator": {"trainerImage": "reg/t:9", "backoffBaseSeconds": 2.5,
                                                                     "currency": "EUR", "gpuHourPrice": 1.25}}), "Deployment")))
    assert (custom.trainer_image, custom.server_image, custom.backoff_base_s, custom.currency, custom.gpu_hour_price) == (
        "reg/t:9", "reg/t:9", 2.5, "EUR", 1.25)
    priced = OperatorSettings.from_env(_env(one(render({"operator": {
        "gpuHourPrice": 1.25, "gpuHourPrices": {"NVIDIA-H100-80GB-HBM3": 4, "NVIDIA-A100-SXM4-80GB": 2.5},
        "defaultCpuRequest": "500m"}}), "Deployment")))
    prices = priced.prices()
    assert (prices.gpu_hour("NVIDIA-H100-80GB-HBM3"), prices.gpu_hour("NVIDIA-A100-SXM4-80GB"), prices.gpu_hour("Tesla-T4"),
            prices.gpu_hour(None)) == (4, 2.5, 1.25, 1.25)
    assert priced.default_cpu_request == "500m"


def _pod_templates(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [o["spec"]["template"] for o in objects if o["kind"] in ("Deployment", "StatefulSet", "DaemonSet", "Job")]


@pytest.mark.parametrize("case", sorted(CASES))
def test_pods_run_restricted(render, case: str) -> None:
    templates = _pod_templates(render(CASES[case]))
    assert templates
    for template in templates:
        pod = template["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] != 0
        assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
        mounts_tmp = {v["name"] for v in pod["volumes"] if "emptyDir" in v}
        for container in pod["containers"]:
            sc = container["securityContext"]
            assert sc["runAsNonRoot"] is True and sc.get("runAsUser", pod["securityContext"]["runAsUser"]) != 0
            assert sc["readOnlyRootFilesystem"] is True and sc["allowPrivilegeEscalation"] is False
            assert sc["capabilities"]["drop"] == ["ALL"] and not sc["capabilities"].get("add")
            assert sc["seccompProfile"]["type"] == "RuntimeDefault"
            assert set(container["resources"]) == {"requests", "limits"}
            assert {"cpu", "memory"} <= set(container["resources"]["requests"])
            assert "memory" in container["resources"]["limits"]
            assert any(m["mountPath"] == "/tmp" and m["name"] in mounts_tmp for m in container["volumeMounts"])


@pytest.mark.parametrize("case", sorted(CASES))
def test_operator_probes_use_the_kopf_liveness_endpoint(render, case: str) -> None:
    deployment = one(render(CASES[case]), "Deployment")
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    settings = OperatorSettings.from_env(_env(deployment))
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        get = container[probe]["httpGet"]
        assert get["path"] == "/healthz" and ports[get["port"]] == settings.liveness_port == 8081, probe


def test_single_replica_without_leader_election(render) -> None:
    objects = render({})
    deployment = one(objects, "Deployment")
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}  # never two standalone operators at once
    assert "TARA_PEERING" not in _env(deployment)
    assert not find(objects, "PodDisruptionBudget") and not find(objects, "KopfPeering") and not find(objects, "ClusterKopfPeering")


def test_leader_election_in_watched_namespaces(render) -> None:
    """kopf keeps a namespaced peering in every namespace it serves, so each gets a KopfPeering."""
    objects = render(ALL_ON)
    deployment = one(objects, "Deployment")
    assert deployment["spec"]["replicas"] == 2 and "strategy" not in deployment["spec"]
    peering = _env(deployment)["TARA_PEERING"]
    assert sorted(p["metadata"]["namespace"] for p in find(objects, "KopfPeering", peering)) == ["a", "b"]
    assert not find(objects, "ClusterKopfPeering")
    pdb = one(objects, "PodDisruptionBudget")
    assert pdb["spec"]["selector"]["matchLabels"].items() <= deployment["spec"]["template"]["metadata"]["labels"].items()
    assert pdb["spec"]["minAvailable"] == 1


def test_leader_election_across_the_cluster(render) -> None:
    objects = render({"replicas": 3, "leaderElection": {"enabled": True, "peeringName": "tara-peers"}})
    assert _env(one(objects, "Deployment"))["TARA_PEERING"] == "tara-peers"
    assert one(objects, "ClusterKopfPeering")["metadata"]["name"] == "tara-peers"
    assert not find(objects, "KopfPeering")


def test_metrics_service_selects_the_operator(render) -> None:
    objects = render({})
    deployment, service = one(objects, "Deployment"), one(objects, "Service")
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= pod_labels.items()
    assert deployment["spec"]["selector"]["matchLabels"] == service["spec"]["selector"]
    (port,) = service["spec"]["ports"]
    assert (port["name"], port["port"], port["targetPort"]) == ("metrics", 8080, "metrics")


def test_scheduling_values_reach_the_pod(render) -> None:
    values = {"nodeSelector": {"pool": "ops"}, "tolerations": [{"key": "ops", "operator": "Exists", "effect": "NoSchedule"}],
              "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
                  "nodeSelectorTerms": [{"matchExpressions": [{"key": "pool", "operator": "In", "values": ["ops"]}]}]}}},
              "priorityClassName": "system-cluster-critical", "imagePullSecrets": [{"name": "regcred"}],
              "podAnnotations": {"a": "b"}, "podLabels": {"team": "ml"}, "image": {"tag": "9.9.9"}}
    deployment = one(render(values), "Deployment")
    template = deployment["spec"]["template"]
    pod = template["spec"]
    assert pod["nodeSelector"] == values["nodeSelector"] and pod["tolerations"] == values["tolerations"]
    assert pod["affinity"] == values["affinity"] and pod["priorityClassName"] == "system-cluster-critical"
    assert pod["imagePullSecrets"] == [{"name": "regcred"}]
    assert template["metadata"]["annotations"] == {"a": "b"} and template["metadata"]["labels"]["team"] == "ml"
    assert pod["containers"][0]["image"] == "ghcr.io/tara-dev/tara-operator:9.9.9"
    assert not differences(deployment, round_trip(deployment))
