"""What serving the chosen type costs, per domain: compression ratio, load time, time to a first
token, decode speed and resident memory, measured by the build and compared with the original
design's serving targets (reported, never gated); carried into the manifest and the phase's status."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tara_api.ggufphase import GGUFPhaseStatus
from tara_trainer.export.build import performance_line, phase_status
from tara_trainer.export.quality import (
    ORIGIN_TARGETS,
    OriginTargets,
    compression_ratio,
    performance_entry,
    performance_report,
)
from tara_trainer.export.verify import ServingProbe

DOMAINS = ["healthcare", "business"]
FAST = ServingProbe(load_seconds=0.2, first_token_seconds=0.05, tokens=32, tokens_per_second=120.0, memory_bytes=300 * 2**20)


@pytest.mark.parametrize(("f16", "served", "ratio"), [(4_486_016, 2_397_056, 1.871), (100, 100, 1.0), (300, 100, 3.0)])
def test_compression_ratio(f16: int, served: int, ratio: float) -> None:
    assert compression_ratio(f16, served) == ratio


def test_compression_ratio_refuses_an_empty_file() -> None:
    with pytest.raises(ValueError, match="positive"):
        compression_ratio(10, 0)


@pytest.mark.parametrize(("probe", "misses"), [
    (FAST, []),
    (ServingProbe(6.5, 0.05, 32, 120.0, 300 * 2**20), ["load 6.50 s > 5 s"]),
    (ServingProbe(0.2, 1.4, 32, 3.0, 3 * 10**9), ["first token 1.40 s > 1 s", "memory 2861 MiB > 2 GB"]),
    (ServingProbe(0.2, 0.05, 32, 120.0, None), []),  # memory unreadable: not a miss, reported as null
])
def test_performance_entry_names_each_missed_target(probe: ServingProbe, misses: list[str]) -> None:
    row = performance_entry("healthcare", "Q4_K_M", 1_000_000, 3_000_000, probe)
    assert row["misses"] == misses and row["meetsOriginTargets"] is (not misses)
    assert row["compressionRatio"] == 3.0 and row["memoryBytes"] == probe.memory_bytes
    report = performance_report([row, performance_entry("business", "Q4_K_M", 1, 1, FAST)], 2048, 2)
    assert report["meetsOriginTargets"] is (not misses) and report["originTargets"] == ORIGIN_TARGETS.to_dict()


def test_targets_are_the_original_designs() -> None:
    assert OriginTargets() == OriginTargets(load_seconds=5.0, first_token_seconds=1.0, memory_bytes=2_000_000_000)


def test_performance_line_says_what_was_measured() -> None:
    row = performance_entry("healthcare", "Q4_K_M", 2**20, 3 * 2**20, ServingProbe(6.5, 0.05, 32, 120.0, 300 * 2**20))
    assert performance_line(row) == ("Q4_K_M 1.00 MiB (3.00x smaller than F16), load 6.50 s, first token 0.05 s, 120.0 tokens/s, "
                                     "300 MiB resident; misses load 6.50 s > 5 s")


@pytest.mark.slow
def test_the_build_measures_each_served_domain(tiny_phase_build: Path) -> None:
    manifest = json.loads((tiny_phase_build / "manifest.json").read_text())
    perf = manifest["checks"]["performance"]
    size = {(a["kind"], a["quantization"], a.get("domain")): a["bytes"] for a in manifest["artifacts"]}
    assert [row["domain"] for row in perf["domains"]] == DOMAINS and perf["contextSize"] == 2048
    for row in perf["domains"]:
        lora = size[("lora", "F16", row["domain"])]
        assert row["quantization"] == manifest["served"]["quantization"] == "Q8_0"
        assert (row["bytes"], row["f16Bytes"]) == (size[("base", "Q8_0", None)] + lora, size[("base", "F16", None)] + lora)
        assert row["compressionRatio"] == round(row["f16Bytes"] / row["bytes"], 3) and row["compressionRatio"] > 1.5
        assert 0 < row["loadSeconds"] < 60 and row["firstTokenSeconds"] > 0 and row["tokensPerSecond"] > 0 and row["tokens"] == 32
        # read in a fresh process per domain: at least the KV cache at the serving context, and below the
        # whole files, that cache and an allowance for compute buffers
        kv = manifest["checks"]["serving"]["kvCacheBytes"]
        assert kv < row["memoryBytes"] < row["bytes"] + kv + 128 * 2**20, row
        assert row["meetsOriginTargets"] is (not row["misses"])  # a 2-layer model on 2 cores meets them unless starved
    status = GGUFPhaseStatus.model_validate(phase_status(manifest, Path("/mnt/tara/phases/p/rev-1")))
    assert [p.domain for p in status.performance or []] == DOMAINS
    assert status.performance[0].compression_ratio == perf["domains"][0]["compressionRatio"]
