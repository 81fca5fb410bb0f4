"""Crisis benchmark: the rules alone against the rules plus the crisis probe, on messages written
for evaluation (``tests/data/crisis_eval.jsonl``, tune and report halves) and on sets written
last, blind to the rules and the probe's data (``tests/data/crisis_fresh.jsonl``, now a development
set, ``crisis_blind2.jsonl`` and ``crisis_blind3.jsonl``, report only, ``crisis_blind4.jsonl`` to
``crisis_blind9.jsonl``, each read once and then a development set for the rules, and
``crisis_blind10.jsonl``, report only, ``crisis_blind11.jsonl`` and ``crisis_blind12.jsonl``, each read once and
then a development set, ``crisis_blind13.jsonl``, report only, ``crisis_blind14.jsonl``, read once and then a
development set, ``crisis_blind15.jsonl`` and ``crisis_blind16.jsonl``, report only), through ``Router.decide`` with the index a phase build ships.

    python benchmarks/bench_crisis.py [--output benchmarks/results/crisis.json]

The crisis probe is the routing encoder's crisis head (``tara_trainer.export.encoder``: the
sentence encoder fine-tuned on ``routing/crisis*.jsonl``); its two thresholds are chosen on the
**tune** halves (``calibrate``) and the report half and the blind sets are read with them
(``RoutingParams`` ships them). "With resources" counts the crisis path plus the care note (the
probe at ``care_threshold`` or more: the domain answers, with a care note and resources)."""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from pathlib import Path
from typing import Any

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_routing as br  # noqa: E402 - after the path set-up

DATA = ROOT / "tests" / "data"
# blind4 to blind9 became development sets once read (sessions 9, 10), and training data of the fourth encoder (session 11);
# blind11 and blind12 development sets of the rules once read (session 11), blind14 too (session 12)
BLIND = ("fresh", "blind2", "blind3", "blind10", "blind13", "blind15", "blind16")


def rows(name: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (DATA / name).read_text(encoding="utf-8").splitlines() if line.strip()]


def figures(results: list[dict[str, Any]]) -> dict[str, Any]:
    crisis = [r for r in results if r["label"] == "crisis"]
    safe = [r for r in results if r["label"] == "safe"]
    either = [r for r in results if r["label"] == "either"]
    caught = sum(r["flagged"] for r in crisis)
    alarms = sum(r["flagged"] for r in safe)
    cared = sum(r["care"] for r in crisis)
    noted = sum(r["care"] for r in safe)
    return {"crisis": len(crisis), "caught": caught, "recall": caught / len(crisis) if crisis else None,
            "safe": len(safe), "falseAlarms": alarms, "falseAlarmRate": alarms / len(safe) if safe else None,
            # the crisis path or the care note: the request reached the model with crisis resources
            "withResources": cared, "resourcesRecall": cared / len(crisis) if crisis else None,
            "safeWithNote": noted, "safeNoteRate": noted / len(safe) if safe else None,
            "eitherFlagged": sum(r["flagged"] for r in either),
            "missed": [r["turns"] for r in crisis if not r["flagged"]],
            "alarms": [r["turns"] for r in safe if r["flagged"]]}


def decide_all(router: Any, data: list[dict[str, Any]], vectors: list[Any] | None = None) -> list[dict[str, Any]]:
    out = []
    for i, row in enumerate(data):
        router.cache.clear()
        _decision, reading = router.decide("tara-auto", row["turns"], None if vectors is None else vectors[i])
        out.append({"label": row["label"], "turns": row["turns"], "flagged": reading.crisis, "care": reading.crisis or reading.care})
    return out


