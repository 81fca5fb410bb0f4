"""benchmarks/bench_data.py's measure(): what a train/eval split leaves shared, on hand-made rows."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("bench_data", ROOT / "benchmarks" / "bench_data.py")
bench_data = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_data)


def test_copied_answers_near_duplicate_questions_and_templates_are_counted() -> None:
    lead = "I want to plan ahead for my health this year."
    user = [f"{lead} How fast can I lose weight?", f"{lead} How much should I sleep?", "How fast can I lose weight safely?",
            "What is a good bedtime routine?"] + [f"{lead} Question {i}?" for i in range(8)]
    answers = ["Slowly.", "Eight hours.", "Slowly.", "Dim the lights."] + [f"Answer {i}." for i in range(8)]
    held = [False, False, True, True] + [False] * 8
    f = bench_data.measure(user, answers, held)
    assert (f["rows"], f["train"], f["eval"]) == (12, 10, 2)
    assert f["evalAnswerInTrain"] == 1  # "Slowly." is both a training and an eval answer
    assert f["evalNearDuplicateUser"] == 1  # the weight question is a paraphrase; the bedtime one is not
    assert f["templatedUser"] == 10  # ten rows open with the same lead-in
    assert f["distinctAnswers"] == 11
