"""``tara-trainer build``: a GGUFPhase and its domains' adapters → validated GGUF artifacts.

Order of work: plan (pure) → inputs checked and cleaned → disk space → convert (base or merged
universal model to F16, each LoRA to GGUF; for a merge also the base and each LoRA as the merge
gate's reference, in scratch space) → quantize every requested type → validate (load and generate,
tokenizer agreement, logits against Hugging Face, perplexity per domain) → the merge gate, the
quality gate and ``serving.targets`` choose the served type (``quality``) → the served type's load
time, speed, memory and compression ratio per domain, measured (``quality.measure_serving``) → routing index (the
domains' utterances embedded for the router) → manifest. Everything is written under
``<output>.partial`` and the folder is renamed to ``<output>`` only when every check passed, so a
build folder is either complete or absent; a failed build is kept as ``<output>.failed`` with
``build-report.json`` saying why (the gates' readings included). A rerun whose inputs are unchanged
reuses the finished build. With ``keep_revisions`` (the cluster's builds: ``spec.storage.keepRevisions``)
a successful build then removes the phase's older ``rev-<N>`` folders beside it (``revisions``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import shutil
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tara_api.ggufphase import ArtifactKind, GGUFPhase, GGUFPhaseSpec, MergeStrategy
from tara_api.quant import QUANT_TYPES, QuantType
from tara_trainer.checkpoints import file_digest
from tara_trainer.errors import ArtifactInvalid, DiskFull, ModelUnavailable, QualityGateFailed, TrainerError
from tara_trainer.export import inputs as inp
from tara_trainer.export import merge, plan, quality, revisions, routing, tools, verify
from tara_trainer.llamacpp import LlamaCpp, ensure_toolchain
from tara_trainer.outputs import library_versions, spec_hash
from tara_trainer.settings import TrainerSettings

__all__ = ["BUILD_MANIFEST", "BuildRequest", "BuildResult", "build", "build_revision", "domain_lineage", "performance_line",
           "phase_status"]

log = logging.getLogger(__name__)

BUILD_MANIFEST = "manifest.json"
REPORT = "build-report.json"
LOGIT_TOKENS = 48
_REVISION = re.compile(r"rev-([0-9]+)")


@dataclass(frozen=True)
class BuildRequest:
    phase: GGUFPhase
    output_dir: Path
    trainings_dir: Path | None = None
    adapters: Mapping[str, Path] = field(default_factory=dict)  # domain -> training output or adapter folder
    base_model: Path | None = None
    cleanup: bool = True  # remove the training outputs' leftovers (needs them writable)
    keep_checkpoints: int = 1
    # after a successful build into rev-<N>: keep the newest N revisions beside it, and these (the one serving)
    keep_revisions: int | None = None
    protect_revisions: tuple[int, ...] = ()
    # called as on_step(done, total, what) when a step starts and on_step(done, total, None) when it ends
    on_step: Callable[[int, int, str | None], None] | None = None


@dataclass(frozen=True)
class BuildResult:
    output_dir: Path
    manifest: dict[str, Any]
    reused: bool
    pruned: dict[str, Any] | None = None  # the older revisions removed (revisions.PruneReport), when asked


class _Steps:
    """Numbered progress lines for a long build: ``[3/12] quantize Q4_K_M ... 1.4 s``."""

    def __init__(self, total: int, on_step: Callable[[int, int, str | None], None] | None = None) -> None:
        self.total, self.done, self.timings, self.on_step = total, 0, {}, on_step

    def run(self, what: str, fn, *args, **kwargs):
        self.done += 1
        log.info("[%d/%d] %s ...", self.done, self.total, what)
        if self.on_step:
            self.on_step(self.done, self.total, what)
        started = time.monotonic()
        result = fn(*args, **kwargs)
        self.timings[what] = round(time.monotonic() - started, 3)
        log.info("[%d/%d] %s done in %.1f s", self.done, self.total, what, self.timings[what])
        if self.on_step:
            self.on_step(self.done, self.total, None)
        return result


def _fingerprint(request: BuildRequest, domains: list[inp.DomainInput], base_dir: Path, tc: LlamaCpp) -> str:
    parts = {
        # storage (revisions kept, retention) changes no file of the build
        "spec": spec_hash(request.phase.spec.model_dump(mode="json", by_alias=True, exclude_none=True, exclude={"storage"})),
        "domains": {d.domain: d.manifest_sha256 for d in domains},
        "base": {p.name: file_digest(p) for p in sorted(base_dir.iterdir()) if p.is_file() and p.suffix == ".json"},
        "llama": tc.version,
        "routing": routing.fingerprint(tc.version),
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def _stage_base(base_dir: Path, work: Path, report: inp.CleanupReport) -> Path:
    """The base folder the converter reads; a staged copy (weights linked) when the tokenizer needs a fix."""
    config_path = base_dir / "tokenizer_config.json"
    try:
        tok_config = json.loads(config_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        tok_config = None
    if tok_config is None or tok_config.get("pad_token"):
        return base_dir
    eos = tok_config.get("eos_token")
    if not eos:
        report.warnings.append(f"{config_path}: no pad_token and no eos_token to use for it")
        return base_dir
    staged = work / "base-hf"
    staged.mkdir(parents=True, exist_ok=True)
    for p in base_dir.iterdir():
        if p.is_file() and p.name != "tokenizer_config.json":
            (staged / p.name).symlink_to(p.resolve())
    (staged / "tokenizer_config.json").write_text(json.dumps({**tok_config, "pad_token": eos}, indent=2), encoding="utf-8")
    report.fixed.append(f"{config_path}: no pad_token; the GGUF uses eos ({eos if isinstance(eos, str) else eos.get('content')})")
    return staged


def _check_tokenizer(base_dir: Path, shape: inp.ModelShape) -> Any:
    from tara_trainer.modelio import load_tokenizer

    tokenizer = load_tokenizer(str(base_dir), {})
    if shape.vocab_size and len(tokenizer) > shape.vocab_size:
        raise ModelUnavailable(f"base model {base_dir}: the tokenizer has {len(tokenizer)} tokens but config.json "
                               f"vocab_size is {shape.vocab_size}; the model and tokenizer do not belong together")
    return tokenizer


def _check_space(target: Path, needed: int) -> int:
    free = shutil.disk_usage(target).free
    if free < needed:
        raise DiskFull(f"the build needs about {needed / 2**20:.1f} MiB in {target} but {free / 2**20:.1f} MiB are free")
    return free


def _gguf_parameters(path: Path) -> int:
    from gguf import GGUFReader

    return int(sum(int(t.n_elements) for t in GGUFReader(str(path)).tensors))


def _artifact_entry(path: Path, root: Path, a: plan.ArtifactPlan, domains: list[str], lineage: dict[str, Any]) -> dict[str, Any]:
    size = path.stat().st_size
    params = _gguf_parameters(path)
    return {
        "kind": a.kind.value, "quantization": a.quantization, "domain": a.domain,
        "path": path.relative_to(root).as_posix(), "bytes": size, "sha256": file_digest(path),
        "parameters": params, "bitsPerWeight": round(size * 8 / params, 3) if params else None,
        "domains": domains, "lineage": lineage,
    }


def build(request: BuildRequest, settings: TrainerSettings) -> BuildResult:
    """Run the build; raises a TrainerError subclass with the reason the operator reports."""
    spec = request.phase.spec
    the_plan = plan.plan_build(spec)
    out = request.output_dir
    tc = ensure_toolchain(settings.cache_dir, build=settings.build_toolchain)
    domains = inp.locate_domains(spec.domains, request.trainings_dir, request.adapters)
    base_dir = inp.resolve_base_model(domains, request.base_model)
    fingerprint = _fingerprint(request, domains, base_dir, tc)
    previous = out / BUILD_MANIFEST
    if previous.is_file():
        manifest = json.loads(previous.read_text(encoding="utf-8"))
        if manifest.get("fingerprint") == fingerprint and not verify.verify_manifest(out):
            log.info("build for these inputs already complete in %s; reusing it", out)
            return BuildResult(out, manifest, reused=True, pruned=_prune(request))
    work = out.with_name(out.name + ".partial")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    report: dict[str, Any] = {"phase": request.phase.metadata.name, "fingerprint": fingerprint, "checks": {}}
    try:
        manifest = _build(request, settings, tc, the_plan, domains, base_dir, work, report)
    except TrainerError as exc:
        report.update(status="Failed", reason=exc.reason, message=str(exc))
        _finish_failed(work, out, report)
        raise
    except Exception as exc:
        report.update(status="Failed", reason="Unexpected", message=f"{type(exc).__name__}: {exc}")
        _finish_failed(work, out, report)
        raise
    manifest["fingerprint"] = fingerprint
    (work / BUILD_MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    old = out.with_name(out.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if out.exists():
        out.rename(old)
    work.rename(out)
    shutil.rmtree(old, ignore_errors=True)
    shutil.rmtree(out.with_name(out.name + ".failed"), ignore_errors=True)
    log.info("build complete: %d artifact(s) in %s, serving %s", len(manifest["artifacts"]), out, manifest["served"]["quantization"])
    return BuildResult(out, manifest, reused=False, pruned=_prune(request))


def _prune(request: BuildRequest) -> dict[str, Any] | None:
    """After a successful build: the phase's older revisions beyond ``keep_revisions`` go (never the one
    just built, a protected one or a newer one); what cannot be removed is logged, the build stands."""
    if request.keep_revisions is None:
        return None
    report = revisions.prune_revisions(request.output_dir, request.keep_revisions, request.protect_revisions)
    if report.removed:
        log.info("removed older revision folder(s) %s (%.1f MiB): keeping the newest %d and %s",
                 ", ".join(report.removed), report.freed_bytes / 2**20, request.keep_revisions,
                 ", ".join(f"rev-{r}" for r in request.protect_revisions) or "no protected one")
    for warning in report.warnings:
        log.warning("%s", warning)
    return report.to_dict()


def build_revision(output_dir: Path) -> int | None:
    """The GGUFPhase revision a build folder holds, by the operator's naming (``<phase>/rev-<N>``); None
    for a folder named otherwise (a local build)."""
    match = _REVISION.fullmatch(output_dir.name)
    return int(match.group(1)) if match else None


def domain_lineage(manifest: dict[str, Any], output_dir: Path) -> list[dict[str, Any]]:
    """Per domain, from the build manifest (pure): the training's rows hash and adapter manifest sha256,
    then every shipped file made from that adapter (its LoRA, or a merged model) with its sha256 and
    size, and the revision. The base model's files are not made from any adapter and are not listed."""
    revision = build_revision(output_dir)
    sources: dict[str, dict[str, Any]] = {}
    for a in manifest["artifacts"]:
        for domain, info in ((a.get("lineage") or {}).get("domains") or {}).items():
            sources.setdefault(domain, info or {})
    out = []
    for domain in manifest.get("domains") or []:
        files = [a for a in manifest["artifacts"] if a["kind"] != ArtifactKind.BASE.value and domain in (a.get("domains") or [])]
        source = sources.get(domain, {})
        entry = {
            "domain": domain, "training": source.get("training"), "datasetSha256": source.get("datasetSha256"),
            "adapterSha256": source.get("adapterManifestSha256"), "runId": source.get("runId"),
            "files": [{"kind": a["kind"], "quantization": a["quantization"], "path": str(output_dir / a["path"]),
                       "bytes": a["bytes"], "sha256": a["sha256"]} for a in files],
            "revision": revision,
        }
        out.append({k: v for k, v in entry.items() if v is not None})
    return out


