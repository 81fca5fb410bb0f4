"""``tara``: validate manifests, generate CRDs and docs, plan and run them, and manage phases and trainings.

``tara phase ...`` and ``tara training ...`` (with the original design's ``create-phase``,
``add-domain``, ``list-phases`` and ``show-phase``) work on manifest files or on the cluster.

Exit status: 0 when everything is valid, 1 when any problem was found, 2 on usage errors.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tara_api.crd import render_crds
from tara_api.reference import render_reference
from tara_api.validate import validate_paths
from tara_cli import phase as phase_mod
from tara_cli import plan as plan_mod
from tara_cli import training as training_mod

__all__ = ["main"]


def _cmd_validate(args: argparse.Namespace) -> int:
    documents, problems = validate_paths(args.paths)
    bad = {p.document for p in problems}
    for doc in documents:
        if doc.label not in bad and not args.quiet:
            print(f"ok     {doc.label}")
    for problem in problems:
        print(f"error  {problem}", file=sys.stderr if args.quiet else sys.stdout)
    print(f"{len(documents)} document(s) checked, {len(problems)} problem(s)")
    if not documents and not problems:
        print("error  no TARA resources found in " + " ".join(args.paths))
        return 1
    return 1 if problems else 0


def _write_or_check(files: dict[Path, str], check: bool) -> int:
    stale = []
    for path, text in files.items():
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == text:
            continue
        if check:
            stale.append(path)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path}")
    if stale:
        print("stale (run `make crds`): " + ", ".join(map(str, stale)), file=sys.stderr)
        return 1
    return 0


def _cmd_crds(args: argparse.Namespace) -> int:
    files = {Path(args.output) / name: text for name, text in render_crds().items()}
    return _write_or_check(files, args.check)


def _cmd_local(args: argparse.Namespace) -> int:
    from tara_cli.local import run
    from tara_cli.shutdown import exit_on_signal

    code = run(Path(args.dir), Path(args.state), Path(args.tiny_model), serve=not args.no_serve, port=args.port)
    exit_on_signal(code)  # run() handles signals until it returns; then the process only has to end
    return code


def _cmd_serve(args: argparse.Namespace) -> int:
    import tempfile

    from tara_cli.serve import serve
    from tara_cli.shutdown import exit_on_signal

    with tempfile.TemporaryDirectory(prefix="tara-serve-") as work:
        code = serve(Path(args.phase_dir), args.port, args.host, args.ctx_size, args.threads, Path(work))
    exit_on_signal(code)
    return code


def _cmd_docs(args: argparse.Namespace) -> int:
    return _write_or_check({Path(args.output): render_reference()}, args.check)


def _cmd_plan(args: argparse.Namespace) -> int:
    documents, problems = validate_paths(args.paths)
    for problem in problems:
        print(f"error  {problem}", file=sys.stderr)
    if problems:
        print(f"{len(problems)} problem(s): nothing would run", file=sys.stderr)
        return 1
    print(plan_mod.describe([d.body for d in documents]))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tara", description=__doc__.splitlines()[0].replace("``", ""))
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("validate", help="check manifests against the CRD schema, CEL rules and API types")
    p.add_argument("paths", nargs="+", help="YAML files or folders (searched recursively)")
    p.add_argument("-q", "--quiet", action="store_true", help="print only problems and the summary")
    p.set_defaults(func=_cmd_validate)

    p = sub.add_parser("crds", help="write the CRDs generated from the API types")
    p.add_argument("--output", default="crds", help="folder (default: crds)")
    p.add_argument("--check", action="store_true", help="fail if the files differ instead of writing them")
    p.set_defaults(func=_cmd_crds)

    p = sub.add_parser("docs", help="write the Markdown resource reference")
    p.add_argument("--output", default="docs/reference.md", help="file (default: docs/reference.md)")
    p.add_argument("--check", action="store_true", help="fail if the file differs instead of writing it")
    p.set_defaults(func=_cmd_docs)

    p = sub.add_parser("local", help="run manifests without a cluster: train, build, serve and ask")
    local_sub = p.add_subparsers(dest="local_command", required=True)
    p = local_sub.add_parser("run", help="train the phases' domains, build and validate the phases, serve the last one")
    p.add_argument("dir", help="folder of DomainTraining and GGUFPhase manifests, e.g. configs/local")
    p.add_argument("--state", default=".tara/local", help="where trainings and builds live (default .tara/local)")
    p.add_argument("--tiny-model", default=".tara/tiny-model", help="where the tiny offline model is built when used")
    p.add_argument("--no-serve", action="store_true", help="stop after the builds")
    p.add_argument("--port", type=int, default=0, help="router port while asking the sample questions (default: a free one)")
    p.set_defaults(func=_cmd_local)
    p = sub.add_parser("serve", help="serve a finished build locally: llama-server with the router in front")
    p.add_argument("--phase-dir", required=True, help="a finished build folder (tara-trainer build --output)")
    p.add_argument("--port", type=int, default=8080, help="router port (default 8080)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--ctx-size", type=int, default=2048)
    p.add_argument("--threads", type=int)
    p.set_defaults(func=_cmd_serve)
    p = sub.add_parser("plan", help="validate manifests and print what they would run")
    p.add_argument("paths", nargs="+", help="YAML files or folders")
    p.set_defaults(func=_cmd_plan)
    phase_mod.register(sub)
    training_mod.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    phase_mod.check_usage(parser, args)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
