"""Monitoring: the Grafana dashboard, the PrometheusRule's alerts (checked and unit-tested with
promtool), and the ServiceMonitor and PodMonitor. Every metric a query uses must be one the
operator, the router or llama-server exports: a renamed metric fails here, not on a dark panel."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import promql_parser
import pytest
import yaml
from chart_support import ALL_ON, CHART, NAMESPACE, ROOT, find, one
from prometheus_client import REGISTRY, CollectorRegistry

from tara_api import GGUFPhase
from tara_operator.render.phase import render_serving
from tara_operator.settings import OperatorSettings

DASHBOARD_FILE = CHART / "dashboards" / "tara.json"
DASHBOARD = json.loads(DASHBOARD_FILE.read_text(encoding="utf-8"))
INSTALL_DOC = ROOT / "docs" / "install.md"
ALERTS = {"TaraTrainingStalled", "TaraTrainingJobFailed", "TaraTrainingFailed", "TaraPhaseFailed",
          "TaraRouterErrorRate", "TaraRouterLatencyP99", "TaraOperatorReconcileErrors"}
# llama-server's own metrics (with --metrics), passed through by the router at /metrics/server.
LLAMACPP_METRICS = {"llamacpp:prompt_tokens_seconds", "llamacpp:predicted_tokens_seconds", "llamacpp:prompt_tokens_total",
                    "llamacpp:tokens_predicted_total", "llamacpp:requests_processing", "llamacpp:requests_deferred",
                    "llamacpp:prompt_seconds_total", "llamacpp:tokens_predicted_seconds_total", "llamacpp:n_decode_total",
                    "llamacpp:n_busy_slots_per_decode"}
# Grafana's variables, replaced by values of the same type before parsing.
GRAFANA_VARIABLES = {"$__rate_interval": "5m", "$__range": "1h", "$__interval": "1m", "$namespace": ".*"}


def sample_names(registry: CollectorRegistry) -> set[str]:
    """Names of the series a registry exposes, children or not (counters end in _total,
    histograms add _bucket, _sum and _count)."""
    suffixes = {"counter": ["_total"], "histogram": ["_bucket", "_sum", "_count"], "gauge": [""], "summary": ["", "_sum", "_count"]}
    return {family.name + s for family in registry.collect() for s in suffixes.get(family.type, [""])}


def operator_metrics() -> set[str]:
    import tara_operator.metrics  # noqa: F401 - registers the operator's metrics

    return {n for n in sample_names(REGISTRY) if n.startswith("tara_")}


def router_metrics() -> set[str]:
    from tara_router.metrics import Metrics

    return sample_names(Metrics().registry)


def panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for panel in dashboard["panels"]:
        if panel["type"] == "row":
            out.extend(panel.get("panels", []))
        else:
            out.append(panel)
    return out


def dashboard_queries() -> list[str]:
    return [t["expr"] for p in panels(DASHBOARD) for t in p["targets"]] + [
        v["query"]["query"] for v in DASHBOARD["templating"]["list"] if v["type"] == "query"]


def expand(expr: str) -> str:
    for variable, value in GRAFANA_VARIABLES.items():
        expr = expr.replace(variable, value)
    assert "$" not in expr, f"unknown Grafana variable in {expr}"
    return expr


def metric_names(expr: str) -> set[str]:
    """Every metric a PromQL expression selects, from its syntax tree."""
    found: set[str] = set()

    def visit(node: Any) -> None:
        if isinstance(node, promql_parser.VectorSelector):
            assert node.name, f"a selector without a metric name in {expr}"
            found.add(node.name)

    promql_parser.walk(promql_parser.parse(expr), visit)
    return found


def label_values_metric(query: str) -> str:
    match = re.fullmatch(r"label_values\((\w+),\s*(\w+)\)", query)
    assert match, query
    return match.group(1)


def rule_groups(render) -> list[dict[str, Any]]:
    return one(render({"prometheusRule": {"enabled": True}}), "PrometheusRule")["spec"]["groups"]


def rules(render) -> list[dict[str, Any]]:
    return [rule for group in rule_groups(render) for rule in group["rules"]]


def promql_of(render) -> list[str]:
    exprs = [expand(e) for e in dashboard_queries() if not e.startswith("label_values(")]
    return exprs + [r["expr"] for r in rules(render)]


# --- the dashboard ---------------------------------------------------------------------------------


def test_dashboard_structure() -> None:
    assert DASHBOARD["uid"] == "tara-overview" and DASHBOARD["title"] == "TARA"
    variables = {v["name"]: v for v in DASHBOARD["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource" and variables["datasource"]["query"] == "prometheus"
    assert variables["namespace"]["datasource"]["uid"] == "${datasource}"
    ids = [p["id"] for p in DASHBOARD["panels"]] + [p["id"] for p in panels(DASHBOARD) if p not in DASHBOARD["panels"]]
    assert len(ids) == len(set(ids)), "panel ids repeat"
    shown = panels(DASHBOARD)
    assert len(shown) >= 20
    for panel in shown:
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, panel["title"]
        assert panel["targets"], f"{panel['title']} has no query"
        assert panel["title"] and panel["description"], panel["id"]
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24 and grid["h"] > 0, panel["title"]
        refs = [t["refId"] for t in panel["targets"]]
        assert len(refs) == len(set(refs)), panel["title"]
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == "${datasource}" and target["expr"].strip(), panel["title"]


def test_dashboard_filters_by_namespace_where_it_can() -> None:
    """Per-resource and serving series carry the namespace: their panels honour $namespace."""
    for panel in panels(DASHBOARD):
        for target in panel["targets"]:
            names = metric_names(expand(target["expr"]))
            if names - {"tara_operator_resources", "tara_operator_reconciles_total", "tara_operator_reconcile_seconds_bucket"}:
                assert 'namespace=~"$namespace"' in target["expr"], f"{panel['title']}: {target['expr']}"


def test_dashboard_shows_what_operators_need() -> None:
    used = set().union(*(metric_names(e) for e in (expand(q) for q in dashboard_queries() if not q.startswith("label_values("))))
    wanted = {"tara_training_progress_percent", "tara_training_loss", "tara_training_eval_loss", "tara_training_step",
              "tara_operator_resources", "tara_resource_phase", "tara_operator_reconciles_total",
              "tara_operator_reconcile_seconds_bucket", "tara_router_requests_total", "tara_router_request_seconds_bucket",
              "tara_router_routed_total", "tara_router_emotion_total", "tara_router_crisis_total",
              "tara_router_upstream_errors_total", "llamacpp:prompt_tokens_total", "llamacpp:tokens_predicted_total",
              "llamacpp:prompt_tokens_seconds", "llamacpp:predicted_tokens_seconds", "llamacpp:requests_processing"}
    assert wanted - used == set()


def test_every_query_parses(render) -> None:
    for expr in promql_of(render):
        promql_parser.parse(expr)


def test_parser_rejects_bad_promql() -> None:
    with pytest.raises(ValueError):
        promql_parser.parse("sum by (kind (rate(x[5m]))")


def test_every_metric_is_exported(render) -> None:
    """Operator metrics come from tara_operator.metrics, router metrics from the router's registry,
    llama-server's from its documented list."""
    used = set().union(*(metric_names(e) for e in promql_of(render)))
    used |= {label_values_metric(q) for q in dashboard_queries() if q.startswith("label_values(")}
    exported = operator_metrics() | router_metrics() | LLAMACPP_METRICS
    missing = sorted(used - exported)
    assert not missing, f"queried but exported by nothing: {missing}"
    assert {n for n in used if n.startswith("tara_router_")} and {n for n in used if n.startswith("tara_operator_")}