def phase_status(manifest: dict[str, Any], output_dir: Path) -> dict[str, Any]:
    """What a finished build reports into its GGUFPhase's status (the CRD's field names): the
    artifacts with their paths on the volume, each domain's lineage, the type this revision serves
    and why (``builtQuantization``, ``builtReason``; the operator reports ``servedQuantization`` and
    ``servedReason`` once the revision serves), and a merge's per-domain check."""
    keys = ("kind", "quantization", "domain", "bytes", "sha256", "bitsPerWeight", "perplexity", "perplexityIncrease")
    status: dict[str, Any] = {
        "artifacts": [{**{k: a[k] for k in keys if a.get(k) is not None}, "path": str(output_dir / a["path"])}
                      for a in manifest["artifacts"]],
        "builtQuantization": manifest["served"]["quantization"],
        "lineage": domain_lineage(manifest, output_dir),
    }
    if build_revision(output_dir) is not None:
        status["builtRevision"] = build_revision(output_dir)
    if manifest["served"].get("reason"):
        status["builtReason"] = manifest["served"]["reason"][:4096]
    performance = (manifest.get("checks") or {}).get("performance")
    if performance:
        perf_keys = ("domain", "quantization", "bytes", "compressionRatio", "loadSeconds", "firstTokenSeconds",
                     "tokensPerSecond", "memoryBytes", "meetsOriginTargets")
        status["performance"] = [{k: d[k] for k in perf_keys if d.get(k) is not None} for d in performance["domains"]]
    merge_keys = ("domain", "adapterPerplexity", "mergedPerplexity", "loss", "allowed", "passed")
    domains = ((manifest.get("checks") or {}).get("merge") or {}).get("domains")
    if domains:
        status["mergeCheck"] = [{k: d[k] for k in merge_keys if d.get(k) is not None} for d in domains]
    return status


