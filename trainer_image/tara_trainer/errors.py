"""Trainer errors, each with the condition reason and exit code the operator acts on.

Exit codes are the trainer's contract with the Job: 0 success; 75 (EX_TEMPFAIL) preempted, a
checkpoint was saved, run me again; the others are failures with a reason, permanent (a retry
cannot fix them: the operator ends the resource ``Failed``) unless marked otherwise; 1 is an
unexpected crash.

    2 InvalidSpec            3 DatasetInvalid         4 BaseModelUnavailable / AdapterUnavailable
    5 QualityGateFailed      6 HardwareUnsupported    7 ToolchainUnavailable (llamacpp.py)
    8 UnsupportedArchitecture / IncompatibleAdapter   9 ArtifactInvalid
    10 ToolFailed (retryable)                         11 DiskFull (retryable once space is freed)
"""

from __future__ import annotations

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

EXIT_OK = 0
EXIT_UNEXPECTED = 1
EXIT_PREEMPTED = 75


class TrainerError(Exception):
    """A failure with a reason a user can act on."""

    reason = "TrainingFailed"
    exit_code = EXIT_UNEXPECTED
    permanent = False


class SpecInvalid(TrainerError):
    reason = "InvalidSpec"
    exit_code = 2
    permanent = True


class DataInvalid(TrainerError):
    reason = "DatasetInvalid"
    exit_code = 3
    permanent = True


class ModelUnavailable(TrainerError):
    reason = "BaseModelUnavailable"
    exit_code = 4
    permanent = True


class QualityGateFailed(TrainerError):
    reason = "QualityGateFailed"
    exit_code = 5
    permanent = True


class HardwareUnsupported(TrainerError):
    reason = "HardwareUnsupported"
    exit_code = 6
    permanent = True


class AdapterUnavailable(TrainerError):
    reason = "AdapterUnavailable"
    exit_code = 4
    permanent = True


class UnsupportedArchitecture(TrainerError):
    reason = "UnsupportedArchitecture"
    exit_code = 8
    permanent = True


class IncompatibleAdapter(TrainerError):
    reason = "IncompatibleAdapter"
    exit_code = 8
    permanent = True


class ArtifactInvalid(TrainerError):
    """A GGUF file failed validation (load, tokenizer agreement, logits, or its recorded sha256)."""

    reason = "ArtifactInvalid"
    exit_code = 9
    permanent = True


class ToolFailed(TrainerError):
    """A llama.cpp tool or convert script exited non-zero; the message carries its last output lines."""

    reason = "ToolFailed"
    exit_code = 10
    permanent = False


class DiskFull(TrainerError):
    reason = "DiskFull"
    exit_code = 11
    permanent = False
