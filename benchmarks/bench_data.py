"""Data benchmark: can the bundled domain datasets show learning? Eval loss proves nothing when the
eval rows are paraphrases or copies of training rows, so this measures, per built-in domain, what
the trainer's own split (``tara_trainer.split`` with a DomainTraining's default ``evalFraction``
and ``seed``) leaves shared between the two sides, for each split kind: ``content`` (the baseline:
rows one by one, the split of runs started before split kinds) and ``grouped`` (the default).

    python benchmarks/bench_data.py [--output benchmarks/results/data.json]

Per domain, the data's diversity: rows, distinct user turns and answers, how many user turns open
with a lead-in shared by ten rows or more (the generator's templates), and the groups the grouped
split forms (rows joined by shared or near-duplicate answers and questions: the distinct answers in
substance). Per split kind: eval rows; eval rows whose assistant answer appears word for word among
the training rows; eval rows whose user turn shares at least 60 % of its words (Jaccard, such a
lead-in left out) with some training row's, and the median of that best overlap; eval rows whose
answer shares at least 60 % of its words with a training answer; groups, rows moved from the
content split, and the eval size over seeds 0-19. These yardsticks are this file's own, fixed
before the grouped split was written, not the split's measures. Last, the grouped split's cost on
27 000 synthetic rows. No baseline to beat beyond the content split measured in the same run: the
figures say whether an eval loss on this data can be believed (issue 14).
"""

from __future__ import annotations

import argparse
import platform
import random
import re
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

DOMAINS = ("healthcare", "business", "education", "creative", "leadership")
SEEDS = range(20)  # for the spread of eval sizes
COST_ROWS = 27_000
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
    train_answer_words = [_words(answers[i]) for i in train]
    best_answer = [max((_jaccard(_words(answers[i]), w) for w in train_answer_words), default=0.0) for i in evaluation]
    templated = sum(1 for u in user if leads.get(_lead(u), 0) >= 10)
    return {"rows": len(user), "train": len(train), "eval": len(evaluation), "distinctUser": len(set(user)),
            "distinctAnswers": len(set(answers)),
            "evalAnswerInTrain": sum(answers[i] in train_answers for i in evaluation),
            "evalNearDuplicateUser": sum(b >= 0.6 for b in best),
            "evalUserOverlapMedian": round(statistics.median(best), 3) if best else None,
            "evalNearDuplicateAnswer": sum(b >= 0.6 for b in best_answer),
            "templatedUser": templated}


DIVERSITY = ("rows", "distinctUser", "distinctAnswers", "templatedUser")


def _sides(examples: list) -> tuple[list[str], list[str]]:
    return ([" ".join(c for role, c in e.messages if role == "user") for e in examples],
            [" ".join(c for role, c in e.messages if role == "assistant") for e in examples])


def measure_split(examples: list, fraction: float, seed: int, kind: Any) -> dict[str, Any]:
    """One split kind on one dataset: the leak figures, how the rows were grouped, and eval sizes over seeds."""
    from tara_trainer.split import split_examples

    split = split_examples(examples, fraction, seed, kind)
    held_ids = {id(e) for e in split.eval}
    user, answers = _sides(examples)
    figures = measure(user, answers, [id(e) in held_ids for e in examples])
    sizes = [len(split_examples(examples, fraction, s, kind).eval) for s in SEEDS]
    return {**{k: v for k, v in figures.items() if k not in DIVERSITY},
            "groups": split.report.groups, "largestGroup": split.report.largest_group,
            "rowsMoved": split.report.rows_moved,
            "evalOverSeeds": {"min": min(sizes), "median": statistics.median(sizes), "max": max(sizes)}}


