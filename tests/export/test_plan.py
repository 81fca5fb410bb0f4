"""Table-driven tests of the GGUF build's pure decisions: artifacts per strategy, disk estimate,
quality gate verdicts, the merge gate, what ``auto`` serves under ``serving.targets``, the KV cache
estimate, perplexity context, and the tools' output parsing."""

from __future__ import annotations

import pytest

from tara_api import GGUFPhaseSpec
from tara_api.ggufphase import ArtifactKind, MergeStrategy, PhaseGate, ServingTargets
from tara_api.quant import QuantType
from tara_trainer.errors import DiskFull, ToolFailed, UnsupportedArchitecture
from tara_trainer.export import plan, tools

Q2, Q4, Q5, Q8 = QuantType.Q2_K, QuantType.Q4_K_M, QuantType.Q5_K_M, QuantType.Q8_0


def _spec(**extra) -> GGUFPhaseSpec:
    body = {"phaseNumber": 1, "domains": [{"domain": "healthcare"}, {"domain": "business", "weight": 2}], **extra}
    return GGUFPhaseSpec.model_validate(body)


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({}, [("base", "F16", None, "base-F16.gguf"), ("base", "Q4_K_M", None, "base-Q4_K_M.gguf"),
              ("lora", "F16", "healthcare", "lora-healthcare-F16.gguf"), ("lora", "F16", "business", "lora-business-F16.gguf")]),
        ({"quantization": ["Q8_0", "Q2_K"]},
         [("base", "F16", None, "base-F16.gguf"), ("base", "Q8_0", None, "base-Q8_0.gguf"), ("base", "Q2_K", None, "base-Q2_K.gguf"),
          ("lora", "F16", "healthcare", "lora-healthcare-F16.gguf"), ("lora", "F16", "business", "lora-business-F16.gguf")]),
        ({"merge": {"strategy": "ties", "density": 0.7}},
         [("merged", "F16", None, "universal-ties-F16.gguf"), ("merged", "Q4_K_M", None, "universal-ties-Q4_K_M.gguf")]),
        ({"merge": {"strategy": "dare_ties"}, "quantization": ["Q5_K_M"]},
         [("merged", "F16", None, "universal-dare-ties-F16.gguf"), ("merged", "Q5_K_M", None, "universal-dare-ties-Q5_K_M.gguf")]),
    ],
    ids=["adapters-default", "adapters-two-types", "ties", "dare-ties"],
)
def test_plan_build_lists_every_artifact(extra, expected) -> None:
    p = plan.plan_build(_spec(**extra))
    assert [(a.kind.value, a.quantization, a.domain, a.filename) for a in p.artifacts] == expected
    assert p.weights == (1.0, 2.0)
    # every quantized file is made from the F16 one
    f16 = p.model("F16").filename
    assert all(a.source == f16 for a in p.artifacts if a.quantization != "F16")
    assert p.model_kind == (ArtifactKind.BASE if "merge" not in extra else ArtifactKind.MERGED)
    # a merge measures each domain with its own adapter: the base and the LoRAs, built but not shipped
    assert [(a.kind.value, a.domain, a.filename) for a in p.references] == ([] if "merge" not in extra else [
        ("base", None, "base-F16.gguf"), ("lora", "healthcare", "lora-healthcare-F16.gguf"),
        ("lora", "business", "lora-business-F16.gguf")])


def test_disk_needed_counts_merge_scratch_and_headroom() -> None:
    adapters = plan.plan_build(_spec(quantization=["Q8_0"]))
    merged = plan.plan_build(_spec(quantization=["Q8_0"], merge={"strategy": "linear"}))
    n = 1_000_000
    loras = {"healthcare": 1000, "business": 1000}
    # F16 (2 B) + Q8_0 (8.5 bits) + two F16 LoRAs, plus 10%
    assert plan.disk_needed(adapters, n, loras) == pytest.approx((2 * n + 8.5 / 8 * n + 4000) * 1.1, rel=1e-6)
    # a merge writes the F32 Hugging Face model too, and the merge gate's references: base F16 and the LoRAs
    assert plan.disk_needed(merged, n, loras) == pytest.approx((2 * n + 8.5 / 8 * n + 4 * n + 2 * n + 4000) * 1.1, rel=1e-6)


