"""A phase's build folders on the artifacts claim: which revisions stay, and removing the rest.

Every build of a GGUFPhase writes ``<phases>/<phase>/rev-<N>`` (while it runs ``rev-<N>.partial``,
a failed one ``rev-<N>.failed``, a replaced one briefly ``rev-<N>.old``). Without pruning they stay
forever. ``select_for_removal`` is the pure decision (table-tested); ``prune_revisions`` and
``remove_phase`` are the thin file edges the build Job and the cleanup Job run.

Invariants of the decision: the revision just built is kept; every revision named as protected
(the one serving, one a rollout is moving to) is kept; every revision newer than the one just
built is kept (a build that finished late never removes a newer build's folder); of the rest, the
newest ``keep`` revision numbers stay (the one just built counts as one of them). Names that are
not revision folders are never touched.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["PruneReport", "prune_revisions", "remove_phase", "revision_of", "select_for_removal"]

_REVISION = re.compile(r"^rev-(\d+)(\.partial|\.failed|\.old)?$")


def revision_of(name: str) -> int | None:
    """The revision a folder name belongs to (``rev-3``, ``rev-3.failed``, ...), or None for any other name."""
    m = _REVISION.match(name)
    return int(m.group(1)) if m else None


def select_for_removal(names: Iterable[str], current: int, keep: int, protected: Iterable[int] = ()) -> list[str]:
    """The folder names to remove, sorted: every folder of a revision that is neither among the newest
    ``keep`` revisions up to ``current``, nor protected, nor newer than ``current``.

    Raises ValueError when ``keep`` < 1 or ``current`` < 1 (the revision just built is always kept)."""
    if keep < 1:
        raise ValueError(f"keep must be at least 1 (the revision just built), got {keep}")
    if current < 1:
        raise ValueError(f"current must be a revision number (1, 2, ...), got {current}")
    by_name = {n: r for n in names if (r := revision_of(n)) is not None}
    older = sorted({r for r in by_name.values() if r <= current} | {current}, reverse=True)
    kept = set(older[:keep]) | set(protected) | {r for r in by_name.values() if r > current}
    return sorted(n for n, r in by_name.items() if r not in kept)


@dataclass
class PruneReport:
    removed: list[str] = field(default_factory=list)
    freed_bytes: int = 0
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return {"removed": self.removed, "freedBytes": self.freed_bytes, "warnings": self.warnings}


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def _remove(path: Path, report: PruneReport) -> None:
    try:
        size = _size(path)
        shutil.rmtree(path) if path.is_dir() and not path.is_symlink() else path.unlink()
    except OSError as exc:  # a folder that cannot go now goes at the next build's pruning
        report.warnings.append(f"cannot remove {path}: {exc.strerror or exc}")
        return
    report.removed.append(path.name)
    report.freed_bytes += size


def prune_revisions(build_dir: Path, keep: int, protected: Iterable[int] = ()) -> PruneReport:
    """Remove the phase's older revision folders beside ``build_dir`` (a ``rev-<N>`` folder just built).

    Raises ValueError when ``build_dir`` is not named ``rev-<N>`` or ``keep`` < 1; a folder that cannot be
    removed is a warning in the report, never an error (the build itself succeeded)."""
    current = revision_of(build_dir.name)
    if current is None or build_dir.name != f"rev-{current}":
        raise ValueError(f"{build_dir}: revision pruning needs the build folder to be named rev-<N>")
    report = PruneReport()
    parent = build_dir.parent
    names = [p.name for p in parent.iterdir()] if parent.is_dir() else []
    for name in select_for_removal(names, current, keep, protected):
        _remove(parent / name, report)
    return report


def remove_phase(phases_dir: Path, phase: str) -> PruneReport:
    """Remove ``<phases_dir>/<phase>`` and everything in it (a deleted phase with retention Delete).

    A missing folder is nothing to do. Raises ValueError for a name that is not one folder name,
    OSError when the folder cannot be removed (the cleanup Job then fails and is retried)."""
    if not phase or "/" in phase or phase in (".", ".."):
        raise ValueError(f"not a phase name: {phase!r}")
    target = phases_dir / phase
    report = PruneReport()
    if not target.exists():
        return report
    report.freed_bytes = _size(target)
    shutil.rmtree(target)
    report.removed.append(phase)
    return report