def performance_line(row: dict[str, Any]) -> str:
    """One domain's ``checks.performance`` row in words, for logs and the local run."""
    memory = f", {row['memoryBytes'] / 2**20:.0f} MiB resident" if row.get("memoryBytes") is not None else ""
    verdict = "meets the original targets" if row["meetsOriginTargets"] else "misses " + "; ".join(row["misses"])
    return (f"{row['quantization']} {row['bytes'] / 2**20:.2f} MiB ({row['compressionRatio']:.2f}x smaller than F16), "
            f"load {row['loadSeconds']:.2f} s, first token {row['firstTokenSeconds']:.2f} s, "
            f"{row['tokensPerSecond']:.1f} tokens/s{memory}; {verdict}")


def _finish_failed(work: Path, out: Path, report: dict[str, Any]) -> None:
    failed = out.with_name(out.name + ".failed")
    shutil.rmtree(work / "work", ignore_errors=True)
    try:
        (work / REPORT).write_text(json.dumps(report, indent=2, default=str), encoding="utf-8")
        shutil.rmtree(failed, ignore_errors=True)
        work.rename(failed)
        log.error("build failed; what it produced and why is in %s", failed / REPORT)
    except OSError as exc:  # a full disk may refuse even the report
        log.error("cannot keep the failed build (%s)", exc)


