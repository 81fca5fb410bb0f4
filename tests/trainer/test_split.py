"""The train/eval split: the content kind (pinned: existing runs resume on it), the grouped kind (which
rows join, the whole group on one side, the guarantees), the exact similarity join, and the bundled data."""

from __future__ import annotations

import itertools
import random
from fractions import Fraction

import pytest

from tara_api.domaintraining import DatasetSplit
from tara_trainer.dataset import Example, load_examples
from tara_trainer.sources import builtin_dataset_path
from tara_trainer.split import group_rows, similar_pairs, split_eval, split_examples

CONTENT, GROUPED = DatasetSplit.CONTENT, DatasetSplit.GROUPED


def _examples(n: int, start: int = 0) -> list[Example]:
    return [
        Example(i + 1, (("user", f"question {i}"), ("assistant", f"answer {i}"))) for i in range(start, n)
    ]


def _chat(line: int, user: str, answer: str, system: str | None = None) -> Example:
    return Example(line, ((("system", system),) if system else ()) + (("user", user), ("assistant", answer)))


# Ten questions with unrelated answers; each asked three ways and answered under three greetings.
TOPICS = [
    ("How do I sleep better?", "Keep the same bedtime every night and put screens away an hour before bed."),
    (
        "How much water should I drink?",
        "Most adults need about two litres a day, more in hot weather or in sport.",
    ),
    (
        "Should I price by the hour?",
        "Price by the value delivered when results are clear, and by the hour otherwise.",
    ),
    (
        "How do I learn fractions?",
        "Cut a pizza into equal slices and name each part as a share of the whole.",
    ),
    ("How do I write a haiku?", "Three lines of five, seven and five syllables, with one image from nature."),
    (
        "How do I delegate?",
        "Hand over the outcome rather than the steps, agree a deadline and check in once.",
    ),
    (
        "When is a cough serious?",
        "See a doctor when it lasts three weeks, brings blood or comes with chest pain.",
    ),
    ("How do I chase a late invoice?", "Send a polite reminder on the due date, then call after seven days."),
    (
        "How do I revise for exams?",
        "Test yourself with flashcards and spread short sessions over several weeks.",
    ),
    (
        "How do I run a one-on-one?",
        "Let the report set the agenda, listen first and end with one agreed action.",
    ),
]
LEADS = ["Quick question.", "I was wondering about this.", "Please help me out."]
GREETINGS = ["Good question.", "Happy to help.", ""]


def _topics() -> list[Example]:
    rows = []
    for (question, answer), (lead, greeting) in itertools.product(TOPICS, zip(LEADS, GREETINGS, strict=True)):
        rows.append(_chat(len(rows) + 1, f"{lead} {question}", f"{greeting} {answer}".strip()))
    return rows


# --- content: the split of runs started before split kinds (pinned) ---------------------------


def test_split_is_deterministic_order_independent_and_stable_under_appends() -> None:
    examples = _examples(1000)
    train, held = split_eval(examples, 0.1, seed=42)
    assert 70 <= len(held) <= 130 and len(train) + len(held) == 1000
    assert split_eval(examples, 0.1, seed=42) == (train, held)
    shuffled = random.Random(1).sample(examples, len(examples))
    assert {e.key for e in split_eval(shuffled, 0.1, 42)[1]} == {e.key for e in held}
    grown_train, grown_held = split_eval(examples + _examples(1200, start=1000), 0.1, 42)
    assert {e.key for e in held} <= {e.key for e in grown_held} and {e.key for e in train} <= {
        e.key for e in grown_train
    }
    assert {e.key for e in split_eval(examples, 0.1, seed=7)[1]} != {e.key for e in held}


def test_split_assignment_is_pinned() -> None:
    # Changing the hash would silently move rows between train and eval for existing runs and checkpoints.
    assert [e.line for e in split_eval(_examples(20), 0.3, seed=42)[1]] == [2, 3, 4, 6, 9, 15, 18]


@pytest.mark.parametrize("fraction", [0.05, 0.2, 0.5])
def test_split_fraction_is_roughly_respected(fraction: float) -> None:
    held = split_eval(_examples(1000), fraction, seed=3)[1]
    assert abs(len(held) - 1000 * fraction) <= 50


def test_split_depends_on_content_not_line_and_keeps_duplicates_together() -> None:
    base = _examples(200)
    moved = [Example(e.line + 1000, e.messages) for e in base]
    assert [e.messages for e in split_eval(base, 0.3, 1)[1]] == [
        e.messages for e in split_eval(moved, 0.3, 1)[1]
    ]
    train, held = split_eval(base + base, 0.3, seed=1)
    assert not {e.key for e in train} & {e.key for e in held}


