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
be = _load("bench_emotion")


@pytest.fixture(scope="module")
def routers(tmp_path_factory: pytest.TempPathFactory, toolchain, settings) -> dict[str, Any]:
    from tara_trainer.export.encoder import routing_encoder

    gguf = routing_encoder(toolchain, settings.cache_dir).gguf
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
    assert report["accuracy"] >= 0.92  # 0.952-0.962 recorded (goal 0.95)
    assert report["perLabel"]["legal"]["recall"] >= 0.8 and report["perLabel"]["cooking"]["recall"] >= 0.85


# (set, recall floor, false-alarm ceiling, what was recorded): blind sets were written from the label policy
# alone; blind4 to blind10 were each read once by the detector of their day, blind4 to blind9 then became
# development sets (the rules learned from their misses and alarms) and, in session 11, training data of the
# fourth encoder; blind11, blind12 and blind14 were read once and then learned from by the rules, blind13 (session
# 11), blind15 (session 12) and blind16 (session 13) were read and never learned from.
HELD_OUT = (
    # floors, then what the encoder of session 13 (recipe 3: the healthcare dataset's users at risk no longer
    # taught as ordinary) recorded, and before it the fourth encoder's figures
    ("fresh", 0.95, 0.02, "119/120, 0 alarms (the development set; the fourth encoder 117, 1)"),
    ("blind2", 0.90, 0.03, "140/150, 3/200 (141, 3)"),
    ("blind3", 0.95, 0.025, "150/150, 4/200 (149, 3)"),
    ("blind4", 0.97, 0.03, "150/150, 0/200 (read once: 136/150, 17/200; training data since session 11)"),
    ("blind5", 0.97, 0.02, "150/150, 1/196 (read once: 141/150, 3/196)"),
    ("blind6", 0.97, 0.03, "149/149, 3/195 (read once: 143/149, 6/195)"),
    ("blind7", 0.97, 0.05, "147/147, 5/190 (read once: 142/147, 12/190)"),
    ("blind8", 0.97, 0.02, "150/150, 0/199 (read once: 136/150, 3/199)"),
    ("blind9", 0.97, 0.09, "150/150, 14/199 (read once: 135/150, 18/199)"),
    ("blind10", 0.93, 0.08, "145/150, 12/200 (read once in session 10: 136/150, 13/200; the fourth encoder 144, 11); the rules alone 65/150, 8/200"),
    ("blind11", 0.97, 0.06, "148/148, 9/198 (read once: 142/148, 13/198; the rules alone 88/148, 1/198)"),
    ("blind12", 0.97, 0.06, "149/150, 10/199 (read once: 140/150, 11/199; the rules alone 77/150, 3/199)"),
    ("blind13", 0.90, 0.09, "141/149, 15/198 (the fourth encoder, read once: 142, 13); the rules alone 71/149, 5/198"),
    ("blind14", 0.97, 0.06, "145/148, 10/195 (read once in session 12: 143/148, 12/195); the rules alone 65/148, 0/195"),
    ("blind15", 0.85, 0.06, "131/150, 7/197 (read once in session 12: the same); the rules alone 53/150, 1/197"),
    ("blind16", 0.93, 0.04, "145/150, 3/198 (session 13; the asides experiment's encoder read it first: 147, 2); the rules alone 98/150, 1/198"),
)