def _cost_datasets(examples: list) -> dict[str, list]:
    """Two synthetic sets of COST_ROWS rows: unrelated rows (nothing joins), and the bundled rows twenty
    times over, each copy with its own closing words (near-duplicates everywhere)."""
    from tara_trainer.dataset import Example

    rng = random.Random(0)
    vocabulary = [f"w{i}" for i in range(20_000)]

    def words(n: int) -> str:
        return " ".join(rng.choice(vocabulary) for _ in range(n))

    unrelated = [Example(i, (("user", words(12)), ("assistant", words(60)))) for i in range(COST_ROWS)]
    copies = [Example(i, tuple((role, f"{text} (copy {i // len(examples)})") for role, text in examples[i % len(examples)].messages))
              for i in range(COST_ROWS)]
    return {"unrelated": unrelated, "nearCopies": copies}


def measure_cost(examples: list, fraction: float, seed: int) -> dict[str, Any]:
    from tara_api.domaintraining import DatasetSplit
    from tara_trainer.split import split_examples

    out: dict[str, Any] = {}
    for name, rows in _cost_datasets(examples).items():
        timed, reports = {}, {}
        for kind in DatasetSplit:
            started = time.perf_counter()
            reports[kind] = split_examples(rows, fraction, seed, kind).report
            timed[kind.value] = round(time.perf_counter() - started, 2)
        grouped = reports[DatasetSplit.GROUPED]
        out[name] = {"rows": len(rows), "groups": grouped.groups, "largestGroup": grouped.largest_group, "seconds": timed}
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "results" / "data.json")
    args = parser.parse_args(argv)
    from common import write_result

    from tara_api.domaintraining import DatasetSource, DatasetSplit, TrainingSpec
    from tara_trainer import split as splitting
    from tara_trainer.dataset import load_examples
    from tara_trainer.sources import builtin_dataset_path

    fraction = DatasetSource.model_fields["eval_fraction"].default
    seed = TrainingSpec.model_fields["seed"].default
    out: dict[str, Any] = {}
    everything: list = []
    print(f"split: evalFraction {fraction}, seed {seed} (a DomainTraining's defaults)")
    print(f"{'domain':12} {'kind':8} {'groups':>6} {'eval':>5} {'answer in train':>16} {'near-dup user':>14}"
          f" {'near-dup answer':>16} {'eval, 20 seeds':>15}")
    for domain in DOMAINS:
        examples, _report = load_examples(builtin_dataset_path(domain), "auto")
        everything += examples
        user, answers = _sides(examples)
        diversity = {k: v for k, v in measure(user, answers, [False] * len(user)).items() if k in DIVERSITY}
        out[domain] = {**diversity, "templatedShare": round(diversity["templatedUser"] / diversity["rows"], 3)}
        for kind in (DatasetSplit.CONTENT, DatasetSplit.GROUPED):
            f = out[domain][kind.value] = measure_split(examples, fraction, seed, kind)
            seeds = f["evalOverSeeds"]
            print(f"{domain:12} {kind.value:8} {f['groups']:6} {f['eval']:5} {f['evalAnswerInTrain']:>10}"
                  f" ({f['evalAnswerInTrain'] / f['eval']:.0%}) {f['evalNearDuplicateUser']:>14}"
                  f" {f['evalNearDuplicateAnswer']:>16} {seeds['min']:>6}-{seeds['median']}-{seeds['max']}")
    cost = measure_cost(everything, fraction, seed)
    for name, c in cost.items():
        print(f"cost, {c['rows']} {name} rows: grouped {c['seconds']['grouped']} s, content {c['seconds']['content']} s"
              f" ({c['groups']} groups, largest {c['largestGroup']})")
    thresholds = {"userJaccard": float(splitting.USER_JACCARD), "answerTrigramJaccard": float(splitting.ANSWER_JACCARD),
                  "leadInRows": splitting.LEAD_IN_ROWS, "minWords": splitting.MIN_WORDS}
    write_result(args.output, {"benchmark": "data", "split": {"evalFraction": fraction, "seed": seed, "default": "grouped",
                                                              "grouped": thresholds},
                               "domains": out, "cost": cost, "versions": {"python": platform.python_version()}})


if __name__ == "__main__":
    main()
