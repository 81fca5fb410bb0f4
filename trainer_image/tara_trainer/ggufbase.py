"""A GGUF file as a DomainTraining base model: dequantized once into a Hugging Face folder, cached by
the file's content, and compared with llama.cpp running the original file.

transformers reads GGUF (``from_pretrained(dir, gguf_file=...)``) but will not ``save_pretrained``
what it read, and everything after loading wants a plain folder: the tokenizer and model loaders,
the adapter's lineage and the later GGUF build. So the file is dequantized once into
``<cache>/<sha256[:16]>-<dtype>/``: safetensors weights (a tied output head stored once), config.json
without the GGUF quantization entry, the generation config, and the tokenizer with the chat template
the file carries. The dtype is the one the run trains in (float32 on CPU, bf16 or fp16 on GPU),
which is what loading a float32 folder would cast to anyway, at half the disk on a GPU.

The cache is ``TARA_GGUF_CACHE_DIR`` (the operator points it at the training's output volume, so
every attempt of a run reuses it) or ``<TARA_CACHE_DIR>/gguf-base`` (``~/.cache/tara/gguf-base``).

Invariants: the folder is published by renaming a finished temporary folder, under a file lock so
that two trainers sharing a volume dequantize once; it counts as complete only once its stamp
(``tara-gguf-base.json``: source file, sha256, quant types, architecture, parameters, seconds and the
llama.cpp comparison of ``ggufcheck``) exists, and the stamp is the last file written. A folder
whose comparison fails is never published. An unwritable cache is an error only when it does not
already hold the folder.
"""

from __future__ import annotations

import errno
import fcntl
import json
import logging
import os
import shutil
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from tara_trainer.checkpoints import file_digest
from tara_trainer.errors import DiskFull, ModelUnavailable, TrainerError
from tara_trainer.llamacpp import LlamaCpp

__all__ = [
    "GGUF_MAGIC",
    "STAMP",
    "DequantizedBase",
    "GgufInfo",
    "Verifier",
    "cache_key",
    "check_architecture",
    "check_magic",
    "later_aliases",
    "llamacpp_verifier",
    "names_gguf",
    "prepare",
    "read_info",
    "stamp",
    "supported_architectures",
]

log = logging.getLogger(__name__)

GGUF_MAGIC = b"GGUF"
STAMP = "tara-gguf-base.json"
_ORIGINAL = (
    "Start from the original Hugging Face weights instead (baseModel.repo, or a folder with config.json)."
)


def names_gguf(path: Path) -> bool:
    """Whether a ``baseModel.path`` is read as a GGUF file: a ``.gguf`` name, or any file (a saved
    Hugging Face model is a folder)."""
    return path.suffix.lower() == ".gguf" or path.is_file()


def check_magic(path: Path, head: bytes) -> None:
    """Raise ModelUnavailable unless ``head`` (the file's first bytes) starts like a GGUF file (pure)."""
    if head[:4] != GGUF_MAGIC:
        raise ModelUnavailable(
            f"baseModel.path {path} is not a GGUF file: it starts with {head[:4]!r}, a GGUF file "
            f"with {GGUF_MAGIC!r}; give a .gguf file or a folder holding config.json"
        )


def cache_key(sha256: str, dtype: str) -> str:
    """The cache folder's name: the file's content and the dtype the weights are stored in (pure)."""
    return f"{sha256[:16]}-{dtype}"


@dataclass(frozen=True)
class GgufInfo:
    """What the GGUF header says, read without loading a tensor."""

    architecture: str
    file_type: str | None  # general.file_type as llama.cpp names it (Q4_1, Q4_K_M, F16), None when absent
    quant_types: dict[str, int]  # tensor type -> number of tensors
    parameters: int
    chat_template: bool
    add_space_prefix: bool | None  # tokenizer.ggml.add_space_prefix; None when the file does not say


