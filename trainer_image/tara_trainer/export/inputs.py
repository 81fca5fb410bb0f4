"""What the build starts from, checked before anything is converted.

The original design's cleanup and validation utilities: every domain's adapter folder has its
required files and an intact manifest; all domains share one base model; the base model's config
and tokenizer agree (a missing pad token is fixed in the build's copy and reported); each adapter
fits the base (architecture, layer count, every LoRA matrix's dimensions read from the safetensors
headers, without loading weights); leftovers (temporary folders, logs, surplus checkpoints) are
removed from the training outputs, with a report of what went and how many bytes it freed.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tara_api.ggufphase import DomainRef
from tara_trainer.checkpoints import file_digest
from tara_trainer.errors import AdapterUnavailable, IncompatibleAdapter, ModelUnavailable
from tara_trainer.outputs import ADAPTER_DIR, EVAL_TEXT, MANIFEST

__all__ = [
    "CleanupReport",
    "DomainInput",
    "ModelShape",
    "check_adapter_fits",
    "clean_outputs",
    "locate_domains",
    "read_model_shape",
    "resolve_base_model",
]

log = logging.getLogger(__name__)

ADAPTER_FILES = ("adapter_config.json", "adapter_model.safetensors", MANIFEST)
BASE_FILES = ("config.json",)
_LORA_KEY = re.compile(r"^(?:base_model\.model\.)?(?P<module>.+)\.lora_(?P<ab>[AB])(?:\.(?P<name>[^.]+))?\.weight$")
_LAYER = re.compile(r"\.layers\.(\d+)\.")


@dataclass(frozen=True)
class DomainInput:
    """One domain's trained adapter, as the build will use it."""

    domain: str
    weight: float
    output_dir: Path  # the DomainTraining's output folder (checkpoints/, adapter/, state.json)
    adapter_dir: Path
    manifest: dict[str, Any]
    manifest_sha256: str

    @property
    def base_model(self) -> str:
        return str((self.manifest.get("baseModel") or {}).get("id") or "")

    @property
    def base_revision(self) -> str | None:
        return (self.manifest.get("baseModel") or {}).get("revision")

    @property
    def eval_text_path(self) -> Path:
        return self.adapter_dir / EVAL_TEXT


def _adapter_dir(path: Path) -> Path:
    return path if (path / "adapter_config.json").is_file() else path / ADAPTER_DIR


def locate_domains(
    refs: Sequence[DomainRef], trainings_dir: Path | None, overrides: Mapping[str, Path]
) -> list[DomainInput]:
    """Find each domain's adapter: ``overrides[domain]`` (a training output or adapter folder), else
    ``trainings_dir/<training name>/adapter``. Checks required files and the manifest's sha256 list.

    Raises AdapterUnavailable naming the domain and the path looked at.
    """
    found = []
    for ref in refs:
        training = ref.training or ref.domain
        if ref.domain in overrides:
            where = overrides[ref.domain]
        elif trainings_dir is not None:
            where = trainings_dir / training
        else:
            raise AdapterUnavailable(f"domain {ref.domain}: no trainings folder and no --adapter {ref.domain}=PATH given")
        adapter = _adapter_dir(where)
        missing = [f for f in ADAPTER_FILES if not (adapter / f).is_file()]
        if missing:
            raise AdapterUnavailable(
                f"domain {ref.domain}: {adapter} lacks {', '.join(missing)}; has DomainTraining {training} succeeded?"
            )
        manifest = json.loads((adapter / MANIFEST).read_text(encoding="utf-8"))
        for name, entry in (manifest.get("files") or {}).items():
            path = adapter / name
            if not path.is_file():
                raise AdapterUnavailable(f"domain {ref.domain}: {path} is listed in the adapter manifest but missing")
            if file_digest(path) != entry.get("sha256"):
                raise AdapterUnavailable(f"domain {ref.domain}: {path} does not match its sha256 in {MANIFEST} (corrupted?)")
        if manifest.get("domain") not in (None, ref.domain):
            log.warning("domain %s: adapter %s was trained for domain %s", ref.domain, adapter, manifest.get("domain"))
        found.append(DomainInput(ref.domain, ref.weight, adapter.parent if adapter.name == ADAPTER_DIR else adapter,
                                 adapter, manifest, file_digest(adapter / MANIFEST)))
    return found


