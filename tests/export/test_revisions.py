"""Which build revisions of a phase stay on the artifacts claim (a table of cases), and the removal
itself on real folders: after a build (``prune_revisions``, through the build's own step and the
CLI's checks) and on deletion (``remove_phase``, the cleanup Job's command)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tara_api import GGUFPhase
from tara_trainer import cli
from tara_trainer.export.build import BuildRequest, _prune
from tara_trainer.export.revisions import prune_revisions, remove_phase, revision_of, select_for_removal

ALL = ["rev-1", "rev-2", "rev-2.failed", "rev-3", "rev-4.failed", "rev-5", "rev-6.partial", "notes.txt", "rev-x", "revision-2"]

# name, folder names, current, keep, protected, expected removals
CASES = [
    ("keep-two", ["rev-1", "rev-2", "rev-3"], 3, 2, (), ["rev-1"]),
    ("keep-one", ["rev-1", "rev-2", "rev-3"], 3, 1, (), ["rev-1", "rev-2"]),
    ("serving-is-kept", ["rev-1", "rev-2", "rev-3"], 3, 1, (1,), ["rev-2"]),
    ("rollout-target-kept-too", ["rev-1", "rev-2", "rev-3", "rev-4"], 4, 1, (1, 3), ["rev-2"]),
    ("newer-than-current-kept", ["rev-1", "rev-2", "rev-3", "rev-4.partial"], 2, 1, (), ["rev-1"]),
    ("failed-and-partial-go-with-their-revision", ALL, 5, 2, (), ["rev-1", "rev-2", "rev-2.failed", "rev-3"]),
    ("failed-revision-counts-among-the-newest", ALL, 5, 2, (3,), ["rev-1", "rev-2", "rev-2.failed"]),
    ("keep-more-than-exist", ["rev-1", "rev-2"], 2, 5, (), []),
    ("current-missing-from-the-listing-still-counts", ["rev-1", "rev-2"], 3, 2, (), ["rev-1"]),
    ("other-names-untouched", ["notes.txt", "rev-x", "revision-2", "rev-1.old", "rev-2"], 2, 1, (), ["rev-1.old"]),
    ("protected-unknown-revision", ["rev-1", "rev-2"], 2, 1, (9,), ["rev-1"]),
    ("empty", [], 1, 2, (), []),
]


@pytest.mark.parametrize(("names", "current", "keep", "protected", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_select_for_removal(names, current, keep, protected, expected) -> None:
    removed = select_for_removal(names, current, keep, protected)
    assert removed == expected
    assert all(revision_of(n) is not None for n in removed)
    assert not any(n.startswith(f"rev-{current}") and revision_of(n) == current for n in removed)  # never the one just built
    assert not any(revision_of(n) in protected for n in removed)  # never the one serving


@pytest.mark.parametrize(("current", "keep", "message"), [(3, 0, "keep must be at least 1"), (0, 2, "current must be")])
def test_select_for_removal_refuses(current, keep, message) -> None:
    with pytest.raises(ValueError, match=message):
        select_for_removal(["rev-1"], current, keep)


def _folders(root: Path, names: list[str]) -> None:
    for name in names:
        if "." in name and not name.startswith("rev-"):
            (root / name).write_text("x")
            continue
        (root / name / "router").mkdir(parents=True)
        (root / name / "base-Q4_K_M.gguf").write_bytes(b"g" * 1000)
        (root / name / "router" / "index.npz").write_bytes(b"i" * 24)


def test_prune_revisions_on_real_folders(tmp_path: Path) -> None:
    phase = tmp_path / "phases" / "phase-1"
    phase.mkdir(parents=True)
    _folders(phase, ["rev-1", "rev-2", "rev-2.failed", "rev-3", "rev-4", "rev-5.partial", "notes.txt"])
    report = prune_revisions(phase / "rev-4", keep=2, protected=(1,))
    assert report.removed == ["rev-2", "rev-2.failed"] and report.freed_bytes == 2 * 1024 and not report.warnings
    assert sorted(p.name for p in phase.iterdir()) == ["notes.txt", "rev-1", "rev-3", "rev-4", "rev-5.partial"]
    assert (phase / "rev-4" / "base-Q4_K_M.gguf").read_bytes() == b"g" * 1000
    again = prune_revisions(phase / "rev-4", keep=2, protected=(1,))
    assert again.removed == [] and again.freed_bytes == 0


def test_prune_revisions_reports_what_cannot_go(tmp_path: Path, monkeypatch) -> None:
    phase = tmp_path / "phase-1"
    phase.mkdir()
    _folders(phase, ["rev-1", "rev-2", "rev-3"])
    real = shutil.rmtree

    def refuse_rev_1(path, *args, **kwargs):  # a file server refusing one folder (tests run as root: chmod would not)
        if Path(path).name == "rev-1":
            raise PermissionError(13, "Permission denied")
        return real(path, *args, **kwargs)

    monkeypatch.setattr(shutil, "rmtree", refuse_rev_1)
    report = prune_revisions(phase / "rev-3", keep=1)
    assert report.removed == ["rev-2"] and len(report.warnings) == 1 and "rev-1: Permission denied" in report.warnings[0]
    assert sorted(p.name for p in phase.iterdir()) == ["rev-1", "rev-3"]


def test_prune_needs_a_revision_folder(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="rev-<N>"):
        prune_revisions(tmp_path / "out", keep=2)


def _phase(keep: int = 2) -> GGUFPhase:
    return GGUFPhase.model_validate({"metadata": {"name": "phase-1"}, "spec": {
        "phaseNumber": 1, "domains": [{"domain": "healthcare"}], "storage": {"keepRevisions": keep}}})


def test_the_builds_prune_step_keeps_what_it_is_told(tmp_path: Path) -> None:
    _folders(tmp_path, ["rev-1", "rev-2", "rev-3", "rev-4"])
    assert _prune(BuildRequest(_phase(), tmp_path / "rev-4")) is None  # not asked: nothing goes
    assert len(list(tmp_path.iterdir())) == 4
    pruned = _prune(BuildRequest(_phase(), tmp_path / "rev-4", keep_revisions=2, protect_revisions=(1,)))
    assert pruned == {"removed": ["rev-2"], "freedBytes": 1024, "warnings": []}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rev-1", "rev-3", "rev-4"]


def test_storage_changes_no_build_fingerprint() -> None:
    a, b = _phase(2).spec, _phase(5).spec
    dump = {"mode": "json", "by_alias": True, "exclude_none": True, "exclude": {"storage"}}
    assert a.model_dump(**dump) == b.model_dump(**dump) and "storage" not in a.model_dump(**dump)


@pytest.mark.parametrize(("argv", "message"), [
    (["--keep-revisions", "0", "--output", "x/rev-3"], "at least 1"),
    (["--keep-revisions", "2", "--output", "x/build"], "rev-<N>"),
    (["--keep-revisions", "2", "--output", "x/rev-3.partial"], "rev-<N>"),
])
def test_build_cli_refuses_bad_retention_flags(tmp_path: Path, caplog, argv, message) -> None:
    spec = tmp_path / "phase.yaml"
    spec.write_text(json.dumps(_phase().model_dump(mode="json", by_alias=True, exclude_none=True)))
    code = cli.main(["build", "--phase", str(spec), *argv])
    assert code == 2 and message in caplog.text


def test_remove_phase_on_real_folders(tmp_path: Path, capsys) -> None:
    phases = tmp_path / "phases"
    for name in ("phase-1", "phase-2"):
        (phases / name).mkdir(parents=True)
        _folders(phases / name, ["rev-1", "rev-2.failed"])
    assert cli.main(["remove-phase", "--phases-dir", str(phases), "--phase", "phase-1"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out == {"phase": "phase-1", "removed": ["phase-1"], "freedBytes": 2048, "warnings": []}
    assert sorted(p.name for p in phases.iterdir()) == ["phase-2"]  # the other phase is untouched
    assert remove_phase(phases, "phase-1").removed == []  # already gone: nothing to do
    for bad in ("", "..", "a/b"):
        with pytest.raises(ValueError, match="not a phase name"):
            remove_phase(phases, bad)
    assert cli.main(["remove-phase", "--phases-dir", str(phases), "--phase", ".."]) == 2
