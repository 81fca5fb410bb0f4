"""403 and 422 from the API server reach the resource: what each answer becomes (tables), what the
status says, and what the reconcile writes and raises (with k8s's functions replaced by a table of
answers; no API server)."""

from __future__ import annotations

import json
from typing import Any

import kopf
import pytest
from kubernetes.client.rest import ApiException

from tara_api.reasons import Reason
from tara_operator import k8s, phase, reconciler, training

FORBIDDEN = ('jobs.batch "hc-train-1" is forbidden: User "system:serviceaccount:tara:tara-operator" cannot create '
             'resource "jobs" in API group "batch" in the namespace "ml"')
INVALID = 'Job.batch "hc-train-1" is invalid: spec.template.spec.containers[0].resources.requests[cpu]: Invalid value: "x"'


def _answer(status: int, body: Any) -> ApiException:
    exc = ApiException(status=status, reason="Refused")
    exc.body = json.dumps(body) if body is not None else None
    return exc


def _raises(exc: ApiException) -> Any:
    def call(*_: Any, **__: Any) -> Any:
        raise exc
    return call


@pytest.mark.parametrize(
    ("status", "body", "error", "then", "message"),
    [
        (403, {"kind": "Status", "reason": "Forbidden", "message": FORBIDDEN}, k8s.Forbidden, kopf.TemporaryError, FORBIDDEN),
        (422, {"kind": "Status", "reason": "Invalid", "message": INVALID,
               "details": {"causes": [{"field": "spec.x", "message": "Invalid value"}]}}, k8s.Invalid, kopf.PermanentError, INVALID),
        (422, {"kind": "Status", "details": {"causes": [{"field": "spec.x", "message": "Invalid value"}, {"message": "and this"}]}},
         k8s.Invalid, kopf.PermanentError, "spec.x: Invalid value; and this"),
        (403, None, k8s.Forbidden, kopf.TemporaryError, "403 Refused"),
        (503, {"kind": "Status"}, kopf.TemporaryError, kopf.TemporaryError, None),
        (409, {"kind": "Status", "reason": "Conflict", "message": "the object has been modified"}, k8s.Conflict,
         kopf.TemporaryError, None),
    ],
    ids=["forbidden", "invalid", "invalid-causes-only", "forbidden-no-body", "unavailable", "conflict"],
)
def test_answers_become_what_happens_next(status: int, body: Any, error: type, then: type, message: str | None) -> None:
    with pytest.raises(error) as raised:
        k8s._call(_raises(_answer(status, body)))
    assert isinstance(raised.value, then)
    if message is not None:
        assert raised.value.message == message
    if isinstance(raised.value, k8s.Forbidden):
        assert raised.value.delay == k8s.FORBIDDEN_RETRY_S


def _body(status: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"metadata": {"namespace": "ml", "name": "hc", "uid": "u", "generation": 2}, "status": status or {}}


def _ready(patch: dict[str, Any]) -> dict[str, Any]:
    return next(c for c in patch["conditions"] if c["type"] == "Ready")


@pytest.mark.parametrize(
    ("refused", "old", "error", "phase_", "ready", "reason"),
    [
        (training._refused, {"phase": "Running"}, k8s.Invalid(INVALID), "Failed", "False", Reason.CHILD_INVALID),
        (training._refused, {"phase": "Running"}, k8s.Forbidden(FORBIDDEN), None, "False", Reason.FORBIDDEN),
        (training._refused, {}, k8s.Forbidden(FORBIDDEN), "Pending", "False", Reason.FORBIDDEN),
        (phase._refused, {"phase": "Deployed", "servedRevision": 2}, k8s.Invalid(INVALID), "Failed", "True", Reason.CHILD_INVALID),
        (phase._refused, {}, k8s.Invalid(INVALID), "Failed", "False", Reason.CHILD_INVALID),
        (phase._refused, {"phase": "Training"}, k8s.Forbidden(FORBIDDEN), None, "False", Reason.FORBIDDEN),
    ],
    ids=["training-invalid", "training-forbidden", "new-training-forbidden", "served-phase-invalid", "phase-invalid",
         "phase-forbidden"],
)
def test_refusals_land_in_the_ready_condition(refused, old, error, phase_, ready, reason) -> None:
    patch = refused(_body(old), error)
    assert patch.get("phase") == phase_  # None: the phase stays as it was
    assert (_ready(patch)["status"], _ready(patch)["reason"]) == (ready, reason)
    assert error.message in _ready(patch)["message"]
    if refused is training._refused and isinstance(error, k8s.Invalid):
        assert patch["lastFailureReason"] == Reason.CHILD_INVALID and patch["lastFailureMessage"] == INVALID
    again = refused(_body({**old, **patch}), error)
    assert "conditions" not in again and "phase" not in again  # the same refusal again changes nothing


class _Api:
    """k8s's functions as the reconciler uses them, answering from a table."""

    def __init__(self, status: dict[str, Any], status_answer: Exception | None = None) -> None:
        self.status, self.status_answer = status, status_answer
        self.patches: list[dict[str, Any]] = []
        self.events: list[tuple[str, str]] = []

    def get_custom(self, plural: str, ns: str, name: str) -> dict[str, Any]:
        return _body(self.status)

    def patch_custom_status(self, plural: str, ns: str, name: str, patch: dict[str, Any], resource_version: str | None = None) -> None:
        if self.status_answer is not None and "phase" in patch:  # the full status is refused, a condition is not
            raise self.status_answer
        self.patches.append(patch)

    def event(self, body: Any, *, type: str, reason: str, message: str) -> None:
        self.events.append((reason, message))


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch):
    def install(status: dict[str, Any], status_answer: Exception | None = None) -> _Api:
        fake = _Api(status, status_answer)
        monkeypatch.setattr(k8s, "get_custom", fake.get_custom)
        monkeypatch.setattr(k8s, "patch_custom_status", fake.patch_custom_status)
        monkeypatch.setattr(kopf, "event", fake.event)
        return fake
    return install


@pytest.mark.parametrize("error", [k8s.Invalid(INVALID), k8s.Forbidden(FORBIDDEN)], ids=["invalid", "forbidden"])
def test_a_refused_child_is_written_reported_once_and_raised(api, error: k8s.Refused) -> None:
    fake = api({"phase": "Running"})

    def compute(_: dict[str, Any], __: list) -> dict[str, Any]:
        raise error

    with pytest.raises(type(error)):
        reconciler.reconcile_latest("domaintrainings", _body(), compute, training._refused)
    reason = Reason.CHILD_INVALID if isinstance(error, k8s.Invalid) else Reason.FORBIDDEN
    assert fake.events == [(reason, error.message)]
    assert _ready(fake.patches[0])["reason"] == reason
    fake.status = {**fake.status, **fake.patches[0]}
    with pytest.raises(type(error)):
        reconciler.reconcile_latest("domaintrainings", _body(), compute, training._refused)
    assert len(fake.events) == 1 and len(fake.patches) == 1  # the same refusal: no new Event, no write


def test_a_refused_status_says_so_in_a_condition(api) -> None:
    fake = api({"phase": "Running"}, status_answer=k8s.Invalid('DomainTraining "hc" is invalid: status.progress.percent: ...'))
    with pytest.raises(k8s.Invalid):
        reconciler.reconcile_latest("domaintrainings", _body(), lambda _, __: {"phase": "Running", "progress": {"percent": 900}},
                                    training._refused)
    assert [r for r, _ in fake.events] == [Reason.STATUS_INVALID]
    assert [_ready(p)["reason"] for p in fake.patches] == [Reason.STATUS_INVALID]
