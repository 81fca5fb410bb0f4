"""Routing and crisis detection with the real embedding model, measured on the held-out halves.

The index is made by the build's own code (``tara_trainer.export.routing``) from the bundled
training rows, the scope and background data and the crisis probe's rows; decisions go through
``Router.decide`` as in the sidecar. The figures are printed (``pytest -s`` or the report's
captured output) and bounded from below a little under what ``benchmarks/results`` records, so a
change that loses quality fails here while machine noise does not.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load(name: str) -> ModuleType:
    if name in sys.modules:
        return sys.modules[name]
    sys.path.insert(0, str(ROOT / "benchmarks"))
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


br = _load("bench_routing")
bc = _load("bench_crisis")


@pytest.fixture(scope="module")
def routers(tmp_path_factory: pytest.TempPathFactory, toolchain, settings) -> dict[str, Any]:
    from tara_trainer.export import routing

    gguf = routing.embedder_gguf(toolchain, settings.cache_dir)
    work = tmp_path_factory.mktemp("routing-index")
    br.write_index(toolchain, gguf, br.domain_utterances(), work / "index.npz")
    custom, _counts = br.custom_router(toolchain, gguf, work)
    return {"five": br.semantic_router(work / "index.npz", gguf), "custom": custom}


def test_semantic_routing_on_the_reporting_half(routers) -> None:
    results, _config = br.route_all(br.load(), routers["five"])
    halves = br.scorer_halves(results)
    keywords = br.scorer_halves(br.route_all(br.load())[0])
    for split in br.SPLITS:
        br.print_half(f"semantic / {split}", halves[split])
    print(f"\nreport half: semantic {halves['report']['accuracy']:.3f}, keywords {keywords['report']['accuracy']:.3f}")
    assert halves["report"]["accuracy"] >= 0.93  # 0.951-0.955 recorded; the goal is 0.95
    assert halves["report"]["accuracy"] >= keywords["report"]["accuracy"] + 0.2
    per = halves["report"]["perLabel"]
    assert all(per[d]["recall"] >= 0.85 for d in br.DOMAINS), per
    assert per[br.NONE]["recall"] >= 0.85  # off-topic requests fall back instead of guessing


def test_two_custom_domains_route_from_their_training_data_alone(routers) -> None:
    rows = br.load(br.CUSTOM / "eval.jsonl")
    summary = br.custom_check(routers["custom"], {}, rows)
    br.print_half("custom domains / report", summary["halves"]["report"])
    report = summary["halves"]["report"]
    assert report["accuracy"] >= 0.9  # 0.943 recorded
    assert report["perLabel"]["legal"]["recall"] >= 0.8 and report["perLabel"]["cooking"]["recall"] >= 0.85


def test_crisis_rules_plus_probe_on_held_out_messages(routers) -> None:
    router = routers["five"]
    evaluation = bc.rows("crisis_eval.jsonl")
    report = bc.figures(bc.decide_all(router, [r for r in evaluation if r["split"] == "report"]))
    fresh = bc.figures(bc.decide_all(router, bc.rows("crisis_fresh.jsonl")))
    for name, f in (("report half", report), ("fresh set", fresh)):
        print(f"crisis {name}: crisis path {f['caught']}/{f['crisis']}, with resources {f['withResources']}/{f['crisis']}, "
              f"false alarms {f['falseAlarms']}/{f['safe']}, safe with a care note {f['safeWithNote']}/{f['safe']}")
    assert report["recall"] == 1.0 and report["falseAlarmRate"] <= 0.06
    # written blind to the rules and the probe's data: the rules alone reach the crisis path for 60 of 120
    assert fresh["recall"] >= 0.63 and fresh["resourcesRecall"] >= 0.83
    assert fresh["falseAlarmRate"] <= 0.02


def test_the_probe_reaches_the_crisis_path_where_no_rule_matches(routers) -> None:
    """A message the crisis rules miss but the probe scores high goes down the crisis path (counted
    apart), whichever model the client asked for."""
    from tara_router.crisis import crisis_signs

    router = routers["five"]
    texts = [r["turns"] for r in bc.rows("crisis_fresh.jsonl") if r["label"] == "crisis"]
    caught = [t for t in texts if not crisis_signs(t) and router.semantic.score(router.embed_query(t)).crisis_signal]
    assert caught, "the probe adds nothing over the rules on the fresh set"
    router.cache.clear()
    decision, reading = router.decide("tara-business", caught[0])
    assert reading.crisis and decision.reason == "crisis" and decision.domain == "healthcare"
    assert router.metrics.crisis_semantic._value.get() >= 1
