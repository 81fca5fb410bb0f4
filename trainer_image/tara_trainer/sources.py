"""Where a DomainTraining's data lives on this machine or pod.

The operator mounts claims at ``<mounts>/claims/<name>`` and ConfigMaps at
``<mounts>/configmaps/<name>``; bundled datasets ship inside this package; local runs resolve
relative paths against the manifest's folder.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from tara_api.domaintraining import DatasetSource
from tara_trainer.errors import DataInvalid
from tara_trainer.settings import TrainerSettings

__all__ = ["builtin_dataset_path", "resolve_dataset"]


def _export_hugging_face(source: DatasetSource, work_dir: Path) -> Path:
    """Download a Hub dataset (needs network and the optional ``datasets`` package) to JSONL once."""
    ref = source.hugging_face
    assert ref is not None
    target = work_dir / "hf-dataset.jsonl"
    if target.is_file():
        return target
    try:
        import datasets  # optional: not installed in the offline test environment
    except ImportError as exc:
        raise DataInvalid(
            f"dataset.huggingFace {ref.name} needs the 'datasets' package in the trainer image; "
            "or export the data to JSONL and use dataset.path"
        ) from exc
    try:
        rows = datasets.load_dataset(ref.name, ref.config, split=ref.split, revision=ref.revision)
    except Exception as exc:  # network, auth, unknown name: all end the same way for the user
        raise DataInvalid(f"cannot load Hugging Face dataset {ref.name} (split {ref.split}): {exc}") from exc
    tmp = target.with_suffix(".tmp")
    rows.to_json(str(tmp), lines=True)
    tmp.replace(target)
    return target


def builtin_dataset_path(name: str) -> Path:
    return Path(str(resources.files("tara_trainer") / "data" / f"{name}.jsonl"))


def resolve_dataset(source: DatasetSource, settings: TrainerSettings, base_dir: Path, work_dir: Path) -> Path:
    """The local file holding the dataset. Raises DataInvalid naming what is missing."""
    if source.builtin is not None:
        path = builtin_dataset_path(source.builtin.value)
    elif source.config_map is not None:
        path = settings.mounts_root / "configmaps" / source.config_map.name / source.config_map.key
    elif source.hugging_face is not None:
        path = _export_hugging_face(source, work_dir)
    elif source.claim_name is not None:
        path = settings.mounts_root / "claims" / source.claim_name / str(source.path).lstrip("/")
    else:
        raw = Path(str(source.path))
        path = raw if raw.is_absolute() else base_dir / raw
    if not path.is_file():
        raise DataInvalid(f"dataset file {path} does not exist")
    return path
