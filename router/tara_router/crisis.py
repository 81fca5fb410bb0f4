"""Crisis language (self-harm, suicidal ideation) in a conversation's user turns: the router's most
important safety property. A crisis sent down the ordinary path is the worst defect we can ship; a
false alarm costs a warm answer that points to a crisis line. So the rules lean to catching.

Label policy (tests/data/README.md): crisis is any message in which a person, the writer or someone
they name, may be at risk: ideation, passive too ("I don't want to wake up"), perceived
burdensomeness, hopelessness about living, intent, plans and preparation, method-seeking (lethal
doses, painless ways), self-harm. First-person hyperbole ("I want to die lol") and negations ("I'm
not suicidal, but...") count. Idioms, technical and fiction uses, accidents and neutral dosing
questions do not.

How: the text is normalised (case, apostrophes, contractions, chat spellings and common typos,
digits used as letters, every run of one letter squeezed to one letter, so "killl", "kil" and
"beter of" read as "kill" and "better off"); safe uses are blanked out ("career suicide", "cut
myself some slack", "hurt himself in the second half"); strong signs then decide alone, and weak
cues (a goodbye letter, giving things away, "I've made up my mind") decide when two different kinds
meet anywhere in the conversation. Patterns are written in plain spelling and squeezed like the
text when compiled (``tara_router.crisis_rules``). Measured on tests/data/crisis_eval.jsonl by tests/router/test_crisis.py.

Pure functions (a bounded memo of per-turn results, keyed by hash), no I/O; callers must never log
the text of a crisis turn.
"""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

from tara_router.crisis_rules import CUES, SAFE_USES, SIGNS, UNSQUEEZABLE

__all__ = ["completed_turns", "crisis_signs", "is_crisis"]

_SQUEEZE = re.compile(r"([a-z])\1+")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'", "\u00b4": "'", "\u02bc": "'"})
_CONTRACTION = re.compile(r"\b(won|can|shan)'t\b|n't\b|'(m|re|ve|ll|d)\b")
_CONTRACTED = {"won": "will not", "can": "can not", "shan": "shall not", "n": " not", "m": " am", "re": " are",
               "ve": " have", "ll": " will", "d": " would"}
_BOUNDARY = re.compile(r"[.!?;\n]+")
_NON_WORD = re.compile(r"[^a-z0-9.,]+")
_RUNS = re.compile(r"([a-z])\1{2,}")
_HAS_DIGIT = re.compile(r"[0-9]")
_DIGIT_WORD = re.compile(r"\b(?=[a-z]*[0-9])(?=[0-9]*[a-z])[a-z0-9]+\b")  # "su1c1de", not "2024"
_LEET = str.maketrans("013457", "oieast")
_WORDS = {  # apostrophe-free contractions, chat spellings and typos, as typed (before squeezing)
    "im": "i am", "ive": "i have", "id": "i would", "dont": "do not", "doesnt": "does not", "didnt": "did not",
    "cant": "can not", "cannot": "can not", "cnt": "can not", "wont": "will not", "wouldnt": "would not",
    "couldnt": "could not", "shouldnt": "should not", "isnt": "is not", "wasnt": "was not", "werent": "were not",
    "arent": "are not", "aint": "am not", "havent": "have not", "hasnt": "has not", "hadnt": "had not",
    "its": "it is", "whats": "what is", "thats": "that is", "theres": "there is", "shes": "she is", "hes": "he is",
    "theyre": "they are", "youre": "you are", "theyd": "they would", "tonights": "tonight is", "wanna": "want to",
    "wana": "want to", "wnt": "want", "wnat": "want", "gonna": "going to", "gona": "going to", "gotta": "got to",
    "u": "you", "ur": "your", "urself": "yourself", "ppl": "people", "every1": "everyone", "evry1": "everyone",
    "evryone": "everyone", "everone": "everyone", "eveyone": "everyone", "evrybody": "everybody", "no1": "no one",
    "noone": "no one", "nobdy": "nobody", "wud": "would", "wld": "would", "shud": "should", "cud": "could",
    "jus": "just", "jst": "just", "anymor": "anymore", "anymoe": "anymore", "nemore": "anymore", "myslef": "myself",
    "mysefl": "myself", "myslf": "myself", "mysel": "myself", "meself": "myself", "burdn": "burden",
    "burdon": "burden", "burdan": "burden", "burdin": "burden", "forevr": "forever", "forver": "forever",
    "4ever": "forever", "thinkin": "thinking", "nothin": "nothing", "goin": "going", "livin": "living",
    "tryin": "trying", "feelin": "feeling", "cuttin": "cutting", "hurtin": "hurting", "killin": "killing",
    "dyin": "dying", "endin": "ending", "bout": "about", "abt": "about", "bc": "because", "cuz": "because",
    "coz": "because", "b4": "before", "2day": "today", "2nite": "tonight", "tonite": "tonight",
    "2morrow": "tomorrow", "tmrw": "tomorrow", "tmr": "tomorrow", "idk": "i do not know", "rn": "right now",
    "kms": "kill myself", "od": "overdose", "oding": "overdosing", "lyf": "life", "wat": "what",
}
_WORDS.update(UNSQUEEZABLE)
_SPLIT_SELF = re.compile(r"\b(my|your|him|her|them|our|one) (self|selves)\b")
# "god knows how long" is "who knows how long": squeezed, "gone for god knows" would read "gone for good"
_GOD_KNOWS = re.compile(r"\bgod (?:only )?knows\b")