def _step_count(the_plan: plan.BuildPlan) -> int:
    merge_steps = 0 if the_plan.strategy == MergeStrategy.ADAPTERS else 1
    return 2 + merge_steps + 1 + len(the_plan.loras()) + len(the_plan.references) + len(the_plan.quantizations) + 6


def _build(request: BuildRequest, settings: TrainerSettings, tc: LlamaCpp, the_plan: plan.BuildPlan,
           domains: list[inp.DomainInput], base_dir: Path, work: Path, report: dict[str, Any]) -> dict[str, Any]:
    spec = request.phase.spec
    steps = _Steps(_step_count(the_plan), request.on_step)
    scratch = work / "work"

    # 1. inputs
    shape, lora_params, cleanup, tokenizer = steps.run("check inputs and clean outputs", _check_inputs, request, domains, base_dir)
    staged = _stage_base(base_dir, scratch, cleanup)
    report["cleanup"] = cleanup.to_dict()
    needed = plan.disk_needed(the_plan, shape.parameters, lora_params)
    free = steps.run("check disk space", _check_space, work, needed)
    report["disk"] = {"neededBytes": needed, "freeBytes": free}

    # 2. convert (a merge's references, the base and each LoRA, stay in scratch space: measured, never shipped)
    files: dict[str, Path] = {a.filename: work / a.filename for a in the_plan.artifacts}
    files.update({a.filename: scratch / "reference" / a.filename for a in the_plan.references})
    merged_ref = _convert(steps, tc, the_plan, spec, domains, staged, files, scratch)

    # 3. quantize
    f16 = the_plan.model(plan.F16)
    for q in the_plan.quantizations:
        a = the_plan.model(q.value)
        steps.run(f"quantize {q.value}", tools.quantize, tc, files[f16.filename], files[a.filename], q.value, settings.threads)

    # 4. validate
    eval_texts = {d.domain: d.eval_text_path.read_text(encoding="utf-8") for d in domains}
    checks: dict[str, Any] = report["checks"]
    _validate(steps, tc, the_plan, spec, domains, base_dir, tokenizer, files, eval_texts, merged_ref, checks)
    token_counts = {d: len(tokenizer(t, add_special_tokens=False)["input_ids"]) for d, t in eval_texts.items()}
    ppl = steps.run("measure perplexity per domain and type", quality.measure, tc, the_plan, files,
                    {d.domain: d.eval_text_path for d in domains}, token_counts, settings.threads)
    checks["perplexity"] = ppl.to_dict()

    # 5. the gates (merge, perplexity, serving targets) and the served type, recorded before acting on them
    decision = quality.decide(spec, the_plan, ppl, files)
    for m in decision.merge:
        log.info("merge gate: %s", m.describe())
    for v in decision.gate:
        log.info("quality gate: %s", v.describe())
    report["gate"] = [{"quantization": v.quantization.value, "increase": v.increase, "allowed": v.allowed,
                       "worstDomain": v.worst_domain, "passed": v.passed} for v in decision.gate]
    if decision.merge:
        checks["merge"] = decision.merge_report(spec)
    checks["serving"] = decision.serving_report(spec)
    if decision.failure or decision.choice.quantization is None:
        raise QualityGateFailed(decision.failure or decision.choice.reason)
    served = decision.choice.quantization
    log.info("serving %s: %s", served.value, decision.choice.reason)
    rejected = []
    for v in decision.rejected:  # only with auto: the type is dropped, never served
        files[the_plan.model(v.quantization.value).filename].unlink(missing_ok=True)
        rejected.append({"quantization": v.quantization.value, "reason": v.describe()})
    prompt = list(tokenizer(verify.FIXED_SAMPLES[1], add_special_tokens=True)["input_ids"])
    checks["performance"] = steps.run(f"measure load time, speed and memory of {served.value} per domain", quality.measure_serving,
                                      tc, the_plan, served, files, prompt, spec.serving.context_size, settings.threads)
    for row in checks["performance"]["domains"]:
        log.info("serving %s: %s", row["domain"], performance_line(row))

    # 6. the router's index: every domain's utterances embedded once, shipped with the build, with
    # each domain's measured quality (its training's eval-loss gain, kept by the served type)
    served_ppl = ppl.of(served.value)
    quality_by_domain = {d.domain: routing.domain_quality((d.manifest.get("metrics") or {}).get("improvement"),
                                                          served_ppl[d.domain] / ppl.f16[d.domain] - 1 if ppl.f16.get(d.domain) else None)
                         for d in domains}
    router = steps.run("embed the routing utterances", routing.build_routing, tc, settings.cache_dir, work / "router",
                       {d.domain: d.adapter_dir for d in domains}, settings.threads, quality_by_domain)

    # 7. manifest
    shutil.rmtree(scratch, ignore_errors=True)
    return {
        "apiVersion": "tara.dev/v1alpha1",
        "kind": "TaraGGUFBuild",
        "phase": request.phase.metadata.name,
        "phaseNumber": spec.phase_number,
        "strategy": the_plan.strategy.value,
        "domains": list(the_plan.domains),
        "baseModel": {"path": str(base_dir), "architecture": shape.architecture, "parameters": shape.parameters},
        "served": {"quantization": served.value, "model": the_plan.model(served.value).filename,
                   "loras": {lora.domain: lora.filename for lora in the_plan.loras()}, "reason": decision.choice.reason},
        "artifacts": _artifact_entries(the_plan, domains, base_dir, files, work, ppl, decision),
        "router": router,
        "rejected": rejected,
        "checks": checks,
        "gate": report["gate"],
        "cleanup": report["cleanup"],
        "disk": report["disk"],
        "timings": steps.timings,
        "toolchain": {"llamaCppPython": tc.version, **{k: v for k, v in tc.stamp.items() if k in ("cpuKey", "buildSeconds")}},
        "versions": library_versions(),
        "createdAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def _check_inputs(request: BuildRequest, domains: list[inp.DomainInput],
                  base_dir: Path) -> tuple[inp.ModelShape, dict[str, int], inp.CleanupReport, Any]:
    shape = inp.read_model_shape(base_dir)
    lora_params = {d.domain: inp.check_adapter_fits(d.domain, d.adapter_dir, shape) for d in domains}
    cleanup = inp.clean_outputs(domains, request.keep_checkpoints) if request.cleanup else inp.CleanupReport()
    tokenizer = _check_tokenizer(base_dir, shape)
    for d in domains:
        if not d.eval_text_path.is_file():
            raise ArtifactInvalid(f"domain {d.domain}: {d.eval_text_path} is missing; the adapter predates eval-text "
                                  "export, retrain it to build with a perplexity gate")
    return shape, lora_params, cleanup, tokenizer