@pytest.mark.parametrize("kind", [CONTENT, GROUPED])
@pytest.mark.parametrize(
    ("n", "fraction", "sizes"),
    [(1, 0.5, (1, 0)), (2, 0.01, (1, 1)), (3, 0.01, (2, 1)), (2, 0.99, (1, 1)), (5, 0.0, (5, 0))],
    ids=["one-example", "two-tiny-fraction", "three-tiny-fraction", "two-huge-fraction", "no-eval"],
)
def test_split_keeps_at_least_one_on_each_side(
    n: int, fraction: float, sizes: tuple[int, int], kind: DatasetSplit
) -> None:
    train, held = split_eval(_examples(n), fraction, seed=0, kind=kind)
    assert (len(train), len(held)) == sizes


@pytest.mark.parametrize("kind", [CONTENT, GROUPED])
def test_split_of_identical_rows_still_has_both_sides(kind: DatasetSplit) -> None:
    same = [Example(i, (("user", "q"), ("assistant", "a"))) for i in range(1, 4)]
    train, held = split_eval(same, 0.5, seed=0, kind=kind)
    assert (len(train), len(held)) == (2, 1)


def test_content_report_counts_distinct_rows_and_moves_nothing() -> None:
    report = split_examples(_topics() + _topics()[:2], 0.3, 42).report
    assert (report.kind, report.groups, report.largest_group, report.rows_moved) == (CONTENT, 30, 2, 0)


# --- grouped: which rows join ------------------------------------------------------------------

LONG_ANSWER = "Keep the same bedtime every night and put screens away an hour before bed."
JOINS = [
    (
        "equal-answer",
        [_chat(1, "How do I sleep better?", LONG_ANSWER), _chat(2, "Any tips for insomnia?", LONG_ANSWER)],
        1,
    ),
    (
        "answer-case-spacing-punctuation",
        [_chat(1, "Sleep?", LONG_ANSWER), _chat(2, "Rest?", "  " + LONG_ANSWER.upper() + "!!")],
        1,
    ),
    (
        "equal-user-turn",
        [
            _chat(1, "How do I sleep better at night?", "Dim the lights and keep a routine."),
            _chat(2, "How do I sleep better at night?", "Exercise early and skip late coffee."),
        ],
        1,
    ),
    (
        "near-duplicate-user-turn",
        [
            _chat(1, "How can I fall asleep faster at night?", "Dim the lights and keep a routine."),
            _chat(2, "How can I fall asleep faster at night now?", "Skip late coffee for good."),
        ],
        1,
    ),
    (
        "near-duplicate-answer",
        [
            _chat(1, "Sleep?", f"Good question. {LONG_ANSWER}"),
            _chat(2, "Rest?", f"{LONG_ANSWER} A doctor can help when it lasts."),
        ],
        1,
    ),
    (
        "different-rows",
        [
            _chat(1, "How do I sleep better?", LONG_ANSWER),
            _chat(2, "How do I chase a late invoice?", "Send a polite reminder on the due date."),
        ],
        2,
    ),
    (
        "short-equal-answers-are-labels",
        [
            _chat(1, "Is this review positive: I loved it.", "Positive."),
            _chat(2, "Is this review positive: great value.", "Positive."),
        ],
        2,
    ),
    (
        "shared-system-prompt",
        [
            _chat(1, "How do I sleep better?", LONG_ANSWER, system="You are a careful health coach."),
            _chat(
                2,
                "How do I chase an invoice?",
                "Send a reminder on the due date.",
                system="You are a careful health coach.",
            ),
        ],
        2,
    ),
    ("text-rows-by-text", [Example(1, text=LONG_ANSWER), Example(2, text=f"Note: {LONG_ANSWER}")], 1),
    (
        "transitive",
        [
            _chat(1, "How do I sleep better?", LONG_ANSWER),
            _chat(2, "Any tips for my insomnia lately?", LONG_ANSWER),
            _chat(
                3, "Any tips for my insomnia lately?", "Try a warm shower and a cool, dark, quiet bedroom."
            ),
        ],
        1,
    ),
]


@pytest.mark.parametrize(("rows", "groups"), [j[1:] for j in JOINS], ids=[j[0] for j in JOINS])
def test_which_rows_join(rows: list[Example], groups: int) -> None:
    assert len(set(group_rows(rows))) == groups