def test_metric_check_is_not_vacuous() -> None:
    assert "tara_operator_reconciles_total" in operator_metrics()
    assert "tara_router_request_seconds_bucket" in router_metrics()
    assert "tara_router_no_such_metric_total" not in router_metrics() | operator_metrics()
    assert metric_names('sum(rate(a_total{x="1"}[5m])) / on (y) b') == {"a_total", "b"}


def test_dashboard_configmap(render) -> None:
    objects = render({"grafana": {"dashboard": {"enabled": True, "folder": "ML", "namespace": "monitoring"}}})
    cm = one(objects, "ConfigMap")
    assert cm["metadata"]["namespace"] == "monitoring"
    assert cm["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert cm["metadata"]["annotations"] == {"grafana_folder": "ML"}
    assert json.loads(cm["data"]["tara.json"]) == DASHBOARD
    assert not find(render({}), "ConfigMap")


# --- alerts ----------------------------------------------------------------------------------------


def _slug(heading: str) -> str:
    """GitHub's anchor for a Markdown heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_alerts_are_complete_and_documented(render) -> None:
    anchors = {_slug(line.lstrip("#")) for line in INSTALL_DOC.read_text(encoding="utf-8").splitlines() if line.startswith("#")}
    found = rules(render)
    assert {r["alert"] for r in found} == ALERTS
    for rule in found:
        assert "for" in rule and rule["labels"]["severity"] in {"info", "warning", "critical"}, rule["alert"]
        assert rule["annotations"]["summary"] and rule["annotations"]["description"], rule["alert"]
        url, _, anchor = rule["annotations"]["runbook_url"].partition("#")
        assert url == "https://github.com/tara-dev/tara/blob/main/docs/install.md"
        assert anchor == rule["alert"].lower() and anchor in anchors, f"docs/install.md has no section for {rule['alert']}"


def test_alert_thresholds_come_from_values(render) -> None:
    values = {"prometheusRule": {"enabled": True, "trainingStalledMinutes": 45, "routerErrorRatio": 0.2,
                                 "routerLatencyP99Seconds": 3, "runbookBaseURL": "https://wiki.example/tara/"}}
    by_name = {r["alert"]: r for g in one(render(values), "PrometheusRule")["spec"]["groups"] for r in g["rules"]}
    assert "> 2700" in by_name["TaraTrainingStalled"]["expr"]
    assert "> 0.2" in by_name["TaraRouterErrorRate"]["expr"]
    assert "> 3" in by_name["TaraRouterLatencyP99"]["expr"]
    assert by_name["TaraPhaseFailed"]["annotations"]["runbook_url"] == "https://wiki.example/tara#taraphasefailed"


def _write_rules(render, folder: Path) -> Path:
    path = folder / "rules.yaml"
    path.write_text(yaml.safe_dump({"groups": rule_groups(render)}, sort_keys=False), encoding="utf-8")
    return path


def test_promtool_checks_the_rules(render, promtool: Path, tmp_path: Path) -> None:
    got = subprocess.run([str(promtool), "check", "rules", str(_write_rules(render, tmp_path))],
                         capture_output=True, text=True, timeout=60, check=False)
    assert got.returncode == 0, got.stdout + got.stderr
    assert f"SUCCESS: {len(ALERTS)} rules found" in got.stdout


def test_promtool_parses_the_dashboard_queries(render, promtool: Path, tmp_path: Path) -> None:
    """Prometheus' own parser on every dashboard query, each wrapped in a recording rule."""
    queries = [expand(q) for q in dashboard_queries() if not q.startswith("label_values(")]
    rules_file = tmp_path / "dashboard.yaml"
    rules_file.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": [
        {"record": f"tara:dashboard:query{i}", "expr": q} for i, q in enumerate(queries)]}]}), encoding="utf-8")
    got = subprocess.run([str(promtool), "check", "rules", str(rules_file)], capture_output=True, text=True, timeout=60, check=False)
    assert got.returncode == 0, got.stdout + got.stderr