def _convert(steps: _Steps, tc: LlamaCpp, the_plan: plan.BuildPlan, spec: GGUFPhaseSpec, domains: list[inp.DomainInput],
             staged: Path, files: dict[str, Path], scratch: Path) -> Any:
    """The F16 model (base, or the merged universal model) and every LoRA to GGUF; returns the Hugging
    Face merged model for the logits check (None for adapters)."""
    f16 = the_plan.model(plan.F16)
    merged_ref = None
    if the_plan.strategy == MergeStrategy.ADAPTERS:
        steps.run(f"convert base model {staged.name} to F16 GGUF", tools.convert_base, tc, staged, files[f16.filename])
    else:
        merged_dir = scratch / "merged-hf"
        merged_ref = steps.run(
            f"merge {len(domains)} adapters with PEFT ({the_plan.strategy.value})", merge.universal_model, staged,
            [(d.domain, d.adapter_dir, d.weight) for d in domains], spec.merge, merged_dir)
        steps.run("convert the universal model to F16 GGUF", tools.convert_base, tc, merged_dir, files[f16.filename])
    for a in (*the_plan.loras(), *the_plan.references):
        files[a.filename].parent.mkdir(parents=True, exist_ok=True)
        if a.domain is None:
            steps.run("convert the base model to F16 GGUF (the merge gate's reference)", tools.convert_base, tc, staged,
                      files[a.filename])
        else:
            d = next(x for x in domains if x.domain == a.domain)
            steps.run(f"convert LoRA {a.domain} to GGUF", tools.convert_lora, tc, d.adapter_dir, staged, files[a.filename])
    return merged_ref


