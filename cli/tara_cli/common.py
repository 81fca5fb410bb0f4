"""What the cluster-facing verbs of ``tara`` share: the ``--kubeconfig``/``--context`` options,
turning errors into one line on stderr and exit status 1, reading resources from manifest
files and folders, and writing files atomically.

Exit statuses: 0 done, 1 a problem the message explains (never a traceback), 2 usage errors
(argparse), 130 interrupted.
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tara_api.safeyaml import SpecFileError, read_spec_text
from tara_api.validate import Problem, yaml_files
from tara_cli import cluster
from tara_cli.manifests import ManifestError, parse_documents

__all__ = [
    "CliError",
    "add_list_options",
    "cluster_options",
    "connect",
    "fetch_list",
    "guarded",
    "now",
    "read_resources",
    "read_text",
    "report_problems",
    "write_atomic",
]


class CliError(Exception):
    """A failure of a local step (a file exists, a path is missing); the message is for the user."""


def cluster_options() -> argparse.ArgumentParser:
    """A parent parser with the options every verb that may talk to the cluster takes."""
    parent = argparse.ArgumentParser(add_help=False)
    group = parent.add_argument_group("cluster access")
    group.add_argument("--kubeconfig", metavar="FILE",
                       help="kubeconfig (default: $KUBECONFIG, ~/.kube/config, else the pod's service account)")
    group.add_argument("--context", help="kubeconfig context (default: the current context)")
    return parent


def connect(args: argparse.Namespace) -> tuple[cluster.Connection, str]:
    """The connection and the namespace to use: ``-n``, else the context's, else ``default``."""
    conn = cluster.connect(args.kubeconfig, args.context)
    return conn, getattr(args, "namespace", None) or conn.namespace


def add_list_options(parser: argparse.ArgumentParser) -> None:
    """Where ``list`` verbs look: ``-n NS``, ``-A`` or ``-f PATH...``."""
    where = parser.add_mutually_exclusive_group()
    where.add_argument("-n", "--namespace", help="namespace (default: the context's)")
    where.add_argument("-A", "--all-namespaces", action="store_true", help="every namespace")
    where.add_argument("-f", "--file", nargs="+", metavar="PATH", help="read manifest files or folders instead of the cluster")


def fetch_list(args: argparse.Namespace, resource: cluster.Resource, kind: str) -> list[dict[str, Any]]:
    """The objects a ``list`` verb shows: from files (``-f``), one namespace, or all (``-A``).
    Says on stderr when there are none."""
    if args.file:
        objects = read_resources(args.file, kind)
        where = " ".join(args.file)
    else:
        conn, ns = connect(args)
        objects = cluster.list_objects(conn, resource, None if args.all_namespaces else ns)
        where = "any namespace" if args.all_namespaces else f"namespace {ns}"
    if not objects:
        print(f"no {resource.plural} found in {where}", file=sys.stderr)
    return objects


def guarded(func: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Run a verb; the errors it is expected to meet become one ``error:`` line and status 1."""

    @functools.wraps(func)
    def run(args: argparse.Namespace) -> int:
        try:
            return int(func(args))
        except (cluster.ClusterError, ManifestError, CliError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            return 130

    return run


def report_problems(problems: Sequence[Problem], hint: str | None = None) -> None:
    """Problems exactly as ``tara validate`` prints them, on stderr."""
    for problem in problems:
        print(f"error  {problem}", file=sys.stderr)
    if hint:
        print(f"hint: {hint}", file=sys.stderr)


def now() -> datetime:
    return datetime.now(tz=UTC)


def read_resources(paths: Sequence[str], kind: str) -> list[dict[str, Any]]:
    """Every ``kind`` document in the given files and folders (searched recursively for YAML)."""
    missing = [raw for raw in paths if not Path(raw).exists()]
    if missing:
        raise CliError(f"{missing[0]}: no such file or folder")
    found = []
    for path in yaml_files(paths):
        docs = parse_documents(read_text(str(path)), str(path))
        found += [d for d in docs if isinstance(d, dict) and d.get("kind") == kind]
    return found


def read_text(path: str) -> str:
    """A manifest file's text, within ``tara_api.safeyaml``'s size limit and decoded as UTF-8."""
    try:
        return read_spec_text(path)
    except SpecFileError as exc:
        raise CliError(str(exc)) from None


def write_atomic(path: str | Path, text: str, overwrite: bool = True) -> None:
    """Write ``text`` so that readers see the old file or the new one, never a partial one; an
    existing file keeps its permissions. Raises CliError when ``path`` exists and not ``overwrite``."""
    target = Path(path)
    if target.is_symlink():  # replace the file the link points to, not the link
        target = target.resolve()
    if not overwrite and target.exists():
        raise CliError(f"{target} exists (use --force to overwrite it)")
    directory = target.parent if str(target.parent) else Path(".")
    try:
        mode = target.stat().st_mode & 0o7777 if target.exists() else None
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise CliError(f"cannot write {target}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        else:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, target)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise CliError(f"cannot write {target}: {exc.strerror or exc}") from None
