"""``tara-trainer``: the command a DomainTraining Job runs, and the local mode runs as a process.

    tara-trainer train --spec FILE --output DIR     # a DomainTraining manifest, or just its spec
    tara-trainer tiny-model --output DIR            # build the tiny offline model for tests and demos
    tara-trainer build --phase FILE --trainings DIR --output DIR   # GGUF artifacts of a GGUFPhase
    tara-trainer verify-build --build DIR           # re-check a build's files against their sha256
    tara-trainer serve --build DIR [--port 8081] [--gpu-layers N]  # verify a build, exec llama-server on it
    tara-trainer llama-build [--cuda]               # fetch and build the pinned llama.cpp tools (cached)
    tara-trainer routing-encoder                    # fine-tune the router's sentence encoder (cached)

Exit codes are the operator's contract, declared with their reasons in ``tara_api.reasons``: 0 done;
75 preempted, checkpoint saved, run again; 1 unexpected; the others name a failure. The reason and
message also go to the termination log when ``TARA_TERMINATION_LOG`` names one
(``/dev/termination-log`` in a pod).

Signals: while a training runs, its ``PreemptionGuard`` holds SIGTERM (a checkpoint at the end of the
step, then exit 75), and SIGINT is handed to it, so Ctrl-C saves the same checkpoint; a second SIGINT
stops at once. Anywhere else SIGINT or SIGTERM ends the command with one log line and 128 + the signal
(130, 143), as the shell reports a process the signal killed, and ``finally`` blocks run on the way
out (``subprocess.run`` kills its llama.cpp tool).

Data parallelism: with ``TARA_NNODES`` × ``TARA_NPROC_PER_NODE`` above 1, ``train`` re-launches
itself through ``torch.distributed.run`` (``launch``) and exits with the launch's one verdict, with
the same codes and reasons; each worker (RANK set) trains, writes its outcome for the launcher
(``TARA_RANK_REPORTS``), and only global rank 0 logs progress and prints the summary.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import time
import warnings
from pathlib import Path
from types import FrameType
from typing import Any

from tara_api import DomainTraining, GGUFPhase
from tara_api.crd import GGUF_PHASE
from tara_api.meta import API_VERSION
from tara_api.reasons import Reason
from tara_api.safeyaml import SpecFileError, load_spec_file
from tara_api.validate import Document, validate_document
from tara_trainer.errors import EXIT_UNEXPECTED, HardwareUnsupported, SpecInvalid, TrainerError
from tara_trainer.settings import TrainerSettings

__all__ = ["load_spec", "main"]

log = logging.getLogger("tara_trainer")


def _read_yaml(path: Path) -> Any:
    """The spec file's one document, read within the limits every spec reader shares (tara_api.safeyaml)."""
    try:
        return load_spec_file(path)
    except SpecFileError as exc:  # already one line naming the file, the place and what to do
        raise SpecInvalid(str(exc)) from exc
    except OSError as exc:
        raise SpecInvalid(f"cannot read {path}: {exc.strerror or exc}") from exc


def _validated(path: Path, body: dict[str, Any]) -> dict[str, Any]:
    problems = validate_document(Document(str(path), 1, body))
    if problems:
        raise SpecInvalid(f"invalid {body.get('kind')}:\n  " + "\n  ".join(str(p) for p in problems))
    return body


def load_spec(path: Path, name: str | None = None) -> DomainTraining:
    """Read a DomainTraining manifest (or a bare spec) and validate it like `tara validate` does."""
    body = _read_yaml(path)
    if not isinstance(body, dict):
        raise SpecInvalid(f"{path}: expected a DomainTraining manifest or its spec, got {type(body).__name__}")
    if "apiVersion" not in body and "kind" not in body:  # a bare spec, as the operator's ConfigMap may hold
        domain = body.get("domain") if isinstance(body.get("domain"), str) else "training"
        body = {"apiVersion": API_VERSION, "kind": "DomainTraining", "metadata": {"name": name or domain}, "spec": body}
    elif body.get("kind") != "DomainTraining":
        raise SpecInvalid(f"{path}: kind is {body.get('kind')!r}, expected DomainTraining")
    return DomainTraining.model_validate(_validated(path, body))


