"""The ``huggingFace`` dataset source: a local copy read with the ``datasets`` package, or a Hub id
from the Hugging Face datasets cache.

What ``huggingFace.name`` means is decided once (``locate``): a path that exists (inside
``dataset.claimName`` when set, else on the node or, locally, relative to the manifest) is a local
copy — a folder written by ``save_to_disk`` (it holds ``dataset_dict.json`` or ``state.json``), else
a folder or file of data files (jsonl, json, csv, parquet). A name that looks like a path but is not
there is an error; any other name is a Hub id, which ``datasets`` reads from its cache (only from
there with ``HF_DATASETS_OFFLINE=1``; otherwise it may download).

The chosen split is written as JSONL (``EXPORT``) in the run's output folder, its columns renamed by
``huggingFace.columns`` and cut to the ones the trainer reads, so formats, bad-row counting and line
numbers are the JSONL path's: line N of that file is row N of the split. Every problem is a
``DataInvalid`` that says what to change. The pure decisions (``column_plan``, ``pick_split``) take
no I/O and are unit-tested on their own.
"""

from __future__ import annotations

import enum
import json
import os
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from tara_api.domaintraining import HuggingFaceDataset
from tara_trainer.errors import DataInvalid

__all__ = ["DATA_SUFFIXES", "EXPORT", "FIELDS", "Kind", "column_plan", "export_hugging_face", "locate", "pick_split"]

EXPORT = "hf-dataset.jsonl"
FIELDS = ("messages", "text", "instruction", "input", "output")  # what dataset.py reads from a row
DATA_SUFFIXES = {".jsonl": "json", ".json": "json", ".csv": "csv", ".parquet": "parquet"}
_SAVED_MARKERS = ("dataset_dict.json", "state.json")  # save_to_disk of a DatasetDict, of a Dataset


class Kind(enum.StrEnum):
    SAVED = "a folder written by save_to_disk"
    FILES = "data files"
    HUB = "a Hub dataset"


def _looks_like_path(name: str) -> bool:
    return name.startswith(("/", "./", "../", "~")) or Path(name).suffix.lower() in DATA_SUFFIXES


def locate(ref: HuggingFaceDataset, root: Path | None, base_dir: Path) -> tuple[Kind, Path | None]:
    """What ``ref.name`` names and where: ``root`` is the claim's mount when ``dataset.claimName`` is set.

    Raises DataInvalid for a path that is not there or a file that is not a data file."""
    raw = Path(ref.name).expanduser()
    path = (root / ref.name.lstrip("/")) if root is not None else raw if raw.is_absolute() else base_dir / raw
    if path.is_dir():
        return (Kind.SAVED if any((path / m).is_file() for m in _SAVED_MARKERS) else Kind.FILES), path
    if path.is_file():
        if path.suffix.lower() not in DATA_SUFFIXES:
            raise DataInvalid(f"dataset.huggingFace.name {path}: {path.suffix or 'a file without suffix'} is not a data file "
                              f"the datasets package reads here; use {', '.join(DATA_SUFFIXES)}, or a folder written by "
                              "save_to_disk")
        return Kind.FILES, path
    if root is not None or _looks_like_path(ref.name):
        where = f" (claim {root.name} is mounted at {root})" if root is not None else ""
        raise DataInvalid(f"dataset.huggingFace.name: no folder or file at {path}{where}; give a folder written by "
                          "save_to_disk, a data file or folder of them, or a Hub dataset id such as org/dataset")
    return Kind.HUB, None


def pick_split(available: Sequence[str], requested: str, where: str) -> str:
    """The split to train on (pure). Raises DataInvalid listing the splits there are."""
    if requested in available:
        return requested
    raise DataInvalid(f"{where} has no split {requested!r}; it has {', '.join(map(repr, available)) or 'none'}: "
                      "set dataset.huggingFace.split to one of them")


def column_plan(columns: Mapping[str, str | None], available: Sequence[str], where: str) -> dict[str, str]:
    """Trainer field → the dataset's column (pure): each field from the column ``columns`` maps it to,
    else from the column of its own name when there is one.

    Raises DataInvalid for a mapped column the dataset lacks, or when no column holds messages, text
    or instruction/output."""
    missing = {field: column for field, column in columns.items() if column is not None and column not in available}
    if missing:
        wrong = ", ".join(f"{field}: {column!r}" for field, column in missing.items())
        raise DataInvalid(f"{where}: dataset.huggingFace.columns names column(s) it does not have ({wrong}); its columns "
                          f"are {', '.join(map(repr, available))}")
    plan = {field: columns.get(field) or field for field in FIELDS}
    plan = {field: column for field, column in plan.items() if column in available}
    if not {"messages", "text", "instruction", "output"} & plan.keys():
        raise DataInvalid(f"{where}: no column holds training data; it has {', '.join(map(repr, available)) or 'no columns'}, "
                          "the trainer reads messages (chat), text, or instruction/input/output: map yours with "
                          "dataset.huggingFace.columns, e.g. columns: {text: body} or {messages: conversations}")
    return plan


def _datasets() -> Any:
    try:
        import datasets
    except ImportError as exc:  # a trainer installed without the project's dependencies
        raise DataInvalid("dataset.huggingFace needs the 'datasets' package (a dependency of tara; reinstall it), or "
                          "export the rows to JSONL and use dataset.path") from exc
    datasets.disable_progress_bars()
    return datasets


