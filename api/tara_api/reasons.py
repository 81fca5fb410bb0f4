"""Every reason TARA reports when something fails or waits, with its exit code, declared once.

A reason travels end to end: the trainer exits with the reason's code and writes the reason to
its termination log; the operator reads the log (or, when it is empty, maps the exit code back
with ``Reason.for_exit_code``), decides from ``retryable`` whether another attempt can help, and
writes the reason into a condition and a Warning Event; docs/troubleshooting.md has a section per
reason (a test checks). The trainer's exception classes, the operator's status logic and that test
all read this table, so a reason or an exit code changes here or nowhere.

Several reasons may share an exit code (4, 8, 1); the first one declared with a code is what the
operator reports when the trainer's termination log names none. Reasons without a code come from
Kubernetes (a pod, a Job, a Deployment) or from the operator itself.
"""

from __future__ import annotations

import enum

__all__ = ["EXIT_OK", "Reason"]

EXIT_OK = 0


class Reason(enum.StrEnum):
    """A condition or Event reason: ``exit_code`` (the trainer's, or None), ``retryable`` (another
    attempt may succeed: the operator retries with a backoff) and a one-line ``doc``."""

    exit_code: int | None
    retryable: bool
    doc: str

    def __new__(cls, value: str, exit_code: int | None, retryable: bool, doc: str) -> Reason:
        member = str.__new__(cls, value)
        member._value_ = value
        member.exit_code, member.retryable, member.doc = exit_code, retryable, doc
        return member

    # The trainer's reasons, by exit code.
    INVALID_SPEC = "InvalidSpec", 2, False, "the spec breaks a rule the schema cannot express, or the trainer found it inconsistent"
    DATASET_INVALID = "DatasetInvalid", 3, False, "the dataset is missing, empty, malformed or too small for the eval split"
    BASE_MODEL_UNAVAILABLE = "BaseModelUnavailable", 4, False, "the base model could not be loaded"
    ADAPTER_UNAVAILABLE = "AdapterUnavailable", 4, False, "a GGUF build found no finished adapter for a domain"
    QUALITY_GATE_FAILED = "QualityGateFailed", 5, False, ("the adapter failed its quality gate, or a phase's build failed the perplexity gate, "
                                                     "the merge gate or serving.targets")
    HARDWARE_UNSUPPORTED = "HardwareUnsupported", 6, False, "the spec asks for something the node cannot do"
    TOOLCHAIN_UNAVAILABLE = "ToolchainUnavailable", 7, False, "the llama.cpp tools are missing or do not run"
    INCOMPATIBLE_ADAPTER = "IncompatibleAdapter", 8, False, "an adapter does not fit the phase's base model"
    UNSUPPORTED_ARCHITECTURE = "UnsupportedArchitecture", 8, False, "llama.cpp's converter does not know the architecture"
    ARTIFACT_INVALID = "ArtifactInvalid", 9, False, "a GGUF file failed validation"
    TOOL_FAILED = "ToolFailed", 10, True, "a llama.cpp tool or convert script exited non-zero"
    DISK_FULL = "DiskFull", 11, True, "the claim ran out of space"
    PREEMPTED = "Preempted", 75, True, "the pod was preempted or shut down; a checkpoint was saved"
    CRASHED = "Crashed", 1, True, "the trainer exited with an unexpected error"
    TRAINING_FAILED = "TrainingFailed", 1, True, "a trainer error without a more specific reason"
    # What Kubernetes says about an attempt's pod or Job.
    EVICTED = "Evicted", None, True, "the kubelet evicted the pod"
    OOM_KILLED = "OOMKilled", None, True, "the trainer exceeded its memory limit"
    POD_FAILED = "PodFailed", None, True, "the pod failed with an exit code TARA does not know"
    JOB_FAILED = "JobFailed", None, True, "the attempt's Job failed without a pod TARA could read"
    IMAGE_PULL_FAILED = "ImagePullFailed", None, False, "the image cannot be pulled"
    CONTAINER_CONFIG_INVALID = "ContainerConfigInvalid", None, False, "the kubelet could not create the container"
    SCHEDULING = "Scheduling", None, False, "the attempt's pod is not running yet (waiting, not failing)"
    UNSCHEDULABLE = "Unschedulable", None, False, "no node can take the attempt's pod now (waiting, not failing)"
    QUEUED = "Queued", None, False, "the attempt's Job waits, suspended, for Kueue to admit it (waiting, not failing)"
    # The operator's own decisions about a DomainTraining.
    RETRIES_EXHAUSTED = "RetriesExhausted", None, False, "retried failures used up spec.maxAttempts"
    CLAIM_RECREATED = "ClaimRecreated", None, False, "a claim the operator created was deleted and is created again, empty"
    # The operator's own decisions about a GGUFPhase.
    MISSING_TRAINING = "MissingTraining", None, False, "a DomainTraining the phase names does not exist"
    DOMAIN_FAILED = "DomainFailed", None, False, "a DomainTraining the phase needs ended Failed"
    INCOMPATIBLE_DOMAINS = "IncompatibleDomains", None, False, "the phase's trainings do not share one base model"
    PREVIOUS_REVISION_SERVING = "PreviousRevisionServing", None, False, "the newest build failed; the previous revision keeps serving"
    ROLLOUT_FAILED = "RolloutFailed", None, False, "the new revision did not become ready in time and was rolled back"
    PROGRESS_DEADLINE_EXCEEDED = "ProgressDeadlineExceeded", None, False, "the serving Deployment's own reason on the way to RolloutFailed"
    NOT_DEPLOYED = "NotDeployed", None, False, "nothing serves yet"
    CLEANUP_FAILED = "CleanupFailed", None, True, ("the cleanup Job of a deleted phase (storage.retention: Delete) failed; "
                                                   "retried, the finalizer stays until it succeeds")
    # What the API server answered the operator, on either kind.
    CHILD_INVALID = "ChildInvalid", None, False, "the API server refused (422) an object the operator rendered for the resource"
    FORBIDDEN = "Forbidden", None, True, "the API server refused (403) the operator a request it needs; retried after a delay"
    STATUS_INVALID = "StatusInvalid", None, False, "the API server refused (422) the status the operator computed"

    @classmethod
    def for_exit_code(cls, code: int | None) -> Reason | None:
        """The first reason declared with the trainer's exit ``code``; None for a code TARA does not know."""
        return _BY_EXIT_CODE.get(code) if code is not None else None


_BY_EXIT_CODE: dict[int, Reason] = {}
for _reason in Reason:
    if _reason.exit_code is not None:
        _BY_EXIT_CODE.setdefault(_reason.exit_code, _reason)
