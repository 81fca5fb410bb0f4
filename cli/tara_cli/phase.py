"""``tara phase create|add-domain|list|show``: GGUFPhase manifests and objects, for people who
know the original design's phase CLI (``create-phase``, ``add-domain``, ``list-phases`` and
``show-phase`` are accepted as aliases).

Each verb works on files or on the cluster and produces what ``kubectl apply`` takes. Every
manifest it writes or sends is first checked with the validation ``tara validate`` runs, so a
bad request fails before anything changes, with the same messages.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from tara_api.crd import dump_yaml
from tara_api.ggufphase import MergeStrategy
from tara_cli import cluster, views
from tara_cli.common import (
    add_list_options,
    cluster_options,
    connect,
    fetch_list,
    guarded,
    now,
    read_text,
    report_problems,
    write_atomic,
)
from tara_cli.manifests import (
    PHASE_KIND,
    add_domain,
    build_phase,
    check,
    domain_hint,
    dump_documents,
    find_document,
    has_comments,
    parse_assignments,
    parse_documents,
)

__all__ = ["check_usage", "register"]

# A merge patch replaces spec.domains whole, so add-domain sends the resourceVersion it read and
# reads again when someone else changed the object in between.
UPDATE_ATTEMPTS = 5


@guarded
def cmd_create(args: argparse.Namespace) -> int:
    body = build_phase(
        args.name, args.domain, quantization=args.quantization, strategy=args.strategy, namespace=args.namespace,
        phase_number=args.number, trainings=parse_assignments(args.training, "--training"),
        weights=parse_assignments(args.weight, "--weight"), density=args.density, svd_rank=args.svd_rank,
    )
    problems = check(body, args.output or "new")
    if problems:
        report_problems(problems, domain_hint(problems))
        return 1
    if args.output:
        write_atomic(args.output, dump_yaml(body), overwrite=args.force)
        print(f"wrote {args.output}")
    if args.apply:
        conn, ns = connect(args)
        cluster.create(conn, cluster.PHASES, ns, body)
        print(f"{cluster.PHASES.singular} {ns}/{args.name} created")
    if not args.output and not args.apply:
        sys.stdout.write(dump_yaml(body))
    return 0


def _add_to_file(args: argparse.Namespace) -> int:
    text = read_text(args.file)
    documents = parse_documents(text, args.file)
    index = find_document(documents, PHASE_KIND, args.phase, args.file)
    updated = add_domain(documents[index], args.domain, training=args.training, weight=args.weight)
    problems = check(updated, args.file, index + 1)
    if problems:
        report_problems(problems, domain_hint(problems))
        return 1
    write_atomic(args.file, dump_documents([*documents[:index], updated, *documents[index + 1:]]))
    print(f"{args.file}: added domain {args.domain} to {args.phase} ({len(updated['spec']['domains'])} domains)")
    if has_comments(text):
        print(f"note: comments in {args.file} were not kept", file=sys.stderr)
    return 0


def _add_in_cluster(args: argparse.Namespace) -> int:
    conn, ns = connect(args)
    for attempt in range(1, UPDATE_ATTEMPTS + 1):
        current = cluster.get(conn, cluster.PHASES, ns, args.phase)
        updated = add_domain(current, args.domain, training=args.training, weight=args.weight)
        # Validate what the user controls: the spec, as the API server's schema and CEL rules see it.
        candidate = {"apiVersion": current.get("apiVersion"), "kind": PHASE_KIND,
                     "metadata": {"name": args.phase, "namespace": ns}, "spec": updated["spec"]}
        problems = check(candidate, f"{ns}/{args.phase}")
        if problems:
            report_problems(problems, domain_hint(problems))
            return 1
        version = (current.get("metadata") or {}).get("resourceVersion")
        try:
            cluster.patch(conn, cluster.PHASES, ns, args.phase,
                          {"metadata": {"resourceVersion": version}, "spec": {"domains": updated["spec"]["domains"]}})
            break
        except cluster.ClusterError as exc:
            if exc.reason != "Conflict" or attempt == UPDATE_ATTEMPTS:
                raise
    print(f"{cluster.PHASES.singular} {ns}/{args.phase}: added domain {args.domain} "
          f"({len(updated['spec']['domains'])} domains)")
    return 0


@guarded
def cmd_add_domain(args: argparse.Namespace) -> int:
    return _add_to_file(args) if args.file else _add_in_cluster(args)


@guarded
def cmd_list(args: argparse.Namespace) -> int:
    objects = fetch_list(args, cluster.PHASES, PHASE_KIND)
    if objects:
        print(views.phase_table(objects, now(), namespaces=args.all_namespaces))
    return 0


def _print_object(obj: dict[str, Any], output: str | None, render: Any) -> None:
    if output == "yaml":
        sys.stdout.write(dump_yaml(obj))
    elif output == "json":
        print(json.dumps(obj, indent=2))
    else:
        print(render(obj, now()))


@guarded
def cmd_show(args: argparse.Namespace) -> int:
    if args.file:
        documents = parse_documents(read_text(args.file), args.file)
        obj = documents[find_document(documents, PHASE_KIND, args.name, args.file)]
    else:
        conn, ns = connect(args)
        obj = cluster.get(conn, cluster.PHASES, ns, args.name)
    _print_object(obj, args.output, views.show_phase)
    return 0


# ---------------------------------------------------------------- argparse


def _create_parser(sub: Any, name: str, parent: argparse.ArgumentParser, help_text: str) -> None:
    p = sub.add_parser(name, parents=[parent], help=help_text, description=help_text)
    p.add_argument("name", help="the phase's name (metadata.name), e.g. phase-3")
    p.add_argument("-d", "--domain", action="append", required=True, metavar="DOMAIN",
                   help="a domain of the phase (repeat, or comma-separate); your own names are allowed")
    p.add_argument("-q", "--quantization", action="append", default=[], metavar="TYPE",
                   help="Q2_K, Q4_K_M, Q5_K_M or Q8_0 (repeat; the first is served; default Q4_K_M)")
    p.add_argument("-s", "--strategy", choices=[s.value for s in MergeStrategy],
                   help="adapters (one LoRA per domain, the default) or a merge into one universal model")
    p.add_argument("--density", type=float, help="fraction of weights kept (ties, dare_ties)")
    p.add_argument("--svd-rank", type=int, help="rank of the merged adapter (svd)")
    p.add_argument("--number", "--phase-number", type=int, dest="number",
                   help="spec.phaseNumber (default: the number in the name, e.g. 3 for phase-3, else 1)")
    p.add_argument("-t", "--training", action="append", default=[], metavar="DOMAIN=NAME",
                   help="the DomainTraining that trains DOMAIN (default: one named like the domain)")
    p.add_argument("-w", "--weight", action="append", default=[], metavar="DOMAIN=WEIGHT",
                   help="the domain's weight in a merged model (default 1)")
    p.add_argument("-n", "--namespace", help="metadata.namespace; with --apply, where to create it")
    p.add_argument("-o", "--output", metavar="FILE", help="write the manifest to FILE instead of printing it")
    p.add_argument("--force", action="store_true", help="with -o: overwrite an existing file")
    p.add_argument("--apply", action="store_true", help="create the phase in the cluster")
    p.set_defaults(func=cmd_create)


def _add_domain_parser(sub: Any, name: str, parent: argparse.ArgumentParser, help_text: str) -> None:
    p = sub.add_parser(name, parents=[parent], help=help_text, description=help_text)
    p.add_argument("phase", help="the GGUFPhase's name")
    p.add_argument("domain", help="the domain to add")
    p.add_argument("-t", "--training", help="the DomainTraining that trains it (default: one named like the domain)")
    p.add_argument("-w", "--weight", type=float, help="its weight in a merged model (default 1)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("-f", "--file", help="edit the GGUFPhase in this manifest file instead of the cluster")
    where.add_argument("-n", "--namespace", help="namespace of the phase in the cluster (default: the context's)")
    p.set_defaults(func=cmd_add_domain)


def _list_parser(sub: Any, name: str, parent: argparse.ArgumentParser, help_text: str) -> None:
    p = sub.add_parser(name, parents=[parent], help=help_text, description=help_text)
    add_list_options(p)
    p.set_defaults(func=cmd_list)


def _show_parser(sub: Any, name: str, parent: argparse.ArgumentParser, help_text: str) -> None:
    p = sub.add_parser(name, parents=[parent], help=help_text, description=help_text)
    p.add_argument("name", nargs="?", help="the GGUFPhase's name (optional with -f when the file holds one)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("-n", "--namespace", help="namespace (default: the context's)")
    where.add_argument("-f", "--file", help="read the phase from a manifest file instead of the cluster")
    p.add_argument("-o", "--output", choices=["yaml", "json"], help="print the raw object")
    p.set_defaults(func=cmd_show, needs_name=True)


VERBS = (
    # (verb under `tara phase`, the original design's name, builder, help)
    ("create", "create-phase", _create_parser, "build a GGUFPhase manifest: print it, write it (-o) or create it (--apply)"),
    ("add-domain", "add-domain", _add_domain_parser, "add a domain to a phase in a manifest file (-f) or in the cluster"),
    ("list", "list-phases", _list_parser, "list phases in the cluster or in manifest files (-f)"),
    ("show", "show-phase", _show_parser, "show a phase: domains, artifacts, conditions, serving"),
)


def register(sub: Any) -> None:
    """Add ``tara phase ...`` and the original design's top-level names to ``tara``'s subparsers."""
    parent = cluster_options()
    phase = sub.add_parser("phase", help="create, edit, list and show GGUFPhases (files or cluster)")
    phase_sub = phase.add_subparsers(dest="phase_command", required=True, metavar="VERB")
    for verb, _alias, build, help_text in VERBS:
        build(phase_sub, verb, parent, help_text)
    for verb, alias, build, _ in VERBS:
        build(sub, alias, parent, f"same as `tara phase {verb}` (the original design's name)")


def check_usage(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Usage rules argparse cannot state: ``show`` needs a NAME unless it reads a file."""
    if getattr(args, "needs_name", False) and not args.name and not args.file:
        parser.error("show: NAME is required unless -f FILE is given")