def _configure_logging(verbose: bool, settings: TrainerSettings) -> None:
    # In a data-parallel run rank 0 logs progress; the other ranks only warnings and errors, marked.
    rank = settings.rank if settings.is_worker and settings.world_size > 1 else None
    level = logging.DEBUG if verbose else logging.INFO
    logging.basicConfig(
        level=level if not rank else max(level, logging.WARNING),
        format="%(asctime)s %(levelname)-7s " + (f"[rank {rank}] " if rank is not None else "") + "%(name)s: %(message)s",
        stream=sys.stderr,
    )
    for noisy in ("transformers", "peft", "accelerate", "torch", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # Library deprecation notices are for us, not for the people reading a training log.
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=UserWarning, module="torch")
    try:
        import transformers

        transformers.logging.set_verbosity_error()
        transformers.utils.logging.disable_progress_bar()
    except ImportError:  # pragma: no cover
        pass


def _termination_log(settings: TrainerSettings, reason: str, message: str) -> None:
    if settings.termination_log is None:
        return
    payload = json.dumps({"reason": reason, "message": message})[:4000]  # the kubelet keeps 4 KiB
    try:
        settings.termination_log.write_text(payload, encoding="utf-8")
    except OSError as exc:
        log.warning("cannot write termination log %s: %s", settings.termination_log, exc)


def _launch(args: argparse.Namespace, settings: TrainerSettings, resource: DomainTraining) -> int:
    """This pod's part of a data-parallel training: refuse a batch the world cannot split before any
    worker starts, launch, and turn the launch's verdict into this command's exit."""
    from tara_api.domaintraining import Accelerator
    from tara_trainer.distributed import launch_plan, split_batch
    from tara_trainer.launch import LaunchFailed, launch

    plan = launch_plan(settings)
    assert plan is not None
    batch = resource.spec.training.batch_size
    if batch != "auto":
        split_batch(int(batch), resource.spec.training.gradient_accumulation, plan.world_size)
    outcome = launch(plan, args.argv, Path(args.output), resource.spec.resources.accelerator != Accelerator.GPU)
    if outcome.reason is not None:
        raise LaunchFailed(outcome)
    if outcome.exit_code > 128:
        raise Stopped(outcome.exit_code - 128)
    return outcome.exit_code


def _cmd_train(args: argparse.Namespace, settings: TrainerSettings) -> int:
    from tara_trainer.distributed import launch_plan

    resource = load_spec(Path(args.spec), args.name)
    if launch_plan(settings) is not None:
        return _launch(args, settings, resource)
    from tara_trainer.train import TrainRequest, train

    base_dir = Path(args.base_dir) if args.base_dir else Path(args.spec).resolve().parent
    request = TrainRequest(
        name=resource.metadata.name or resource.spec.domain,
        spec=resource.spec,
        output_dir=Path(args.output),
        base_dir=base_dir,
        artifacts_dir=Path(args.artifacts) if args.artifacts else None,
    )
    result = train(request, settings)
    if settings.is_worker and (settings.rank or 0) != 0:
        return 0  # rank 0 prints the summary
    p = result.progress
    summary: dict[str, Any] = {
        "domain": p.domain,
        "status": p.status,
        "steps": p.step,
        "adapter": str(result.adapter_dir),
        "manifestSha256": result.manifest_sha256,
        "reused": result.reused,
        "metrics": p.metrics,
    }
    print(json.dumps(summary, indent=2))
    return 0


def _cmd_tiny(args: argparse.Namespace, _settings: TrainerSettings) -> int:
    from tara_trainer import tiny

    argv = ["--output", args.output, "--seed", str(args.seed), "--vocab-size", str(args.vocab_size)]
    return tiny.main(argv)


def load_phase(path: Path) -> GGUFPhase:
    """Read a GGUFPhase manifest and validate it like `tara validate` does."""
    body = _read_yaml(path)
    if not isinstance(body, dict) or body.get("kind") != "GGUFPhase":
        raise SpecInvalid(f"{path}: expected a GGUFPhase manifest")
    return GGUFPhase.model_validate(_validated(path, body))


def _adapter_overrides(values: list[str]) -> dict[str, Path]:
    out = {}
    for value in values:
        domain, sep, path = value.partition("=")
        if not sep or not domain or not path:
            raise SpecInvalid(f"--adapter expects DOMAIN=PATH, got {value!r}")
        out[domain] = Path(path)
    return out