def _from_hub_cache(repo: str, revision: str | None, hf_cache: Path | None) -> Path | None:
    """The snapshot of a Hub repo already in the Hugging Face cache (never downloads)."""
    if not re.fullmatch(r"[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*", repo):
        return None
    try:
        from huggingface_hub import snapshot_download
        from huggingface_hub.errors import LocalEntryNotFoundError

        return Path(snapshot_download(repo, revision=revision, cache_dir=hf_cache, local_files_only=True))
    except (LocalEntryNotFoundError, OSError, ValueError) as exc:
        raise ModelUnavailable(f"base model {repo}{'@' + revision if revision else ''} is not in the Hugging Face cache "
                               f"({hf_cache or 'HF_HOME'}); mount the training volume that downloaded it, or pass "
                               f"--base-model PATH: {exc}") from exc


def resolve_base_model(domains: Sequence[DomainInput], override: Path | None, hf_cache: Path | None = None) -> Path:
    """The base model folder all domains were trained on: ``override``, the manifests' local path,
    or the snapshot of their Hub repo in the Hugging Face cache.

    Raises IncompatibleAdapter when the domains name different bases, ModelUnavailable when the
    base cannot be found locally (pass --base-model).
    """
    ids = {d.domain: d.base_model for d in domains}
    distinct = sorted(set(ids.values()))
    if len(distinct) > 1 and override is None:
        listing = ", ".join(f"{d} ({b})" for d, b in ids.items())
        raise IncompatibleAdapter(f"the phase's domains were trained on different base models: {listing}; "
                                  "a phase serves one base model")
    path = override if override is not None else Path(distinct[0]) if distinct and distinct[0] else None
    if override is None and path is not None and not path.is_dir():
        path = _from_hub_cache(distinct[0], domains[0].base_revision, hf_cache) or path
    if path is None or not path.is_dir():
        raise ModelUnavailable(f"base model {path or '(unknown)'} is not a local folder; pass --base-model PATH "
                               "(the folder the DomainTrainings loaded)")
    missing = [f for f in BASE_FILES if not (path / f).is_file()]
    if missing or not any(path.glob("*.safetensors")):
        raise ModelUnavailable(f"base model {path} lacks {', '.join(missing) or '*.safetensors weights'}")
    return path


@dataclass(frozen=True)
class ModelShape:
    """What an adapter must agree with, read from config.json and safetensors headers."""

    architecture: str
    model_type: str
    layers: int
    vocab_size: int
    weights: Mapping[str, tuple[int, ...]]  # tensor name -> shape

    @property
    def parameters(self) -> int:
        total = 0
        for shape in self.weights.values():
            n = 1
            for dim in shape:
                n *= dim
            total += n
        return total


def _safetensors_shapes(folder: Path) -> dict[str, tuple[int, ...]]:
    from safetensors import safe_open

    shapes: dict[str, tuple[int, ...]] = {}
    for file in sorted(folder.glob("*.safetensors")):
        with safe_open(str(file), framework="pt") as f:
            for key in f.keys():  # noqa: SIM118 - safe_open is not a Mapping
                shapes[key] = tuple(f.get_slice(key).get_shape())
    return shapes


def read_model_shape(folder: Path) -> ModelShape:
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    text = config.get("text_config") or config
    return ModelShape(
        architecture=(config.get("architectures") or ["unknown"])[0],
        model_type=str(config.get("model_type", "unknown")),
        layers=int(text.get("num_hidden_layers") or text.get("n_layer") or 0),
        vocab_size=int(text.get("vocab_size") or 0),
        weights=_safetensors_shapes(folder),
    )


