"""What a finished build reports into its GGUFPhase's status, from its manifest alone (pure): each
domain's lineage (rows hash → adapter sha256 → the files made from it → revision), the revision a
build folder holds, and the type it chose under builtQuantization, never servedQuantization."""

from __future__ import annotations

from pathlib import Path

import pytest

from tara_api.ggufphase import GGUFPhaseStatus
from tara_trainer.export.build import build_revision, domain_lineage, phase_status

SHA = {"hc": "a" * 64, "biz": "b" * 64}


def _source(domain: str) -> dict:
    return {"adapterManifestSha256": SHA[domain], "datasetSha256": "d" * 64, "training": f"{domain}-run", "runId": "r1"}


def _file(kind: str, quantization: str, domains: list[str], name: str, sha: str) -> dict:
    return {"kind": kind, "quantization": quantization, "domain": domains[0] if kind == "lora" else None, "path": name,
            "bytes": 100, "sha256": sha * 64, "domains": domains, "lineage": {"domains": {d: _source(d) for d in domains}}}


ADAPTERS = {"domains": ["hc", "biz"], "served": {"quantization": "Q4_K_M"}, "artifacts": [
    _file("base", "F16", ["hc", "biz"], "base-F16.gguf", "1"), _file("base", "Q4_K_M", ["hc", "biz"], "base-Q4_K_M.gguf", "2"),
    _file("lora", "F16", ["hc"], "lora-hc.gguf", "3"), _file("lora", "F16", ["biz"], "lora-biz.gguf", "4")]}
MERGED = {"domains": ["hc", "biz"], "served": {"quantization": "Q8_0"}, "artifacts": [
    _file("merged", "F16", ["hc", "biz"], "universal-F16.gguf", "5"), _file("merged", "Q8_0", ["hc", "biz"], "universal-Q8_0.gguf", "6")]}


@pytest.mark.parametrize(
    ("folder", "revision"),
    [("/mnt/tara/phases/p/rev-3", 3), ("/mnt/tara/phases/p/rev-12", 12), (".tara/phases/phase-1", None), ("/x/rev-3b", None)],
)
def test_build_revision_comes_from_the_operators_folder_name(folder: str, revision: int | None) -> None:
    assert build_revision(Path(folder)) == revision


@pytest.mark.parametrize(
    ("manifest", "files"),
    [(ADAPTERS, {"hc": ["lora-hc.gguf"], "biz": ["lora-biz.gguf"]}),  # base files come from no adapter
     (MERGED, {"hc": ["universal-F16.gguf", "universal-Q8_0.gguf"], "biz": ["universal-F16.gguf", "universal-Q8_0.gguf"]})],
    ids=["adapters", "merged"],
)
def test_each_domain_traces_rows_to_adapter_to_files_to_revision(manifest: dict, files: dict) -> None:
    out = Path("/mnt/tara/phases/p/rev-2")
    lineage = domain_lineage(manifest, out)
    assert [entry["domain"] for entry in lineage] == ["hc", "biz"]
    for entry in lineage:
        d = entry["domain"]
        assert entry["datasetSha256"] == "d" * 64 and entry["adapterSha256"] == SHA[d] and entry["revision"] == 2
        assert entry["training"] == f"{d}-run" and entry["runId"] == "r1"
        assert [Path(f["path"]).name for f in entry["files"]] == files[d]
        assert all(f["path"].startswith(str(out)) and len(f["sha256"]) == 64 and f["bytes"] == 100 for f in entry["files"])


def test_phase_status_reports_the_built_type_and_fits_the_status_schema() -> None:
    status = phase_status(MERGED, Path("/mnt/tara/phases/p/rev-2"))
    assert status["builtQuantization"] == "Q8_0" and status["builtRevision"] == 2 and "servedQuantization" not in status
    GGUFPhaseStatus.model_validate(status)  # every field the build writes is in the API types
    local = phase_status(ADAPTERS, Path(".tara/phases/phase-1"))
    assert "builtRevision" not in local and all("revision" not in e for e in local["lineage"])
