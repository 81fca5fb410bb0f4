"""Cost arithmetic (tables, no I/O): usage from rendered pods, prices per GPU product, a training's
cost from its Jobs, serving time integrated between observations, and a phase's per-domain figures
that add up to its total; and the settings that carry the prices, refused at start when wrong."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tara_api import DomainTraining, GGUFPhase
from tara_operator import cost
from tara_operator.observed import Observed
from tara_operator.render.phase import DomainOutput, render_build, render_serving
from tara_operator.render.training import render_training
from tara_operator.settings import OperatorSettings, SettingsError
from tara_operator.status import observe_job
from tara_operator.training import _cost

T0 = datetime(2026, 1, 1, tzinfo=UTC)
PRICES = cost.Prices(gpu=2.0, cpu=0.05, gpu_by_product={"NVIDIA-H100-80GB-HBM3": 4.0}, currency="EUR")


def _training(**resources) -> DomainTraining:
    return DomainTraining.model_validate({"apiVersion": "tara.dev/v1alpha1", "kind": "DomainTraining",
                                          "metadata": {"name": "hc", "namespace": "ml"},
                                          "spec": {"domain": "healthcare", "baseModel": {"repo": "Qwen/Qwen2.5-3B-Instruct"},
                                                   "dataset": {"builtin": "healthcare"}, "resources": resources}})


def _phase(**spec) -> GGUFPhase:
    return GGUFPhase.model_validate({"apiVersion": "tara.dev/v1alpha1", "kind": "GGUFPhase", "metadata": {"name": "p", "namespace": "ml"},
                                     "spec": {"phaseNumber": 1, "domains": [{"domain": "healthcare"}], **spec}})


@pytest.mark.parametrize(("q", "cores"), [(None, 0.0), ("2", 2.0), (4, 4.0), ("3500m", 3.5), ("0.5", 0.5), ("lots", 0.0), ("-1", 0.0)])
def test_cores_of(q, cores) -> None:
    assert cost.cores_of(q) == cores


def _pod(job: dict) -> dict:
    return job["spec"]["template"]["spec"]


SETTINGS = OperatorSettings()
# name, pod spec as rendered, expected usage
USAGE = [
    ("training-cpu-unset-gets-the-default", _pod(render_training(_training(accelerator="cpu"), SETTINGS, 1)["job"]),
     cost.PodUsage(cores=1.0)),
    ("training-cpu-sized", _pod(render_training(_training(accelerator="cpu", cpu="3500m"), SETTINGS, 1)["job"]),
     cost.PodUsage(cores=3.5)),
    ("training-gpu-product", _pod(render_training(_training(accelerator="gpu", gpu={"count": 2, "product": "NVIDIA-H100-80GB-HBM3"}),
                                                  SETTINGS, 1)["job"]), cost.PodUsage(cores=1.0, gpus=2, gpu_product="NVIDIA-H100-80GB-HBM3")),
    ("build-default", _pod(render_build(_phase(), SETTINGS, 1, [DomainOutput("healthcare", "hc", "c", "hc")])["job"]),
     cost.PodUsage(cores=1.0)),
    ("serving-with-router-sidecar", _pod(render_serving(_phase(serving={"resources": {"cpu": "2"}}), SETTINGS, 1)["deployment"]),
     cost.PodUsage(cores=2.5)),
    ("serving-gpu-no-product", _pod(render_serving(_phase(serving={"resources": {"accelerator": "gpu", "gpuCount": 1}}),
                                                   SETTINGS, 1)["deployment"]), cost.PodUsage(cores=1.5, gpus=1)),
    ("limit-only-counts-as-request", {"containers": [{"resources": {"limits": {"cpu": "2"}}}]}, cost.PodUsage(cores=2.0)),
    ("nothing-requested", {"containers": [{}]}, cost.PodUsage()),
]


@pytest.mark.parametrize(("pod", "expected"), [u[1:] for u in USAGE], ids=[u[0] for u in USAGE])
def test_pod_usage_reads_the_rendered_requests(pod, expected) -> None:
    assert cost.pod_usage(pod) == expected


@pytest.mark.parametrize(("usage", "expected"), [
    (cost.PodUsage(cores=4, gpus=2, gpu_product="NVIDIA-H100-80GB-HBM3"), cost.Figures(4.0, 8.0, 4.0 * 4 + 8 * 0.05)),
    (cost.PodUsage(cores=4, gpus=2, gpu_product="Tesla-T4"), cost.Figures(4.0, 8.0, 4.0 * 2 + 8 * 0.05)),  # fallback price
    (cost.PodUsage(cores=4, gpus=2), cost.Figures(4.0, 8.0, 4.0 * 2 + 8 * 0.05)),
    (cost.PodUsage(cores=0), cost.Figures(0.0, 1.5 * 2, 1.5 * 2 * 0.05)),  # no CPU requested: the default's 1.5 cores
    (cost.PodUsage(cores=2, pods=3), cost.Figures(0.0, 12.0, 12 * 0.05)),  # a Job of 3 pods at once
], ids=["product-price", "unknown-product-fallback", "no-product-fallback", "default-cores", "parallel-pods"])
def test_priced(usage, expected) -> None:
    got = cost.priced(7200, usage, PRICES, default_cores=1.5)
    assert (got.accelerator_hours, got.cpu_hours) == pytest.approx((expected.accelerator_hours, expected.cpu_hours))
    assert got.cost == pytest.approx(expected.cost)


def _job(name: str, start: datetime, end: datetime | None, pod: dict, failed: bool = False) -> dict:
    status: dict = {"startTime": start.isoformat()}
    if end and not failed:
        status["completionTime"] = end.isoformat()
    if end and failed:  # a failed Job has no completionTime: when it failed is its condition's time
        status["conditions"] = [{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded", "lastTransitionTime": end.isoformat()}]
    return {"metadata": {"name": name}, "spec": {"template": {"spec": pod}}, "status": status}


def test_training_cost_counts_each_jobs_requests_and_ends_failed_attempts() -> None:
    res = _training(accelerator="gpu", gpu={"count": 2, "product": "NVIDIA-H100-80GB-HBM3"})
    settings = OperatorSettings(gpu_hour_price=2.0, cpu_hour_price=0.05, gpu_hour_prices={"NVIDIA-H100-80GB-HBM3": 4.0}, currency="EUR")
    pod = _pod(render_training(res, settings, 1)["job"])
    jobs = {("ml", "hc"): [observe_job(_job("a1", T0, T0 + timedelta(hours=1), pod, failed=True)),
                           observe_job(_job("a2", T0 + timedelta(hours=2), None, pod))]}
    now = T0 + timedelta(hours=3, minutes=30)
    got = _cost("ml", "hc", res, settings, now, Observed(jobs=jobs))
    # attempt 1 failed after 1 h (not counted up to now), attempt 2 runs 1.5 h: 2.5 h x 2 GPUs, x 1 default core
    assert got == {"acceleratorHours": 5.0, "cpuHours": 2.5, "estimatedCost": round(5 * 4.0 + 2.5 * 0.05, 4), "currency": "EUR"}
    assert "estimatedCost" not in _cost("ml", "hc", res, OperatorSettings(), now, Observed(jobs=jobs))


def test_training_cpu_hours_are_never_zero_for_an_unset_cpu() -> None:
    res = _training(accelerator="cpu")
    bare = {"containers": [{"name": "trainer"}]}  # a Job an older operator rendered without a request
    jobs = {("ml", "hc"): [observe_job(_job("a1", T0, T0 + timedelta(hours=2), bare))]}
    got = _cost("ml", "hc", res, OperatorSettings(default_cpu_request="2"), T0 + timedelta(hours=5), Observed(jobs=jobs))
    assert got == {"acceleratorHours": 0.0, "cpuHours": 4.0}


def test_serving_hours_integrate_the_replicas_ready_since_the_last_look() -> None:
    usage = cost.PodUsage(cores=2.5, gpus=1)
    first, state = cost.serving_hours(None, 2, usage, T0, PRICES, 1.0)
    assert first == cost.Figures() and state == {"readyReplicas": 2, "observedAt": "2026-01-01T00:00:00Z"}
    later, state = cost.serving_hours({**first.to_status(PRICES), **state}, 3, usage, T0 + timedelta(minutes=30), PRICES, 1.0)
    # 2 replicas for half an hour (the third became ready only now)
    assert (later.accelerator_hours, later.cpu_hours) == (1.0, 2.5) and later.cost == pytest.approx(1.0 * 2 + 2.5 * 0.05)
    again, _ = cost.serving_hours({**later.to_status(PRICES), **state}, 0, usage, T0 + timedelta(minutes=50), PRICES, 1.0)
    assert again.accelerator_hours == pytest.approx(1.0 + 3 * 20 / 60)


@pytest.mark.parametrize("domains", [["healthcare"], ["healthcare", "business", "education"], ["a", "b", "c", "d", "e", "f", "g"]])
def test_phase_cost_adds_up(domains) -> None:
    trainings = {d: cost.Figures(1.0 / (i + 3), 10.0 / 7 * (i + 1), 3.3333333 * (i + 1)) for i, d in enumerate(domains[:-1])}
    build, serving = cost.Figures(0.4, 7.0 / 3, 1.23456789), cost.Figures(2.0 / 3, 11.0, 2.71828)
    out = cost.phase_cost(domains, trainings, build, serving, PRICES, {"readyReplicas": 1, "observedAt": "2026-01-01T00:00:00Z"})
    assert out["currency"] == "EUR" and [r["domain"] for r in out["domains"]] == domains
    for key in ("acceleratorHours", "cpuHours", "estimatedCost"):
        rows = [r[key] for r in out["domains"]]
        assert abs(sum(rows) - out["total"][key]) < 1e-9, key  # the domains add up to the total as shown
        for r in out["domains"]:  # each domain is its training plus its shares
            assert abs(r["training"][key] + r["build"][key] + r["serving"][key] - r[key]) < 1e-9
        whole = sum(getattr(t, _attr(key)) for t in trainings.values()) + getattr(build, _attr(key)) + getattr(serving, _attr(key))
        assert abs(out["total"][key] - whole) <= len(domains) * 2e-4  # and the total is everything, up to rounding
    assert out["serving"]["readyReplicas"] == 1 and out["domains"][-1]["training"] == {"acceleratorHours": 0.0, "cpuHours": 0.0,
                                                                                          "estimatedCost": 0.0}


def _attr(key: str) -> str:
    return {"acceleratorHours": "accelerator_hours", "cpuHours": "cpu_hours", "estimatedCost": "cost"}[key]


def test_phase_cost_without_prices_has_hours_and_no_price() -> None:
    out = cost.phase_cost(["a", "b"], {"a": cost.Figures(1, 2, 0)}, cost.Figures(0, 1, 0), cost.Figures(), cost.Prices())
    assert "currency" not in out and "estimatedCost" not in out["total"] and out["total"] == {"acceleratorHours": 1.0, "cpuHours": 3.0}
    assert [r["cpuHours"] for r in out["domains"]] == [2.5, 0.5]


@pytest.mark.parametrize(("env", "words"), [
    ({"TARA_GPU_HOUR_PRICES": '{"NVIDIA-A100-SXM4-80GB": -1}'}, ["TARA_GPU_HOUR_PRICES", "NVIDIA-A100-SXM4-80GB", ">= 0"]),
    ({"TARA_GPU_HOUR_PRICES": "A100=2"}, ["TARA_GPU_HOUR_PRICES", "not JSON"]),
    ({"TARA_GPU_HOUR_PRICES": "[2.5]"}, ["TARA_GPU_HOUR_PRICES", "JSON object"]),
    ({"TARA_GPU_HOUR_PRICES": '{"": 1}'}, ["TARA_GPU_HOUR_PRICES", "1 to 63"]),
    ({"TARA_GPU_HOUR_PRICES": '{"A100": true}'}, ["TARA_GPU_HOUR_PRICES", "not a number"]),
    ({"TARA_GPU_HOUR_PRICE": "-3"}, ["TARA_GPU_HOUR_PRICE", "-3"]),
    ({"TARA_CPU_HOUR_PRICE": "inf"}, ["TARA_CPU_HOUR_PRICE", "finite"]),
    ({"TARA_DEFAULT_CPU_REQUEST": "0"}, ["TARA_DEFAULT_CPU_REQUEST", "above 0"]),
    ({"TARA_DEFAULT_CPU_REQUEST": "a lot"}, ["TARA_DEFAULT_CPU_REQUEST", "a lot"]),
], ids=["negative", "not-json", "not-object", "empty-product", "bool-price", "negative-fallback", "infinite-cpu", "zero-cpu", "cpu-word"])
def test_settings_refuse_bad_prices_naming_the_variable(env, words) -> None:
    with pytest.raises(SettingsError) as refused:
        OperatorSettings.from_env(env)
    for word in words:
        assert word in str(refused.value)


def test_operator_exits_at_start_with_a_clear_line(capsys, monkeypatch) -> None:
    from tara_operator.main import main

    monkeypatch.setenv("TARA_GPU_HOUR_PRICES", '{"NVIDIA-H100-80GB-HBM3": "four"}')
    assert main([]) == 2
    err = capsys.readouterr().err
    assert err.startswith("tara-operator: invalid operator settings: TARA_GPU_HOUR_PRICES: GPU product NVIDIA-H100-80GB-HBM3")


def test_prices_from_settings() -> None:
    s = OperatorSettings.from_env({"TARA_GPU_HOUR_PRICE": "2", "TARA_GPU_HOUR_PRICES": '{"NVIDIA-H100-80GB-HBM3": 4}', "TARA_CURRENCY": "EUR"})
    p = s.prices()
    assert (p.gpu_hour("NVIDIA-H100-80GB-HBM3"), p.gpu_hour("other"), p.gpu_hour(None), p.currency, p.priced) == (4, 2, 2, "EUR", True)
    assert not OperatorSettings().prices().priced


def test_a_training_used_by_two_phases_counts_whole_in_both() -> None:
    healthcare = cost.Figures(1.0, 2.0, 3.0)
    nothing = cost.Figures()
    first = cost.phase_cost(["healthcare", "business"], {"healthcare": healthcare}, nothing, nothing, PRICES)
    second = cost.phase_cost(["healthcare"], {"healthcare": healthcare}, nothing, nothing, PRICES)
    for out in (first, second):  # no share of the training moves to the other phase
        [row] = [r for r in out["domains"] if r["domain"] == "healthcare"]
        assert row["training"] == {"acceleratorHours": 1.0, "cpuHours": 2.0, "estimatedCost": 3.0}
        assert out["total"] == {"acceleratorHours": 1.0, "cpuHours": 2.0, "estimatedCost": 3.0}
