"""Where a DomainTraining's data lives on this machine or pod.

The operator mounts claims at ``<mounts>/claims/<name>`` and ConfigMaps at
``<mounts>/configmaps/<name>``; bundled datasets ship inside this package; local runs resolve
relative paths against the manifest's folder; a ``huggingFace`` source is read with the
``datasets`` package and written as JSONL into the run's folder (``hfdata``).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from tara_api.domaintraining import DatasetSource
from tara_trainer.errors import DataInvalid
from tara_trainer.hfdata import export_hugging_face
from tara_trainer.settings import TrainerSettings

__all__ = ["builtin_dataset_path", "resolve_dataset"]


def builtin_dataset_path(name: str) -> Path:
    return Path(str(resources.files("tara_trainer") / "data" / f"{name}.jsonl"))


def resolve_dataset(source: DatasetSource, settings: TrainerSettings, base_dir: Path, work_dir: Path) -> Path:
    """The local file holding the dataset. Raises DataInvalid naming what is missing."""
    if source.builtin is not None:
        path = builtin_dataset_path(source.builtin.value)
    elif source.config_map is not None:
        path = settings.mounts_root / "configmaps" / source.config_map.name / source.config_map.key
    elif source.hugging_face is not None:
        root = settings.mounts_root / "claims" / source.claim_name if source.claim_name is not None else None
        path = export_hugging_face(source.hugging_face, root, base_dir, work_dir)
    elif source.claim_name is not None:
        path = settings.mounts_root / "claims" / source.claim_name / str(source.path).lstrip("/")
    else:
        raw = Path(str(source.path))
        path = raw if raw.is_absolute() else base_dir / raw
    if not path.is_file():
        raise DataInvalid(f"dataset file {path} does not exist")
    return path
