"""Where a DomainTraining's ``dataset`` source is read from: a claim's file and a ConfigMap's key
under the pod's mount root (where the operator mounts them), and a Hugging Face dataset through the
``datasets`` library, here a local dataset folder (the Hub itself is not reachable in tests)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tara_api.domaintraining import DatasetSource
from tara_trainer.errors import DataInvalid
from tara_trainer.settings import TrainerSettings
from tara_trainer.sources import resolve_dataset

ROW = {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}


def _write(path: Path, rows: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_claim_and_configmap_sources_resolve_under_the_mounts(tmp_path: Path) -> None:
    settings = TrainerSettings(mounts_root=tmp_path / "mnt")
    on_claim = _write(tmp_path / "mnt" / "claims" / "datasets" / "hc" / "train.jsonl", [ROW])
    source = DatasetSource(claim_name="datasets", path="/hc/train.jsonl")
    assert resolve_dataset(source, settings, tmp_path, tmp_path / "work") == on_claim
    in_configmap = _write(tmp_path / "mnt" / "configmaps" / "hc-data" / "rows.jsonl", [ROW])
    source = DatasetSource(config_map={"name": "hc-data", "key": "rows.jsonl"})
    assert resolve_dataset(source, settings, tmp_path, tmp_path / "work") == in_configmap
    with pytest.raises(DataInvalid, match=r"configmaps/hc-data/other.jsonl does not exist"):
        resolve_dataset(DatasetSource(config_map={"name": "hc-data", "key": "other.jsonl"}), settings, tmp_path, tmp_path)


def test_a_hugging_face_dataset_is_exported_to_jsonl_by_split(tmp_path: Path) -> None:
    folder = tmp_path / "hub-dataset"
    _write(folder / "train.jsonl", [ROW, ROW])
    _write(folder / "test.jsonl", [{**ROW, "messages": [*ROW["messages"][:1], {"role": "assistant", "content": "held out"}]}])
    source = DatasetSource(hugging_face={"name": str(folder), "config": "default", "split": "test"})
    exported = resolve_dataset(source, TrainerSettings(), tmp_path, tmp_path / "work")
    rows = [json.loads(line) for line in exported.read_text(encoding="utf-8").splitlines()]
    assert [r["messages"][1]["content"] for r in rows] == ["held out"]  # split test, not train
    missing = DatasetSource(hugging_face={"name": str(folder), "split": "validation"})
    with pytest.raises(DataInvalid, match=r"has no split 'validation'; it has 'train', 'test': set dataset.huggingFace.split"):
        resolve_dataset(missing, TrainerSettings(), tmp_path, tmp_path / "other-work")
