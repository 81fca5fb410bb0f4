"""The README's two commands are the ones the project runs: CI calls the test command, and the
first command works and prints what the README shows."""

from __future__ import annotations

import os
import re
import signal
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _two_commands() -> list[str]:
    block = README.split("## Two commands", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    return [line.split("#", 1)[0].strip() for line in block.strip().splitlines()]


def test_readme_gives_two_commands_and_ci_runs_the_second() -> None:
    first, second = _two_commands()
    assert (first, second) == ("make demo", "make test")
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(rf"^exec {second}$", ci, re.MULTILINE), ci


@pytest.mark.slow
@pytest.mark.timeout(2700)  # two demos: about 6.5 + 1 minutes on 2 quiet cores, up to 20 each on busy ones
def test_first_command_runs_the_local_pipeline() -> None:
    """`make demo` trains, builds, serves and routes for real; run twice, the second run reuses."""
    for attempt in ("first", "rerun"):
        # its own process group: on a timeout the whole demo (make, tara, llama-server) goes, not make alone
        proc = subprocess.Popen(_two_commands()[0].split(), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                start_new_session=True)
        try:
            out, err = proc.communicate(timeout=1200)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, err = proc.communicate()
            pytest.fail(f"make demo ({attempt}) ran past 20 minutes:\n{out[-3000:]}{err[-3000:]}")
        assert proc.returncode == 0, out[-3000:] + err[-3000:]
        assert "17 document(s) checked, 0 problem(s)" in out
        assert "[5/5] serve phase-1 with llama-server and the router" in out
        assert "tara-auto routes by sentence embeddings" in out  # the build shipped its routing index
        assert "-> healthcare (scored, confidence" in out and "-> business (scored, confidence" in out
        assert "emotion fear:" in out
        # the real model answers in English, the adapter's answer printed above the base model's
        answers = re.findall(r"^      (healthcare|business|base):\s+(.+)$", out, re.MULTILINE)
        assert [who for who, _ in answers] == ["healthcare", "base", "business", "base", "base"], out[-3000:]
        english = {"the", "and", "to", "a", "of", "is", "you", "your", "for", "i", "can", "in", "it", "with", "such", "as"}
        for _who, answer in answers:  # the tiny model's ", and, and, and" or "lik lik lik" fail all three
            words = re.findall(r"[a-z']+", answer.lower())
            assert len(words) >= 10 and len(set(words)) >= 0.5 * len(words) and len(english & set(words)) >= 2, answer
        questions = re.findall(r"^      Q: (.+)$", out, re.MULTILINE)
        for question, (who, answer) in zip(questions, [a for a in answers if a[0] != "base"], strict=False):
            topic = {w for w in re.findall(r"[a-z]{5,}", question.lower())}
            assert topic & set(re.findall(r"[a-z]{5,}", answer.lower())), (who, question, answer)  # on topic
        assert ".tara/local/phases/phase-1/build" in out
        if "      built; serving" in out:  # a build ran: its steps were shown as they went
            steps = re.findall(r"^      \[(\d+)/(\d+)\] (.+)$", out, re.MULTILINE)
            assert steps and [int(n) for n, _, _ in steps] == list(range(1, int(steps[0][1]) + 1)), out
            assert "quantize Q4_K_M" in [what for _, _, what in steps]
        if attempt == "rerun":
            assert out.count("reused") >= 3, out  # both adapters and the build
