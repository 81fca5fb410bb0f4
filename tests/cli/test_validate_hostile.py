"""Hostile spec files through every reader: ``tara_api.safeyaml``, ``tara validate`` (one file and a
folder) and ``tara phase show -f``. Each is refused in one line that names the file, the line and
column, and what to do; the exit status is 1; nothing else in a folder is held up.

The "billion laughs" file is also measured in a fresh interpreter (time and peak memory): the
numbers go to the end of the test run's summary (``tests/cli/run_report.py``).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

import pytest
from run_report import report

from tara_api.safeyaml import MAX_FILE_BYTES, SpecFileError, load_spec_documents
from tara_cli.main import main

ROOT = Path(__file__).resolve().parents[2]
VALID = (ROOT / "configs" / "trainings" / "cpu" / "education-cpu.yaml").read_bytes()
HEAD = b"apiVersion: tara.dev/v1alpha1\nkind: DomainTraining\nmetadata: {name: hostile}\n"


def billion_laughs(levels: int = 7, fanout: int = 10) -> bytes:
    """A manifest whose spec is ``fanout ** levels`` strings, through ``levels`` levels of aliases."""
    lines = [HEAD.decode(), 'lol0: &lol0 "lol"\n']
    for level in range(1, levels + 1):
        items = "".join(f"  - *lol{level - 1}\n" for _ in range(fanout))
        lines.append(f"lol{level}: &lol{level}\n{items}")
    return ("".join(lines) + f"spec: *lol{levels}\n").encode()


LAUGHS = billion_laughs()


class Hostile(NamedTuple):
    content: bytes
    at: bytes  # where the refusal points: the first occurrence of these bytes
    message: str  # the problem and what to do, after "line L, column C: "
    kind: str = "invalid YAML"


HOSTILE = {
    "nested-1000-deep": Hostile(HEAD + b"spec: " + b"[" * 1000 + b"]" * 1000 + b"\n", b"[" * 937 + b"]",
                                "nested deeper than 64 levels; a spec needs a handful of levels; flatten the document"),
    "invalid-utf-8": Hostile(HEAD + b"spec: {domain: caf\xe9}\n", b"\xe9",
                             "byte 0xe9 cannot be decoded; save the file as UTF-8", "not UTF-8"),
    "binary-tag": Hostile(HEAD + b"spec: {domain: !!binary aGVhbHRoY2FyZQ==}\n", b"!!binary",
                          "tag !!binary is not supported; remove it: a spec holds only strings, numbers, booleans, "
                          "null, lists and mappings"),
    "python-object": Hostile(HEAD + b'spec: !!python/object/apply:os.system ["touch /tmp/pwned"]\n', b"!!python",
                             "tag !!python/object/apply:os.system is not supported; remove it"),
    "custom-tag": Hostile(HEAD + b"spec: {domain: !vault healthcare}\n", b"!vault", "tag !vault is not supported"),
    "self-referencing-alias": Hostile(HEAD + b"spec: &spec {domain: healthcare, again: *spec}\n", b"*spec",
                                      "alias *spec refers to the block that contains it; a spec cannot be "
                                      "recursive; write the value out"),
    "billion-laughs-7-levels": Hostile(LAUGHS, b"*lol4\n  - *lol4\n  - *lol4\nlol6",  # lol5's 8th alias
                                       "alias *lol4 makes the file expand to more than 100,000 nodes; write the "
                                       "repeated values out, or alias fewer and smaller blocks"),
    "over-the-size-limit": Hostile(VALID + b"#" * (MAX_FILE_BYTES + 1 - len(VALID)), b"",
                                   "more than 1024 KiB, the limit for a spec file; split it into several files",
                                   "too large"),
    "multi-document-one-bad": Hostile(VALID + b"---\n" + HEAD + b"spec: {domain: !!binary aGk=}\n", b"!!binary",
                                      "tag !!binary is not supported"),
}


def _where(case: Hostile) -> str:
    """``line L, column C: `` of the first occurrence of ``case.at`` (nothing when it is empty)."""
    if not case.at:
        return ""
    before = case.content[:case.content.index(case.at)].decode("utf-8")
    return f"line {before.count(chr(10)) + 1}, column {len(before) - before.rfind(chr(10))}: "


def _expected(case: Hostile) -> str:
    return f"{case.kind}: {_where(case)}{case.message}"


@pytest.fixture(params=list(HOSTILE), ids=list(HOSTILE))
def hostile(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Path, Hostile]:
    path = tmp_path / f"{request.param}.yaml"
    path.write_bytes(HOSTILE[request.param].content)
    return path, HOSTILE[request.param]


def test_module_refuses_in_one_line(hostile: tuple[Path, Hostile]) -> None:
    path, case = hostile
    with pytest.raises(SpecFileError) as caught:
        load_spec_documents(path)
    assert caught.value.detail.startswith(_expected(case)), caught.value.detail
    assert str(caught.value).startswith(f"{path}: ") and "\n" not in str(caught.value)


def test_validate_refuses_in_one_line(hostile: tuple[Path, Hostile], capsys: pytest.CaptureFixture[str]) -> None:
    path, case = hostile
    assert main(["validate", str(path)]) == 1
    out, err = capsys.readouterr()
    error, summary = out.splitlines()
    assert error.startswith(f"error  {path}: {_expected(case)}") and error.endswith(" [yaml]"), error
    assert summary == "0 document(s) checked, 1 problem(s)" and not err


def test_phase_show_refuses_in_one_line(hostile: tuple[Path, Hostile], capsys: pytest.CaptureFixture[str]) -> None:
    path, case = hostile
    assert main(["phase", "show", "-f", str(path)]) == 1
    out, err = capsys.readouterr()
    assert not out and len(err.splitlines()) == 1 and err.startswith(f"error: {path}: "), err
    assert case.message.split(";")[0] in err


def test_empty_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An empty file holds no document: nothing to refuse, and nothing to validate either."""
    path = tmp_path / "empty.yaml"
    path.write_bytes(b"")
    assert load_spec_documents(path) == []
    assert main(["validate", str(path)]) == 1
    assert capsys.readouterr().out.splitlines() == ["0 document(s) checked, 0 problem(s)",
                                                    f"error  no TARA resources found in {path}"]
    assert main(["phase", "show", "-f", str(path)]) == 1
    assert capsys.readouterr().err == f"error: {path} holds no GGUFPhase\n"