def read_info(path: Path) -> GgufInfo:
    """The header of a GGUF file. Raises ModelUnavailable when it cannot be parsed."""
    from gguf import GGUFReader, LlamaFileType

    try:
        reader = GGUFReader(path)
    except (OSError, ValueError, KeyError, IndexError) as exc:
        raise ModelUnavailable(f"baseModel.path {path}: cannot read the GGUF header: {exc}") from exc

    def value(key: str) -> Any:
        found = reader.get_field(key)
        return None if found is None else found.contents()

    architecture = value("general.architecture")
    if not architecture:
        raise ModelUnavailable(f"baseModel.path {path}: the GGUF header names no general.architecture")
    code = value("general.file_type")
    try:
        file_type = (
            LlamaFileType(code).name.removeprefix("MOSTLY_").removeprefix("ALL_")
            if code is not None
            else None
        )
    except ValueError:
        file_type = str(code)
    counts: dict[str, int] = {}
    for tensor in reader.tensors:
        counts[tensor.tensor_type.name] = counts.get(tensor.tensor_type.name, 0) + 1
    space = value("tokenizer.ggml.add_space_prefix")
    return GgufInfo(
        architecture=str(architecture),
        file_type=file_type,
        quant_types=dict(sorted(counts.items())),
        parameters=sum(int(t.n_elements) for t in reader.tensors),
        chat_template=value("tokenizer.chat_template") is not None,
        add_space_prefix=None if space is None else bool(space),
    )


def supported_architectures() -> frozenset[str]:
    """GGUF architectures this transformers can dequantize; empty when it does not say (then loading decides)."""
    names: set[str] = set()
    try:
        from transformers.integrations.gguf import GGUF_ARCHS

        names |= set(GGUF_ARCHS)
    except ImportError:
        pass
    try:
        from transformers.modeling_gguf_pytorch_utils import GGUF_SUPPORTED_ARCHITECTURES

        names |= set(GGUF_SUPPORTED_ARCHITECTURES) - {"general", "tokenizer"}
    except ImportError:
        pass
    return frozenset(names)


def check_architecture(
    path: Path, architecture: str, supported: frozenset[str], transformers_version: str
) -> None:
    """Raise ModelUnavailable when transformers cannot dequantize ``architecture`` (pure; an empty
    ``supported`` means unknown, and passes)."""
    if supported and architecture not in supported:
        raise ModelUnavailable(
            f"baseModel.path {path}: transformers {transformers_version} cannot dequantize GGUF "
            f"architecture {architecture!r} (it reads {', '.join(sorted(supported))}). {_ORIGINAL}"
        )


def later_aliases(tensors: Iterable[tuple[str, int]]) -> list[str]:
    """Names of ``(name, storage pointer)`` pairs whose storage an earlier name already holds (pure).

    A tied output head shares the embedding's storage and comes after it in a state dict; it is
    dropped from the file and re-tied on load (``tie_word_embeddings``).
    """
    seen: set[int] = set()
    later = []
    for name, pointer in tensors:
        if pointer in seen:
            later.append(name)
        seen.add(pointer)
    return later


def stamp(
    source: Path, sha256: str, info: GgufInfo, dtype: str, seconds: float, check: dict[str, Any]
) -> dict[str, Any]:
    """The cache folder's metadata, written last (pure)."""
    return {
        "kind": "TaraGgufBase",
        "source": source.name,
        "sha256": sha256,
        "fileType": info.file_type,
        "quantTypes": info.quant_types,
        "architecture": info.architecture,
        "parameters": info.parameters,
        "chatTemplate": info.chat_template,
        "dtype": dtype,
        "seconds": round(seconds, 2),
        "verification": check,
        "versions": {d: metadata.version(d) for d in ("transformers", "gguf", "torch")},
    }


@dataclass(frozen=True)
class DequantizedBase:
    """A GGUF base model and the folder it was dequantized to."""

    source: Path
    folder: Path
    stamp: dict[str, Any]
    reused: bool

    @property
    def sha256(self) -> str:
        return str(self.stamp["sha256"])

    def record(self) -> dict[str, Any]:
        """What the adapter manifest and the resource's ``status.baseModel.gguf`` say about the start."""
        s = self.stamp
        return {
            "sha256": s["sha256"],
            "fileType": s.get("fileType"),
            "quantTypes": s.get("quantTypes", {}),
            "architecture": s.get("architecture"),
            "parameters": s.get("parameters"),
            "dtype": s.get("dtype"),
            "dequantizedTo": str(self.folder),
            "seconds": s.get("seconds"),
            "reused": self.reused,
            "verification": s.get("verification", {}),
        }