def _refuse_hub_fields(ref: HuggingFaceDataset, kind: Kind, path: Path) -> None:
    if ref.revision is not None:
        raise DataInvalid(f"dataset.huggingFace.revision applies to a Hub dataset; {path} is {kind.value} (a local copy "
                          "has no revisions): remove revision")
    if ref.config is not None and kind == Kind.SAVED:
        raise DataInvalid(f"dataset.huggingFace.config: {path} is {kind.value}, which holds no configurations "
                          "(save_to_disk saved one): remove config, or choose the split with split")


def _load_saved(ds_lib: Any, path: Path) -> Any:
    try:
        return ds_lib.load_from_disk(str(path))
    except Exception as exc:  # noqa: BLE001 - corrupt state, missing arrow files, permissions: all end the same way
        raise DataInvalid(f"cannot read the dataset saved at {path}: {type(exc).__name__}: {exc}; save it again with "
                          "Dataset.save_to_disk or DatasetDict.save_to_disk") from exc


def _load_files(ds_lib: Any, ref: HuggingFaceDataset, path: Path, cache: Path) -> Any:
    try:
        if path.is_file():
            return ds_lib.load_dataset(DATA_SUFFIXES[path.suffix.lower()], data_files={ref.split: str(path)}, cache_dir=str(cache))
        return ds_lib.load_dataset(str(path), ref.config, cache_dir=str(cache))
    except Exception as exc:  # noqa: BLE001 - unreadable or mixed files, unknown config: the message says which
        raise DataInvalid(f"cannot read the data files at {path}: {type(exc).__name__}: {exc}; a folder should hold "
                          f"{', '.join(DATA_SUFFIXES)} files (train.jsonl, test.jsonl, ... name the splits)") from exc


def _load_hub(ds_lib: Any, ref: HuggingFaceDataset) -> Any:
    offline = bool(getattr(ds_lib.config, "HF_HUB_OFFLINE", False))
    cache = ds_lib.config.HF_DATASETS_CACHE
    save = (f"python -c \"import datasets; datasets.load_dataset('{ref.name}'{f', {ref.config!r}' if ref.config else ''})"
            ".save_to_disk('FOLDER')\"")
    try:
        return ds_lib.load_dataset(ref.name, ref.config, revision=ref.revision)
    except ConnectionError as exc:
        if offline:
            raise DataInvalid(
                f"dataset.huggingFace.name {ref.name!r} is not a folder or file here and the Hub dataset is not in the "
                f"local Hugging Face datasets cache ({cache}), which is all HF_DATASETS_OFFLINE=1 lets the trainer read: "
                f"on a machine with network, run {save} and set huggingFace.name to that folder (dataset.claimName for "
                "a volume), or put the dataset in this cache, or allow downloads (unset HF_DATASETS_OFFLINE)") from exc
        raise DataInvalid(f"cannot reach the Hugging Face Hub for dataset {ref.name!r} ({exc}); give the trainer network "
                          f"access, or save the dataset where there is network ({save}) and set huggingFace.name to "
                          "that folder") from exc
    except Exception as exc:  # noqa: BLE001 - unknown name, gated, missing config: the message says which
        raise DataInvalid(f"cannot load Hugging Face dataset {ref.name!r}"
                          f"{f' (config {ref.config}, revision {ref.revision})' if ref.config or ref.revision else ''}: "
                          f"{type(exc).__name__}: {exc}") from exc


def _one_split(loaded: Any, ref: HuggingFaceDataset, where: str) -> Any:
    if hasattr(loaded, "keys"):  # a DatasetDict
        return loaded[pick_split(list(loaded.keys()), ref.split, where)]
    saved_split = getattr(loaded, "split", None)  # a saved Dataset knows its split when it came from one
    if saved_split is not None and str(saved_split) != ref.split:
        raise DataInvalid(f"{where} is the {str(saved_split)!r} split, not {ref.split!r}: set dataset.huggingFace.split "
                          f"to {str(saved_split)!r}")
    return loaded


def _write_jsonl(rows: Any, plan: Mapping[str, str], target: Path) -> int:
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    n = 0
    with tmp.open("w", encoding="utf-8") as f:
        for row in rows.select_columns(sorted(set(plan.values()))):
            f.write(json.dumps({field: row[column] for field, column in plan.items()}, ensure_ascii=False, default=str) + "\n")
            n += 1
    tmp.replace(target)
    return n


def export_hugging_face(ref: HuggingFaceDataset, root: Path | None, base_dir: Path, work_dir: Path) -> Path:
    """Read the split ``ref`` names and write it as JSONL in ``work_dir``; returns that file.

    Written again on every run (a local copy may have changed; the rows' hash says whether it did).
    Raises DataInvalid."""
    kind, path = locate(ref, root, base_dir)
    ds_lib = _datasets()
    work_dir.mkdir(parents=True, exist_ok=True)
    cache = work_dir / ".hf-datasets-cache"  # what load_dataset makes of local files; removed after the export
    try:
        if kind == Kind.HUB:
            loaded, where = _load_hub(ds_lib, ref), f"Hub dataset {ref.name!r}"
        else:
            assert path is not None
            _refuse_hub_fields(ref, kind, path)
            loaded = _load_saved(ds_lib, path) if kind == Kind.SAVED else _load_files(ds_lib, ref, path, cache)
            where = f"{path} ({kind.value})"
        rows = _one_split(loaded, ref, where)
        columns = ref.columns.to_wire() if ref.columns is not None else {}
        plan = column_plan(columns, list(rows.column_names), f"{where}, split {ref.split!r}")
        target = work_dir / EXPORT
        if _write_jsonl(rows, plan, target) == 0:
            raise DataInvalid(f"{where}: split {ref.split!r} has no rows")
        return target
    finally:
        shutil.rmtree(cache, ignore_errors=True)