@pytest.mark.parametrize("quiet", [False, True], ids=["verbose", "quiet"])
def test_folder_reports_every_file(tmp_path: Path, capsys: pytest.CaptureFixture[str], quiet: bool) -> None:
    """Good files are validated, each hostile file is one error line, and the status is 1."""
    good = sorted((ROOT / "configs" / "phases").glob("*.yaml"))
    for source in good:
        (tmp_path / source.name).write_bytes(source.read_bytes())
    for name, case in HOSTILE.items():
        (tmp_path / f"{name}.yaml").write_bytes(case.content)
    (tmp_path / "empty.yaml").write_bytes(b"")
    assert main(["validate", *(["--quiet"] if quiet else []), str(tmp_path)]) == 1
    out, err = capsys.readouterr()
    oks = [line for line in out.splitlines() if line.startswith("ok     ")]
    errors = [line for line in (err if quiet else out).splitlines() if line.startswith("error  ")]
    assert len(oks) == (0 if quiet else len(good))
    for name, case in HOSTILE.items():
        assert [e for e in errors if e.startswith(f"error  {tmp_path / name}.yaml: {_expected(case)}")], name
    assert len(errors) == len(HOSTILE)
    assert out.splitlines()[-1] == f"{len(good)} document(s) checked, {len(HOSTILE)} problem(s)"


MEASURE = """
import json, sys, time

def peak_kib():  # this process's peak resident memory; ru_maxrss would include the parent's before exec
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))

from tara_cli.main import main
before = peak_kib()
start = time.perf_counter()
status = main(["validate", sys.argv[1]])
seconds = time.perf_counter() - start
print(json.dumps({"status": status, "seconds": seconds, "before_kib": before, "after_kib": peak_kib()}))
"""


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads the peak memory from /proc (Linux)")
def test_billion_laughs_is_refused_fast_and_small(tmp_path: Path, pytestconfig: pytest.Config,
                                                  record_property: pytest.RecordProperty) -> None:
    """Measured in a fresh interpreter: peak resident memory (VmHWM) with TARA imported, then after
    the refusal. The memory bound is generous; the time is reported, not asserted."""
    path = tmp_path / "laughs.yaml"
    path.write_bytes(LAUGHS)
    result = subprocess.run([sys.executable, "-c", MEASURE, str(path)], capture_output=True, text=True, timeout=120,
                            check=False)
    assert result.returncode == 0, result.stderr
    *printed, measured = result.stdout.splitlines()
    numbers = json.loads(measured)
    assert numbers["status"] == 1 and "makes the file expand to more than 100,000 nodes" in printed[0]
    grown_mib = (numbers["after_kib"] - numbers["before_kib"]) / 1024
    line = (f"billion laughs (7 levels of 10 aliases, {len(LAUGHS):,} bytes): refused in {numbers['seconds'] * 1000:.1f} ms, "
            f"peak memory {numbers['after_kib'] / 1024:.0f} MiB (+{grown_mib:.1f} MiB over TARA's imports)")
    record_property("billion_laughs", line)
    report(pytestconfig, line)
    assert grown_mib < 50 and numbers["after_kib"] / 1024 < 300
