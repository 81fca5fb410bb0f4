"""The routing evaluation set is well-formed, and the routing benchmark's metrics are right.

No accuracy threshold here: ``benchmarks/bench_routing.py`` measures the current scorer as the
baseline (benchmarks/results/routing.json); a scorer that must meet a goal asserts it elsewhere.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "routing_eval.jsonl"
LABELS = {"healthcare", "business", "education", "creative", "leadership", "none"}
REGISTERS = {"short", "long", "typo", "statement", "question", "multi"}


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_routing", ROOT / "benchmarks" / "bench_routing.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("bench_routing", module)
    spec.loader.exec_module(module)
    return module


bench = _bench()
ROWS = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines() if line.strip()]


def _text(row: dict) -> str:
    return " ".join(row["turns"]) if "turns" in row else row["text"]


def test_rows_have_the_documented_fields() -> None:
    assert len(ROWS) >= 500
    for row in ROWS:
        assert row["label"] in LABELS, row
        assert row["register"] in REGISTERS, row
        assert row["split"] in {"tune", "report"}, row
        if row["register"] == "multi":
            assert set(row) == {"id", "label", "register", "split", "turns"}, row
            assert len(row["turns"]) >= 2 and all(isinstance(t, str) and t.strip() for t in row["turns"]), row
        else:
            assert set(row) == {"id", "label", "register", "split", "text"}, row
            assert row["text"].strip(), row


def test_ids_and_texts_are_unique() -> None:
    ids = Counter(r["id"] for r in ROWS)
    texts = Counter(_text(r).lower().strip() for r in ROWS)
    assert [i for i, n in ids.items() if n > 1] == []
    assert [t for t, n in texts.items() if n > 1] == []


def test_every_label_and_register_is_covered() -> None:
    per_label = Counter(r["label"] for r in ROWS)
    assert all(80 <= per_label[d] <= 95 for d in LABELS - {"none"}), per_label
    assert per_label["none"] >= 60, per_label
    groups = Counter((r["label"], r["register"]) for r in ROWS)
    assert set(groups) == {(lbl, reg) for lbl in LABELS for reg in REGISTERS}


def test_split_alternates_within_each_label_and_register() -> None:
    groups: dict[tuple[str, str], list[str]] = defaultdict(list)
    for row in ROWS:
        groups[(row["label"], row["register"])].append(row["split"])
    for key, splits in groups.items():
        assert splits == [("tune", "report")[i % 2] for i in range(len(splits))], key
    halves = Counter(r["split"] for r in ROWS)
    assert abs(halves["tune"] - halves["report"]) <= len(groups)


def test_short_rows_are_short_and_long_rows_long() -> None:
    assert all(len(r["text"].split()) <= 5 for r in ROWS if r["register"] == "short")
    long = [r["text"] for r in ROWS if r["register"] == "long"]
    assert all(len(re.findall(r"[.?!]+(?:\s|$)", t)) >= 3 and len(t.split()) >= 15 for t in long)


# expected, predicted pairs on three labels: a 3 x 3 table small enough to check by hand
PAIRS = [("a", "a"), ("a", "a"), ("a", "none"), ("b", "b"), ("b", "a"), ("none", "none"), ("none", "b")]


def test_confusion_counts_expected_against_predicted() -> None:
    assert bench.confusion(PAIRS, ("a", "b", "none")) == {
        "a": {"a": 2, "b": 0, "none": 1},
        "b": {"a": 1, "b": 1, "none": 0},
        "none": {"a": 0, "b": 1, "none": 1},
    }


@pytest.mark.parametrize(("label", "precision", "recall", "support"), [
    ("a", 2 / 3, 2 / 3, 3),
    ("b", 1 / 2, 1 / 2, 2),
    ("none", 1 / 2, 1 / 2, 2),
])
def test_per_label_precision_and_recall(label: str, precision: float, recall: float, support: int) -> None:
    m = bench.per_label(bench.confusion(PAIRS, ("a", "b", "none")))[label]
    assert m["precision"] == pytest.approx(precision)
    assert m["recall"] == pytest.approx(recall)
    assert m["support"] == support


def test_a_label_never_predicted_has_no_precision() -> None:
    m = bench.per_label(bench.confusion([("a", "b"), ("b", "b")], ("a", "b")))
    assert m["a"] == {"precision": None, "recall": 0.0, "support": 1, "predicted": 0}
    assert m["b"]["precision"] == pytest.approx(0.5) and m["b"]["recall"] == 1.0


def test_summarise_reports_accuracy_fallbacks_and_registers() -> None:
    results = [{"label": e, "predicted": p, "register": "short" if i % 2 else "long", "reason": "scored"}
               for i, (e, p) in enumerate([("healthcare", "healthcare"), ("business", "none"),
                                           ("none", "none"), ("creative", "education")])]
    s = bench.summarise(results)
    assert s["n"] == 4
    assert s["accuracy"] == pytest.approx(0.5)
    assert s["fallbackRate"] == pytest.approx(0.5)
    assert s["accuracyByRegister"] == {"long": 1.0, "short": 0.0}
    assert s["confusion"]["creative"]["education"] == 1


def test_multi_turn_rows_pass_every_turn_in_order() -> None:
    assert bench.turns({"turns": ["one", "two"]}) == ["one", "two"]
    assert bench.turns({"text": "only"}) == ["only"]
