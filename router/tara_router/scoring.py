"""Which domain answers a request: the original design's weighted score, made explicit.

For ``tara-auto`` every domain gets four scores in 0..1 — content (from sentence embeddings when
the phase build shipped a routing index, see ``semantic``; else keyword hits and TF-IDF cosine
against the domain's description, keywords and corpus), emotion (how well the domain's tone fits
the conversation's emotions), speed (how well it suits the request's urgency) and quality (its
measured quality) — combined with the configured weights (0.4/0.3/0.2/0.1 by default). The winner
must be confidently about the request (see ``route``), otherwise the default domain (or the base
model) answers. An explicit ``tara-<domain>`` model always wins. Pure functions.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from tara_router.emotion import EmotionReading, urgency
from tara_router.semantic import SemanticScores

__all__ = ["Decision", "DomainIndex", "Weights", "route", "tokenize"]

_TOKEN = re.compile(r"[a-z][a-z0-9'-]+")
_STOP = frozenset("""a an and are as at be but by can could do does for from have how i i'm i've if in is it its me my
of on or our should so that the their them they this to was we what when where which who why will with would you your
about after all also am any been before being both did doing each few had has having he her here hers him his into just
more most no not now only other out over own same she some such than then there these those through too under until up
very were while whom it's isn't don't didn't can't won't""".split())


def tokenize(text: str) -> list[str]:
    return [t.removesuffix("'s") for t in _TOKEN.findall(text.lower()) if t not in _STOP]


def _stem(token: str) -> str:
    for suffix in ("ing", "ers", "ies", "es", "ed", "er", "s"):
        if len(token) > len(suffix) + 3 and token.endswith(suffix):
            return token[: -len(suffix)]
    return token


@dataclass(frozen=True)
class Weights:
    content: float = 0.4
    emotion: float = 0.3
    speed: float = 0.2
    quality: float = 0.1

    @property
    def total(self) -> float:
        return self.content + self.emotion + self.speed + self.quality


@dataclass(frozen=True)
class DomainDocs:
    name: str
    keywords: frozenset[str]
    text: str  # description, keywords and corpus: what TF-IDF compares the request with
    affinity: Mapping[str, float]
    speed: float
    quality: float


class DomainIndex:
    """TF-IDF vectors of the domains (built once per config)."""

    def __init__(self, domains: Sequence[DomainDocs]) -> None:
        self.domains = list(domains)
        docs = [Counter(_stem(t) for t in tokenize(d.text)) for d in self.domains]
        n = max(1, len(docs))
        df: Counter[str] = Counter()
        for doc in docs:
            df.update(doc.keys())
        self.idf = {t: math.log((1 + n) / (1 + c)) + 1.0 for t, c in df.items()}
        self.vectors = [self._vector(doc) for doc in docs]
        self.keywords = [{_stem(k) for k in d.keywords} for d in self.domains]

    def _vector(self, counts: Mapping[str, int]) -> dict[str, float]:
        vec = {t: (1 + math.log(c)) * self.idf.get(t, 0.0) for t, c in counts.items() if t in self.idf}
        norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
        return {t: v / norm for t, v in vec.items()}

    def content_scores(self, text: str) -> list[float]:
        tokens = [_stem(t) for t in tokenize(text)]
        query = self._vector(Counter(tokens))
        out = []
        for vec, keys in zip(self.vectors, self.keywords, strict=True):
            cosine = sum(w * vec.get(t, 0.0) for t, w in query.items())
            hits = len({t for t in tokens if t in keys})
            keyword = 1.0 - 1.0 / (1.0 + hits)  # 1 hit 0.5, 2 hits 0.67, 3 hits 0.75
            out.append(min(1.0, 0.6 * keyword + 0.4 * min(1.0, 2.5 * cosine)))
        return out


@dataclass(frozen=True)
class Decision:
    domain: str | None  # None: the base model without adapter
    reason: str  # explicit | scored | fallback | crisis
    confidence: float
    scores: dict[str, float] = field(default_factory=dict)  # domain -> weighted total
    parts: dict[str, dict[str, float]] = field(default_factory=dict)  # domain -> content/emotion/speed/quality

    def header(self) -> str:
        return ",".join(f"{d}={s:.3f}" for d, s in sorted(self.scores.items(), key=lambda kv: -kv[1]))


def _emotion_fit(affinity: Mapping[str, float], reading: EmotionReading) -> float:
    """Intensity-weighted fit of the domain's tone to the conversation's emotions (0.5 when neutral)."""
    total = sum(reading.scores.values())
    if total <= 0 or reading.dominant is None:
        return 0.5
    return sum(affinity.get(e, 0.5) * s for e, s in reading.scores.items()) / total


def route(index: DomainIndex, last_text: str, conversation_text: str, reading: EmotionReading, weights: Weights,
          threshold: float, default: str | None, semantic: SemanticScores | None = None) -> Decision:
    """Score every domain for a ``tara-auto`` request.

    With ``semantic`` (sentence-embedding scores from the phase's routing index), content is the
    domain's softmax share of the similarities and the request falls back unless the best domain
    is similar enough and nearer than the background (``semantic.confident``); the confidence is
    the chosen domain's similarity. Without it (no index shipped), content is keyword hits and
    TF-IDF over the whole conversation, the last user turn counted twice, and the winner must have
    some content evidence and a total over ``threshold``. Urgency reads the last turn."""
    if not index.domains:
        return Decision(default, "fallback", 0.0)
    if semantic is not None:
        content = [semantic.content.get(d.name, 0.0) for d in index.domains]
    else:
        content = index.content_scores(f"{last_text} {last_text} {conversation_text}")
    urgent = urgency(last_text)
    scores, parts = {}, {}
    for d, c in zip(index.domains, content, strict=True):
        e = _emotion_fit(d.affinity, reading)
        s = 1.0 - abs(urgent - d.speed) if urgent > 0 else 0.5  # no urgency: neutral
        q = d.quality
        total = (weights.content * c + weights.emotion * e + weights.speed * s + weights.quality * q) / (weights.total or 1)
        scores[d.name] = round(total, 4)
        parts[d.name] = {"content": round(c, 4), "emotion": round(e, 4), "speed": round(s, 4), "quality": round(q, 4)}
        if semantic is not None:
            parts[d.name]["similarity"] = semantic.similarity.get(d.name, 0.0)
    best = max(scores, key=lambda k: scores[k])
    if semantic is not None:
        confidence = semantic.similarity.get(best, 0.0)
        if not semantic.confident:
            return Decision(default, "fallback", confidence, scores, parts)
        return Decision(best, "scored", confidence, scores, parts)
    if parts[best]["content"] <= 0 or scores[best] < threshold:
        return Decision(default, "fallback", scores[best], scores, parts)
    return Decision(best, "scored", scores[best], scores, parts)
