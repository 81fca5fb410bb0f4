"""The huggingFace dataset source with the real ``datasets`` package, offline: folders written by
save_to_disk, folders and files of data files, a Hub id from the local datasets cache, and every way
they go wrong as a DataInvalid that says what to change. The pure decisions first, as tables."""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tara_api.domaintraining import DatasetSource, HuggingFaceDataset
from tara_trainer.dataset import load_examples, rows_sha256
from tara_trainer.errors import DataInvalid
from tara_trainer.hfdata import EXPORT, Kind, column_plan, export_hugging_face, locate, pick_split
from tara_trainer.settings import TrainerSettings
from tara_trainer.sources import resolve_dataset

datasets = pytest.importorskip("datasets")

CHAT = [{"messages": [{"role": "user", "content": f"question {i}"}, {"role": "assistant", "content": f"answer {i}"}]}
        for i in range(6)]


@pytest.mark.parametrize(
    ("columns", "available", "expected", "error"),
    [
        ({}, ["messages", "id"], {"messages": "messages"}, None),
        ({}, ["instruction", "input", "output", "x"], {"instruction": "instruction", "input": "input", "output": "output"}, None),
        ({"text": "body"}, ["body", "text"], {"text": "body"}, None),  # the mapped column wins over the same-named one
        ({"messages": "conversation"}, ["conversation"], {"messages": "conversation"}, None),
        ({"text": "body"}, ["content"], None, "names column(s) it does not have (text: 'body'); its columns are 'content'"),
        ({}, ["prompt", "completion"], None, "no column holds training data; it has 'prompt', 'completion'"),
        ({}, ["input"], None, "map yours with dataset.huggingFace.columns"),
    ],
    ids=["same-name", "instruction", "mapped-wins", "mapped", "mapped-missing", "nothing-usable", "input-alone"],
)
def test_column_plan(columns: dict, available: list[str], expected: dict | None, error: str | None) -> None:
    if error is None:
        assert column_plan(columns, available, "d") == expected
    else:
        with pytest.raises(DataInvalid, match=None) as caught:
            column_plan(columns, available, "d")
        assert error in str(caught.value)


@pytest.mark.parametrize(
    ("available", "requested", "error"),
    [(["train", "test"], "test", None), (["train"], "validation", "has no split 'validation'; it has 'train'"),
     ([], "train", "it has none")],
)
def test_pick_split(available: list[str], requested: str, error: str | None) -> None:
    if error is None:
        assert pick_split(available, requested, "d") == requested
    else:
        with pytest.raises(DataInvalid) as caught:
            pick_split(available, requested, "d")
        assert error in str(caught.value) and "set dataset.huggingFace.split" in str(caught.value)


def _saved(tmp: Path, rows: list[dict[str, Any]] = CHAT, name: str = "saved", split: str = "train") -> Path:
    folder = tmp / name
    datasets.DatasetDict({split: datasets.Dataset.from_list(rows),
                          "test": datasets.Dataset.from_list(rows[:2])}).save_to_disk(str(folder))
    return folder


def _export(tmp: Path, base: Path | None = None, root: Path | None = None, **ref: Any) -> list[dict[str, Any]]:
    out = tmp / "out"
    path = export_hugging_face(HuggingFaceDataset.model_validate(ref), root, base or tmp, out)
    assert path == out / EXPORT and not (out / ".hf-datasets-cache").exists()
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_a_saved_dataset_dict_gives_the_named_split(tmp_path: Path) -> None:
    _saved(tmp_path)
    assert _export(tmp_path, name="saved") == CHAT
    assert _export(tmp_path, name=str(tmp_path / "saved"), split="test") == CHAT[:2]  # absolute path too


def test_a_saved_single_dataset_and_its_split(tmp_path: Path) -> None:
    datasets.Dataset.from_list(CHAT).save_to_disk(str(tmp_path / "one"))
    assert _export(tmp_path, name="./one") == CHAT
    assert _export(tmp_path, name="./one", split="anything") == CHAT  # a Dataset saved alone knows no split


def test_data_files_folder_file_and_formats(tmp_path: Path) -> None:
    folder = tmp_path / "files"
    folder.mkdir()
    (folder / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in CHAT))
    (folder / "test.jsonl").write_text(json.dumps(CHAT[0]) + "\n")
    assert _export(tmp_path, name="files") == CHAT
    assert _export(tmp_path, name="files", split="test") == CHAT[:1]
    text = [{"body": f"document {i}", "id": i} for i in range(4)]
    datasets.Dataset.from_list(text).to_csv(str(tmp_path / "docs.csv"), index=False)
    datasets.Dataset.from_list(text).to_parquet(str(tmp_path / "docs.parquet"))
    expected = [{"text": r["body"]} for r in text]
    assert _export(tmp_path, name="docs.csv", columns={"text": "body"}) == expected
    assert _export(tmp_path, name="docs.parquet", columns={"text": "body"}) == expected


