"""The train/eval split: which rows the trainer holds out, one kind per ``DatasetSplit``.

- ``content``: a row is eval when hash(seed, its content) falls below ``eval_fraction``; equal
  rows land on the same side. Runs started before split kinds existed used it, and a resumed run
  must see the rows it started with, so its assignment is pinned by a test and never changes.
- ``grouped``: rows are joined into groups first, and a whole group is eval when hash(seed, the
  smallest content key among its rows) falls below ``eval_fraction``. A row alone in its group
  therefore keeps its ``content`` side; only joined rows can move. Two rows are joined when they
  are equal, when their answers (the assistant turns; a text row's text) or their user turns are
  the same apart from case, spacing and punctuation, when their user turns share at least
  ``USER_JACCARD`` of their words (after an opening sentence that ``LEAD_IN_ROWS`` rows or more
  start with, such as "I want to plan ahead for my health this year.", is left out), or when their
  answers share at least ``ANSWER_JACCARD`` of their word 3-grams. Joins are transitive (union-find).
  Answers and user turns under ``MIN_WORDS`` words (labels, "Yes.", "Thanks!") join nothing (equal
  rows still do): grouping by them would put a whole class on one side.

Why these thresholds (``benchmarks/bench_data.py`` on the bundled datasets, 1 350 rows): answer
pairs' 3-gram Jaccard is bimodal, with a valley at 0.25-0.35 between different answers that share
a stock sentence and the same core answer under another greeting or closing; every sampled pair at
0.35 or more shared its core answer. User turns are short, so their word overlap has no valley: at
0.6 or 0.7 the joined pairs were different questions behind the same framing sentence ("I'm
planning ahead for next semester. What is an atom?" / "... What is a hypotenuse?"), which chained
topics into groups of 34-48 rows; from 0.8 up they are paraphrases. Groups then stay at topic size
(at most 8-9 rows of 270).

Cost: linear passes to normalise and to join equal texts, plus an exact set-similarity join by
prefix filtering (each text is looked up by its rarest words or 3-grams only, and a candidate is
checked only when its size allows the threshold), union-find over the pairs, and one sha256 per
group. No MinHash, so no false negatives. ``benchmarks/bench_data.py`` times it: 3.6 s for 27 000
unrelated rows, 5.4 s for 27 000 rows in groups of near-copies (the content split: 0.2 s).

Invariants: pure (no I/O); independent of row order (groups, keys and thresholds do not depend on
it); at least one train example, and one eval example when ``eval_fraction`` > 0 and there are two
or more rows (``grouped``: two or more groups; a dataset that forms one group is split by
``content`` and reports one group). A group larger than the eval budget (``eval_fraction`` of the
rows) stays in train, so one chained group cannot take the eval split over. Appending rows moves an
existing row only when a new row joins its group to another, makes an opening sentence a template,
or raises the eval budget past its group's size (``content``: never, beyond the guarantees).
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING

from tara_api.domaintraining import DatasetSplit

if TYPE_CHECKING:
    from tara_trainer.dataset import Example

__all__ = [
    "ANSWER_JACCARD",
    "LEAD_IN_ROWS",
    "MIN_WORDS",
    "USER_JACCARD",
    "Split",
    "SplitReport",
    "group_rows",
    "similar_pairs",
    "split_eval",
    "split_examples",
]

USER_JACCARD = Fraction(4, 5)  # word-set Jaccard of two user sides that makes them one question
ANSWER_JACCARD = Fraction(7, 20)  # word 3-gram Jaccard of two answers that makes them one answer
LEAD_IN_ROWS = 10  # an opening sentence this many rows start with is framing, not the question
MIN_WORDS = 5  # shorter texts join no rows

_WORD = re.compile(r"\w+(?:'\w+)*")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


@dataclass(frozen=True)
class SplitReport:
    kind: DatasetSplit
    groups: int  # groups the rows formed (content: distinct rows)
    largest_group: int
    rows_moved: int  # rows on the other side than the content split puts them

    def to_wire(self) -> dict[str, int | str]:
        return {
            "kind": self.kind.value,
            "groups": self.groups,
            "largestGroup": self.largest_group,
            "rowsMoved": self.rows_moved,
        }


@dataclass(frozen=True)
class Split:
    train: list[Example]
    eval: list[Example]
    report: SplitReport


def _score(seed: int, key: str) -> float:
    return int.from_bytes(hashlib.sha256(f"{seed}:{key}".encode()).digest()[:8], "big") / 2**64


def _held_groups(names: Sequence[str], eval_fraction: float, seed: int, budget: float) -> list[bool] | None:
    """Which rows are eval when each group (rows of one name) lands on one side; None for fewer than two groups.

    A group is eval when hash(seed, name) < eval_fraction and it has at most ``budget`` rows; then at
    least one group goes to eval (the lowest-scoring that fits the budget, or any) and at least one
    stays in train (the highest-scoring).
    """
    sizes = Counter(names)
    if len(sizes) < 2:
        return None
    order = sorted(sizes)
    scores = [_score(seed, g) for g in order]
    fits = [sizes[g] <= budget for g in order]
    held = [s < eval_fraction and ok for s, ok in zip(scores, fits, strict=True)]
    if not any(held):
        pool = [s for s, ok in zip(scores, fits, strict=True) if ok] or scores
        held = [s == min(pool) for s in scores]
    if all(held):
        held = [s != max(scores) for s in scores]
    by_name = dict(zip(order, held, strict=True))
    return [by_name[n] for n in names]


def _content_held(keys: Sequence[str], eval_fraction: float, seed: int) -> list[bool]:
    held = _held_groups(keys, eval_fraction, seed, math.inf)
    if held is None:  # every row has the same content: no leak-free split exists
        return [i == len(keys) - 1 for i in range(len(keys))]
    return held


def _words(text: str) -> list[str]:
    return _WORD.findall(text.casefold())


def _sides(example: Example) -> tuple[str, str]:
    """(user side, answer side): a text row is all answer; system prompts are shared framing, not content."""
    if example.text is not None:
        return "", example.text
    return (
        " ".join(c for role, c in example.messages if role == "user"),
        " ".join(c for role, c in example.messages if role == "assistant"),
    )


def _opening(text: str) -> str:
    """The first sentence when another follows, normalised; "" otherwise."""
    parts = _SENTENCE_END.split(text.strip(), maxsplit=1)
    return " ".join(_words(parts[0])) if len(parts) == 2 else ""


def _question_words(users: Sequence[str]) -> list[frozenset[str]]:
    """Each user side's words, without an opening sentence that LEAD_IN_ROWS rows or more share."""
    openings = [_opening(u) for u in users]
    common = {o for o, n in Counter(filter(None, openings)).items() if n >= LEAD_IN_ROWS}
    out = []
    for user, opening in zip(users, openings, strict=True):
        text = _SENTENCE_END.split(user.strip(), maxsplit=1)[1] if opening in common else user
        words = _words(text)
        out.append(frozenset(words) if len(words) >= MIN_WORDS else frozenset())
    return out


