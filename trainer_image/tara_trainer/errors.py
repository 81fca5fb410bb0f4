"""Trainer errors, each with the condition reason and exit code the operator acts on.

Exit codes are the trainer's contract with the Job: 0 success; 75 (EX_TEMPFAIL) preempted, a
checkpoint was saved, run me again; the others are permanent failures that a retry cannot fix
(the operator ends the resource ``Failed`` with the reason); 1 is an unexpected crash.
"""

from __future__ import annotations

__all__ = [
    "EXIT_OK",
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