def test_a_templated_opening_sentence_does_not_join_questions() -> None:
    lead = "I have been thinking about my health a lot this year and want to plan ahead."
    verbs = ["sleep", "stretch", "eat", "rest", "walk", "breathe", "cook", "focus", "relax", "hydrate"]
    rows = [
        _chat(
            i,
            f"{lead} How do I {verb} well each day?",
            f"Answer number {i} is about something else, topic {i}.",
        )
        for i, verb in enumerate(verbs, 1)
    ]
    assert len(set(group_rows(rows))) == 10  # ten rows share the opening: it is framing, compared without it
    assert len(set(group_rows(rows[:2]))) == 1  # two rows sharing it: the opening is part of the question


def test_groups_are_named_independently_of_row_order() -> None:
    rows = _topics()
    names = dict(zip((e.key for e in rows), group_rows(rows), strict=True))
    shuffled = random.Random(3).sample(rows, len(rows))
    assert dict(zip((e.key for e in shuffled), group_rows(shuffled), strict=True)) == names
    assert len(set(names.values())) == 10 and all(
        n == min(k for k in names if names[k] == n) for n in names.values()
    )


# --- grouped: the split ------------------------------------------------------------------------


def test_grouped_assignment_is_pinned() -> None:
    # As for content: changing the grouping or the hash would move rows of runs that use it.
    split = split_examples(_topics(), 0.3, seed=42, kind=GROUPED)
    assert [e.line for e in split.eval] == [1, 2, 3, 7, 8, 9, 25, 26, 27]
    assert (split.report.groups, split.report.largest_group, split.report.rows_moved) == (10, 3, 9)


@pytest.mark.parametrize("seed", range(5))
def test_a_group_never_straddles_the_split_and_order_does_not_matter(seed: int) -> None:
    rows = _topics()
    names = dict(zip((e.key for e in rows), group_rows(rows), strict=True))
    train, held = split_eval(rows, 0.3, seed, kind=GROUPED)
    assert not {names[e.key] for e in train} & {names[e.key] for e in held} and train and held
    shuffled = random.Random(seed).sample(rows, len(rows))
    assert {e.key for e in split_eval(shuffled, 0.3, seed, kind=GROUPED)[1]} == {e.key for e in held}


def test_a_group_larger_than_the_eval_budget_stays_in_train() -> None:
    big = [_chat(i, f"Question {i} about sleep?", LONG_ANSWER) for i in range(1, 21)]  # one group of 20
    rows = big + _examples(180, start=100)  # and 80 rows alone
    for seed in range(20):
        train, held = split_eval(rows, 0.1, seed, kind=GROUPED)
        assert set(big) <= set(train) and held


def test_one_group_is_split_by_row() -> None:
    rows = [_chat(i, f"Question {i} about sleep?", LONG_ANSWER) for i in range(1, 41)]
    split = split_examples(rows, 0.2, 0, kind=GROUPED)
    assert split.report.groups == 1 and split.eval and split.train
    assert (split.train, split.eval) == split_eval(rows, 0.2, 0, kind=CONTENT)


def test_unknown_kind_and_fraction_are_refused() -> None:
    with pytest.raises(ValueError, match="random"):
        split_examples(_examples(3), 0.1, 0, kind="random")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="not in"):
        split_examples(_examples(3), 1.0, 0, kind=GROUPED)


# --- the similarity join -----------------------------------------------------------------------


@pytest.mark.parametrize("threshold", [Fraction(7, 20), Fraction(1, 2), Fraction(4, 5)])
def test_similar_pairs_finds_exactly_the_pairs_at_or_over_the_threshold(threshold: Fraction) -> None:
    rng = random.Random(int(threshold * 100))
    base = [frozenset(rng.sample(range(40), rng.randint(3, 12))) for _ in range(60)]
    near_copies = [frozenset(list(s)[1:]) | {99} for s in base[:20]]
    sets = [*base, *near_copies, frozenset()]
    expected = {
        (i, j)
        for i, j in itertools.combinations(range(len(sets)), 2)
        if sets[i] and sets[j] and len(sets[i] & sets[j]) >= threshold * len(sets[i] | sets[j])
    }
    assert {tuple(sorted(p)) for p in similar_pairs(sets, threshold)} == expected and expected


# --- the bundled datasets ----------------------------------------------------------------------


@pytest.mark.parametrize("domain", ["healthcare", "business", "education", "creative", "leadership"])
def test_grouped_split_of_a_bundled_dataset_shares_no_answer(domain: str) -> None:
    examples, _ = load_examples(builtin_dataset_path(domain), "auto")
    split = split_examples(examples, 0.1, 42, kind=GROUPED)

    def answer(e: Example) -> str:
        return " ".join(c for role, c in e.messages if role == "assistant")

    assert not {answer(e) for e in split.eval} & {answer(e) for e in split.train}
    assert 50 <= split.report.groups <= 70 and split.report.largest_group <= 10 and len(split.eval) >= 10