def _trigrams(text: str) -> frozenset[tuple[str, str, str]]:
    words = _words(text)
    return (
        frozenset(zip(words, words[1:], words[2:], strict=False)) if len(words) >= MIN_WORDS else frozenset()
    )


def similar_pairs(
    sets: Sequence[frozenset[Hashable]], threshold: Fraction, joined: Callable[[int, int], bool] | None = None
) -> Iterator[tuple[int, int]]:
    """The pairs (i, j), i visited before j, with Jaccard(sets[i], sets[j]) >= threshold (an empty set
    pairs with nothing); a candidate for which ``joined(i, j)`` holds is skipped unchecked.

    Prefix filtering: with tokens ordered rarest first, two sets that share at least a fraction t of
    their union share a token among the first ``len - ceil(t * len) + 1`` of each; only those tokens
    are indexed and looked up, and only candidates whose size allows t are checked. A token in one
    set only can never be shared, so it is neither ranked nor indexed.
    """
    p, q = threshold.numerator, threshold.denominator
    freq: Counter[Hashable] = Counter()
    for s in sets:
        freq.update(s)
    rank = {
        t: r for r, t in enumerate(sorted((t for t, n in freq.items() if n > 1), key=lambda t: (freq[t], t)))
    }
    ranked = [sorted(rank[t] for t in s if t in rank) for s in sets]
    shared_sets = [frozenset(r) for r in ranked]
    index: dict[int, list[int]] = defaultdict(list)
    for i in sorted((i for i, s in enumerate(sets) if s), key=lambda i: (len(sets[i]), i)):
        n = len(sets[i])
        # The prefix's first n - len(ranked[i]) tokens are those in this set only: skip them.
        prefix = ranked[i][: len(ranked[i]) - (-(-p * n // q)) + 1]
        x = shared_sets[i]
        candidates: set[int] = set()
        for token in prefix:
            candidates.update(index[token])
            index[token].append(i)
        for j in candidates:
            m = len(sets[j])  # never more than n: sets are visited by size
            if m * q < p * n or (joined is not None and joined(j, i)):
                continue
            shared = len(x & shared_sets[j])
            if shared * q >= p * (n + m - shared):
                yield (j, i)


class _Groups:
    """Union-find over row indices."""

    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def join(self, i: int, j: int) -> None:
        a, b = self.find(i), self.find(j)
        if a != b:
            self.parent[max(a, b)] = min(a, b)

    def join_equal(self, keys: Iterable[str]) -> None:
        first: dict[str, int] = {}
        for i, key in enumerate(keys):
            if key:
                self.join(first.setdefault(key, i), i)


def group_rows(examples: Sequence[Example], keys: Sequence[str] | None = None) -> list[str]:
    """Each row's group, named by the smallest content key (``Example.key``, or ``keys`` when given) among
    its rows; independent of row order."""
    keys = [e.key for e in examples] if keys is None else keys
    users, answers = zip(*map(_sides, examples), strict=True) if examples else ((), ())
    groups = _Groups(len(examples))

    def normal(text: str) -> str:
        words = _words(text)
        return " ".join(words) if len(words) >= MIN_WORDS else ""

    groups.join_equal(keys)
    groups.join_equal(map(normal, answers))
    groups.join_equal(map(normal, users))
    for sets, threshold in (
        (_question_words(users), USER_JACCARD),
        ([_trigrams(a) for a in answers], ANSWER_JACCARD),
    ):
        for i, j in similar_pairs(sets, threshold, joined=lambda i, j: groups.find(i) == groups.find(j)):
            groups.join(i, j)
    roots = [groups.find(i) for i in range(len(examples))]
    name: dict[int, str] = {}
    for root, key in zip(roots, keys, strict=True):
        name[root] = min(name.get(root, key), key)
    return [name[r] for r in roots]


def _grouped_held(keys: Sequence[str], names: Sequence[str], eval_fraction: float, seed: int) -> list[bool]:
    held = _held_groups(names, eval_fraction, seed, budget=max(1.0, eval_fraction * len(keys)))
    return _content_held(keys, eval_fraction, seed) if held is None else held  # one group: split it by row


# Each kind: (rows and their keys -> each row's group name, (keys, names, eval_fraction, seed) -> eval rows).
_KINDS: dict[
    DatasetSplit,
    tuple[
        Callable[[Sequence[Example], Sequence[str]], Sequence[str]],
        Callable[[Sequence[str], Sequence[str], float, int], list[bool]],
    ],
] = {
    DatasetSplit.CONTENT: (
        lambda _examples, keys: keys,
        lambda keys, _names, f, seed: _content_held(keys, f, seed),
    ),
    DatasetSplit.GROUPED: (group_rows, _grouped_held),
}


def split_examples(
    examples: Sequence[Example], eval_fraction: float, seed: int, kind: DatasetSplit = DatasetSplit.CONTENT
) -> Split:
    """Train and eval examples (each in input order) and how they were chosen.

    Raises ValueError when ``eval_fraction`` is not in [0, 1) or ``kind`` is not a DatasetSplit.
    """
    if not 0.0 <= eval_fraction < 1.0:
        raise ValueError(f"eval_fraction {eval_fraction} is not in [0, 1)")
    kind = DatasetSplit(kind)
    items = list(examples)
    keys = [e.key for e in items]
    grouping, held_rows = _KINDS[kind]
    names = grouping(items, keys)
    sizes = Counter(names)
    held, moved = [False] * len(items), 0
    if eval_fraction > 0 and len(items) >= 2:
        held = held_rows(keys, names, eval_fraction, seed)
        moved = sum(a != b for a, b in zip(held, _content_held(keys, eval_fraction, seed), strict=True))
    report = SplitReport(kind, len(sizes), max(sizes.values(), default=0), moved)
    return Split(
        [e for e, h in zip(items, held, strict=True) if not h],
        [e for e, h in zip(items, held, strict=True) if h],
        report,
    )


def split_eval(
    examples: Sequence[Example], eval_fraction: float, seed: int, kind: DatasetSplit = DatasetSplit.CONTENT
) -> tuple[list[Example], list[Example]]:
    """(train, eval) of :func:`split_examples`."""
    split = split_examples(examples, eval_fraction, seed, kind)
    return split.train, split.eval
