"""Table-driven tests of the GGUF build's pure decisions: artifacts per strategy, disk estimate,
quality gate verdicts, what ``auto`` serves, perplexity context, and the tools' output parsing."""

from __future__ import annotations

import pytest

from tara_api import GGUFPhaseSpec
from tara_api.ggufphase import ArtifactKind, PhaseGate
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


def test_disk_needed_counts_merge_scratch_and_headroom() -> None:
    adapters = plan.plan_build(_spec(quantization=["Q8_0"]))
    merged = plan.plan_build(_spec(quantization=["Q8_0"], merge={"strategy": "linear"}))
    n = 1_000_000
    loras = {"healthcare": 1000, "business": 1000}
    # F16 (2 B) + Q8_0 (8.5 bits) + two F16 LoRAs, plus 10%
    assert plan.disk_needed(adapters, n, loras) == pytest.approx((2 * n + 8.5 / 8 * n + 4000) * 1.1, rel=1e-6)
    # a merge writes the F32 Hugging Face model too and has no LoRAs
    assert plan.disk_needed(merged, n, loras) == pytest.approx((2 * n + 8.5 / 8 * n + 4 * n) * 1.1, rel=1e-6)


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


def _verdicts(passed: dict[QuantType, bool]) -> list[plan.GateVerdict]:
    return [plan.GateVerdict(q, 10.0, 10.0, 0.0 if ok else 1.0, 0.5, "healthcare") for q, ok in passed.items()]


@pytest.mark.parametrize(
    ("requested", "order", "passed", "expected"),
    [
        (None, [Q4, Q8], {Q4: True, Q8: True}, Q4),  # the first listed
        (None, [Q4, Q8], {Q4: False, Q8: True}, None),  # the first listed failed: nothing to serve
        ("Q8_0", [Q4, Q8], {Q4: False, Q8: True}, Q8),
        ("auto", [Q8, Q5, Q4, Q2], {Q8: True, Q5: True, Q4: True, Q2: False}, Q4),  # smallest that passes
        ("auto", [Q8, Q2], {Q8: True, Q2: True}, Q2),
        ("auto", [Q8, Q4], {Q8: False, Q4: False}, None),
    ],
)
def test_choose_served(requested, order, passed, expected) -> None:
    assert plan.choose_served(requested, order, _verdicts(passed)) == expected


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
    with pytest.raises(ToolFailed, match="printed no perplexity"):
        tools.parse_perplexity("llama_model_load: error loading model")


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