def test_columns_map_onto_the_fields_and_the_rows_hash_does_not_depend_on_the_source(tmp_path: Path) -> None:
    renamed = [{"conversation": r["messages"], "source": "forum"} for r in CHAT]
    _saved(tmp_path, renamed)
    rows = _export(tmp_path, name="saved", columns={"messages": "conversation"})
    assert rows == CHAT  # only the fields the trainer reads, under their names
    jsonl = tmp_path / "same.jsonl"
    jsonl.write_text("".join(json.dumps(r, indent=None, sort_keys=True) + "\n" for r in CHAT))
    from_hf, _ = load_examples(tmp_path / "out" / EXPORT)
    from_jsonl, _ = load_examples(jsonl)
    assert rows_sha256(from_hf) == rows_sha256(from_jsonl)
    assert rows_sha256(from_hf[1:]) != rows_sha256(from_hf)


def test_a_claim_holds_the_folder(tmp_path: Path) -> None:
    mounts = tmp_path / "mounts"
    _saved(mounts / "claims" / "data", name="sets/hc")
    settings = TrainerSettings(mounts_root=mounts)
    source = DatasetSource.model_validate({"huggingFace": {"name": "/sets/hc"}, "claimName": "data"})
    path = resolve_dataset(source, settings, tmp_path, tmp_path / "out")
    assert path == tmp_path / "out" / EXPORT and len(path.read_text().splitlines()) == len(CHAT)