def _validate(steps: _Steps, tc: LlamaCpp, the_plan: plan.BuildPlan, spec: GGUFPhaseSpec, domains: list[inp.DomainInput],
              base_dir: Path, tokenizer: Any, files: dict[str, Path], eval_texts: dict[str, str], merged_ref: Any,
              checks: dict[str, Any]) -> None:
    """Tokenization and logits against Hugging Face, then load-and-generate for every shipped file."""
    f16 = the_plan.model(plan.F16)
    samples = verify.sample_texts(list(eval_texts.values()))

    def check_tokenizer() -> None:
        problems = verify.tokenization_mismatches(tc, files[f16.filename], tokenizer, samples)
        checks["tokenization"] = {"samples": len(samples), "mismatches": problems}
        if problems:
            raise ArtifactInvalid(f"{f16.filename}: llama.cpp tokenizes {len(problems)} of {len(samples)} samples "
                                  "differently from Hugging Face: " + "; ".join(problems[:3]))

    steps.run("compare tokenization with Hugging Face", check_tokenizer)
    ids = list(tokenizer(samples[1], add_special_tokens=True)["input_ids"])[:LOGIT_TOKENS]
    tolerance = spec.quality_gate.logit_tolerance

    def check_logits() -> None:
        results = []
        if merged_ref is None:  # the base is loaded once, with every adapter attached
            reference = merge.with_adapters(base_dir, [(d.domain, d.adapter_dir) for d in domains])
            with reference.disable_adapter():
                results.append(verify.compare_logits(tc, files[f16.filename], reference, ids, tolerance,
                                                     what=f"{f16.filename} vs Hugging Face base"))
            for lora in the_plan.loras():
                reference.set_adapter(lora.domain)
                results.append(verify.compare_logits(tc, files[f16.filename], reference, ids, tolerance,
                                                     lora=files[lora.filename],
                                                     what=f"{lora.filename} on {f16.filename} vs Hugging Face base + {lora.domain}"))
        else:
            results.append(verify.compare_logits(tc, files[f16.filename], merged_ref, ids, tolerance,
                                                 what=f"{f16.filename} vs Hugging Face merged model"))
        checks["logits"] = [r.to_dict() for r in results]
        bad = [r for r in results if not r.passed]
        if bad:
            raise ArtifactInvalid("; ".join(f"{r.what}: max |logit difference| {r.max_abs_diff:.3g} exceeds "
                                            f"qualityGate.logitTolerance {r.tolerance:g}" for r in bad))

    steps.run("compare next-token logits with Hugging Face", check_logits)

    def check_generation() -> None:
        generated = {}
        for q in (plan.F16, *[q.value for q in the_plan.quantizations]):
            a = the_plan.model(q)
            generated[a.filename] = verify.generate(tc, files[a.filename], ids[:8])
        for lora in the_plan.loras():
            generated[lora.filename] = verify.generate(tc, files[f16.filename], ids[:8], lora=files[lora.filename])
        checks["generation"] = {name: len(tokens) for name, tokens in generated.items()}

    n_files = 1 + len(the_plan.quantizations) + len(the_plan.loras())
    steps.run(f"load and generate with {n_files} artifact(s)", check_generation)