def _read_stamp(folder: Path) -> dict[str, Any] | None:
    try:
        return json.loads((folder / STAMP).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _keep_space_prefix(tokenizer: Any, add_space_prefix: bool | None) -> None:
    """Honour ``tokenizer.ggml.add_space_prefix: false`` as llama.cpp does.

    transformers builds a SentencePiece vocabulary read from GGUF with a Metaspace that puts "▁"
    before the first word whatever the file says (and a decoder that strips it again), so text
    would split differently from llama.cpp on the same file.
    """
    if add_space_prefix is not False:
        return
    from tokenizers import Tokenizer

    backend = tokenizer.backend_tokenizer
    spec = json.loads(backend.to_str())
    pre, decoder = spec.get("pre_tokenizer") or {}, spec.get("decoder") or {}
    if pre.get("type") != "Metaspace" or pre.get("prepend_scheme") == "never":
        return
    pre["prepend_scheme"] = "never"
    if decoder.get("type") == "Sequence":
        decoder["decoders"] = [
            d for d in decoder["decoders"] if not (d.get("type") == "Strip" and d.get("start") == 1)
        ]
    rebuilt = Tokenizer.from_str(json.dumps(spec))
    backend.pre_tokenizer, backend.decoder = rebuilt.pre_tokenizer, rebuilt.decoder


def _dequantize(source: Path, out: Path, dtype: Any, info: GgufInfo) -> None:
    """Load SOURCE with transformers (every weight unpacked) and write a plain folder to OUT."""
    from huggingface_hub import save_torch_state_dict
    from transformers import AutoModelForCausalLM, AutoTokenizer, GgufConfig

    where = {"pretrained_model_name_or_path": str(source.parent), "gguf_file": source.name}
    try:
        tokenizer = AutoTokenizer.from_pretrained(**where)
        model = AutoModelForCausalLM.from_pretrained(
            **where, dtype=dtype, quantization_config=GgufConfig(dequantize=True)
        )
    except (OSError, ValueError, KeyError, RuntimeError, NotImplementedError) as exc:
        raise ModelUnavailable(
            f"baseModel.path {source}: transformers cannot dequantize this {info.architecture} "
            f"GGUF ({info.file_type}): {exc}. {_ORIGINAL}"
        ) from exc
    _keep_space_prefix(tokenizer, info.add_space_prefix)
    out.mkdir(parents=True)
    state = model.state_dict()
    save_torch_state_dict(
        state,
        out,
        metadata={"format": "pt"},
        shared_tensors_to_discard=later_aliases(
            (k, v.untyped_storage().data_ptr()) for k, v in state.items()
        ),
    )
    config = model.config
    # Left in, the GGUF quantization entry would make from_pretrained look for the GGUF file again.
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    # A config read from GGUF names no architectures; llama.cpp's converter (the later GGUF build) needs them.
    config.architectures = [type(model).__name__]
    config.save_pretrained(out)
    if model.generation_config is not None:
        model.generation_config.save_pretrained(out)
    tokenizer.save_pretrained(out)
    # The weights come out owner-only; the cache is read by later attempts and by the GGUF build.
    for written in out.iterdir():
        written.chmod(written.stat().st_mode | 0o044)


def _open_lock(root: Path, key: str, source: Path):
    try:
        root.mkdir(parents=True, exist_ok=True)
        return open(root / f".{key}.lock", "w")  # noqa: SIM115 - held while dequantizing, closed by the caller
    except OSError as exc:
        raise ModelUnavailable(
            f"baseModel.path {source} must be dequantized into {root / key}, and that cache is not "
            f"writable ({exc.strerror or exc}); set TARA_GGUF_CACHE_DIR to a writable folder (a volume "
            "with room for the float weights), or dequantize there once beforehand"
        ) from exc


Verifier = Callable[[Path, Path], dict[str, Any]]  # (gguf, folder) -> ggufcheck's result as a dict


def prepare(
    source: Path, cache_root: Path, dtype: Any, verify: Verifier, note: Callable[[str], None] = log.info
) -> DequantizedBase:
    """The dequantized folder of SOURCE under CACHE_ROOT, made first when missing.

    ``verify(gguf, folder)`` compares the new folder with llama.cpp and returns its result; one
    without ``passed: true`` (or ``skipped``) fails the preparation. Raises ModelUnavailable (the
    file is missing, not GGUF, of an architecture transformers cannot dequantize, disagrees with
    llama.cpp, or the cache is unwritable and empty) and DiskFull.
    """
    if not source.is_file():
        what = "is a folder without config.json" if source.is_dir() else "does not exist"
        raise ModelUnavailable(
            f"baseModel.path {source} {what}; give a .gguf file or a folder holding config.json"
        )
    with source.open("rb") as handle:
        check_magic(source, handle.read(4))
    dtype_name = str(dtype).removeprefix("torch.")
    note(f"hashing {source.name} ({source.stat().st_size / 2**20:.0f} MiB)")
    sha = file_digest(source)
    key = cache_key(sha, dtype_name)
    folder = cache_root / key
    if (done := _read_stamp(folder)) is not None:
        return DequantizedBase(source, folder, done, reused=True)
    info = read_info(source)
    check_architecture(source, info.architecture, supported_architectures(), metadata.version("transformers"))
    with _open_lock(cache_root, key, source) as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (done := _read_stamp(folder)) is not None:  # another trainer finished it while this one waited
            return DequantizedBase(source, folder, done, reused=True)
        # Left by a killed trainer: holding the lock, no other one is writing.
        for stale in cache_root.glob(f".{key}.partial-*"):
            shutil.rmtree(stale, ignore_errors=True)
        work = cache_root / f".{key}.partial-{os.getpid()}"
        try:
            return DequantizedBase(
                source, folder, _make(source, work, folder, dtype, info, sha, verify, note), reused=False
            )
        except OSError as exc:
            if exc.errno == errno.ENOSPC:
                raise DiskFull(
                    f"no space left in {cache_root} while dequantizing {source.name} "
                    f"({info.parameters:,} parameters as {dtype_name}); free space or set TARA_GGUF_CACHE_DIR"
                ) from exc
            raise ModelUnavailable(f"dequantizing {source} into {cache_root} failed: {exc}") from exc
        finally:
            shutil.rmtree(work, ignore_errors=True)


def _make(
    source: Path,
    work: Path,
    folder: Path,
    dtype: Any,
    info: GgufInfo,
    sha: str,
    verify: Verifier,
    note: Callable[[str], None],
) -> dict[str, Any]:
    started = time.monotonic()
    note(
        f"dequantizing {source.name} ({info.architecture}, {info.file_type}, {info.parameters / 1e6:.0f}M parameters) "
        f"to {str(dtype).removeprefix('torch.')} in {folder}"
    )
    _dequantize(source, work, dtype, info)
    seconds = time.monotonic() - started
    check = verify(source, work)
    if not (check.get("passed") or check.get("skipped")):
        raise ModelUnavailable(
            f"baseModel.path {source}: the dequantized {info.architecture} model disagrees with llama.cpp "
            f"on the original file: {_disagreement(check)}. {_ORIGINAL}"
        )
    body = stamp(source, sha, info, str(dtype).removeprefix("torch."), seconds, check)
    (work / STAMP).write_text(json.dumps(body, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    if folder.exists():  # a copy without its stamp: never complete, never used
        shutil.rmtree(folder)
    os.rename(work, folder)
    note(f"dequantized {source.name} in {seconds:.1f} s into {folder}")
    return body


def _disagreement(check: dict[str, Any]) -> str:
    """A verification result that did not pass, in a sentence (pure)."""
    parts = []
    if check.get("meanKlDivergence") is not None and check["meanKlDivergence"] > check.get("tolerance", 0):
        parts.append(
            f"mean KL divergence {check['meanKlDivergence']:.4g} nats/token above the tolerance {check.get('tolerance')}"
        )
    parts += [f"tokenizes {m}" for m in check.get("tokenizerMismatches", [])[:3]]
    return "; ".join(parts) or json.dumps(check, sort_keys=True)


def llamacpp_verifier(toolchain: Callable[[], LlamaCpp], threads: int) -> Verifier:
    """A ``verify`` for ``prepare`` that runs ``ggufcheck.compare_with_llamacpp``; when llama.cpp is
    not built (``make llama``; the trainer image ships it) or cannot load the file, the result says
    so and is ``skipped``: training goes on, and the stamp and status show that nothing was compared."""

    def verify(gguf: Path, folder: Path) -> dict[str, Any]:
        from tara_trainer.ggufcheck import compare_with_llamacpp

        try:
            result = compare_with_llamacpp(toolchain(), gguf, folder, threads)
        except TrainerError as exc:  # no llama.cpp built here, or it cannot load this file
            log.warning("not comparing the dequantized %s with llama.cpp: %s", gguf.name, exc)
            return {"skipped": f"llama.cpp could not run: {exc}"}
        log.info("dequantized %s against llama.cpp: %s", gguf.name, result.summary())
        return result.to_dict()

    return verify
