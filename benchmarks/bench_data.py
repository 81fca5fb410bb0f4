"""Data benchmark: can the bundled domain datasets show learning? Eval loss proves nothing when the
eval rows are paraphrases or copies of training rows, so this measures, per built-in domain, what
the trainer's own split (``split_eval`` with a DomainTraining's default ``evalFraction`` and
``seed``) leaves shared between the two sides.

    python benchmarks/bench_data.py [--output benchmarks/results/data.json]

Per domain: rows, distinct user turns and answers; eval rows whose assistant answer appears word
for word among the training rows; eval rows whose user turn shares at least 60 % of its words
(Jaccard, a lead-in shared by ten rows or more left out) with some training row's, and the median
of that best overlap; and how many user turns open with such a lead-in (the generator's templates). No baseline to beat:
the figures say whether an eval loss on this data can be believed (issue 14).
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

DOMAINS = ("healthcare", "business", "education", "creative", "leadership")
_WORD = re.compile(r"[a-z']+")


def _words(text: str) -> set[str]:
    return set(_WORD.findall(text.lower()))


def _jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a | b else 0.0


def _split(text: str) -> tuple[str, str]:
    """A user turn's lead-in and the rest: the first sentence when another follows ("I want to plan
    ahead for my health this year. How fast...")."""
    parts = re.split(r"(?<=[.!?])\s+", text.strip(), maxsplit=1)
    return (parts[0].lower().rstrip(".!?"), parts[1]) if len(parts) == 2 else ("", text)


def _lead(text: str) -> str:
    return _split(text)[0]


def measure(user: list[str], answers: list[str], held: list[bool]) -> dict[str, Any]:
    """The figures for one dataset: ``user`` and ``answers`` per row, ``held`` True for eval rows."""
    train = [i for i, h in enumerate(held) if not h]
    evaluation = [i for i, h in enumerate(held) if h]
    train_answers = {answers[i] for i in train}
    leads = Counter(lead for lead in map(_lead, user) if lead)

    def core(text: str) -> set[str]:  # a templated lead-in says nothing about the question: compare the rest
        lead, rest = _split(text)
        return _words(rest if leads.get(lead, 0) >= 10 else text)

    train_words = [core(user[i]) for i in train]
    best = [max((_jaccard(core(user[i]), w) for w in train_words), default=0.0) for i in evaluation]
    templated = sum(1 for u in user if leads.get(_lead(u), 0) >= 10)
    return {"rows": len(user), "train": len(train), "eval": len(evaluation), "distinctUser": len(set(user)),
            "distinctAnswers": len(set(answers)),
            "evalAnswerInTrain": sum(answers[i] in train_answers for i in evaluation),
            "evalNearDuplicateUser": sum(b >= 0.6 for b in best),
            "evalUserOverlapMedian": round(statistics.median(best), 3) if best else None,
            "templatedUser": templated}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "results" / "data.json")
    args = parser.parse_args(argv)
    from common import write_result

    from tara_api.domaintraining import DatasetSource, TrainingSpec
    from tara_trainer.dataset import load_examples, split_eval
    from tara_trainer.sources import builtin_dataset_path

    fraction = DatasetSource.model_fields["eval_fraction"].default
    seed = TrainingSpec.model_fields["seed"].default
    out: dict[str, Any] = {}
    print(f"split: evalFraction {fraction}, seed {seed} (a DomainTraining's defaults)")
    print(f"{'domain':12} {'rows':>5} {'eval':>5} {'answer in train':>16} {'near-dup user':>14} {'overlap p50':>12} {'templated':>10}")
    for domain in DOMAINS:
        examples, _report = load_examples(builtin_dataset_path(domain), "auto")
        train, evaluation = split_eval(examples, fraction, seed)
        held_ids = {id(e) for e in evaluation}
        user = [" ".join(c for role, c in e.messages if role == "user") for e in examples]
        answers = [" ".join(c for role, c in e.messages if role == "assistant") for e in examples]
        f = measure(user, answers, [id(e) in held_ids for e in examples])
        out[domain] = f
        print(f"{domain:12} {f['rows']:5} {f['eval']:5} {f['evalAnswerInTrain']:>10} ({f['evalAnswerInTrain'] / f['eval']:.0%})"
              f" {f['evalNearDuplicateUser']:>14} {f['evalUserOverlapMedian']:>12} {f['templatedUser']:>10}")
    write_result(args.output, {"benchmark": "data", "split": {"evalFraction": fraction, "seed": seed}, "domains": out})


if __name__ == "__main__":
    main()