def _artifact_entries(the_plan: plan.BuildPlan, domains: list[inp.DomainInput], base_dir: Path, files: dict[str, Path],
                      work: Path, ppl: quality.Perplexities, decision: quality.Decision) -> list[dict[str, Any]]:
    """The manifest's ``artifacts``: every shipped file with its hash, size, perplexity and lineage."""
    lineage_domains = {
        # datasetSha256: the rows the adapter trained on (status.data.rowsSha256), not the bytes of a file
        d.domain: {"adapterManifestSha256": d.manifest_sha256, "datasetSha256": (d.manifest.get("data") or {}).get("rowsSha256"),
                   "training": d.manifest.get("resource"), "runId": d.manifest.get("runId")}
        for d in domains
    }
    rejected_types = {v.quantization.value for v in decision.rejected}
    increase = {v.quantization.value: v.increase for v in decision.gate}
    artifacts = []
    for a in the_plan.artifacts:
        if a.quantization in rejected_types and a.kind != ArtifactKind.LORA:
            continue
        names = [a.domain] if a.domain else list(the_plan.domains)
        lineage = {"domains": {n: lineage_domains[n] for n in names}, "baseModel": str(base_dir),
                   "source": a.source, "strategy": the_plan.strategy.value}
        entry = _artifact_entry(files[a.filename], work, a, names, lineage)
        if a.kind != ArtifactKind.LORA:
            per_domain = ppl.of(a.quantization)
            entry["perplexity"] = round(max(per_domain.values()), 4)
            entry["perplexityByDomain"] = {k: round(v, 4) for k, v in per_domain.items()}
            if a.quantization != plan.F16:
                entry["perplexityIncrease"] = round(increase[a.quantization], 6)
                entry["nominalBitsPerWeight"] = QUANT_TYPES[QuantType(a.quantization)].nominal_bits_per_weight
        artifacts.append(entry)
    return artifacts