def calibrate(router: Any, tune: list[dict[str, Any]], everyday: list[dict[str, Any]]) -> dict[str, Any]:
    """The probe's two thresholds, from tune halves only (steps of 0.01 from 0.99 down to 0.10):
    the crisis path's is the lowest at which the probe adds at most two false alarms to the rules'
    own on the crisis tune half's look-alikes (70) and reaches at most 1 % of the everyday requests of
    the routing tune half (a missed crisis costs far more than a warm answer with a crisis line: session 7 moved
    the first from one to two, after the development set showed three more caught for one more alarm;
    session 13 the second from none to 1 %, the bound the tests hold ordinary traffic to, before any
    blind set was read: one melancholy haiku request at 0.97 set the sixth encoder's threshold alone);
    the care note's is the lowest at which the note reaches at most 5 % of those look-alikes
    and 1 % of the everyday requests. (The probe is trained on other rows: ``routing/crisis*.jsonl``.)"""
    from tara_router.crisis import crisis_signs

    def scored(data: list[dict[str, Any]]) -> list[tuple[dict[str, Any], bool, float]]:
        return [(row, bool(crisis_signs(row["turns"])), router.crisis_probability(row["turns"]))
                for row in data if row["label"] != "either"]

    looks, ordinary = scored(tune), scored(everyday)
    safe = [(rule, p) for row, rule, p in looks if row["label"] == "safe"]

    def lowest(fits: Any) -> float:
        chosen = 1.0
        for step in range(99, 9, -1):
            if not fits(step / 100):
                break
            chosen = step / 100
        return chosen

    path = lowest(lambda t: sum(not rule and p >= t for rule, p in safe) <= 2 and sum(p >= t for _, _, p in ordinary) <= 0.01 * len(ordinary))
    care = lowest(lambda t: sum(p >= t for _, p in safe) <= 0.05 * len(safe) and sum(p >= t for _, _, p in ordinary) <= 0.01 * len(ordinary))
    crisis = [(rule, p) for row, rule, p in looks if row["label"] == "crisis"]
    return {"crisisThreshold": path, "careThreshold": min(care, path), "tuneRecall": sum(rule or p >= path for rule, p in crisis) / len(crisis),
            "tuneRecallRules": sum(rule for rule, _ in crisis) / len(crisis)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "results" / "crisis.json")
    parser.add_argument("--work", type=Path, default=Path("/tmp/tara-bench-crisis"))
    args = parser.parse_args(argv)
    from common import write_result

    from tara_router.app import Router
    from tara_router.settings import RouterSettings

    semantic = br.shipped_router(args.work)
    rules = Router(br.operator_config(), RouterSettings(cache_size=0))
    evaluation = rows("crisis_eval.jsonl")
    everyday = {split: [{"label": "safe", "turns": br.turns(r)} for r in br.load() if r["split"] == split] for split in br.SPLITS}
    calibration = calibrate(semantic, [r for r in evaluation if r["split"] == "tune"], everyday["tune"])
    print(f"calibration on the tune half: {calibration}")
    out: dict[str, Any] = {}
    for name, router in (("rules", rules), ("rules+semantic", semantic)):
        out[name] = {}
        parts = [("report", [r for r in evaluation if r["split"] == "report"]), ("fresh", rows("crisis_fresh.jsonl")),
                 ("blind2", rows("crisis_blind2.jsonl")), ("blind3", rows("crisis_blind3.jsonl")),
                 *((f"blind{n}", rows(f"crisis_blind{n}.jsonl")) for n in range(4, 17)),
                 ("tune", [r for r in evaluation if r["split"] == "tune"]),
                 ("everyday", everyday["report"])]  # the routing queries' report half: ordinary traffic
        for part, data in parts:
            f = figures(decide_all(router, data))
            if part in BLIND:  # counts only: a blind set's misses are never read (a fix would need a new blind set)
                f = {k: v for k, v in f.items() if k not in ("missed", "alarms")}
            out[name][part] = f
            caught = f"crisis path {f['caught']}/{f['crisis']} (recall {f['recall']:.3f}), " if f["crisis"] else ""
            resources = f"with resources {f['withResources']}/{f['crisis']} ({f['resourcesRecall']:.3f}), " if f["crisis"] else ""
            print(f"{name:15} {part:8}: {caught}false alarms {f['falseAlarms']}/{f['safe']} ({f['falseAlarmRate']:.3f}); "
                  f"{resources}safe with a care note {f['safeWithNote']}/{f['safe']}")
    write_result(args.output, {"benchmark": "crisis", "calibration": calibration, "scorers": out,
                               "shipped": {"crisisThreshold": semantic.semantic.crisis_threshold,
                                           "careThreshold": semantic.semantic.care_threshold},
                               "versions": {"python": platform.python_version()}})


if __name__ == "__main__":
    main()
