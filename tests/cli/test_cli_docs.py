"""docs/cli.md says what the CLI does: its `sh` examples (files only) run in document order in a
folder holding a copy of configs/, and print exactly the documented output; its `console`
examples (which need a cluster) at least parse."""

from __future__ import annotations

import re
import shlex
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from cli_support import Result

from tara_cli.main import build_parser

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "cli.md"
Tara = Callable[..., Result]


def _examples(language: str) -> list[tuple[str, str]]:
    """(command line, expected output) for each `$ tara ...` line in the doc's blocks of ``language``."""
    out = []
    for block in re.findall(rf"^```{language}\n(.*?)^```$", DOC.read_text(encoding="utf-8"), re.MULTILINE | re.DOTALL):
        for chunk in re.split(r"^\$ ", block, flags=re.MULTILINE)[1:]:
            command, _, output = chunk.partition("\n")
            out.append((command, output))
    return out


def test_doc_has_runnable_examples_of_every_file_verb() -> None:
    verbs = {" ".join(shlex.split(c)[1:3]) for c, _ in _examples("sh")}
    assert {"phase create", "phase add-domain", "phase list", "phase show", "training list"} <= verbs


def test_sh_examples_print_what_the_doc_shows(tara: Tara, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(ROOT / "configs", tmp_path / "configs")
    monkeypatch.chdir(tmp_path)
    for command, expected in _examples("sh"):
        argv = shlex.split(command)
        assert argv[0] == "tara", command
        r = tara(*argv[1:])
        assert r.out + r.err == expected, f"$ {command}\n{r.out}{r.err}"
        wants_error = any(line.startswith("error") for line in expected.splitlines())
        assert r.code == (1 if wants_error else 0), command


@pytest.mark.parametrize(("command", "output"), _examples("console"), ids=lambda v: v[:60] if v.startswith("tara") else "")
def test_console_examples_parse(command: str, output: str) -> None:
    argv = shlex.split(command.split("|")[0])
    assert argv[0] == "tara"
    build_parser().parse_args(argv[1:])  # SystemExit (usage error) fails the test
