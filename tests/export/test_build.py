"""The GGUF build end to end on the tiny model: real llama.cpp conversion, quantization, loading,
tokenization, logits and perplexity; real PEFT merges; and the faults users hit."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from safetensors.torch import load_file, save_file

from tara_api import GGUFPhase
from tara_trainer.errors import (
    AdapterUnavailable,
    ArtifactInvalid,
    DiskFull,
    IncompatibleAdapter,
    ModelUnavailable,
    QualityGateFailed,
    UnsupportedArchitecture,
)
from tara_trainer.export import build as build_mod
from tara_trainer.export import inputs, merge, verify
from tara_trainer.export.build import BuildRequest, build

pytestmark = pytest.mark.slow

ALL_TYPES = ["Q8_0", "Q5_K_M", "Q4_K_M", "Q2_K"]
DOMAINS = ("healthcare", "business")  # what the export conftest trains


@pytest.fixture(scope="module")
def make_phase(phase_manifest):
    def make(tmp: Path, name: str, **spec) -> GGUFPhase:
        return GGUFPhase.model_validate(yaml.safe_load(phase_manifest(tmp / f"{name}.yaml", **spec).read_text()))

    return make


@pytest.fixture(scope="module")
def request_for(make_phase):
    def make(tmp: Path, trainings_dir: Path, name: str = "phase", **spec) -> BuildRequest:
        return BuildRequest(phase=make_phase(tmp, name, **spec), output_dir=tmp / name / "build", trainings_dir=trainings_dir)

    return make


@pytest.fixture(scope="module")
def adapters_build(tmp_path_factory, trainings_dir, settings, toolchain, request_for):
    tmp = tmp_path_factory.mktemp("build-adapters")
    return build(request_for(tmp, trainings_dir, quantization=ALL_TYPES), settings)


def test_adapters_build_produces_every_type_smaller_than_the_last(adapters_build) -> None:
    m = adapters_build.manifest
    by_type = {a["quantization"]: a for a in m["artifacts"] if a["kind"] == "base"}
    assert set(by_type) == {"F16", *ALL_TYPES}
    sizes = [by_type[q]["bytes"] for q in ("Q2_K", "Q4_K_M", "Q5_K_M", "Q8_0", "F16")]
    assert sizes == sorted(sizes) and len(set(sizes)) == 5, sizes
    bits = [by_type[q]["bitsPerWeight"] for q in ("Q2_K", "Q4_K_M", "Q5_K_M", "Q8_0", "F16")]
    assert bits == sorted(bits) and 15.5 < bits[-1] <= 16.5
    loras = {a["domain"]: a for a in m["artifacts"] if a["kind"] == "lora"}
    assert set(loras) == set(DOMAINS)
    for q, a in by_type.items():  # per-domain quality of every type: the worst domain is its perplexity
        assert a["perplexityByDomain"] == {d: round(m["checks"]["perplexity"][q][d], 4) for d in DOMAINS}, a
        assert a["perplexity"] == max(a["perplexityByDomain"].values())
    for a in m["artifacts"]:
        path = adapters_build.output_dir / a["path"]
        assert path.stat().st_size == a["bytes"] and len(a["sha256"]) == 64
        assert a["lineage"]["domains"], a  # dataset hash -> adapter -> GGUF
        for d in a["lineage"]["domains"].values():
            assert len(d["datasetSha256"]) == 64 and len(d["adapterManifestSha256"]) == 64
    assert m["served"] == {"quantization": "Q8_0", "model": "base-Q8_0.gguf",
                           "loras": {d: f"lora-{d}-F16.gguf" for d in DOMAINS}, "reason": m["served"]["reason"]}
    assert m["served"]["reason"].startswith("the first of spec.quantization: Q8_0") and "passes the quality gate" in m["served"]["reason"]
    assert not list(adapters_build.output_dir.glob("*.partial")) and not (adapters_build.output_dir / "work").exists()


def test_adapters_build_validated_every_artifact(adapters_build) -> None:
    checks = adapters_build.manifest["checks"]
    assert checks["tokenization"]["mismatches"] == [] and checks["tokenization"]["samples"] >= 8
    assert len(checks["logits"]) == 1 + len(DOMAINS) and all(c["passed"] for c in checks["logits"])
    assert all(n == 8 for n in checks["generation"].values()) and len(checks["generation"]) == 5 + len(DOMAINS)
    ppl = checks["perplexity"]
    for q in ("F16", *ALL_TYPES):
        assert set(ppl[q]) == set(DOMAINS) and all(v > 1 for v in ppl[q].values())
    gate = {g["quantization"]: g for g in adapters_build.manifest["gate"]}
    assert all(g["passed"] for g in gate.values())
    # Q2_K loses the most; Q8_0 almost nothing
    assert gate["Q2_K"]["increase"] > gate["Q8_0"]["increase"] and abs(gate["Q8_0"]["increase"]) < 0.02


def test_rerun_reuses_and_verify_catches_corruption(adapters_build, trainings_dir, settings, tmp_path, make_phase) -> None:
    again = build(BuildRequest(phase=make_phase(tmp_path, "phase", quantization=ALL_TYPES),
                               output_dir=adapters_build.output_dir, trainings_dir=trainings_dir), settings)
    assert again.reused and again.manifest["fingerprint"] == adapters_build.manifest["fingerprint"]
    copy = tmp_path / "copy"
    shutil.copytree(adapters_build.output_dir, copy)
    assert verify.verify_manifest(copy) == []
    target = copy / "base-Q4_K_M.gguf"
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0xFF
    target.write_bytes(bytes(data))
    problems = verify.verify_manifest(copy)
    assert problems == ["base-Q4_K_M.gguf: sha256 differs from the manifest (corrupted or replaced)"]
    cli = subprocess.run([sys.executable, "-m", "tara_trainer.cli", "verify-build", "--build", str(copy)],
                         capture_output=True, text=True, check=False)
    assert cli.returncode == ArtifactInvalid.exit_code and "base-Q4_K_M.gguf: sha256 differs" in cli.stderr


def test_logits_check_catches_a_mismatched_adapter(adapters_build, trainings_dir, tiny_model_dir, toolchain, tmp_path) -> None:
    out = adapters_build.output_dir
    ids = list(range(1, 40))
    good = verify.compare_logits(toolchain, out / "base-F16.gguf",
                                 merge.merged_with_adapter(tiny_model_dir, trainings_dir / "healthcare" / "adapter"),
                                 ids, 1e-2, lora=out / "lora-healthcare-F16.gguf")
    assert good.passed, good
    # The GGUF LoRA of one domain against the Hugging Face model of another: the check must fail.
    crossed = verify.compare_logits(toolchain, out / "base-F16.gguf",
                                    merge.merged_with_adapter(tiny_model_dir, trainings_dir / "business" / "adapter"),
                                    ids, 1e-2, lora=out / "lora-healthcare-F16.gguf")
    assert not crossed.passed and crossed.max_abs_diff > 10 * good.max_abs_diff
    # An adapter whose weights were altered after export (lora_B scaled) is caught the same way.
    bent = tmp_path / "bent"
    shutil.copytree(trainings_dir / "healthcare" / "adapter", bent)
    tensors = load_file(str(bent / "adapter_model.safetensors"))
    save_file({k: v * 3 if "lora_B" in k else v for k, v in tensors.items()}, str(bent / "adapter_model.safetensors"))
    altered = verify.compare_logits(toolchain, out / "base-F16.gguf", merge.merged_with_adapter(tiny_model_dir, bent),
                                    ids, 1e-2, lora=out / "lora-healthcare-F16.gguf")
    assert not altered.passed


def test_tight_gate_fails_the_build_and_keeps_nothing_servable(trainings_dir, settings, toolchain, tmp_path, request_for) -> None:
    req = request_for(tmp_path, trainings_dir, quantization=["Q4_K_M", "Q2_K"], qualityGate={"maxPerplexityIncrease": {"Q2_K": 0.0}})
    with pytest.raises(QualityGateFailed) as info:
        build(req, settings)
    message = str(info.value)
    assert "Q2_K FAILS" in message and "allowed +0.00%" in message and "perplexity" in message
    assert not req.output_dir.exists()
    failed = req.output_dir.with_name("build.failed")
    report = json.loads((failed / "build-report.json").read_text())
    assert report["reason"] == "QualityGateFailed" and not list(failed.glob("*.partial"))


def test_auto_serves_the_smallest_type_that_passes(trainings_dir, settings, toolchain, tmp_path, request_for) -> None:
    req = request_for(tmp_path, trainings_dir, quantization=["Q8_0", "Q2_K"], serving={"quantization": "auto"},
                   qualityGate={"maxPerplexityIncrease": {"Q2_K": 0.0}})
    m = build(req, settings).manifest
    assert m["served"]["quantization"] == "Q8_0"
    assert [r["quantization"] for r in m["rejected"]] == ["Q2_K"] and not (req.output_dir / "base-Q2_K.gguf").exists()
    assert {a["quantization"] for a in m["artifacts"] if a["kind"] == "base"} == {"F16", "Q8_0"}


@pytest.mark.parametrize("strategy", ["linear", "ties", "dare_ties", "svd"])
def test_merged_universal_model(strategy, trainings_dir, settings, toolchain, tmp_path, request_for) -> None:
    req = request_for(tmp_path, trainings_dir, quantization=["Q8_0"], merge={"strategy": strategy})
    m = build(req, settings).manifest
    kinds = sorted((a["kind"], a["quantization"]) for a in m["artifacts"])
    assert kinds == [("merged", "F16"), ("merged", "Q8_0")]
    assert m["checks"]["logits"][0]["passed"] and m["served"]["loras"] == {}
    assert m["artifacts"][0]["domains"] == list(DOMAINS)
    # the merge gate's reading: each domain, merged F16 vs the base F16 with its own LoRA (report only: no limit set)
    merge_check = m["checks"]["merge"]
    assert merge_check["strategy"] == strategy and merge_check["maxMergeLoss"] is None and merge_check["passed"]
    ppl = m["checks"]["perplexity"]
    for row in merge_check["domains"]:
        d = row["domain"]
        assert row["mergedPerplexity"] == round(ppl["F16"][d], 4) and row["adapterPerplexity"] == round(ppl["baseWithAdapter"][d], 4)
        assert row["loss"] == pytest.approx(ppl["F16"][d] / ppl["baseWithAdapter"][d] - 1, abs=1e-6)
        assert ppl["base"][d] > ppl["baseWithAdapter"][d]  # the adapters learned their domain: a gain to keep
    assert [r["domain"] for r in merge_check["domains"]] == list(DOMAINS)
    # the references were measured, not shipped
    assert sorted(p.name for p in req.output_dir.glob("*.gguf")) == [f"universal-{strategy.replace('_', '-')}-{q}.gguf"
                                                                      for q in ("F16", "Q8_0")]
    assert m["served"]["reason"].startswith("the first of spec.quantization: Q8_0")


def test_merge_gate_fails_a_merge_that_loses_a_domain(trainings_dir, settings, toolchain, tmp_path, request_for) -> None:
    # dare_ties keeping 10% of each adapter (rescaled) cannot match both adapters on their own text
    req = request_for(tmp_path, trainings_dir, quantization=["Q8_0"], merge={"strategy": "dare_ties", "density": 0.1},
                      qualityGate={"maxMergeLoss": 0.0})
    with pytest.raises(QualityGateFailed) as info:
        build(req, settings)
    message = str(info.value)
    report = json.loads((req.output_dir.with_name("build.failed") / "build-report.json").read_text())
    assert report["reason"] == "QualityGateFailed" and report["message"] == message and not req.output_dir.exists()
    merge_check = report["checks"]["merge"]
    assert not merge_check["passed"] and merge_check["maxMergeLoss"] == 0.0
    failing = [r for r in merge_check["domains"] if not r["passed"]]
    assert failing and all(r["loss"] > 0 for r in failing)
    assert message.startswith("merge gate failed: the dare_ties universal model loses more than qualityGate.maxMergeLoss +0.00%")
    for r in failing:  # the domain, both perplexities, the loss
        assert f"{r['domain']}: merged (dare_ties) perplexity {r['mergedPerplexity']:.4f} vs {r['adapterPerplexity']:.4f}" in message
    assert "raise merge.density" in message and "merge.strategy: adapters" in message and "linear, ties, svd" in message


def test_a_size_target_excludes_the_larger_type(trainings_dir, settings, toolchain, tmp_path, request_for) -> None:
    req = request_for(tmp_path, trainings_dir, quantization=["Q8_0", "Q4_K_M"],
                      serving={"quantization": "auto", "contextSize": 1024,
                               "targets": {"maxFileSize": "2Mi", "maxMemory": "1Gi", "maxQualityLoss": 0.5}})
    m = build(req, settings).manifest
    serving = m["checks"]["serving"]
    # the tiny model's KV cache from its GGUF metadata: 2 layers x 1024 tokens x 4 KV heads x (64 + 64) x 2 bytes
    assert serving["kvCacheBytes"] == 2 * 1024 * 4 * 128 * 2 and serving["contextSize"] == 1024
    by_type = {c["quantization"]: c for c in serving["candidates"]}
    files = {a["quantization"]: a["bytes"] for a in m["artifacts"] if a["kind"] == "base"}
    loras = sum(a["bytes"] for a in m["artifacts"] if a["kind"] == "lora")
    for q, c in by_type.items():  # what the server loads: the model and both LoRAs; memory adds the KV cache
        assert c["bytes"] == files[q] + loras and c["memoryBytes"] == c["bytes"] + serving["kvCacheBytes"]
    assert by_type["Q8_0"]["bytes"] > 2 * 2**20 > by_type["Q4_K_M"]["bytes"]
    assert by_type["Q8_0"]["misses"] == [f"files {by_type['Q8_0']['bytes'] / 2**20:.2f} MiB > maxFileSize 2Mi"]
    assert by_type["Q4_K_M"]["misses"] == [] and m["served"]["quantization"] == "Q4_K_M"
    reason = m["served"]["reason"]
    assert reason.startswith("auto: Q4_K_M") and "meets serving.targets" in reason and "> maxFileSize 2Mi" in reason
    assert m["rejected"] == [] and (req.output_dir / "base-Q8_0.gguf").is_file()  # valid, just not served
    assert serving["targets"] == {"maxFileSize": "2Mi", "maxMemory": "1Gi", "maxQualityLoss": 0.5}


def test_linear_merge_of_different_ranks_is_a_clear_error(trainings_dir, tiny_model_dir, settings, toolchain, tmp_path, request_for,
                                                          training) -> None:
    from tara_trainer.train import TrainRequest, train

    res = training("business", tiny_model_dir, steps=2, r=4)
    other = tmp_path / "business-r4"
    train(TrainRequest(name="business", spec=res.spec, output_dir=other, base_dir=tmp_path), settings)
    req = request_for(tmp_path, trainings_dir, merge={"strategy": "linear"})
    req = BuildRequest(phase=req.phase, output_dir=req.output_dir, trainings_dir=trainings_dir, adapters={"business": other})
    with pytest.raises(IncompatibleAdapter, match="linear"):
        build(req, settings)


def test_inputs_are_checked_before_converting(trainings_dir, tiny_model_dir, settings, toolchain, tmp_path, monkeypatch, request_for) -> None:
    # a domain without a trained adapter
    req = request_for(tmp_path, tmp_path / "nowhere")
    with pytest.raises(AdapterUnavailable, match="has DomainTraining healthcare succeeded"):
        build(req, settings)
    # an adapter whose file no longer matches its manifest
    broken = tmp_path / "broken"
    shutil.copytree(trainings_dir / "healthcare", broken)
    (broken / "adapter" / "adapter_model.safetensors").write_bytes(b"not safetensors")
    with pytest.raises(AdapterUnavailable, match="does not match its sha256"):
        build(BuildRequest(phase=req.phase, output_dir=req.output_dir, trainings_dir=trainings_dir,
                           adapters={"healthcare": broken}), settings)
    # too little disk: nothing is converted
    monkeypatch.setattr(build_mod.shutil, "disk_usage", lambda _p: shutil._ntuple_diskusage(10**9, 10**9 - 1000, 1000))
    with pytest.raises(DiskFull, match=r"needs about .* MiB .* but 0.0 MiB are free"):
        build(BuildRequest(phase=req.phase, output_dir=req.output_dir, trainings_dir=trainings_dir), settings)
    assert not req.output_dir.exists()
    assert json.loads((req.output_dir.with_name("build.failed") / "build-report.json").read_text())["reason"] == "DiskFull"


def test_adapter_from_another_base_is_refused(trainings_dir, tiny_model_dir) -> None:
    shape = inputs.read_model_shape(tiny_model_dir)
    adapter = trainings_dir / "healthcare" / "adapter"
    assert inputs.check_adapter_fits("healthcare", adapter, shape) > 0
    wider = {k: (v[0] * 2, v[1]) if k.endswith("q_proj.weight") else v for k, v in shape.weights.items()}
    with pytest.raises(IncompatibleAdapter, match=r"q_proj.*trained on another base"):
        inputs.check_adapter_fits("healthcare", adapter, inputs.ModelShape(**{**shape.__dict__, "weights": wider}))
    with pytest.raises(IncompatibleAdapter, match="layer 1 but the base model has 1 layers"):
        inputs.check_adapter_fits("healthcare", adapter, inputs.ModelShape(**{**shape.__dict__, "layers": 1}))


def test_unsupported_architecture_is_named(trainings_dir, tiny_model_dir, settings, toolchain, tmp_path, request_for) -> None:
    base = tmp_path / "foo-model"
    shutil.copytree(tiny_model_dir, base)
    config = json.loads((base / "config.json").read_text())
    (base / "config.json").write_text(json.dumps({**config, "architectures": ["FooForCausalLM"]}))
    req = request_for(tmp_path, trainings_dir)
    req = BuildRequest(phase=req.phase, output_dir=req.output_dir, trainings_dir=trainings_dir, base_model=base)
    with pytest.raises(UnsupportedArchitecture, match="FooForCausalLM"):
        build(req, settings)
    assert not req.output_dir.exists() and not list(req.output_dir.parent.glob("**/*.gguf"))


def test_cleanup_removes_leftovers_and_reports(trainings_dir, tmp_path, make_phase) -> None:
    out = tmp_path / "healthcare"
    shutil.copytree(trainings_dir / "healthcare", out)
    (out / ".adapter.tmp").mkdir()
    (out / ".adapter.tmp" / "x.bin").write_bytes(b"x" * 100)
    (out / "trainer.log").write_text("log")
    for step in (100, 200):  # beside the training's own checkpoint-24
        (out / "checkpoints" / f"checkpoint-{step}").mkdir(parents=True, exist_ok=True)
        (out / "checkpoints" / f"checkpoint-{step}" / "state.bin").write_bytes(b"s" * 10)
    [d] = inputs.locate_domains(make_phase(tmp_path, "p").spec.domains[:1], None, {"healthcare": out})
    report = inputs.clean_outputs([d], keep_checkpoints=1)
    removed = {Path(r["path"]).name: r["why"] for r in report.removed}
    assert removed == {".adapter.tmp": "temporary folder", "trainer.log": "log",
                       "checkpoint-24": "surplus checkpoint (the adapter is complete)",
                       "checkpoint-100": "surplus checkpoint (the adapter is complete)"}
    assert report.bytes_freed >= 100 and (out / "checkpoints" / "checkpoint-200").is_dir()
    assert inputs.locate_domains(make_phase(tmp_path, "p").spec.domains[:1], None, {"healthcare": out})  # adapter intact


def test_cli_build_rejects_unknown_quantization_and_adapter(tmp_path, phase_manifest) -> None:
    bad = phase_manifest(tmp_path / "bad.yaml", quantization=["Q3_K_S"])
    proc = subprocess.run([sys.executable, "-m", "tara_trainer.cli", "build", "--phase", str(bad), "--output", str(tmp_path / "o")],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 2 and "spec.quantization[0]" in proc.stderr and "Q3_K_S" in proc.stderr
    good = phase_manifest(tmp_path / "good.yaml")
    proc = subprocess.run([sys.executable, "-m", "tara_trainer.cli", "build", "--phase", str(good), "--output", str(tmp_path / "o"),
                           "--adapter", "poetry=/tmp/x"], capture_output=True, text=True, check=False)
    assert proc.returncode == 2 and "poetry" in proc.stderr


def test_cli_build_then_verify(trainings_dir, settings, toolchain, tmp_path, phase_manifest) -> None:
    """The README's commands: build a phase from the trainings folder, then verify the result."""
    manifest = phase_manifest(tmp_path / "phase-1.yaml", quantization=["Q4_K_M"])
    out = tmp_path / "phases" / "phase-1"
    env = {**__import__("os").environ, "TARA_CACHE_DIR": str(settings.cache_dir)}
    proc = subprocess.run([sys.executable, "-m", "tara_trainer.cli", "build", "--phase", str(manifest),
                           "--trainings", str(trainings_dir), "--output", str(out), "--no-cleanup"],
                          capture_output=True, text=True, env=env, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads(proc.stdout)
    assert summary["served"]["model"] == "base-Q4_K_M.gguf" and not summary["reused"]
    assert "[3/" in proc.stderr and "quality gate: Q4_K_M passes" in proc.stderr  # progress and the gate's reading
    proc = subprocess.run([sys.executable, "-m", "tara_trainer.cli", "verify-build", "--build", str(out)],
                          capture_output=True, text=True, env=env, check=False)
    assert proc.returncode == 0 and "every artifact matches its sha256" in proc.stdout


def test_serve_verifies_then_runs_llama_server_with_one_lora_per_domain(adapters_build, settings, tmp_path) -> None:
    """The serving container's command: llama-server answers with both adapters loaded (scale 0)."""
    import os
    import socket
    import time
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "TARA_CACHE_DIR": str(settings.cache_dir)}
    cmd = [sys.executable, "-m", "tara_trainer.cli", "serve", "--build", str(adapters_build.output_dir), "--port", str(port),
           "--ctx-size", "256", "--threads", "2"]
    dry = subprocess.run([*cmd, "--dry-run"], capture_output=True, text=True, env=env, check=True).stdout
    assert "base-Q8_0.gguf" in dry and dry.count("--lora-scaled ") == 2 and dry.count("F16.gguf:0") == 2
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise AssertionError(f"llama-server did not come up: {proc.stderr.read().decode()[-2000:] if proc.poll() is not None else ''}") from None
                time.sleep(0.3)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/lora-adapters", timeout=5) as r:
            adapters = json.loads(r.read())
        assert [a["id"] for a in adapters] == [0, 1] and all(a["scale"] == 0 for a in adapters)
        assert [Path(a["path"]).name for a in adapters] == ["lora-healthcare-F16.gguf", "lora-business-F16.gguf"]
    finally:
        proc.terminate()
        proc.wait(20)
    # a corrupted file never serves
    copy = tmp_path / "copy"
    shutil.copytree(adapters_build.output_dir, copy)
    (copy / "lora-business-F16.gguf").write_bytes(b"GGUF but not really")
    bad = subprocess.run([sys.executable, "-m", "tara_trainer.cli", "serve", "--build", str(copy), "--dry-run"],
                         capture_output=True, text=True, env=env, check=False)
    assert bad.returncode == ArtifactInvalid.exit_code and "lora-business-F16.gguf" in bad.stderr


def test_base_model_from_a_hugging_face_cache(trainings_dir, tiny_model_dir, tmp_path) -> None:
    """A DomainTraining on a Hub repo: the build finds the base in the (offline) Hugging Face cache."""
    commit = "0123456789abcdef0123456789abcdef01234567"
    repo = tmp_path / "hub" / "models--tara--tiny"
    shutil.copytree(tiny_model_dir, repo / "snapshots" / commit)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    [d] = inputs.locate_domains(GGUFPhase.model_validate({"spec": {"phaseNumber": 1, "domains": [{"domain": "healthcare"}]}}).spec.domains,
                                trainings_dir, {})
    hub = inputs.DomainInput(**{**d.__dict__, "manifest": {**d.manifest, "baseModel": {"id": "tara/tiny", "revision": None}}})
    assert inputs.resolve_base_model([hub], None, hf_cache=tmp_path / "hub") == repo / "snapshots" / commit
    with pytest.raises(ModelUnavailable, match="tara/other.*not in the Hugging Face cache"):
        other = inputs.DomainInput(**{**d.__dict__, "manifest": {**d.manifest, "baseModel": {"id": "tara/other"}}})
        inputs.resolve_base_model([other], None, hf_cache=tmp_path / "hub")