def test_crisis_rules_plus_probe_on_held_out_messages(routers) -> None:
    router = routers["five"]
    evaluation = bc.rows("crisis_eval.jsonl")
    report = bc.figures(bc.decide_all(router, [r for r in evaluation if r["split"] == "report"]))
    found = {name: bc.figures(bc.decide_all(router, bc.rows(f"crisis_{name}.jsonl"))) for name, *_ in HELD_OUT}
    for name, f in (("report half", report), *found.items()):
        print(f"crisis {name}: crisis path {f['caught']}/{f['crisis']}, with resources {f['withResources']}/{f['crisis']}, "
              f"false alarms {f['falseAlarms']}/{f['safe']}, safe with a care note {f['safeWithNote']}/{f['safe']}")
    assert report["recall"] == 1.0 and report["falseAlarmRate"] <= 0.08  # 5/70 recorded (the rules alone 1/70)
    short = [f"{name}: recall {found[name]['recall']:.3f} < {recall} or false alarms {found[name]['falseAlarmRate']:.3f} > "
             f"{alarms} (recorded {recorded})" for name, recall, alarms, recorded in HELD_OUT
             if found[name]["recall"] < recall or found[name]["falseAlarmRate"] > alarms]
    assert not short, short
    everyday = bc.figures(bc.decide_all(router, [{"label": "safe", "turns": br.turns(r)} for r in br.load()]))
    print(f"crisis on the 522 routing queries (ordinary traffic): crisis path {everyday['falseAlarms']}, care note {everyday['safeWithNote']}")
    assert everyday["falseAlarmRate"] <= 0.01 and everyday["safeNoteRate"] <= 0.03


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


def test_the_tone_reaching_llama_server_follows_the_emotion_the_probe_reads(routers) -> None:
    """No word of the lexicon in either message: the probe reads anger in the first and nothing in the
    second, and the system prompt that reaches the upstream says so (or does not)."""
    import asyncio

    from aiohttp import web
    from aiohttp.test_utils import TestClient, TestServer

    from tara_router.app import build_app
    from tara_router.emotion import read_text
    from tara_router.settings import RouterSettings

    angry = "The clinic moved my operation for the third time this month and nobody even called me."
    plain = "Please summarise the attached quarterly report in five bullet points."
    assert read_text(angry).dominant is None and read_text(plain).dominant is None  # the lexicon alone reads neither

    async def ask(text: str) -> tuple[dict[str, str], str]:
        received: list[dict[str, Any]] = []

        async def chat(request: web.Request) -> web.Response:
            received.append(await request.json())
            return web.json_response({"id": "x", "object": "chat.completion", "created": 0, "model": "m", "choices": [
                {"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}]})

        upstream = web.Application()
        upstream.router.add_post("/v1/chat/completions", chat)
        async with TestServer(upstream) as stub:
            config = routers["five"].config.model_copy(update={"upstream": str(stub.make_url("/"))})
            async with TestClient(TestServer(build_app(config, RouterSettings()))) as client:
                r = await client.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": text}]})
                assert r.status == 200
                return dict(r.headers), received[0]["messages"][0]["content"]

    headers, system = asyncio.run(ask(angry))
    assert headers["x-tara-domain"] == "healthcare" and headers["x-tara-emotion"].startswith("anger:")
    assert "seems to feel anger" in system and "frustration" in system  # healthcare's tone for anger
    headers, system = asyncio.run(ask(plain))
    assert headers["x-tara-emotion"] == "neutral" and "seems to feel" not in system


def test_emotion_on_the_reporting_half(routers) -> None:
    """The lexicon with the emotion probe against the lexicon alone, on messages written blind to both."""
    rows = [r for r in be.load() if r["split"] == "report"]
    read = be.readers(routers["five"])
    figures = {name: be.summarise([(r["label"], read[name](br.turns(r))) for r in rows]) for name in ("lexicon", "shipped")}
    for name, f in figures.items():
        print(f"emotion report half, {name}: emotional read right {f['emotionalRecall']:.3f}, neutral kept {f['neutralKept']:.3f}")
    shipped, lexicon = figures["shipped"], figures["lexicon"]
    # 0.881 and 0.967 recorded (the encoder of session 13, neutral prior 1.9 chosen on emotion_dev); goals 0.80, 0.90
    assert shipped["emotionalRecall"] >= 0.84 and shipped["neutralKept"] >= 0.90
    assert shipped["emotionalRecall"] >= lexicon["emotionalRecall"] + 0.2