def _cmd_build(args: argparse.Namespace, settings: TrainerSettings) -> int:
    from tara_trainer.export.build import BuildRequest, build

    phase = load_phase(Path(args.phase))
    known = {d.domain for d in phase.spec.domains}
    overrides = _adapter_overrides(args.adapter or [])
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise SpecInvalid(f"--adapter names domain(s) {', '.join(unknown)} that the phase does not list ({', '.join(sorted(known))})")
    request = BuildRequest(
        phase=phase,
        output_dir=Path(args.output),
        trainings_dir=Path(args.trainings) if args.trainings else None,
        adapters=overrides,
        base_model=Path(args.base_model) if args.base_model else None,
        cleanup=not (args.no_cleanup or args.keep_training_outputs),
        keep_checkpoints=args.keep_checkpoints,
        keep_revisions=None if args.no_cleanup else _keep_revisions(args),
        protect_revisions=tuple(args.protect_revision or ()),
    )
    result = build(request, settings)
    m = result.manifest
    if settings.in_cluster and settings.resource_plural == GGUF_PHASE.plural:
        from tara_trainer.export.build import phase_status
        from tara_trainer.progress import StatusPatcher

        StatusPatcher(settings).patch({"status": phase_status(m, result.output_dir)})
    print(json.dumps({
        "output": str(result.output_dir), "reused": result.reused, "served": m["served"],
        "artifacts": [{k: a.get(k) for k in ("path", "bytes", "bitsPerWeight", "perplexity", "perplexityIncrease")}
                      for a in m["artifacts"]],
        "rejected": m["rejected"],
        **({"pruned": result.pruned} if result.pruned is not None else {}),
    }, indent=2))
    return 0


def _keep_revisions(args: argparse.Namespace) -> int | None:
    from tara_trainer.export.revisions import revision_of

    if args.keep_revisions is None:
        return None
    if args.keep_revisions < 1:
        raise SpecInvalid(f"--keep-revisions must be at least 1 (the revision just built), got {args.keep_revisions}")
    name = Path(args.output).name
    if revision_of(name) is None or "." in name:
        raise SpecInvalid(f"--keep-revisions needs --output to be a revision folder named rev-<N>, got {name!r}")
    return args.keep_revisions


def _cmd_remove_phase(args: argparse.Namespace, _settings: TrainerSettings) -> int:
    from tara_trainer.export.revisions import remove_phase

    try:
        report = remove_phase(Path(args.phases_dir), args.phase)
    except ValueError as exc:
        raise SpecInvalid(str(exc)) from exc
    print(json.dumps({"phase": args.phase, **report.to_dict()}, indent=2))
    return 0


def _cmd_verify(args: argparse.Namespace, _settings: TrainerSettings) -> int:
    from tara_trainer.export.serve import verified_manifest

    folder = Path(args.build)
    verified_manifest(folder)
    print(f"{folder}: every artifact matches its sha256")
    return 0


def _cmd_serve(args: argparse.Namespace, settings: TrainerSettings) -> int:
    import os

    from tara_trainer.export.serve import server_argv, verified_manifest
    from tara_trainer.llamacpp import cuda_driver_error, ensure_toolchain

    folder = Path(args.build)
    manifest = verified_manifest(folder)
    cuda = args.gpu_layers > 0  # offloading needs the CUDA build: a CPU llama-server ignores -ngl with a warning
    if cuda and (problem := cuda_driver_error()):
        raise HardwareUnsupported(f"--gpu-layers {args.gpu_layers} (serving.gpuLayers) offloads layers to a GPU, but this "
                                  f"container has no NVIDIA driver ({problem}): give the pod a GPU "
                                  "(serving.resources.accelerator: gpu) or set gpuLayers: 0")
    binary = ensure_toolchain(settings.cache_dir, build=settings.build_toolchain, cuda=cuda).tool("llama-server")
    argv = server_argv(manifest, folder, binary, host=args.host, port=args.port, ctx_size=args.ctx_size,
                       gpu_layers=args.gpu_layers, threads=args.threads)
    if args.dry_run:
        print(" ".join(argv))
        return 0
    log.info("serving %s: %s", folder, " ".join(argv))
    sys.stderr.flush()
    os.execv(argv[0], argv)  # llama-server replaces this process (signals reach it directly)
    return 0  # pragma: no cover


