"""docs/cli.md says what the CLI does: its `sh` examples (files only) run in document order in a
folder holding a copy of configs/, and print exactly the documented output; its `console`
examples (which need a cluster) parse, and those that create or patch, whose one line of output
depends on nothing but what they do, print it against the real control plane."""

from __future__ import annotations

import re
import shlex
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from cli_support import NAMESPACE, Result
from kubernetes import client

from tara_cli.main import build_parser

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "cli.md"
WRITES = ("phase create", "phase add-domain")
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


def test_console_writes_print_what_the_doc_shows(tara: Tara, kubeconfig: Path, custom: client.CustomObjectsApi) -> None:
    """In document order, in the kubeconfig context's namespace (the doc's team-a), with the
    repository's phase-1 applied there first."""
    phase = yaml.safe_load((ROOT / "configs" / "phases" / "phase-1.yaml").read_text(encoding="utf-8"))
    custom.create_namespaced_custom_object("tara.dev", "v1alpha1", NAMESPACE, "ggufphases", phase)
    ran = []
    for command, expected in _examples("console"):
        argv = shlex.split(command)
        if " ".join(argv[1:3]) not in WRITES:
            continue
        r = tara(*argv[1:], "--kubeconfig", str(kubeconfig))
        assert r.out + r.err == expected, f"$ {command}\n{r.out}{r.err}"
        assert r.code == (1 if expected.startswith("error") else 0), command
        ran.append(argv[2])
    assert set(ran) == {"create", "add-domain"}, ran


@pytest.mark.parametrize(("command", "output"), _examples("console"), ids=lambda v: v[:60] if v.startswith("tara") else "")
def test_console_examples_parse(command: str, output: str) -> None:
    argv = shlex.split(command.split("|")[0])
    assert argv[0] == "tara"
    build_parser().parse_args(argv[1:])  # SystemExit (usage error) fails the test