F16_PPL = {"healthcare": 10.0, "business": 20.0}


@pytest.mark.parametrize(
    ("quantized", "gate", "expected"),
    [
        # the worst domain decides: business +30% beats healthcare +10%
        ({Q2: {"healthcare": 11.0, "business": 26.0}}, {}, [(Q2, 0.30, "business", True)]),
        ({Q2: {"healthcare": 11.0, "business": 26.0}}, {"Q2_K": 0.25}, [(Q2, 0.30, "business", False)]),
        ({Q8: {"healthcare": 10.1, "business": 20.0}}, {}, [(Q8, 0.01, "healthcare", True)]),
        ({Q8: {"healthcare": 10.3, "business": 20.0}}, {}, [(Q8, 0.03, "healthcare", False)]),
        # a quantization that lowers perplexity passes any gate, even zero
        ({Q4: {"healthcare": 9.9, "business": 19.0}}, {"Q4_K_M": 0.0}, [(Q4, -0.01, "healthcare", True)]),
        ({Q4: {"healthcare": 10.5, "business": 21.0}, Q5: {"healthcare": 10.2, "business": 20.2}}, {},
         [(Q4, 0.05, "healthcare", True), (Q5, 0.02, "healthcare", True)]),
    ],
)
def test_evaluate_gate(quantized, gate, expected) -> None:
    verdicts = plan.evaluate_gate(F16_PPL, quantized, PhaseGate.model_validate(gate))
    got = [(v.quantization, round(v.increase, 6), v.worst_domain, v.passed) for v in verdicts]
    assert got == expected
    for v in verdicts:  # the message names type, measured and allowed values
        assert v.quantization.value in v.describe() and f"{v.allowed:+.2%}" in v.describe()


def test_evaluate_gate_refuses_missing_domains() -> None:
    with pytest.raises(ValueError, match="business"):
        plan.evaluate_gate(F16_PPL, {Q2: {"healthcare": 11.0}}, PhaseGate())


def _candidates(rows: dict[QuantType, tuple[bool, float, int, int]]) -> list[plan.Candidate]:
    """type -> (passes the gate, increase over F16, bytes loaded, memory)."""
    return [plan.Candidate(plan.GateVerdict(q, 10.0, 10.0 * (1 + inc), inc, inc if ok else inc / 2, "healthcare"), size, memory)
            for q, (ok, inc, size, memory) in rows.items()]


MiB = 2**20
# A small model's measured types: Q8_0 largest and near-lossless, Q2_K smallest and lossy.
TYPES = {Q8: (True, 0.001, 240 * MiB, 300 * MiB), Q5: (True, 0.01, 170 * MiB, 230 * MiB),
         Q4: (True, 0.02, 150 * MiB, 210 * MiB), Q2: (True, 0.09, 100 * MiB, 160 * MiB)}