def test_hub_revision_config_and_split_reach_load_dataset(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The Hub path, offline: the library call is replaced by one that records what it was asked for."""
    calls: list[tuple[tuple, dict]] = []

    def load_dataset(*args: Any, **kwargs: Any) -> Any:
        calls.append((args, kwargs))
        return datasets.DatasetDict({"train": datasets.Dataset.from_list(CHAT),
                                     "validation": datasets.Dataset.from_list(CHAT[4:])})

    monkeypatch.setattr(datasets, "load_dataset", load_dataset)
    source = DatasetSource.model_validate({"huggingFace": {"name": "someorg/clinical-chats", "config": "en",
                                                           "revision": "0123abc", "split": "validation"}})
    path = resolve_dataset(source, TrainerSettings(mounts_root=tmp_path / "mounts"), tmp_path, tmp_path / "out")
    assert calls == [(("someorg/clinical-chats", "en"), {"revision": "0123abc"})]
    assert [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] == CHAT[4:]  # the split asked for
    calls.clear()
    _export(tmp_path, name="someorg/clinical-chats")  # none set: the library's defaults
    assert calls == [(("someorg/clinical-chats", None), {"revision": None})]

    # a local copy has no revisions: refused before anything is read
    _saved(tmp_path)
    (tmp_path / "rows.jsonl").write_text(json.dumps(CHAT[0]) + "\n")
    calls.clear()
    for name, kind in (("saved", "a folder written by save_to_disk"), ("rows.jsonl", "data files")):
        with pytest.raises(DataInvalid, match=f"revision applies to a Hub dataset; .*{name} is {kind} .*: remove revision"):
            _export(tmp_path, name=name, revision="0123abc")
    assert calls == []


def _corrupt(tmp: Path) -> None:
    folder = _saved(tmp, name="broken")
    for arrow in glob.glob(str(folder / "train" / "*.arrow")):
        os.remove(arrow)


@pytest.mark.parametrize(
    ("setup", "ref", "message"),
    [
        (lambda t: _saved(t), {"name": "saved", "split": "validation"}, "has no split 'validation'; it has 'train', 'test'"),
        (lambda t: _saved(t, [{"prompt": "p", "completion": "c"}] * 3), {"name": "saved"},
         "no column holds training data; it has 'prompt', 'completion'"),
        (lambda t: _saved(t), {"name": "saved", "columns": {"text": "body"}}, "names column(s) it does not have (text: 'body')"),
        (_corrupt, {"name": "broken"}, "cannot read the dataset saved at"),
        (lambda t: _saved(t), {"name": "saved", "revision": "v1"}, "revision applies to a Hub dataset"),
        (lambda t: _saved(t), {"name": "saved", "config": "en"}, "holds no configurations"),
        (lambda t: None, {"name": "./missing"}, "no folder or file at"),
        (lambda t: None, {"name": "rows.parquet"}, "no folder or file at"),
        (lambda t: (t / "rows.txt").write_text("x"), {"name": "rows.txt"}, ".txt is not a data file"),
        (lambda t: (t / "bad.jsonl").write_text("{not json\n"), {"name": "bad.jsonl"}, "cannot read the data files at"),
        (lambda t: (t / "empty.csv").write_text("text\n"), {"name": "empty.csv"}, "to no data"),
    ],
    ids=["missing-split", "no-text-column", "mapped-column-missing", "unreadable", "revision-on-local", "config-on-saved",
         "missing-path", "missing-file", "unsupported-file", "bad-json", "empty"],
)
def test_every_bad_case_is_dataset_invalid_with_what_to_do(tmp_path: Path, setup: Any, ref: dict, message: str) -> None:
    setup(tmp_path)
    with pytest.raises(DataInvalid) as caught:
        _export(tmp_path, **ref)
    assert message in str(caught.value)


def test_locate_tells_a_hub_id_from_a_path(tmp_path: Path) -> None:
    _saved(tmp_path, name="org")
    assert locate(HuggingFaceDataset(name="someorg/dataset"), None, tmp_path) == (Kind.HUB, None)
    assert locate(HuggingFaceDataset(name="org"), None, tmp_path) == (Kind.SAVED, tmp_path / "org")
    with pytest.raises(DataInvalid, match="claim data is mounted"):
        locate(HuggingFaceDataset(name="someorg/dataset"), tmp_path / "claims" / "data", tmp_path)  # on a claim: a path


_HUB = """
import sys
from pathlib import Path
from tara_api.domaintraining import HuggingFaceDataset
from tara_trainer.errors import DataInvalid
from tara_trainer.hfdata import export_hugging_face
try:
    path = export_hugging_face(HuggingFaceDataset(name=sys.argv[1], split=sys.argv[2]), None, Path.cwd(), Path(sys.argv[3]))
    print("ROWS", len(path.read_text().splitlines()))
except DataInvalid as exc:
    print("INVALID", exc)
"""


def _hub(tmp: Path, name: str, split: str = "train") -> str:
    env = {**os.environ, "HF_HOME": str(tmp / "hf"), "HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1"}
    done = subprocess.run([sys.executable, "-c", _HUB, name, split, str(tmp / "out")], capture_output=True, text=True,
                          env=env, cwd=tmp, timeout=300, check=True)
    return done.stdout.strip().splitlines()[-1]


def _cache_as_hub(tmp: Path, hub_name: str) -> None:
    """Put rows in the local datasets cache where a download of ``hub_name`` leaves them
    (``<cache>/<org>___<name>/<config>/<version>/<hash>/``: dataset_info.json and <name>-<split>.arrow)."""
    script = (
        "import datasets, glob, os, shutil, sys\n"
        "datasets.load_dataset('json', data_files={'train': sys.argv[1]})\n"
        "cache = datasets.config.HF_DATASETS_CACHE\n"
        "src = glob.glob(f'{cache}/json/*/0.0.0/*/')[0].rstrip('/')\n"
        "org, name = sys.argv[2].split('/')\n"
        "dst = f'{cache}/{org}___{name}/default/0.0.0/' + os.path.basename(src)\n"
        "shutil.copytree(src, dst)\n"
        "for f in glob.glob(dst + '/json-*.arrow'):\n"
        "    os.rename(f, f.replace('/json-', f'/{name}-'))\n"
        "shutil.rmtree(f'{cache}/json')\n"
    )
    rows = tmp / "rows.jsonl"
    rows.write_text("".join(json.dumps(r) + "\n" for r in CHAT))
    subprocess.run([sys.executable, "-c", script, str(rows), hub_name], env={**os.environ, "HF_HOME": str(tmp / "hf"),
                   "HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1"}, capture_output=True, check=True, timeout=300)


def test_a_hub_id_loads_from_the_local_cache_offline(tmp_path: Path) -> None:
    _cache_as_hub(tmp_path, "someorg/support-chats")
    assert _hub(tmp_path, "someorg/support-chats") == f"ROWS {len(CHAT)}"
    assert "has no split 'test'; it has 'train'" in _hub(tmp_path, "someorg/support-chats", "test")


def test_a_hub_id_missing_from_the_cache_says_what_to_do(tmp_path: Path) -> None:
    line = _hub(tmp_path, "someorg/not-downloaded")
    assert line.startswith("INVALID") and "is not in the local Hugging Face datasets cache" in line
    assert str(tmp_path / "hf" / "datasets") in line and "save_to_disk('FOLDER')" in line and "HF_DATASETS_OFFLINE" in line
    shutil.rmtree(tmp_path / "out", ignore_errors=True)
