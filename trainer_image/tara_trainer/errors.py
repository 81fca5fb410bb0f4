"""Trainer errors: each one carries the reason the operator acts on; the reason carries its exit
code and whether a retry can help (``tara_api.reasons``, the one table of both).

Exit codes are the trainer's contract with the Job: 0 success; 75 (EX_TEMPFAIL) preempted, a
checkpoint was saved, run me again; the others are failures with a reason, permanent (a retry
cannot fix them: the operator ends the resource ``Failed``) unless the table marks them retryable;
1 is an unexpected crash.
"""

from __future__ import annotations

from typing import ClassVar

from tara_api.reasons import EXIT_OK, Reason

__all__ = [
    "AdapterUnavailable",
    "ArtifactInvalid",
    "DiskFull",
    "EXIT_OK",
    "IncompatibleAdapter",
    "ToolFailed",
    "UnsupportedArchitecture",
    "EXIT_PREEMPTED",
    "EXIT_UNEXPECTED",
    "DataInvalid",
    "HardwareUnsupported",
    "ModelUnavailable",
    "QualityGateFailed",
    "SpecInvalid",
    "TrainerError",
]



def _exit_code(reason: Reason) -> int:
    if reason.exit_code is None:
        raise TypeError(f"reason {reason} has no exit code in tara_api.reasons")
    return reason.exit_code


EXIT_UNEXPECTED = _exit_code(Reason.CRASHED)
EXIT_PREEMPTED = _exit_code(Reason.PREEMPTED)


class TrainerError(Exception):
    """A failure with a reason a user can act on; a subclass names its ``reason`` and takes the
    reason's exit code and permanence from the table."""

    reason: ClassVar[Reason] = Reason.TRAINING_FAILED
    exit_code: ClassVar[int] = _exit_code(Reason.TRAINING_FAILED)
    permanent: ClassVar[bool] = not Reason.TRAINING_FAILED.retryable

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        cls.exit_code, cls.permanent = _exit_code(cls.reason), not cls.reason.retryable


class SpecInvalid(TrainerError):
    reason = Reason.INVALID_SPEC


class DataInvalid(TrainerError):
    reason = Reason.DATASET_INVALID


class ModelUnavailable(TrainerError):
    reason = Reason.BASE_MODEL_UNAVAILABLE


class QualityGateFailed(TrainerError):
    reason = Reason.QUALITY_GATE_FAILED


class HardwareUnsupported(TrainerError):
    reason = Reason.HARDWARE_UNSUPPORTED


class AdapterUnavailable(TrainerError):
    reason = Reason.ADAPTER_UNAVAILABLE


class UnsupportedArchitecture(TrainerError):
    reason = Reason.UNSUPPORTED_ARCHITECTURE


class IncompatibleAdapter(TrainerError):
    reason = Reason.INCOMPATIBLE_ADAPTER


class ArtifactInvalid(TrainerError):
    """A GGUF file failed validation (load, tokenizer agreement, logits, or its recorded sha256)."""

    reason = Reason.ARTIFACT_INVALID


class ToolFailed(TrainerError):
    """A llama.cpp tool or convert script exited non-zero; the message carries its last output lines."""

    reason = Reason.TOOL_FAILED


class DiskFull(TrainerError):
    reason = Reason.DISK_FULL