@pytest.mark.parametrize(
    ("requested", "order", "rows", "targets", "expected"),
    [
        (None, [Q4, Q8], {Q4: TYPES[Q4], Q8: TYPES[Q8]}, None, Q4),  # the first listed
        (None, [Q4, Q8], {Q4: (False, 0.2, 150 * MiB, 0), Q8: TYPES[Q8]}, None, None),  # the first listed failed the gate
        ("Q8_0", [Q4, Q8], {Q4: (False, 0.2, 150 * MiB, 0), Q8: TYPES[Q8]}, None, Q8),
        ("auto", [Q8, Q5, Q4, Q2], {**TYPES, Q2: (False, 0.9, 100 * MiB, 0)}, None, Q4),  # smallest that passes
        ("auto", [Q8, Q2], {Q8: TYPES[Q8], Q2: TYPES[Q2]}, None, Q2),
        ("auto", [Q8, Q4], {Q8: (False, 0.5, 1, 1), Q4: (False, 0.5, 1, 1)}, None, None),
        # targets: the smallest type within every limit
        ("auto", list(TYPES), TYPES, {"maxQualityLoss": 0.05}, Q4),  # Q2_K loses 9%
        ("auto", list(TYPES), TYPES, {"maxQualityLoss": 0.015}, Q5),
        ("auto", list(TYPES), TYPES, {"maxFileSize": "200Mi"}, Q2),
        ("auto", list(TYPES), TYPES, {"maxFileSize": "200Mi", "maxQualityLoss": 0.005}, None),  # Q8_0 too big, others too lossy
        ("auto", list(TYPES), TYPES, {"maxMemory": "159Mi"}, None),  # memory counts the KV cache: even Q2_K needs 160 MiB
        ("auto", list(TYPES), TYPES, {"maxMemory": "160Mi"}, Q2),  # a limit is inclusive
        ("auto", list(TYPES), TYPES, {"maxMemory": "1Gi", "maxFileSize": "1Gi", "maxQualityLoss": 1}, Q2),
        # an explicit type must meet the targets too
        ("Q8_0", list(TYPES), TYPES, {"maxFileSize": "200Mi"}, None),
        (None, [Q5, Q8], {Q5: TYPES[Q5], Q8: TYPES[Q8]}, {"maxFileSize": "200Mi"}, Q5),
    ],
)
def test_choose_served(requested, order, rows, targets, expected) -> None:
    choice = plan.choose_served(requested, order, _candidates(rows), ServingTargets.model_validate(targets) if targets else None)
    assert choice.quantization == expected, choice.reason
    assert choice.reason
    if expected is None:  # the reason lists every type it considered with its size, memory and loss
        considered = rows if requested == "auto" else {QuantType(requested) if requested else order[0]: None}
        for q in considered:
            assert q.value in choice.reason and "MiB" in choice.reason and "quality loss" in choice.reason
    else:
        assert choice.reason.count(expected.value) >= 1 and not choice.misses[expected]


def test_choose_served_reason_names_each_miss() -> None:
    targets = ServingTargets.model_validate({"maxFileSize": "200Mi", "maxMemory": "220Mi", "maxQualityLoss": 0.015})
    choice = plan.choose_served("auto", list(TYPES), _candidates({**TYPES, Q2: (False, 0.09, 100 * MiB, 160 * MiB)}), targets)
    assert choice.quantization is None
    assert choice.misses == {
        Q8: ("files 240.00 MiB > maxFileSize 200Mi", "memory 300.00 MiB > maxMemory 220Mi"),
        Q5: ("memory 230.00 MiB > maxMemory 220Mi",),
        Q4: ("quality loss +2.00% > maxQualityLoss +1.50%",),
        Q2: ("quality gate +9.00% > allowed +4.50%", "quality loss +9.00% > maxQualityLoss +1.50%"),
    }
    assert choice.reason.startswith("auto: no type passes the quality gate and meets serving.targets: Q8_0 240.00 MiB, memory 300.00 MiB")
    ok = plan.choose_served("auto", list(TYPES), _candidates(TYPES), targets.model_copy(update={"max_quality_loss": 0.05}))
    assert ok.quantization == Q4 and ok.reason.startswith("auto: Q4_K_M 150.00 MiB") and "Q2_K" in ok.reason


