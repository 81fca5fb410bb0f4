"""benchmarks/bench_quality.py: its pure parts, and the committed report holds what issue 14 asks of it
(both demo domains, all four quantization types, every merge strategy), with figures that hang together."""

from __future__ import annotations

import importlib.util
import json
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


def test_the_committed_report_covers_both_domains_every_type_and_every_strategy() -> None:
    report = json.loads((ROOT / "benchmarks" / "results" / "quality.json").read_text())
    domains, types = bench_quality.DOMAINS, bench_quality.TYPES
    for d in domains:
        m = report["training"][d]["metrics"]
        assert m["tunedEvalLoss"] < m["baseEvalLoss"]  # the adapter learned its domain's held-out rows
        assert report["crossDomain"][d][d] < report["crossDomain"]["base"][d]  # and llama.cpp agrees on the eval text
    assert set(report["quantization"]) == set(types)
    sizes = [report["quantization"][q]["bytes"] for q in types]
    assert sizes == sorted(sizes, reverse=True)  # Q8_0 > Q5_K_M > Q4_K_M > Q2_K
    for q in types:
        row = report["quantization"][q]
        assert set(row["domains"]) == set(domains) and row["publishedLlama3_8BIncrease"] == bench_quality.PUBLISHED[q]
    assert report["quantization"]["Q2_K"]["general"]["increase"] > report["quantization"]["Q8_0"]["general"]["increase"]
    assert set(report["merges"]) == set(bench_quality.STRATEGIES)
    for strategy, row in report["merges"].items():
        assert "error" not in row, (strategy, row.get("error"))
        assert set(row["domains"]) == set(domains)
