"""Examples validate; invalid manifests are rejected by both the API server's rules and the API types.

Every invalid case is checked three ways: `validate_document` reports a problem on the named
field; the server layers (OpenAPI schema + CEL) reject it; the pydantic model rejects it. The
examples in configs/ must pass all three, so the schema and the model provably agree.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from tara_api.validate import Document, model_problems, server_problems, validate_document, validate_paths

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = ROOT / "configs"

TRAINING = yaml.safe_load((CONFIGS / "trainings" / "gpu" / "business.yaml").read_text())
PHASE = yaml.safe_load((CONFIGS / "phases" / "phase-2.yaml").read_text())


def _config_documents() -> list[Document]:
    documents, problems = validate_paths([CONFIGS])
    assert not problems, "\n".join(map(str, problems))
    return documents


def test_every_config_file_is_checked() -> None:
    files = {Path(d.source) for d in _config_documents()}
    argo = set((CONFIGS / "argocd").rglob("*.yaml"))  # Argo CD objects: tests/test_argocd.py checks them
    assert files == set(CONFIGS.rglob("*.yaml")) - argo and argo


@pytest.mark.parametrize("doc", _config_documents(), ids=lambda d: d.label.rsplit("/", 1)[-1])
def test_examples_pass_schema_cel_and_model(doc: Document) -> None:
    assert validate_document(doc) == []
    if doc.body["apiVersion"] == "tara.dev/v1alpha1":
        assert server_problems(doc) == [] and model_problems(doc) == []


def test_foundation_domains_have_gpu_and_cpu_variants() -> None:
    trainings = [d.body for d in _config_documents() if d.body["kind"] == "DomainTraining"]
    by_accel: dict[str, set[str]] = {}
    for t in trainings:
        by_accel.setdefault(t["spec"]["resources"]["accelerator"], set()).add(t["spec"]["domain"])
    domains = {"healthcare", "business", "education", "creative", "leadership"}
    assert by_accel == {"gpu": domains, "cpu": domains}


def _cluster_documents():
    """configs/ without configs/local (the tiny offline model of the local pipeline)."""
    return [d for d in _config_documents() if "configs/local" not in Path(d.source).as_posix()]


def test_gpu_trainings_use_the_mapped_base_model() -> None:
    docs = _cluster_documents()
    mapping = next(d.body for d in docs if d.body["kind"] == "DomainModelMapping")["domains"]
    for t in (d.body for d in docs if d.body["kind"] == "DomainTraining"):
        entry = mapping[t["spec"]["domain"]]
        assert t["spec"]["baseModel"]["repo"] in [entry["baseModel"], *entry["alternatives"]]


def test_phases_group_domains_that_share_a_base() -> None:
    docs = _cluster_documents()
    mapping = next(d.body for d in docs if d.body["kind"] == "DomainModelMapping")["domains"]
    for phase in (d.body for d in docs if d.body["kind"] == "GGUFPhase"):
        bases = {mapping[d["domain"]]["baseModel"] for d in phase["spec"]["domains"]}
        assert len(bases) == 1, f"{phase['metadata']['name']} mixes base models {bases}"
        assert {mapping[d["domain"]]["phase"] for d in phase["spec"]["domains"]} == {phase["spec"]["phaseNumber"]}


def _set(doc: dict, path: str, value: Any) -> dict:
    out = copy.deepcopy(doc)
    *parents, leaf = path.split(".")
    node = out
    for part in parents:
        node = node.setdefault(part, {})
    node[leaf] = value
    return out


def _del(doc: dict, path: str) -> dict:
    out = copy.deepcopy(doc)
    *parents, leaf = path.split(".")
    node = out
    for part in parents:
        node = node[part]
    del node[leaf]
    return out


T, P = TRAINING, PHASE
# (id, document, field path the error must name, text the message must contain)
INVALID: list[tuple[str, dict, str, str]] = [
    ("zero-steps", _set(_del(T, "spec.training.epochs"), "spec.training.maxSteps", 0), "spec.training.maxSteps", "1"),
    ("negative-steps", _set(_del(T, "spec.training.epochs"), "spec.training.maxSteps", -5), "spec.training.maxSteps", "1"),
    ("steps-wrong-type", _set(_del(T, "spec.training.epochs"), "spec.training.maxSteps", "ten"), "spec.training.maxSteps", "integer"),
    ("steps-string-number", _set(_del(T, "spec.training.epochs"), "spec.training.maxSteps", "10"), "spec.training.maxSteps", "integer"),
    ("steps-and-epochs", _set(T, "spec.training.maxSteps", 100), "spec.training", "not both"),
    ("unknown-field-typo", _set(T, "spec.training.learningrate", 0.1), "spec.training.learningrate", "unknown field"),
    ("unknown-spec-field", _set(T, "spec.gpus", 2), "spec.gpus", "unknown field"),
    ("domain-not-dns", _set(T, "spec.domain", "Health_Care"), "spec.domain", "does not match"),
    ("domain-too-long", _set(T, "spec.domain", "a" * 64), "spec.domain", "long"),
    ("domain-wrong-type", _set(T, "spec.domain", 7), "spec.domain", "string"),
    ("missing-base-model", _del(T, "spec.baseModel"), "spec.baseModel", "required"),
    ("base-model-two-sources", _set(T, "spec.baseModel.path", "/models/x"), "spec.baseModel", "exactly one of repo or path"),
    ("base-model-no-source", _set(T, "spec.baseModel", {"revision": "main"}), "spec.baseModel", "exactly one of repo or path"),
    ("base-model-bad-repo", _set(T, "spec.baseModel.repo", "not a repo"), "spec.baseModel.repo", "does not match"),
    ("base-model-gguf-folder", _set(T, "spec.baseModel", {"path": "models/smol.Q4_1.gguf/", "claimName": "models"}),
     "spec.baseModel.path", "names a file"),
    ("base-model-split-gguf", _set(T, "spec.baseModel", {"path": "qwen-00001-of-00002.gguf"}), "spec.baseModel.path",
     "merge its parts"),
    ("qlora-on-cpu", _set(_set(_del(T, "spec.resources.gpu"), "spec.resources.accelerator", "cpu"), "spec.lora.qlora", True),
     "spec.lora.qlora", "needs resources.accelerator: gpu"),
    ("gpu-count-on-cpu", _set(T, "spec.resources.accelerator", "cpu"), "spec.resources", "gpu needs accelerator: gpu"),
    ("gpu-count-zero", _set(T, "spec.resources.gpu.count", 0), "spec.resources.gpu.count", "1"),
    ("nodes-without-shared-claim", _set(T, "spec.resources.nodes", 2), "spec.resources.nodes", "ReadWriteMany"),
    ("nodes-with-created-artifacts", _set(_set(_set(T, "spec.resources.nodes", 2), "spec.storage.checkpoints", {"claimName": "shared"}),
                                            "spec.storage.artifacts", {"size": "5Gi"}), "spec.resources.nodes", "artifacts.claimName"),
    ("nodes-zero", _set(T, "spec.resources.nodes", 0), "spec.resources.nodes", "1"),
    ("nodes-too-many", _set(T, "spec.resources.nodes", 65), "spec.resources.nodes", "64"),
    ("queue-not-dns", _set(T, "spec.scheduling", {"queueName": "Team Queue"}), "spec.scheduling.queueName", "does not match"),
    ("workload-priority-without-queue", _set(T, "spec.scheduling", {"workloadPriorityClassName": "high"}), "spec.scheduling",
     "needs queueName"),
    ("unknown-accelerator", _set(T, "spec.resources.accelerator", "tpu"), "spec.resources.accelerator", "tpu"),
    ("bad-memory-quantity", _set(T, "spec.resources.memory", "lots"), "spec.resources.memory", "lots"),
    ("lora-rank-zero", _set(T, "spec.lora.r", 0), "spec.lora.r", "1"),
    ("dropout-above-one", _set(T, "spec.lora.dropout", 1.5), "spec.lora.dropout", "1"),
    ("learning-rate-zero", _set(T, "spec.training.learningRate", 0), "spec.training.learningRate", "0"),
    ("batch-size-word", _set(T, "spec.training.batchSize", "big"), "spec.training.batchSize", "auto"),
    ("batch-size-zero", _set(T, "spec.training.batchSize", 0), "spec.training.batchSize", "auto"),
    ("warmup-too-big", _set(T, "spec.training.warmupRatio", 0.9), "spec.training.warmupRatio", "0.5"),
    ("dataset-no-source", _set(T, "spec.dataset", {"format": "chat"}), "spec.dataset", "exactly one of"),
    ("dataset-two-sources", _set(T, "spec.dataset.builtin", "healthcare"), "spec.dataset", "exactly one of"),
    ("dataset-unknown-format", _set(T, "spec.dataset.format", "csv"), "spec.dataset.format", "csv"),
    ("dataset-eval-fraction", _set(T, "spec.dataset.evalFraction", 0.9), "spec.dataset.evalFraction", "0.5"),
    ("dataset-unknown-split", _set(T, "spec.dataset.split", "random"), "spec.dataset.split", "random"),
    ("unknown-retention", _set(T, "spec.storage.retention", "Keep"), "spec.storage.retention", "Keep"),
    ("missing-spec", _del(T, "spec"), "spec", "required"),
    ("phase-unknown-quant", _set(P, "spec.quantization", ["Q3_K"]), "spec.quantization[0]", "Q3_K"),
    ("phase-duplicate-quant", _set(P, "spec.quantization", ["Q4_K_M", "Q4_K_M"]), "spec.quantization", "unique"),
    ("phase-empty-domains", _set(P, "spec.domains", []), "spec.domains", "empty"),
    ("phase-duplicate-domains", _set(P, "spec.domains", [{"domain": "education"}, {"domain": "education"}]),
     "spec.domains", "unique"),
    ("phase-domain-not-dns", _set(P, "spec.domains", [{"domain": "Health Care"}]), "spec.domains[0].domain", "does not match"),
    ("phase-number-zero", _set(P, "spec.phaseNumber", 0), "spec.phaseNumber", "1"),
    ("phase-density-with-adapters", _set(P, "spec.merge.density", 0.5), "spec.merge", "density applies only"),
    ("phase-default-domain-unknown", _set(P, "spec.serving.defaultDomain", "finance"), "spec.serving.defaultDomain",
     "one of the phase's domains"),
    ("phase-served-quant-not-built", _set(P, "spec.serving.quantization", "Q8_0"), "spec.serving.quantization",
     "one of spec.quantization"),
    ("phase-router-weights-zero", _set(P, "spec.serving.routerWeights", {"content": 0, "emotion": 0, "speed": 0, "quality": 0}),
     "spec.serving.routerWeights", "must not all be zero"),
    ("phase-gpu-count-on-cpu", _set(P, "spec.serving.resources.accelerator", "cpu"), "spec.serving.resources", "gpuCount needs"),
    # the spec knows the pod has no GPU: refused here, not when the pod starts (HardwareUnsupported)
    ("phase-gpu-layers-on-cpu", _set(_del(P, "spec.serving.resources.gpuCount"), "spec.serving.resources.accelerator", "cpu"),
     "spec.serving.gpuLayers", "gpuLayers above 0 offloads layers to a GPU: set resources.accelerator: gpu"),
    ("phase-gpu-layers-default-accelerator", _del(P, "spec.serving.resources"), "spec.serving.gpuLayers", "or gpuLayers: 0"),
    ("phase-gate-negative", _set(P, "spec.qualityGate.maxPerplexityIncrease.Q4_K_M", -0.1),
     "spec.qualityGate.maxPerplexityIncrease.Q4_K_M", "0"),
    ("phase-merge-loss-with-adapters", _set(P, "spec.qualityGate.maxMergeLoss", 0.05), "spec.qualityGate.maxMergeLoss",
     "applies only to a merge strategy"),
    ("phase-merge-loss-negative", _set(_set(P, "spec.merge", {"strategy": "ties"}), "spec.qualityGate.maxMergeLoss", -0.1),
     "spec.qualityGate.maxMergeLoss", "0"),
    ("phase-target-size-negative", _set(P, "spec.serving.targets", {"maxFileSize": "-2Gi"}), "spec.serving.targets.maxFileSize",
     "does not match"),
    ("phase-target-memory-word", _set(P, "spec.serving.targets", {"maxMemory": "lots"}), "spec.serving.targets.maxMemory",
     "lots"),
    ("phase-target-loss-negative", _set(P, "spec.serving.targets", {"maxQualityLoss": -0.01}),
     "spec.serving.targets.maxQualityLoss", "0"),
    ("phase-target-unknown", _set(P, "spec.serving.targets", {"maxSize": "2Gi"}), "spec.serving.targets.maxSize",
     "unknown field"),
    ("phase-keep-revisions-zero", _set(P, "spec.storage", {"keepRevisions": 0}), "spec.storage.keepRevisions", "1"),
    ("phase-keep-revisions-word", _set(P, "spec.storage", {"keepRevisions": "all"}), "spec.storage.keepRevisions", "integer"),
    ("phase-unknown-retention", _set(P, "spec.storage", {"retention": "Keep"}), "spec.storage.retention", "Keep"),
]

# Rejected before the schema layers run (metadata and type identity), so not part of the agreement check.
INVALID_ENVELOPE: list[tuple[str, dict, str, str]] = [
    ("missing-name", _del(T, "metadata.name"), "metadata.name", "required"),
    ("name-not-dns", _set(T, "metadata.name", "Business_1"), "metadata.name", "DNS-1123"),
    ("unknown-kind", _set(T, "kind", "DomainTrainer"), "kind", "unknown kind"),
    ("unknown-version", _set(T, "apiVersion", "tara.dev/v9"), "apiVersion", "unsupported version"),
]


def test_enough_invalid_cases() -> None:
    assert len(INVALID) + len(INVALID_ENVELOPE) >= 25


def _doc(body: dict) -> Document:
    return Document("case.yaml", 1, body)


@pytest.mark.parametrize(("body", "path", "text"), [c[1:] for c in INVALID + INVALID_ENVELOPE],
                         ids=[c[0] for c in INVALID + INVALID_ENVELOPE])
def test_invalid_manifest_is_rejected_naming_the_field(body: dict, path: str, text: str) -> None:
    problems = validate_document(_doc(body))
    assert problems, "accepted an invalid manifest"
    on_field = [p for p in problems if p.path == path]
    assert on_field, f"no problem names {path}: {[str(p) for p in problems]}"
    assert any(text.lower() in p.message.lower() for p in on_field), [str(p) for p in on_field]
    assert all(str(p).startswith("case.yaml#1") for p in problems)


@pytest.mark.parametrize("body", [c[1] for c in INVALID], ids=[c[0] for c in INVALID])
def test_schema_and_model_agree_on_invalid_case(body: dict) -> None:
    doc = _doc(body)
    assert server_problems(doc), "the CRD schema and CEL rules accept it, the model does not"
    assert model_problems(doc), "the model accepts it, the CRD schema or CEL rules do not"


def test_the_largest_phase_validates_and_one_more_domain_is_named_plainly() -> None:
    """64 domains (the limit) validate, in well under the test timeout: the defaultDomain rule once
    grew exponentially with the number of domains under cel-python when defaultDomain was unset."""
    body = copy.deepcopy(PHASE)
    body["spec"]["domains"] = [{"domain": f"d{i}"} for i in range(64)]
    body["spec"].get("serving", {}).pop("defaultDomain", None)
    assert validate_document(_doc(body)) == []
    body["spec"]["domains"].append({"domain": "d64"})
    assert [p.message for p in validate_document(_doc(body)) if p.path == "spec.domains"] == ["has 65 items, at most 64 allowed"]