def _normalise(text: str) -> str:
    """Lower case, contractions spelled out, typos and slang mapped, sentence ends kept as " . " and
    commas as " , ", every other mark a space, repeated letters squeezed:
    "I'm soooo DONE w/o u!!" -> "i am so done without you ." (single spaces, no edge spaces)."""
    text = text.lower().translate(_APOSTROPHES)
    if "'" in text:
        text = _CONTRACTION.sub(lambda m: _CONTRACTED[m.group(1) or m.group(2) or "n"], text).replace("'", "")
    if "w/" in text:
        text = text.replace("w/o", " without ").replace("w/", " with ")
    text = _RUNS.sub(r"\1\1", _NON_WORD.sub(" ", _BOUNDARY.sub(" . ", text).replace(",", " , ")))
    text = " ".join([_WORDS.get(word, word) for word in text.split()])
    if _HAS_DIGIT.search(text):
        text = _DIGIT_WORD.sub(lambda m: m.group().translate(_LEET), text)
    if "sel" in text:
        text = _SPLIT_SELF.sub(r"\1\2", text)
    if "god" in text:
        text = _GOD_KNOWS.sub("who knows", text)
    return _SQUEEZE.sub(r"\1", text)


def _branches(source: str) -> list[str]:
    """The top-level alternatives of a pattern source."""
    out, depth, start, i, in_class = [], 0, 0, 0, False
    while i < len(source):
        c = source[i]
        if c == "\\":
            i += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
        elif c in "()":
            depth += 1 if c == "(" else -1
        elif c == "|" and depth == 0:
            out.append(source[start:i])
            start = i + 1
        i += 1
    return [*out, source[start:]]


_LEAD = re.compile(r"\\b(?:\(\?:([a-z |]+)\)|([a-z]+))(?= (?![?*+{])|\\b)")  # \b(?:want|wish) ... or \bnoose\b
_LETTERS = re.compile(r"[a-z]+")


def _first_words(branch: str) -> frozenset[str] | None:
    """The whole words a branch must start with, or None when it may start otherwise."""
    m = _LEAD.match(branch)
    return None if m is None else frozenset(alt.split(" ")[0] for alt in (m.group(1) or m.group(2)).split("|"))


def _heads(branch: str) -> frozenset[str] | None:
    """The first two letters a branch must start with ("su" for "\\bsu[aeiy]?[cs]..."), or None."""
    if not branch.startswith("\\b"):
        return None
    rest = branch[2:]
    if rest.startswith("(?:"):
        depth, end = 0, 0
        for end, c in enumerate(rest):  # the group's closing parenthesis
            if end == 0 or rest[end - 1] != "\\":
                depth += (c == "(") - (c == ")")
            if depth == 0:
                break
        if rest[end + 1:end + 2] in ("?", "*", "{"):
            return None
        alternatives = _branches(rest[3:end])
    else:
        alternatives = [rest]
    heads = set()
    for alt in alternatives:
        m = _LETTERS.match(alt)
        letters = m.group() if m else ""
        if alt[len(letters):len(letters) + 1] in ("?", "*", "{"):
            letters = letters[:-1]  # "thoughts?" guarantees "thought"
        if len(letters) < 2:
            return None
        heads.add(letters[:2])
    return frozenset(heads)


