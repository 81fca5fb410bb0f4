"""The bundled domain datasets: well-formed, reproducible from their generator, domain-specific."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from tara_trainer.dataset import load_examples
from tara_trainer.sources import builtin_dataset_path

ROOT = Path(__file__).resolve().parents[2]
DOMAINS = ["healthcare", "business", "education", "creative", "leadership"]
STOP = set("a an the and or but if of to in on for with at by from is are be been was were it this that you your i my me we our "
           "do does can how what when should about as so not no up out have has had more most some any all just about into "
           "than then them they their there here who which one two each every very also like get make sure".split())


@pytest.mark.parametrize("domain", DOMAINS)
def test_rows_are_valid_chat(domain: str) -> None:
    lines = builtin_dataset_path(domain).read_text(encoding="ascii").splitlines()
    assert 240 <= len(lines) <= 300 and len(set(lines)) == len(lines)
    for line in lines:
        messages = json.loads(line)["messages"]
        roles = [m["role"] for m in messages if m["role"] != "system"]
        assert roles[0] == "user" and roles[-1] == "assistant"
        assert all(a != b for a, b in zip(roles, roles[1:], strict=False))
        assert all(m["content"].strip() for m in messages)
    examples, report = load_examples(builtin_dataset_path(domain))
    assert len(examples) == len(lines) and report.bad_by_reason == {}


def test_generator_reproduces_committed_files(tmp_path: Path) -> None:
    subprocess.run([sys.executable, str(ROOT / "trainer_image" / "tools" / "make_datasets.py"), "--output", str(tmp_path)],
                   check=True, capture_output=True)
    for domain in DOMAINS:
        assert (tmp_path / f"{domain}.jsonl").read_bytes() == builtin_dataset_path(domain).read_bytes(), domain


def _top_words(domain: str, n: int = 30) -> set[str]:
    words: Counter[str] = Counter()
    for line in builtin_dataset_path(domain).read_text().splitlines():
        for message in json.loads(line)["messages"]:
            if message["role"] != "system":
                words.update(w for w in re.findall(r"[a-z]+", message["content"].lower()) if w not in STOP and len(w) > 2)
    return {w for w, _ in words.most_common(n)}


def test_domains_are_separable_by_vocabulary() -> None:
    tops = {d: _top_words(d) for d in DOMAINS}
    for a in DOMAINS:
        for b in DOMAINS:
            if a < b:
                assert len(tops[a] & tops[b]) <= 10, (a, b, sorted(tops[a] & tops[b]))
