"""Fuzz ``tara validate`` with the real manifests of configs/, mutated: bytes flipped, files cut
short, YAML syntax inserted (anchors, aliases, tags, brackets, deep nesting) and field values
swapped for values of other types. Whatever the input: no traceback, no hang (each call is
interrupted after ``BOUND_S``), exit status 0 or 1, and every line of output is one of the lines
``tara validate`` prints. The counts go to the end of the run's summary (``run_report.py``).

Deterministic (``derandomize``, no example database): every run checks the same inputs.
"""

from __future__ import annotations

import contextlib
import copy
import io
import re
import signal
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from run_report import report

from tara_api.safeyaml import SpecFileError, load_spec_text
from tara_cli.main import main

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [path for path in sorted((ROOT / "configs").rglob("*.yaml")) if "argocd" not in path.parts]
EXAMPLES = 1000
BOUND_S = 10

TOKENS = [b"&a ", b"*a", b"&a [*a]", b"<<: *a", b"!!", b"!!binary ", b"!!python/object:os.system ", b"!x ",
          b"!!int ", b"!!timestamp ", b"[", b"{", b"]", b"}", b": ", b"- ", b"? ", b"\n  ", b"\t", b"---\n",
          b"...\n", b"'", b'"', b"#", b"|", b">", b"%YAML 1.1\n", b"\x00", b"\xff", b"\xef\xbb\xbf", b"~",
          b"null", b"on", b"1e999", b"0x1F", b".nan", b"2024-01-01", b"9" * 5000]
VALUES = [None, True, 0, -1, 10**40, 1.5, float("inf"), float("nan"), "", "x" * 300, "Healthcare", "-1",
          [], {}, [1, [2]], {"a": {"b": 1}}, {"": None}, "tara.dev/v1alpha1", "GGUFPhase", "DomainTraining"]


def _nested(depth: int) -> Any:
    value: Any = "deep"
    for _ in range(depth):
        value = [value]
    return value


VALUES += [_nested(30), _nested(70)]

LINE = re.compile(r"(ok     |error  )\S.*|\d+ document\(s\) checked, \d+ problem\(s\)")

position = st.integers(0, 1 << 14)
MUTATION = st.one_of(
    st.tuples(st.just("flip"), position, st.integers(0, 255)),
    st.tuples(st.just("truncate"), position),
    st.tuples(st.just("insert"), position, st.sampled_from(TOKENS)),
    st.tuples(st.just("nest"), position, st.integers(1, 200)),
    st.tuples(st.just("swap"), position, st.sampled_from(VALUES)),
)


def _slots(node: Any) -> Iterator[tuple[Any, Any]]:
    """Every (container, key) of a parsed document, depth first."""
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in items:
        yield node, key
        yield from _slots(value)


def _swap(data: bytes, at: int, value: Any) -> bytes:
    """Set one field of the documents to ``value`` (a type swap), when the bytes still parse."""
    try:
        documents = load_spec_text(data.decode("utf-8"), "fuzz")
    except (SpecFileError, UnicodeDecodeError):
        return data
    slots = [slot for document in documents for slot in _slots(document)]
    if not slots:
        return data
    container, key = slots[at % len(slots)]
    container[key] = copy.deepcopy(value)
    return yaml.safe_dump_all(documents, sort_keys=False).encode()


def mutate(data: bytes, mutations: list[tuple[Any, ...]]) -> bytes:
    for name, at, *arg in mutations:
        at %= len(data) + 1
        if name == "flip" and data:
            at = min(at, len(data) - 1)
            data = data[:at] + bytes([arg[0]]) + data[at + 1:]
        elif name == "truncate":
            data = data[:at]
        elif name == "insert":
            data = data[:at] + arg[0] + data[at:]
        elif name == "nest":
            data = data[:at] + b"[" * arg[0] + b"]" * arg[0] + data[at:]
        elif name == "swap":
            data = _swap(data, at, arg[0])
    return data


class Hang(BaseException):  # not an Exception: nothing in the code under test may swallow it
    pass


@contextlib.contextmanager
def bounded(seconds: float) -> Iterator[None]:
    """Interrupt the block after ``seconds``; pytest-timeout's own alarm is put back afterwards."""

    def hang(signum: int, frame: Any) -> None:
        raise Hang

    previous = signal.signal(signal.SIGALRM, hang)
    outer, interval = signal.setitimer(signal.ITIMER_REAL, seconds)
    start = time.monotonic()
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer:
            signal.setitimer(signal.ITIMER_REAL, max(outer - (time.monotonic() - start), 0.01), interval)


def validate(path: Path) -> tuple[int, str]:
    """``tara validate PATH`` in-process: its status and everything it printed."""
    out = io.StringIO()
    with bounded(BOUND_S), contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        status = main(["validate", str(path)])
    return status, out.getvalue()


@pytest.mark.slow
# celpy sets the recursion limit to 2500 whenever it compiles a CEL rule, which Hypothesis notices.
@pytest.mark.filterwarnings("ignore:The recursion limit will not be reset")
def test_validate_fuzz(tmp_path: Path, pytestconfig: pytest.Config, record_property: pytest.RecordProperty) -> None:
    counts: Counter[str] = Counter()
    path = tmp_path / "mutated.yaml"

    @settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
              suppress_health_check=[HealthCheck.too_slow])
    @given(source=st.sampled_from(SOURCES), mutations=st.lists(MUTATION, min_size=1, max_size=4))
    def check(source: Path, mutations: list[tuple[Any, ...]]) -> None:
        path.write_bytes(mutate(source.read_bytes(), mutations))
        counts["inputs"] += 1
        try:
            status, output = validate(path)
        except Hang:
            counts["hangs"] += 1
            raise AssertionError(f"tara validate ran over {BOUND_S} s") from None
        except Exception:
            counts["tracebacks"] += 1
            raise
        assert status in (0, 1), status
        assert all(LINE.fullmatch(line) for line in output.splitlines()), output
        if status == 0:
            counts["valid"] += 1
        else:
            counts["refused"] += 1
            counts["unreadable"] += "[yaml]" in output and "0 document(s) checked" in output

    check()
    line = (f"validate fuzz: {counts['inputs']} inputs, {counts['tracebacks']} tracebacks, {counts['hangs']} hangs, "
            f"{counts['refused']} refused ({counts['unreadable']} as unreadable YAML), {counts['valid']} valid")
    record_property("validate_fuzz", line)
    report(pytestconfig, line)
    assert counts["tracebacks"] == counts["hangs"] == 0 and counts["inputs"] >= EXAMPLES // 2
