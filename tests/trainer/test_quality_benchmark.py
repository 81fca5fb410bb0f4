"""benchmarks/bench_quality.py's pure parts (the report's own checks come with its first committed result)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("bench_quality", ROOT / "benchmarks" / "bench_quality.py")
bench_quality = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_quality)


def test_increase_is_relative_to_the_reference() -> None:
    assert bench_quality.increase(11.0, 10.0) == pytest.approx(0.1)
    assert bench_quality.increase(9.0, 10.0) == pytest.approx(-0.1)


def test_the_plot_has_a_pair_of_bars_per_type() -> None:
    rows = {q: {"domainWorstIncrease": 0.01 * (i + 1), "general": {"increase": 0.02 * (i + 1)}} for i, q in enumerate(bench_quality.TYPES)}
    svg = bench_quality.quantization_svg(rows)
    assert svg.startswith("<svg") and svg.count("<rect") == 2 * len(rows) + 2  # the legend's two swatches
    assert all(q in svg for q in bench_quality.TYPES) and "+8.0%" in svg