@pytest.mark.parametrize(
    ("adapter", "merged", "base", "allowed", "passed", "gain_kept"),
    [
        # the merge kept 82% of healthcare's gain: +4.5% over the adapter
        ({"healthcare": 20.0, "business": 30.0}, {"healthcare": 20.9, "business": 30.0},
         {"healthcare": 25.0, "business": 40.0}, 0.05, [True, True], [0.82, 1.0]),
        ({"healthcare": 20.0, "business": 30.0}, {"healthcare": 20.9, "business": 33.0},
         {"healthcare": 25.0, "business": 40.0}, 0.05, [True, False], [0.82, 0.7]),
        # report only: nothing fails however large the loss
        ({"healthcare": 20.0}, {"healthcare": 40.0}, {"healthcare": 25.0}, None, [True], [-3.0]),
        # a merge can beat the separate adapter (negative loss)
        ({"healthcare": 20.0}, {"healthcare": 19.0}, {"healthcare": 25.0}, 0.0, [True], [1.2]),
        # the adapter did not help on this text: no gain to keep
        ({"healthcare": 26.0}, {"healthcare": 26.0}, {"healthcare": 25.0}, 0.0, [True], [None]),
    ],
)
def test_evaluate_merge(adapter, merged, base, allowed, passed, gain_kept) -> None:
    verdicts = plan.evaluate_merge(MergeStrategy.TIES, adapter, merged, base, allowed)
    assert [v.passed for v in verdicts] == passed
    assert [None if v.gain_kept is None else round(v.gain_kept, 6) for v in verdicts] == gain_kept
    failure = plan.merge_failure(verdicts)
    assert (failure is None) == all(passed)
    for v in verdicts:
        assert v.domain in v.describe() and f"{v.merged:.4f}" in v.describe() and f"{v.adapter:.4f}" in v.describe()


@pytest.mark.parametrize(
    ("strategy", "advice"),
    [(MergeStrategy.LINEAR, "raise the weight of healthcare"), (MergeStrategy.TIES, "raise merge.density"),
     (MergeStrategy.DARE_TIES, "raise merge.density"), (MergeStrategy.SVD, "raise merge.svdRank")],
)
def test_merge_failure_says_what_to_change(strategy, advice) -> None:
    verdicts = plan.evaluate_merge(strategy, {"healthcare": 20.0, "business": 30.0}, {"healthcare": 22.0, "business": 30.3},
                                   {"healthcare": 25.0, "business": 40.0}, 0.02)
    message = plan.merge_failure(verdicts)
    assert message is not None and message.startswith(f"merge gate failed: the {strategy.value} universal model")
    assert "healthcare: merged" in message and "22.0000 vs 20.0000" in message and "+10.00%" in message
    assert "business" not in message.split(". To fix")[0]  # +1% passes
    assert advice in message and "merge.strategy: adapters" in message and "qualityGate.maxMergeLoss" in message
    others = message.split("try merge.strategy ")[1].split(";")[0].split(", ")
    assert sorted(others) == sorted({"linear", "ties", "dare_ties", "svd"} - {strategy.value})  # the other strategies


@pytest.mark.parametrize(
    ("shape", "context", "expected"),
    [
        # Llama-3.2-1B: 16 layers, 8 KV heads of 64, 8192 tokens -> 256 MiB
        (plan.KvShape((8,) * 16, 64, 64), 8192, 2 * 16 * 8192 * 8 * 64 * 2),
        (plan.KvShape((8,) * 16, 64, 64), 8192, 256 * MiB),
        # the tiny model: 2 layers, 4 heads of 64, no grouped-query attention
        (plan.KvShape((4, 4), 64, 64), 2048, 2 * 2 * 2048 * 4 * 64 * 2),
        # per-layer KV heads and different key and value sizes are summed as llama.cpp allocates them
        (plan.KvShape((2, 0, 2), 128, 64), 100, 100 * 4 * (128 + 64) * 2),
    ],
)
def test_kv_cache_bytes(shape, context, expected) -> None:
    assert plan.kv_cache_bytes(shape, context) == expected