@dataclass(frozen=True)
class _Index:
    """Rules by the word their branches start with: each turn tries only the branches that can start
    at each of its words, instead of every branch at every character (a third of the time)."""

    by_word: dict[str, tuple[tuple[str, re.Pattern[str]], ...]]
    by_head: dict[str, tuple[tuple[str, re.Pattern[str]], ...]]  # by a word's first two letters
    anywhere: tuple[tuple[str, re.Pattern[str]], ...]

    @classmethod
    def of(cls, rules: dict[str, tuple[str, ...]]) -> _Index:
        by_word: dict[str, list[tuple[str, re.Pattern[str]]]] = {}
        by_head: dict[str, list[tuple[str, re.Pattern[str]]]] = {}
        anywhere: dict[str, list[str]] = {}
        for kind, sources in rules.items():
            for branch in (b for source in sources for b in _branches(source)):
                if (words := _first_words(branch)) is not None:
                    for word in words:
                        by_word.setdefault(word, []).append((kind, re.compile(branch)))
                elif (heads := _heads(branch)) is not None:
                    for head in heads:
                        by_head.setdefault(head, []).append((kind, re.compile(branch)))
                else:
                    anywhere.setdefault(kind, []).append(branch)
        return cls({w: tuple(rs) for w, rs in by_word.items()}, {h: tuple(rs) for h, rs in by_head.items()},
                   tuple((kind, re.compile("|".join(bs))) for kind, bs in anywhere.items()))

    def kinds(self, norm: str) -> set[str]:
        found: set[str] = set()
        for word in _WORD_AT.finditer(norm):
            text, at = word.group(), word.start()
            for kind, pattern in (*self.by_word.get(text, ()), *self.by_head.get(text[:2], ())):
                if kind not in found and pattern.match(norm, at):
                    found.add(kind)
        found.update(kind for kind, pattern in self.anywhere if kind not in found and pattern.search(norm))
        return found


_WORD_AT = re.compile(r"[a-z0-9]+")
_SIGN_INDEX, _CUE_INDEX = _Index.of(SIGNS), _Index.of(CUES)


_MEMO: OrderedDict[bytes, tuple[frozenset[str], frozenset[str]]] = OrderedDict()
_MEMO_SIZE = 8192


def _read(text: str) -> tuple[frozenset[str], frozenset[str]]:
    """Strong signs and weak cues in one turn. Remembered by a hash of the turn, never the text: each
    request carries the whole conversation, and its earlier turns then cost a lookup."""
    key = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()
    found = _MEMO.get(key)
    if found is None:
        norm = SAFE_USES.sub(" _ ", _normalise(text))
        found = _MEMO[key] = (frozenset(_SIGN_INDEX.kinds(norm)), frozenset(_CUE_INDEX.kinds(norm)))
        if len(_MEMO) > _MEMO_SIZE:
            _MEMO.popitem(last=False)
    return found


_SHORT_TURN_WORDS = 6


def completed_turns(user_turns: Sequence[str]) -> list[str]:
    """The user turns as they are read: a short turn (``_SHORT_TURN_WORDS`` words or fewer) with the
    turn after it, which often completes it ("I want to end it" then "my subscription to this meal
    kit", "I cut myself" then "peeling potatoes, the knife slipped"). For the rules only a safe use
    written across both (``SAFE_USES``) can take a sign away; the next turn is read alone too. The
    crisis probe reads the same views (``semantic.crisis_views``)."""
    return [f"{text.rstrip()}. {user_turns[i + 1]}" if i + 1 < len(user_turns) and len(text.split()) <= _SHORT_TURN_WORDS
            else text for i, text in enumerate(user_turns)]


def crisis_signs(user_turns: Sequence[str]) -> tuple[str, ...]:
    """The kinds of crisis language in a conversation's user turns, empty when there is none: the
    strong signs ("ideation", "burden", "hopeless", "plan", "self-harm"), each enough alone, and
    "cues" when weak cues of two different kinds meet anywhere in the turns. Kinds, never text."""
    signs: set[str] = set()
    cues: set[str] = set()
    for text in completed_turns(user_turns):
        s, c = _read(text)
        signs |= s
        cues |= c
    found = [kind for kind in SIGNS if kind in signs]
    return (*found, "cues") if len(cues) >= 2 else tuple(found)


def is_crisis(text: str) -> bool:
    """Whether one message reads as self-harm or suicidal language (see ``crisis_signs``)."""
    return bool(crisis_signs([text]))