def check_adapter_fits(domain: str, adapter_dir: Path, base: ModelShape) -> int:
    """Check every LoRA matrix against the base weight it adapts; returns the adapter's parameter count.

    lora_A is (r, in_features) and lora_B (out_features, r) of the base's (out, in) weight.
    Raises IncompatibleAdapter naming the first mismatch: a module the base lacks, a layer beyond
    its depth, or dimensions that differ (the adapter was trained on another base).
    """
    config = json.loads((adapter_dir / "adapter_config.json").read_text(encoding="utf-8"))
    if config.get("peft_type", "LORA") != "LORA":
        raise IncompatibleAdapter(f"domain {domain}: {adapter_dir} is a {config.get('peft_type')} adapter, not LoRA")
    shapes = _safetensors_shapes(adapter_dir)
    if not shapes:
        raise IncompatibleAdapter(f"domain {domain}: {adapter_dir} holds no tensors")
    params = 0
    for key, shape in sorted(shapes.items()):
        params += shape[0] * shape[1] if len(shape) == 2 else 0
        m = _LORA_KEY.match(key)
        if m is None:
            continue  # modules_to_save and the like are copied whole by conversion
        module = m.group("module")
        layer = _LAYER.search(f".{module}.")
        if layer and int(layer.group(1)) >= base.layers:
            raise IncompatibleAdapter(f"domain {domain}: adapter tensor {key} is for layer {layer.group(1)} but the base "
                                      f"model has {base.layers} layers; it was trained on another base")
        target = base.weights.get(f"{module}.weight")
        if target is None:
            raise IncompatibleAdapter(f"domain {domain}: adapter tensor {key} adapts {module}, which the base model "
                                      f"({base.architecture}) does not have; it was trained on another base")
        out_features, in_features = target[0], target[1] if len(target) > 1 else 1
        want = (shape[0], in_features) if m.group("ab") == "A" else (out_features, shape[1])
        if tuple(shape) != want:
            raise IncompatibleAdapter(f"domain {domain}: adapter tensor {key} has shape {list(shape)}, but the base's "
                                      f"{module}.weight {list(target)} needs {list(want)}; it was trained on another base")
    return params


@dataclass
class CleanupReport:
    removed: list[dict[str, Any]] = field(default_factory=list)
    fixed: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def bytes_freed(self) -> int:
        return sum(int(r["bytes"]) for r in self.removed)

    def to_dict(self) -> dict[str, Any]:
        return {"removed": self.removed, "bytesFreed": self.bytes_freed, "fixed": self.fixed, "warnings": self.warnings}


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


_LEFTOVER_NAMES = (".adapter.tmp", ".adapter.old", "__pycache__")
_LEFTOVER_SUFFIXES = (".tmp", ".partial", ".log", ".pyc")


def _leftovers(output_dir: Path, keep_checkpoints: int) -> list[tuple[Path, str]]:
    found: list[tuple[Path, str]] = []
    for path in sorted(output_dir.rglob("*")):
        if any(part in _LEFTOVER_NAMES for part in path.relative_to(output_dir).parts[:-1]):
            continue  # inside a folder already listed
        if path.name in _LEFTOVER_NAMES:
            found.append((path, "temporary folder"))
        elif path.is_file() and path.name.endswith(_LEFTOVER_SUFFIXES):
            found.append((path, "log" if path.name.endswith(".log") else "temporary file"))
    checkpoints = output_dir / "checkpoints"
    if checkpoints.is_dir() and keep_checkpoints >= 0:
        steps = sorted((p for p in checkpoints.glob("checkpoint-*") if p.is_dir()),
                       key=lambda p: int(p.name.rsplit("-", 1)[1]) if p.name.rsplit("-", 1)[1].isdigit() else -1)
        surplus = steps[:-keep_checkpoints] if keep_checkpoints else steps
        found += [(p, "surplus checkpoint (the adapter is complete)") for p in surplus]
    return found


def clean_outputs(domains: Sequence[DomainInput], keep_checkpoints: int = 1, dry_run: bool = False) -> CleanupReport:
    """Remove leftovers from each domain's training output; never the adapter's listed files.

    Only runs on outputs whose adapter is complete (its manifest verified by ``locate_domains``).
    A read-only volume is reported as a warning, not an error.
    """
    report = CleanupReport()
    for d in domains:
        listed = {(d.adapter_dir / name).resolve() for name in (d.manifest.get("files") or {})}
        for path, why in _leftovers(d.output_dir, keep_checkpoints):
            if path.resolve() in listed:
                continue
            entry = {"domain": d.domain, "path": str(path), "why": why, "bytes": _size(path)}
            if not dry_run:
                try:
                    shutil.rmtree(path) if path.is_dir() else path.unlink()
                except OSError as exc:
                    report.warnings.append(f"cannot remove {path}: {exc.strerror or exc}")
                    continue
            report.removed.append(entry)
    return report