def _cmd_llama(args: argparse.Namespace, settings: TrainerSettings) -> int:
    from tara_trainer.llamacpp import ensure_toolchain

    cache = Path(args.cache_dir) if args.cache_dir else settings.cache_dir
    tc = ensure_toolchain(cache, jobs=args.jobs, build=not args.check, native=settings.ggml_native,
                          cuda=args.cuda or settings.ggml_cuda)
    print(json.dumps({"binDir": str(tc.bin_dir), "sourceDir": str(tc.source_dir), **tc.stamp}, indent=2))
    return 0


def _cmd_encoder(args: argparse.Namespace, settings: TrainerSettings) -> int:
    from tara_trainer.export.encoder import routing_encoder
    from tara_trainer.llamacpp import ensure_toolchain

    cache = Path(args.cache_dir) if args.cache_dir else settings.cache_dir
    tc = ensure_toolchain(cache, build=False)
    encoder = routing_encoder(tc, cache, threads=args.threads, progress=print)
    print(json.dumps({"gguf": str(encoder.gguf), "key": encoder.key}, indent=2))
    return 0


class Stopped(BaseException):  # noqa: N818 - like KeyboardInterrupt: library code catching Exception lets it through
    """SIGINT or SIGTERM outside a training's checkpointing; exit 128 + the signal."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class _OnSignal:
    """The SIGINT and SIGTERM handler: hands the first SIGINT to the training's SIGTERM handler while
    one holds SIGTERM; otherwise raises ``Stopped``."""

    def __init__(self) -> None:
        self.handed = False

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        term = signal.getsignal(signal.SIGTERM)
        if signum == signal.SIGINT and not self.handed and callable(term) and term is not self:
            self.handed = True
            term(signum, frame)
            return
        raise Stopped(signum)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tara-trainer", description="TARA trainer")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("train", help="train (or resume) one DomainTraining")
    p.add_argument("--spec", required=True, help="DomainTraining manifest or bare spec (YAML or JSON)")
    p.add_argument("--output", required=True, help="output folder: checkpoints/, adapter/, state.json")
    p.add_argument("--name", help="resource name for a bare spec (default: the domain)")
    p.add_argument("--base-dir", help="folder relative spec paths resolve against (default: the spec's folder)")
    p.add_argument("--artifacts", help="folder for adapter/ when it is not the output folder (spec.storage.artifacts)")
    p.set_defaults(func=_cmd_train)
    p = sub.add_parser("tiny-model", help="build the tiny offline Llama model and tokenizer")
    p.add_argument("--output", required=True)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--vocab-size", type=int, default=1024)
    p.set_defaults(func=_cmd_tiny)
    p = sub.add_parser("build", help="build, validate and gate the GGUF artifacts of a GGUFPhase")
    p.add_argument("--phase", required=True, help="GGUFPhase manifest (YAML)")
    p.add_argument("--output", required=True, help="build folder (written as OUTPUT.partial, renamed when complete)")
    p.add_argument("--trainings", help="folder holding each DomainTraining's output as <training name>/adapter")
    p.add_argument("--adapter", action="append", metavar="DOMAIN=PATH",
                   help="a domain's training output or adapter folder (repeatable; overrides --trainings)")
    p.add_argument("--base-model", help="base model folder (default: the one the adapters' manifests name)")
    p.add_argument("--no-cleanup", action="store_true",
                   help="clean nothing: neither the training outputs' leftovers nor older revisions (--keep-revisions)")
    p.add_argument("--keep-training-outputs", action="store_true",
                   help="leave the training outputs' temporary files, logs and old checkpoints in place (read-only inputs)")
    p.add_argument("--keep-revisions", type=int, metavar="N",
                   help="after a successful build into rev-<N>: remove the phase's older rev-* folders beside it, "
                        "keeping the newest N (default: remove none)")
    p.add_argument("--protect-revision", type=int, action="append", metavar="N",
                   help="a revision --keep-revisions never removes, e.g. the one serving (repeatable)")
    p.add_argument("--keep-checkpoints", type=int, default=1, help="checkpoints kept per finished training (default 1)")
    p.set_defaults(func=_cmd_build)
    p = sub.add_parser("remove-phase", help="remove a deleted GGUFPhase's folder of builds (storage.retention: Delete)")
    p.add_argument("--phases-dir", required=True, help="the folder holding one folder per phase")
    p.add_argument("--phase", required=True, help="the phase's name")
    p.set_defaults(func=_cmd_remove_phase)
    p = sub.add_parser("verify-build", help="re-check every artifact of a build against its manifest's sha256")
    p.add_argument("--build", required=True, help="a finished build folder")
    p.set_defaults(func=_cmd_verify)
    p = sub.add_parser("serve", help="verify a finished build and exec llama-server on it")
    p.add_argument("--build", required=True, help="a finished build folder")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8081)
    p.add_argument("--ctx-size", type=int, default=2048)
    p.add_argument("--gpu-layers", type=int, default=0,
                   help="layers offloaded to the GPU (llama-server --n-gpu-layers); above 0 serves with the CUDA build")
    p.add_argument("--threads", type=int)
    p.add_argument("--dry-run", action="store_true", help="print the llama-server command instead of running it")
    p.set_defaults(func=_cmd_serve)
    p = sub.add_parser("llama-build", help="fetch and build the pinned llama.cpp tools once into the user cache")
    p.add_argument("--cache-dir", help="cache folder (default: $TARA_CACHE_DIR or ~/.cache/tara)")
    p.add_argument("--jobs", type=int, help="parallel compile jobs (default: all cores)")
    p.add_argument("--check", action="store_true", help="only report; fail when the build is missing")
    p.add_argument("--cuda", action="store_true", help="build with CUDA (GGML_CUDA=ON, needs nvcc) into its own cache "
                   "entry, for serving with --gpu-layers (default: $TARA_GGML_CUDA, else the CPU build)")
    p.set_defaults(func=_cmd_llama)
    p = sub.add_parser("routing-encoder", help="fine-tune the router's sentence encoder once into the user cache "
                       "(phase builds do it when it is missing; a few minutes on two cores)")
    p.add_argument("--cache-dir", help="cache folder (default: $TARA_CACHE_DIR or ~/.cache/tara)")
    p.add_argument("--threads", type=int, help="torch threads (default: all cores)")
    p.set_defaults(func=_cmd_encoder)
    return parser


def _run(args: argparse.Namespace, settings: TrainerSettings) -> tuple[int, str | None, str]:
    """The command's exit code, reason (None: none to report) and message."""
    try:
        return int(args.func(args, settings)), None, ""
    except Stopped as exc:
        message = f"interrupted ({exc}) during {args.command}; rerun to " + (
            "resume from the last checkpoint" if args.command == "train" else "start it again")
        log.error("%s", message)
        return 128 + exc.signum, None, message
    except TrainerError as exc:
        log.error("%s: %s", exc.reason, exc)
        _termination_log(settings, exc.reason, str(exc))
        return exc.exit_code, exc.reason, str(exc)
    except KeyboardInterrupt:
        log.error("interrupted")
        return 130, None, "interrupted"
    except Exception as exc:  # the last line of defence: a reason for the operator, then exit 1
        log.exception("unexpected failure")
        _termination_log(settings, Reason.CRASHED, f"{type(exc).__name__}: {exc}")
        return EXIT_UNEXPECTED, Reason.CRASHED, f"{type(exc).__name__}: {exc}"


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    args.argv = list(argv if argv is not None else sys.argv[1:])  # what a launch passes on to its workers
    settings = TrainerSettings.from_env()
    _configure_logging(args.verbose, settings)
    handler = _OnSignal()
    previous = {signum: signal.signal(signum, handler) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        code, reason, message = _run(args, settings)
    finally:  # in-process callers (tests) get their handlers back
        for signum, before in previous.items():
            signal.signal(signum, before)
    if settings.rank_reports is not None:  # a worker of a launch: its outcome, for the launcher's verdict
        from tara_trainer.distributed import RankReport
        from tara_trainer.launch import write_report

        write_report(settings.rank_reports, RankReport(settings.rank or 0, code, reason, message, time.time()))
    return code


if __name__ == "__main__":
    sys.exit(main())
