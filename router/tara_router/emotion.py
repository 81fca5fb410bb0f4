"""Emotional reading of a conversation: Plutchik's eight emotions with intensity, urgency, crisis.

A small lexicon (word stems with weights per emotion), with negation ("not worried"), intensifiers
("really", "extremely") and emphasis (exclamation marks, capitals). The whole conversation counts,
the user's turns only, later turns weighing more. Crisis language (self-harm, suicidal ideation)
is detected separately (``tara_router.crisis``) and never depends on the score. Pure functions,
no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from tara_router.crisis import crisis_signs, is_crisis
from tara_router.profiles import EMOTIONS

__all__ = ["EmotionReading", "blend", "crisis_signs", "is_crisis", "read_conversation", "read_text", "urgency"]

_LEXICON: dict[str, dict[str, float]] = {
    "joy": {"happy": 1, "glad": 1, "great": 0.6, "excited": 1, "thrilled": 1.2, "delighted": 1.2, "love": 0.8, "wonderful": 1,
            "amazing": 0.9, "awesome": 0.9, "proud": 0.9, "celebrate": 1, "yay": 1, "fantastic": 1, "good news": 1, "won": 0.8,
            "finally": 0.4, "fun": 0.7, "enjoy": 0.8, "grateful": 0.8, "relieved": 0.7},
    "trust": {"trust": 1, "rely": 0.8, "confident": 0.7, "reliable": 0.7, "honest": 0.6, "safe": 0.5, "recommend": 0.4,
              "believe": 0.5, "thanks": 0.4, "thank you": 0.5, "appreciate": 0.6},
    "fear": {"afraid": 1.2, "scared": 1.2, "worried": 1, "worry": 1, "anxious": 1.1, "nervous": 0.9, "panic": 1.3,
             "terrified": 1.5, "fear": 1.1, "frightened": 1.2, "concerned": 0.7, "dread": 1, "unsafe": 0.8, "what if": 0.5,
             "stressed": 0.8, "overwhelmed": 0.9, "uncertain": 0.5},
    "surprise": {"surprised": 1, "unexpected": 0.9, "suddenly": 0.7, "shocked": 1.1, "wow": 0.8, "didn't expect": 1,
                 "out of nowhere": 1, "curious": 0.6, "wonder": 0.5, "strange": 0.6, "weird": 0.5, "how come": 0.6},
    "sadness": {"sad": 1.1, "depressed": 1.3, "lonely": 1.1, "grief": 1.3, "lost": 0.6, "miss": 0.7, "cry": 1, "crying": 1.1,
                "hopeless": 1.4, "heartbroken": 1.3, "down": 0.5, "unhappy": 1, "disappointed": 0.9, "hurt": 0.8,
                "exhausted": 0.7, "tired": 0.5, "failed": 0.8, "rejected": 0.9, "died": 1, "passed away": 1.2},
    "disgust": {"disgusted": 1.2, "disgusting": 1.2, "gross": 1, "awful": 0.7, "revolting": 1.2, "nasty": 0.9, "sick of": 0.9, "hate": 0.6,
                "unacceptable": 0.8, "appalling": 1},
    "anger": {"angry": 1.2, "furious": 1.5, "mad": 0.9, "annoyed": 0.8, "frustrated": 1, "frustrating": 1, "irritated": 0.8,
              "outraged": 1.4, "hate": 0.7, "fed up": 1, "ridiculous": 0.8, "unfair": 0.9, "livid": 1.5, "betrayed": 1.1},
    "anticipation": {"plan": 0.5, "planning": 0.6, "upcoming": 0.7, "next week": 0.5, "soon": 0.4, "prepare": 0.7,
                     "preparing": 0.7, "looking forward": 1.1, "hope": 0.6, "hoping": 0.6, "goal": 0.6, "launch": 0.5,
                     "future": 0.5, "expect": 0.5, "eager": 1, "can't wait": 1.2, "ready": 0.4},
}
_NEGATIONS = ("not", "no", "never", "don't", "dont", "isn't", "wasn't", "aren't", "without", "hardly")
_INTENSIFIERS = {"very": 1.5, "really": 1.4, "so": 1.3, "extremely": 1.8, "incredibly": 1.7, "super": 1.4, "totally": 1.3,
                 "absolutely": 1.5, "deeply": 1.5, "a little": 0.6, "slightly": 0.6, "somewhat": 0.7, "kind of": 0.7}
_URGENT = re.compile(r"\b(urgent|urgently|asap|immediately|right now|emergency|quick(ly)?|fast|hurry|deadline|today|"
                     r"tonight|in an hour|critical|now)\b", re.I)
_TOKEN = re.compile(r"[a-z']+")


@dataclass(frozen=True)
class EmotionReading:
    scores: dict[str, float]  # emotion -> intensity 0..1
    dominant: str | None
    intensity: float  # of the dominant emotion, 0..1
    crisis: bool = False
    care: bool = False  # a possible risk signal (the crisis probe, below its crisis threshold): answer with care

    def label(self) -> str:
        return "neutral" if self.dominant is None else f"{self.dominant}:{self.intensity:.2f}"


def _index() -> tuple[dict, dict, dict]:
    """Lexicon lookups: exact single words, stems (entries of 5+ letters also match longer words:
    "frustrat" in "frustrating"), and multi-word phrases by their first word."""
    single: dict[str, list[tuple[str, float]]] = {}
    stems: dict[str, list[tuple[str, str, float]]] = {}
    multi: dict[str, list[tuple[list[str], str, float]]] = {}
    for emotion, words in _LEXICON.items():
        for phrase, weight in words.items():
            parts = phrase.split()
            if len(parts) > 1:
                multi.setdefault(parts[0], []).append((parts, emotion, weight))
                continue
            single.setdefault(phrase, []).append((emotion, weight))
            if len(phrase) >= 5:
                stems.setdefault(phrase[:5], []).append((phrase, emotion, weight))
    return single, stems, multi


_SINGLE, _STEMS, _MULTI = _index()


def _matches(words: list[str], i: int) -> list[tuple[str, float]]:
    w = words[i]
    found = list(_SINGLE.get(w, ()))
    found += [(e, wt) for entry, e, wt in _STEMS.get(w[:5], ()) if w != entry and w.startswith(entry)]
    found += [(e, wt) for parts, e, wt in _MULTI.get(w, ()) if words[i:i + len(parts)] == parts]
    return found


def _raw_scores(text: str) -> dict[str, float]:
    words = _TOKEN.findall(text.lower())
    emphasis = 1.0 + min(0.5, 0.15 * text.count("!")) + (0.3 if re.search(r"\b[A-Z]{4,}\b", text) else 0.0)
    scores = dict.fromkeys(EMOTIONS, 0.0)
    for i in range(len(words)):
        found = _matches(words, i)
        if not found:
            continue
        if any(w in _NEGATIONS for w in words[max(0, i - 3):i]):
            continue  # "not worried" is no fear (and no confident reading of its opposite)
        prev = words[max(0, i - 2):i]
        if len(prev) == 2 and " ".join(prev) in _INTENSIFIERS:
            factor = _INTENSIFIERS[" ".join(prev)]  # "a little worried"
        else:
            factor = _INTENSIFIERS.get(prev[-1], 1.0) if prev else 1.0  # "really worried"
        for emotion, weight in found:
            scores[emotion] += weight * factor
    return {e: v * emphasis for e, v in scores.items()}


def read_text(text: str) -> EmotionReading:
    return read_conversation([text])


def read_conversation(user_turns: Sequence[str]) -> EmotionReading:
    """All user turns, each weighing 0.6^age (the latest 1.0): a conversation that started in fear
    still reads as fear when the last message is a plain question."""
    total = dict.fromkeys(EMOTIONS, 0.0)
    for age, text in enumerate(reversed(list(user_turns))):
        for emotion, score in _raw_scores(text).items():
            total[emotion] += score * 0.6 ** age
    crisis = bool(crisis_signs(user_turns))
    scores = {e: round(1.0 - 1.0 / (1.0 + s), 4) for e, s in total.items()}  # squash to 0..1
    dominant = max(scores, key=lambda e: scores[e])
    if scores[dominant] < 0.2:
        return EmotionReading(scores, None, 0.0, crisis)
    return EmotionReading(scores, dominant, scores[dominant], crisis)


def blend(reading: EmotionReading, probe: Mapping[str, float], confident: float = 0.4) -> EmotionReading:
    """The emotion probe's reading where it is sure, else the lexicon's (``probe``: neutral and
    Plutchik's eight -> probability, from the request's embedding by the routing encoder's emotion
    head). The probe's most likely class decides when it is at least ``confident``: an emotion
    implied by the situation ("they cancelled my surgery again") is read, a weak lexical hit in a
    plain request ("great, thanks") is dropped; the intensity is the larger of the two readings.
    Without a probe, or when it is unsure, the reading is unchanged. (Before the encoder was
    fine-tuned, strong lexical words overruled the probe; with its head, the probe alone read the
    reporting half better than that blend: ``benchmarks/results/README.md``.)"""
    if not probe:
        return reading
    best = max(probe, key=lambda c: probe[c])
    if probe[best] < confident:
        return reading
    if best == "neutral":
        return EmotionReading(reading.scores, None, 0.0, reading.crisis, reading.care)
    scores = {e: round(max(reading.scores.get(e, 0.0), probe.get(e, 0.0)), 4) for e in EMOTIONS}
    return EmotionReading(scores, best, scores[best], reading.crisis, reading.care)


def urgency(text: str) -> float:
    """0..1: how strongly the request asks for a fast, short answer."""
    hits = len(_URGENT.findall(text))
    return min(1.0, 0.5 * hits + (0.2 if "!" in text else 0.0))