def test_promtool_unit_tests_of_the_alerts(render, promtool: Path, tmp_path: Path) -> None:
    """TaraTrainingStalled, TaraRouterErrorRate, TaraTrainingJobFailed, TaraRouterLatencyP99 and
    TaraPhaseFailed fire on synthetic failing series and stay silent on healthy ones."""
    _write_rules(render, tmp_path)
    shutil.copy(Path(__file__).with_name("rules_test.yaml"), tmp_path / "rules_test.yaml")
    got = subprocess.run([str(promtool), "test", "rules", "rules_test.yaml"], cwd=tmp_path, capture_output=True, text=True,
                         timeout=120, check=False)
    assert got.returncode == 0, got.stdout + got.stderr


# --- scraping --------------------------------------------------------------------------------------


def test_service_monitor_scrapes_the_operator(render) -> None:
    objects = render(ALL_ON)
    monitor, service = one(objects, "ServiceMonitor"), one(objects, "Service")
    assert monitor["metadata"]["labels"]["release"] == "prometheus"
    assert monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    assert monitor["spec"]["namespaceSelector"] == {"matchNames": [NAMESPACE]}
    (endpoint,) = monitor["spec"]["endpoints"]
    assert endpoint["port"] in {p["name"] for p in service["spec"]["ports"]} and endpoint["path"] == "/metrics"
    # The operator's series name the resource's namespace; the target's must not overwrite it.
    assert endpoint["honorLabels"] is True
    assert not find(render({}), "ServiceMonitor")


def _serving_deployment() -> dict[str, Any]:
    phase = yaml.safe_load((ROOT / "configs" / "phases" / "phase-1.yaml").read_text(encoding="utf-8"))
    phase["metadata"]["namespace"] = "a"
    return render_serving(GGUFPhase.model_validate(phase), OperatorSettings(), revision=3, uid="u")["deployment"]


def test_pod_monitor_scrapes_the_serving_pods(render) -> None:
    monitor = one(render(ALL_ON), "PodMonitor")
    template = _serving_deployment()["spec"]["template"]
    assert monitor["spec"]["selector"]["matchLabels"].items() <= template["metadata"]["labels"].items()
    assert monitor["spec"]["namespaceSelector"] == {"matchNames": ["a", "b"]}
    ports = {p["name"] for c in template["spec"]["containers"] for p in c.get("ports", [])}
    endpoints = monitor["spec"]["podMetricsEndpoints"]
    assert {e["path"] for e in endpoints} == {"/metrics", "/metrics/server"}
    app = (ROOT / "router" / "tara_router" / "app.py").read_text(encoding="utf-8")
    for endpoint in endpoints:
        assert endpoint["port"] in ports
        assert f'add_get("{endpoint["path"]}"' in app, f"the router serves no {endpoint['path']}"
        # The relabelings read a label and an annotation the serving pods really carry.
        meta = {**{f"__meta_kubernetes_pod_label_{re.sub(r'[^a-zA-Z0-9_]', '_', k)}": v for k, v in template["metadata"]["labels"].items()},
                **{f"__meta_kubernetes_pod_annotation_{re.sub(r'[^a-zA-Z0-9_]', '_', k)}": v
                   for k, v in template["metadata"]["annotations"].items()}}
        relabeled = {r["targetLabel"]: meta.get(r["sourceLabels"][0]) for r in endpoint["relabelings"]}
        assert relabeled == {"ggufphase": "phase-1", "revision": "3"}
    assert one(render({"podMonitor": {"enabled": True}}), "PodMonitor")["spec"]["namespaceSelector"] == {"any": True}
