"""A huggingFace dataset trained end to end, offline, the way a Job runs the trainer: a DatasetDict
written by ``save_to_disk`` (columns renamed, an extra column) trains the tiny model through
``tara-trainer train``; the rows' hash and the adapter's sha256 reach state.json and the status
patches, and stay the same when the run is repeated."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_training import _ApiServer, manifest, run, state

from tara_api.domaintraining import DatasetSplit
from tara_trainer.checkpoints import file_digest
from tara_trainer.dataset import load_examples, rows_sha256
from tara_trainer.sources import builtin_dataset_path
from tara_trainer.split import split_examples

pytestmark = pytest.mark.slow
datasets = pytest.importorskip("datasets")


def test_a_saved_hugging_face_dataset_trains_and_reports_its_lineage(tiny_model_dir: Path, tmp_path: Path) -> None:
    rows = [json.loads(line) for line in builtin_dataset_path("healthcare").read_text().splitlines() if line.strip()]
    renamed = [{"id": i, "conversation": r["messages"]} for i, r in enumerate(rows)]
    datasets.DatasetDict({"train": datasets.Dataset.from_list(renamed),
                          "validation": datasets.Dataset.from_list(renamed[:4])}).save_to_disk(str(tmp_path / "hc-hf"))
    spec = manifest(tmp_path, tiny_model_dir, maxSteps=12, qualityGate={"enabled": False},
                    dataset={"huggingFace": {"name": "hc-hf", "columns": {"messages": "conversation"}}})
    sa = tmp_path / "sa"
    sa.mkdir()
    (sa / "token").write_text("t")
    out = tmp_path / "out"
    offline = {"HF_HOME": str(tmp_path / "hf"), "HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1"}
    with _ApiServer() as api:
        result = run(spec, out, TARA_API_URL=api.url, TARA_RESOURCE_NAME="hc", TARA_NAMESPACE="ml",
                     TARA_SERVICE_ACCOUNT_DIR=str(sa), TARA_STATUS_INTERVAL="0", **offline)
    assert result.returncode == 0, result.stderr[-3000:]

    # the rows trained on hash as the same rows read from the bundled JSONL do: the source's format does not count
    examples, _ = load_examples(builtin_dataset_path("healthcare"))
    expected = rows_sha256(split_examples(examples, 0.1, 42, DatasetSplit.GROUPED).train)
    adapter_sha = file_digest(out / "adapter" / "manifest.json")
    body = json.loads((out / "adapter" / "manifest.json").read_text())
    assert body["data"]["rowsSha256"] == expected and body["data"]["rows"] == len(rows) and body["data"]["badRows"] == 0
    final = state(out)
    assert final["status"] == "Succeeded" and final["data"]["rowsSha256"] == expected
    assert final["artifacts"] == {"sha256": adapter_sha}
    last = api.patches[-1][2]["status"]
    assert last["artifacts"] == {"sha256": adapter_sha} and last["data"]["rowsSha256"] == expected
    assert last["data"]["train"] + last["data"]["eval"] == len(rows)

    # run again: the finished adapter is reused and reports the same hashes
    with _ApiServer() as api:
        again = run(spec, out, TARA_API_URL=api.url, TARA_RESOURCE_NAME="hc", TARA_NAMESPACE="ml",
                    TARA_SERVICE_ACCOUNT_DIR=str(sa), TARA_STATUS_INTERVAL="0", **offline)
    assert again.returncode == 0 and json.loads(again.stdout)["reused"] is True, again.stderr[-3000:]
    status = api.patches[-1][2]["status"]
    assert status["artifacts"] == {"sha256": adapter_sha} and status["data"]["rowsSha256"] == expected


def test_a_missing_split_fails_the_run_as_dataset_invalid(tiny_model_dir: Path, tmp_path: Path) -> None:
    datasets.DatasetDict({"train": datasets.Dataset.from_list([{"text": "a document"}] * 4)}).save_to_disk(str(tmp_path / "d"))
    spec = manifest(tmp_path, tiny_model_dir, dataset={"huggingFace": {"name": "d", "split": "validation"}})
    result = run(spec, tmp_path / "out", HF_HOME=str(tmp_path / "hf"), HF_DATASETS_OFFLINE="1", HF_HUB_OFFLINE="1")
    assert result.returncode != 0
    assert state(tmp_path / "out")["reason"] == "DatasetInvalid"
    assert "has no split 'validation'; it has 'train'" in result.stderr
