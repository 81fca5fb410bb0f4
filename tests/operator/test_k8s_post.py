"""``k8s.create_if_missing`` (and ``create_each``, several at once) sends the rendered body as it is (``k8s._post``, not the client's generated
create methods, which validate a dict into the client's model first): the request the server gets,
and the answers mapped as every other call's (409: exists; 422 and 403: the server's message)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from kubernetes import client

from tara_operator import k8s


class _Answer:
    """What urllib3's pool returns: a status, a body and headers."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        self.status, self.reason, self.data, self.headers = status, "", json.dumps(body).encode(), {}


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The requests sent; the answer to give next is appended to ``answers`` (the last item)."""
    api = client.ApiClient(client.Configuration(host="https://127.0.0.1:1", api_key={"BearerToken": "t0k"},
                                                api_key_prefix={"BearerToken": "Bearer"}))
    sent: list[dict[str, Any]] = []
    answers: list[_Answer] = []

    def request(method: str, url: str, *, body: Any = None, headers: Any = None, **_: Any) -> _Answer:
        sent.append({"method": method, "url": url, "body": json.loads(body), "headers": dict(headers)})
        return answers.pop(0)

    monkeypatch.setattr(api.rest_client.pool_manager, "request", request)
    monkeypatch.setattr(k8s, "configure", lambda: api)
    monkeypatch.setattr(k8s, "_WRITES", {"field_validation": "Strict"})
    return [sent, answers]


JOB = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "hc-abc-train-1", "namespace": "ml"},
       "spec": {"backoffLimit": 0, "template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "t", "image": "i"}]}}}}
CLAIM = {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "hc-checkpoints", "namespace": "ml"},
         "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}
ROLE = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": "tara-trainer", "namespace": "ml"},
        "rules": []}


@pytest.mark.parametrize(
    ("body", "path"),
    [(JOB, "/apis/batch/v1/namespaces/ml/jobs"), (CLAIM, "/api/v1/namespaces/ml/persistentvolumeclaims"),
     (ROLE, "/apis/rbac.authorization.k8s.io/v1/namespaces/ml/roles")],
    ids=["job", "claim", "role"],
)
def test_a_create_posts_the_body_as_rendered(server: list[Any], body: dict[str, Any], path: str) -> None:
    sent, answers = server
    answers.append(_Answer(201, body))
    assert k8s.create_if_missing(body) is True
    [request] = sent
    assert request["method"] == "POST" and request["url"] == f"https://127.0.0.1:1{path}?fieldValidation=Strict"
    assert request["body"] == body and request["headers"]["authorization"] == "Bearer t0k"
    assert request["headers"]["Accept"] == "application/json"


def test_answers_map_to_what_happens_next(server: list[Any]) -> None:
    sent, answers = server
    answers.append(_Answer(409, {"kind": "Status", "reason": "AlreadyExists", "message": "jobs.batch \"hc\" already exists"}))
    assert k8s.create_if_missing(JOB) is False  # exists: done
    answers.append(_Answer(422, {"kind": "Status", "message": "Job.batch \"hc\" is invalid: spec.backoffLimit: Invalid value"}))
    with pytest.raises(k8s.Invalid, match="spec.backoffLimit: Invalid value"):
        k8s.create_if_missing(JOB)
    answers.append(_Answer(403, {"kind": "Status", "message": "jobs.batch is forbidden: User \"op\" cannot create"}))
    with pytest.raises(k8s.Forbidden, match="cannot create"):
        k8s.create_if_missing(JOB)
    assert len(sent) == 3


def _answering(monkeypatch: pytest.MonkeyPatch, by_name: dict[str, _Answer], at_once: int) -> list[str]:
    """Like ``server``, answering each POST by its body's name once ``at_once`` POSTs are in flight
    together (a create sent after another was answered would wait here and time out); the names sent."""
    import threading

    api = client.ApiClient(client.Configuration(host="https://127.0.0.1:1", api_key={"BearerToken": "t0k"},
                                                api_key_prefix={"BearerToken": "Bearer"}))
    together, sent = threading.Barrier(at_once, timeout=10), []

    def request(method: str, url: str, *, body: Any = None, **_: Any) -> _Answer:
        name = json.loads(body)["metadata"]["name"]
        sent.append(name)
        together.wait()
        return by_name[name]

    monkeypatch.setattr(api.rest_client.pool_manager, "request", request)
    monkeypatch.setattr(k8s, "configure", lambda: api)
    monkeypatch.setattr(k8s, "_WRITES", {"field_validation": "Strict"})
    return sent


ARTIFACTS = {**CLAIM, "metadata": {**CLAIM["metadata"], "name": "tara-artifacts"}}
EXISTS = _Answer(409, {"kind": "Status", "reason": "AlreadyExists", "message": "exists"})


def test_create_each_sends_its_creates_at_once_and_keeps_their_order(monkeypatch: pytest.MonkeyPatch) -> None:
    sent = _answering(monkeypatch, {"hc-checkpoints": _Answer(201, CLAIM), "tara-artifacts": EXISTS,
                                    "hc-abc-train-1": _Answer(201, JOB)}, at_once=3)
    assert k8s.create_each([CLAIM, ARTIFACTS, JOB]) == [True, False, True]  # 409: it existed
    assert sorted(sent) == ["hc-abc-train-1", "hc-checkpoints", "tara-artifacts"]
    assert k8s.create_each([]) == []


def test_create_each_raises_the_first_refusal_once_every_create_is_answered(monkeypatch: pytest.MonkeyPatch) -> None:
    """The claim is forbidden and the Job invalid: the Job was still sent (and answered) with the claim,
    and the claim's refusal, first in the list, is the one raised."""
    sent = _answering(monkeypatch, {"hc-checkpoints": _Answer(403, {"kind": "Status", "message": "claims are forbidden"}),
                                    "hc-abc-train-1": _Answer(422, {"kind": "Status", "message": "Job is invalid"})},
                      at_once=2)
    with pytest.raises(k8s.Forbidden, match="claims are forbidden"):
        k8s.create_each([CLAIM, JOB])
    assert sorted(sent) == ["hc-abc-train-1", "hc-checkpoints"]
    with pytest.raises(k8s.Invalid, match="Job is invalid"):  # the other way round: the Job's first
        k8s.create_each([JOB, CLAIM])
