"""The bundled foundation-domain datasets: well-formed chat rows, reproducible, domain-specific."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "trainer_image" / "tara_trainer" / "data"
GENERATOR = ROOT / "trainer_image" / "tools" / "make_datasets.py"
DOMAINS = ("healthcare", "business", "education", "creative", "leadership")
ROLES = {"system", "user", "assistant"}

STOP_WORDS = frozenset(
    """
    a about above after again against all also am an and any are aren't as at be because been before being below
    between both but by can can't cannot could couldn't did didn't do does doesn't doing don't down during each even
    every few first for from further get gets getting give go goes going got had hadn't has hasn't have haven't having
    he her here hers herself him himself his how i i'd i'll i'm i've if in into is isn't it it's its itself just keep
    let let's like make many may me more most much must my myself next no nor not now of off on once one only or other
    ought our ours ourselves out over own really same say set she should shouldn't so some still such than that that's
    the their theirs them themselves then there there's these they they'd they'll they're they've this those through
    to too two under until up upon us use very want was wasn't way we we'd we'll we're we've well were weren't what
    what's when where which while who whom why will with within without won't would wouldn't yes yet you you'd you'll
    you're you've your yours yourself yourselves
    """.split()
)


def _lines(domain: str) -> list[str]:
    return (DATA / f"{domain}.jsonl").read_bytes().decode("ascii").splitlines()


def _rows(domain: str) -> list[list[dict]]:
    return [json.loads(line)["messages"] for line in _lines(domain)]


@pytest.mark.parametrize("domain", DOMAINS)
def test_every_row_is_a_well_formed_chat(domain: str) -> None:
    for number, line in enumerate(_lines(domain), start=1):
        row = json.loads(line)
        assert set(row) == {"messages"}, (domain, number)
        messages = row["messages"]
        assert isinstance(messages, list) and messages, (domain, number)
        for message in messages:
            assert set(message) == {"role", "content"}, (domain, number)
            assert message["role"] in ROLES, (domain, number)
            content = message["content"]
            assert isinstance(content, str) and content.strip() == content and content, (domain, number)
            assert content.isascii() and content.isprintable(), (domain, number, content)
        roles = [m["role"] for m in messages]
        if roles[0] == "system":
            roles = roles[1:]
        assert "system" not in roles, (domain, number, "system message only first")
        assert roles and len(roles) % 2 == 0, (domain, number, roles)
        assert roles == ["user", "assistant"] * (len(roles) // 2), (domain, number, roles)
        assert messages[-1]["role"] == "assistant"


@pytest.mark.parametrize("domain", DOMAINS)
def test_row_count_and_no_duplicates(domain: str) -> None:
    lines = _lines(domain)
    assert 240 <= len(lines) <= 300, len(lines)
    assert len(set(lines)) == len(lines), [line for line, n in Counter(lines).items() if n > 1][:3]


@pytest.mark.parametrize("domain", DOMAINS)
def test_shape_of_the_mix(domain: str) -> None:
    rows = _rows(domain)
    with_system = sum(r[0]["role"] == "system" for r in rows) / len(rows)
    two_turns = sum(sum(m["role"] == "user" for m in r) == 2 for r in rows) / len(rows)
    assert 0.35 <= with_system <= 0.65, with_system
    assert 0.08 <= two_turns <= 0.25, two_turns
    assert all(sum(m["role"] == "user" for m in r) <= 2 for r in rows)
    for row in rows:
        for message in row:
            if message["role"] == "assistant":
                sentences = len(re.findall(r"[.!?](?=\s|$)", message["content"]))
                assert 1 <= sentences <= 4, message["content"]


def test_total_size_is_small() -> None:
    assert sum((DATA / f"{d}.jsonl").stat().st_size for d in DOMAINS) < 1_500_000


def _load_generator():
    spec = importlib.util.spec_from_file_location("make_datasets_under_test", GENERATOR)
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    sys.modules[spec.name] = module  # dataclasses look their module up while the file executes
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    return module


@pytest.mark.parametrize("domain", DOMAINS)
def test_many_distinct_questions_and_all_used(domain: str) -> None:
    questions = _load_generator().questions_for(domain)
    assert len(set(questions)) == len(questions) >= 150
    users = [m["content"] for r in _rows(domain) for m in r if m["role"] == "user"]
    missing = [q for q in questions if not any(u == q or u.endswith(" " + q) for u in users)]
    assert not missing, missing[:5]


def test_generator_reproduces_committed_files(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(GENERATOR), "--output", str(tmp_path)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"{d}.jsonl" for d in DOMAINS)
    for domain in DOMAINS:
        assert (tmp_path / f"{domain}.jsonl").read_bytes() == (DATA / f"{domain}.jsonl").read_bytes(), domain


def test_healthcare_points_self_harm_to_crisis_help() -> None:
    risky = re.compile(r"hurt(ing)? myself|cutting myself|want to die|end their life|\bkill (my|him|her|them)sel|alive anymore|point in going on")
    hits = 0
    for row in _rows("healthcare"):
        for user, reply in zip(row, row[1:], strict=False):
            if user["role"] == "user" and risky.search(user["content"].lower()):
                hits += 1
                assert "988" in reply["content"] and "emergency" in reply["content"], reply["content"]
    assert hits >= 3


def _top_words(domain: str, n: int = 30) -> set[str]:
    words: Counter[str] = Counter()
    for row in _rows(domain):
        for message in row:
            if message["role"] != "system":
                tokens = re.findall(r"[a-z]+(?:'[a-z]+)?", message["content"].lower())
                words.update(t for t in tokens if t not in STOP_WORDS and len(t) > 2)
    return {w for w, _ in words.most_common(n)}


def test_domains_are_separable_by_vocabulary() -> None:
    tops = {d: _top_words(d) for d in DOMAINS}
    for i, a in enumerate(DOMAINS):
        for b in DOMAINS[i + 1 :]:
            shared = tops[a] & tops[b]
            assert len(shared) <= 10, (a, b, sorted(shared))


def test_the_emotion_probe_rows_are_the_generators(tmp_path: Path) -> None:
    """``routing/emotion.jsonl`` (the router's emotion probe's training rows) comes from the same fragments."""
    out = tmp_path / "emotion.jsonl"
    result = subprocess.run([sys.executable, str(GENERATOR), "--emotions", str(out)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert out.read_bytes() == (DATA / "routing" / "emotion.jsonl").read_bytes()
    labels = Counter(json.loads(line)["label"] for line in out.read_text().splitlines())
    assert set(labels) == {"neutral", "joy", "trust", "fear", "surprise", "sadness", "disgust", "anger", "anticipation"}
    assert min(labels.values()) >= 30