@pytest.mark.parametrize(
    ("tokens", "expected"),
    [(5000, 512), (1024, 512), (1023, 256), (300, 128), (256, 128), (255, 64), (128, 64), (127, None), (0, None)],
)
def test_perplexity_context(tokens: int, expected: int | None) -> None:
    assert plan.perplexity_context(tokens) == expected


def test_parse_perplexity() -> None:
    out = "[1]12.3456,[2]11.0000,\nFinal estimate: PPL = 11.5432 +/- 0.41210\n"
    assert tools.parse_perplexity(out) == pytest.approx(11.5432)
    assert tools.parse_perplexity("Final estimate: PPL = 1.2e+03 +/- 5.1e+01") == pytest.approx(1200.0)
    # the asynchronous logger lost the final line: the last running value is the same number
    assert tools.parse_perplexity("[1]810.8325,[2]807.5573,[3]807.2942,warning: no usable GPU") == pytest.approx(807.2942)
    announced = "perplexity: calculating perplexity over 3 chunks, n_ctx=512, batch_size=512, n_seq=1\n"
    assert tools.parse_perplexity(announced + "[1]810.8325,[2]807.5573,[3]807.2942,") == pytest.approx(807.2942)
    # ... but it also loses running values at exit: a reading of 2 of 3 chunks is no perplexity of the text
    with pytest.raises(ToolFailed, match="printed no final perplexity"):
        tools.parse_perplexity(announced + "[1]810.8325,[2]807.5573,")
    with pytest.raises(ToolFailed, match="printed no final perplexity"):
        tools.parse_perplexity("llama_model_load: error loading model")


def test_perplexity_measures_again_when_the_output_was_cut_short(tmp_path) -> None:
    """llama.cpp's logger drops its last lines at exit now and then: the run is repeated, never read short."""
    import sys
    from types import SimpleNamespace

    counter, tool = tmp_path / "runs", tmp_path / "llama-perplexity"
    tool.write_text(f"""#!{sys.executable}
from pathlib import Path
counter = Path({str(counter)!r})
n = int(counter.read_text()) + 1 if counter.exists() else 1
counter.write_text(str(n))
print("perplexity: calculating perplexity over 3 chunks, n_ctx=64, batch_size=64, n_seq=1")
print("[1]810.8325,[2]807.5573," + ("[3]807.2942," if n == 3 else ""))
""")
    tool.chmod(0o755)
    tc = SimpleNamespace(tool=lambda _name: tool, tool_env=lambda: None)
    assert tools.perplexity(tc, tmp_path / "m.gguf", tmp_path / "eval.txt", 64, 2) == pytest.approx(807.2942)
    assert counter.read_text() == "3"
    counter.write_text("-10")  # never complete within the attempts
    with pytest.raises(ToolFailed, match="lost its final chunks 5 times"):
        tools.perplexity(tc, tmp_path / "m.gguf", tmp_path / "eval.txt", 64, 2)


@pytest.mark.parametrize(
    ("script", "error", "message"),
    [
        ("import sys; print('writing'); print('OSError: [Errno 28] No space left on device', file=sys.stderr); sys.exit(1)",
         DiskFull, "no space left"),
        ("import sys; print(\"NotImplementedError: Architecture 'FooForCausalLM' not supported!\"); sys.exit(1)",
         UnsupportedArchitecture, "FooForCausalLM"),
        ("import sys; print('line one'); print('tensor mismatch', file=sys.stderr); sys.exit(3)",
         ToolFailed, "exit status 3"),
    ],
    ids=["disk-full", "unsupported-architecture", "plain-failure"],
)
def test_failing_tools_become_reasons(tmp_path, script, error, message) -> None:
    import sys

    final = tmp_path / "model.gguf"
    with pytest.raises(error, match=message) as info:
        tools._run("convert", [sys.executable, "-c", script])
    if error is ToolFailed:
        assert "tensor mismatch" in str(info.value)  # the tool's last lines travel with the error
    assert not final.exists() and not tools.partial_path(final).exists()
