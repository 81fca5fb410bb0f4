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
    assert f["evalNearDuplicateAnswer"] == 1  # "Slowly." again; "Dim the lights." shares no words


def test_both_split_kinds_are_measured_on_the_same_rows() -> None:
    from tara_api.domaintraining import DatasetSplit
    from tara_trainer.dataset import Example

    # Twelve answers with nothing in common, each given to three phrasings of its question.
    answers = [" ".join(f"step{t}x{k}" for k in range(8)) + "." for t in range(12)]
    users = [f"{opening} what should I do about topic{t} today?" for t in range(12) for opening in ("Hi,", "Hello,", "So")]
    rows = [Example(i + 1, (("user", u), ("assistant", answers[i // 3]))) for i, u in enumerate(users)]
    content = bench_data.measure_split(rows, 0.3, 42, DatasetSplit.CONTENT)
    grouped = bench_data.measure_split(rows, 0.3, 42, DatasetSplit.GROUPED)
    assert content["groups"] == 36 and grouped["groups"] == 12 and grouped["largestGroup"] == 3
    assert content["evalAnswerInTrain"] > 0 and grouped["evalAnswerInTrain"] == 0 and grouped["rowsMoved"] > 0
    assert grouped["evalOverSeeds"]["min"] % 3 == 0  # whole groups of three
