"""A reconcile reads its children from kopf's indexes (``observed``) and writes only what differs:
the index functions, the view, and the API calls a training's reconcile makes for what the watches
show (k8s's functions replaced by a recorder; no API server)."""

from __future__ import annotations

import asyncio
from typing import Any

import kopf
import pytest

from tara_api import DomainTraining
from tara_operator import handlers, k8s, names
from tara_operator import status as st
from tara_operator.observed import Observed
from tara_operator.render.rbac import render_trainer_rbac
from tara_operator.render.training import render_training
from tara_operator.settings import OperatorSettings
from tara_operator.training import reconcile_training, run_spec_hash

SETTINGS = OperatorSettings()
SPEC = {"domain": "healthcare", "baseModel": {"repo": "Qwen/Qwen2.5-3B-Instruct"}, "dataset": {"builtin": "healthcare"},
        "resources": {"accelerator": "cpu"}}


RUN = run_spec_hash(DomainTraining.model_validate({"metadata": {"name": "hc", "namespace": "ml"}, "spec": SPEC}).spec)


def _training(status: dict[str, Any] | None = None, rv: str = "7") -> dict[str, Any]:
    return {"apiVersion": "tara.dev/v1alpha1", "kind": "DomainTraining", "spec": SPEC, "status": status or {},
            "metadata": {"namespace": "ml", "name": "hc", "uid": "u1", "generation": 1, "resourceVersion": rv}}


class _Api:
    """k8s's functions as the training reconcile uses them: every call recorded, creates answered
    with ``exists`` (409: False)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, fresh: dict[str, Any] | None = None, conflicts: int = 0,
                 pods: list[dict[str, Any]] | None = None) -> None:
        self.calls: list[str] = []
        self.fresh, self.conflicts, self.pods = fresh, conflicts, pods or []
        monkeypatch.setattr(k8s, "_shared_tried", {})
        for fn in ("create_if_missing", "get", "get_custom", "patch_custom_status", "replace_config_map_data", "delete",
                   "list_jobs", "list_pods"):
            monkeypatch.setattr(k8s, fn, getattr(self, fn, self._unexpected(fn)))
        monkeypatch.setattr(kopf, "event", lambda body, *, type, reason, message: self.calls.append(f"event {reason}"))

    def _unexpected(self, fn: str) -> Any:
        def call(*args: Any, **_: Any) -> Any:
            self.calls.append(f"{fn} {args[:3]}")
        return call

    def create_if_missing(self, body: dict[str, Any]) -> bool:
        self.calls.append(f"create {body['kind']}")
        return True

    def replace_config_map_data(self, body: dict[str, Any], current: dict[str, str] | None = None) -> None:
        if current != body["data"]:
            self.calls.append("write ConfigMap")

    def list_pods(self, ns: str, selector: str) -> list[dict[str, Any]]:
        self.calls.append(f"list pods {selector}")
        return self.pods

    def get_custom(self, plural: str, ns: str, name: str) -> dict[str, Any] | None:
        self.calls.append(f"get {plural}")
        return self.fresh

    def patch_custom_status(self, plural: str, ns: str, name: str, status: dict[str, Any], resource_version: str | None = None) -> None:
        self.calls.append(f"patch status@{resource_version}")
        if self.conflicts:
            self.conflicts -= 1
            raise k8s.Conflict("the object has been modified")


def _seen(training: dict[str, Any] | None = None, *, job: st.JobObservation | None = None, children: bool = True,
          claims: bool = True) -> Observed:
    """What the watches show: the training, and (``children``) its RBAC and (``claims``) claim as rendered."""
    owned: dict[tuple[str, str, str], list[Any]] = {}
    if children:
        res = DomainTraining.model_validate({k: v for k, v in _training().items() if k != "status"})
        rendered = render_training(res, SETTINGS, attempt=1, uid="u1", run=RUN)
        for body in [*render_trainer_rbac("ml", SETTINGS), *(rendered["claims"] if claims else [])]:
            owned[("ml", body["kind"].lower() + "s", body["metadata"]["name"])] = [True]
    jobs = {("ml", "hc"): [job]} if job else {}
    return Observed(trainings={("ml", "hc"): [training]} if training else {}, owned=owned, jobs=jobs)


def _started() -> tuple[dict[str, Any], st.JobObservation]:
    """The training after its first reconcile, and its Job, whose pod runs (ready)."""
    job = names.training_job_name("hc", 1, RUN)
    return _training({"phase": "Pending", "attempts": 1, "jobName": job, "specHash": RUN}), st.JobObservation(job, active=1, ready=1)


def test_a_new_training_creates_what_the_watches_do_not_show(monkeypatch: pytest.MonkeyPatch) -> None:
    """The trainer's RBAC first (the pods' ServiceAccount must exist when the Job controller makes them),
    then the claim and the Job at once (k8s.create_each, in either order), then the status."""
    api = _Api(monkeypatch)
    reconcile_training(_training(), SETTINGS, _seen(children=False))
    assert api.calls[:3] == ["create ServiceAccount", "create Role", "create RoleBinding"]
    assert sorted(api.calls[3:5]) == ["create Job", "create PersistentVolumeClaim"]
    assert api.calls[5:] == ["patch status@7"]


def test_a_new_training_sends_its_claim_and_its_job_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """In a namespace whose trainer RBAC the watches show: two rounds to the API server, not three
    (claim and Job together, then the status); each create waits here until the other one is in flight."""
    import threading

    api = _Api(monkeypatch)
    both = threading.Barrier(2, timeout=10)
    record = api.create_if_missing
    monkeypatch.setattr(k8s, "create_if_missing", lambda body: both.wait() is not None and record(body))
    reconcile_training(_training(), SETTINGS, _seen(claims=False))
    assert sorted(api.calls[:2]) == ["create Job", "create PersistentVolumeClaim"] and api.calls[2:] == ["patch status@7"]


def test_a_refused_claim_takes_the_job_sent_beside_it_back(monkeypatch: pytest.MonkeyPatch) -> None:
    """The server refuses the claim (422): the Job, created at the same time, is deleted, as no Job was
    created when the claim went first; the resource fails with the server's message."""
    api = _Api(monkeypatch)

    def create(body: dict[str, Any]) -> bool:
        api.calls.append(f"create {body['kind']}")
        if body["kind"] == "PersistentVolumeClaim":
            raise k8s.Invalid("PersistentVolumeClaim \"hc-checkpoints\" is invalid: spec.resources")
        return True

    monkeypatch.setattr(k8s, "create_if_missing", create)
    written: list[dict[str, Any]] = []
    monkeypatch.setattr(k8s, "patch_custom_status", lambda plural, ns, name, status, rv=None: written.append(status))
    with pytest.raises(k8s.Invalid):  # kopf does not retry it
        reconcile_training(_training(), SETTINGS, _seen(claims=False))
    assert sorted(api.calls[:2]) == ["create Job", "create PersistentVolumeClaim"]
    assert api.calls[2:] == [f"delete ('Job', 'ml', '{names.training_job_name('hc', 1, RUN)}')", "event ChildInvalid"]
    [status] = written
    assert status["phase"] == "Failed" and status["lastFailureReason"] == "ChildInvalid"
    assert "spec.resources" in status["lastFailureMessage"]


def test_the_namespace_children_are_not_created_again(monkeypatch: pytest.MonkeyPatch) -> None:
    api = _Api(monkeypatch)
    reconcile_training(_training(), SETTINGS, _seen())
    assert api.calls == ["create Job", "patch status@7"]


def test_an_event_that_changes_nothing_makes_no_api_call(monkeypatch: pytest.MonkeyPatch) -> None:
    """A Job's event whose status the training already shows: no read, no write."""
    body, job = _started()
    api = _Api(monkeypatch)
    first = reconcile_training(body, SETTINGS, _seen(body, job=job))
    assert first["phase"] == "Running" and api.calls == ["patch status@7"]  # the Job says its pod is ready: no pod read
    running = {**body, "status": {**body["status"], **first}}
    api.calls.clear()
    # a child's event: the handler names the training only, the index holds its body
    assert reconcile_training({"metadata": {"namespace": "ml", "name": "hc"}}, SETTINGS, _seen(running, job=job)) == {}
    assert api.calls == []


def test_a_child_event_reconciles_from_the_index_and_announces_after_the_write(monkeypatch: pytest.MonkeyPatch) -> None:
    """Its Job ended: the status says Succeeded first, then the Trained Event (a routine transition, to
    Running, is in the status alone)."""
    body, started = _started()
    job = st.JobObservation(started.name, succeeded=1, complete=True)
    api = _Api(monkeypatch)
    patch = reconcile_training({"metadata": {"namespace": "ml", "name": "hc"}}, SETTINGS, _seen(body, job=job))
    assert patch["phase"] == "Succeeded"
    assert api.calls == ["patch status@7", "event Trained"]
    api.calls.clear()
    patch = reconcile_training({"metadata": {"namespace": "ml", "name": "hc"}}, SETTINGS, _seen(body, job=started))
    assert patch["phase"] == "Running" and api.calls == ["patch status@7"]


def test_a_status_computed_from_an_old_version_is_computed_again_from_the_current_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """The index lags the operator's last write: the server refuses the write (409), the reconcile reads
    the training once and finds the status already right, so it writes and announces nothing."""
    body, job = _started()
    api = _Api(monkeypatch)
    first = reconcile_training(body, SETTINGS, _seen(body, job=job))
    current = {**body, "status": {**body["status"], **first}, "metadata": {**body["metadata"], "resourceVersion": "9"}}
    api = _Api(monkeypatch, fresh=current, conflicts=1)
    assert reconcile_training({"metadata": {"namespace": "ml", "name": "hc"}}, SETTINGS, _seen(body, job=job)) == {}
    assert api.calls == ["patch status@7", "get domaintrainings"]


def test_a_changed_spec_configmap_is_written() -> None:
    assert Observed(owned={("ml", "configmaps", "hc-spec"): [{"k": "v"}]}).config_data("ml", "hc-spec") == {"k": "v"}
    assert Observed().config_data("ml", "hc-spec") is None


def _index(fn: Any, **kwargs: Any) -> Any:
    return asyncio.run(fn(**kwargs))


@pytest.mark.parametrize(
    ("fn", "kwargs", "expected"),
    [
        (handlers.owned, {"namespace": "ml", "name": "hc-spec", "body": {"data": {"a": "b"}},
                          "resource": kopf.Resource("", "v1", "configmaps")}, {("ml", "configmaps", "hc-spec"): {"a": "b"}}),
        (handlers.owned, {"namespace": "ml", "name": "tara-trainer", "body": {},
                          "resource": kopf.Resource("rbac.authorization.k8s.io", "v1", "roles")}, {("ml", "roles", "tara-trainer"): True}),
        (handlers.trainer_jobs, {"namespace": "ml", "body": {"metadata": {"name": "hc-1", "namespace": "ml", "ownerReferences": [
            {"kind": "DomainTraining", "name": "hc"}]}, "status": {"active": 1}}}, {("ml", "hc"): st.JobObservation("hc-1", active=1)}),
        (handlers.trainer_jobs, {"namespace": "ml", "body": {"metadata": {"name": "x", "namespace": "ml"}}}, {}),
        (handlers.trainings, {"namespace": "ml", "name": "hc", "body": {"spec": {}}}, {("ml", "hc"): {"spec": {}}}),
    ],
    ids=["configmap-data", "trainer-role", "job-by-owner", "job-without-owner", "training"],
)
def test_index_functions(fn: Any, kwargs: dict[str, Any], expected: Any) -> None:
    assert _index(fn, **kwargs) == expected


def test_the_indexes_are_registered_under_the_names_handlers_receive_them_by() -> None:
    registered = {(h.id, h.selector.any_name) for h in kopf.get_default_registry()._indexing.get_all_handlers()}
    assert {("owned", p) for p in ("serviceaccounts", "roles", "rolebindings", "persistentvolumeclaims", "configmaps")} <= registered
    assert {("trainings", "domaintrainings"), ("trainer_jobs", "jobs"), ("trainer_workloads", "workloads"),
            ("owned", "services")} <= registered
    watched = {h.selector.any_name for h in kopf.get_default_registry()._watching.get_all_handlers()}
    assert "pods" not in {name for _, name in registered} | watched  # the trainer's pods are read, not watched
    assert handlers._seen({"trainings": {}, "owned": {}, "trainer_jobs": {}, "trainer_workloads": {}}) == Observed()


def test_the_newest_body_at_hand_is_used_and_a_written_one_dropped_once_the_index_has_caught_up() -> None:
    from tara_operator import reconciler

    key = ("domaintrainings", "ml", "hc")
    reconciler._written[key] = _training({"phase": "Running"}, rv="9")
    try:
        assert reconciler._newest(key, {"metadata": {"namespace": "ml", "name": "hc"}}, _training(rv="7"))["status"] == {"phase": "Running"}
        assert reconciler._newest(key, _training({"phase": "Failed"}, rv="12"), _training(rv="7"))["status"] == {"phase": "Failed"}
        assert key in reconciler._written
        assert reconciler._newest(key, {"metadata": {}}, _training({"phase": "Succeeded"}, rv="10"))["status"] == {"phase": "Succeeded"}
        assert key not in reconciler._written
        assert reconciler._newest(key, {"metadata": {}}, None) is None  # nothing whole at hand: read it
    finally:
        reconciler.forget(*key)


def test_a_resource_that_keeps_changing_is_read_again_a_bounded_number_of_times(monkeypatch: pytest.MonkeyPatch) -> None:
    from tara_operator import reconciler

    body, job = _started()
    api = _Api(monkeypatch, fresh=body, conflicts=reconciler._ATTEMPTS)
    with pytest.raises(k8s.Conflict):
        reconcile_training(body, SETTINGS, _seen(body, job=job))
    assert api.calls.count("get domaintrainings") == reconciler._ATTEMPTS - 1
    assert not [c for c in api.calls if c.startswith("event")]  # nothing written, nothing announced


def test_a_running_cost_alone_is_written_by_the_resync_not_by_a_child_event(monkeypatch: pytest.MonkeyPatch) -> None:
    """The cost of a running Job grows every second: a child's event that changes nothing else leaves it to
    the resync, which writes it."""
    from datetime import UTC, datetime, timedelta

    from tara_operator import training

    body, job = _started()
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    job = st.JobObservation(job.name, active=1, ready=1, start_time=t0)
    api = _Api(monkeypatch)
    monkeypatch.setattr(training, "_now", lambda: t0 + timedelta(minutes=1))
    first = reconcile_training(body, SETTINGS, _seen(body, job=job), running_cost=False)
    assert first["phase"] == "Running" and first["cost"]["cpuHours"] > 0  # a transition carries the cost
    running = {**body, "status": {**body["status"], **first}}
    monkeypatch.setattr(training, "_now", lambda: t0 + timedelta(minutes=2))
    api.calls.clear()
    ref = {"metadata": {"namespace": "ml", "name": "hc"}}
    assert reconcile_training(ref, SETTINGS, _seen(running, job=job), running_cost=False) == {}
    assert api.calls == []
    assert set(reconcile_training(ref, SETTINGS, _seen(running, job=job))) == {"cost"}
    assert api.calls == ["patch status@7"]


def _job(status: dict[str, Any] | None, name: str = "hc-1") -> kopf.Body:
    return kopf.Body({"metadata": {"namespace": "ml", "name": name}, **({"status": status} if status is not None else {})})


def test_only_job_events_that_show_something_new_reconcile(monkeypatch: pytest.MonkeyPatch) -> None:
    """A Job's event reconciles its training only when what the status reads of it changed since the
    last reconcile (or it is gone); the first sight of one just created, without status, does not."""
    monkeypatch.setattr(handlers, "_JOBS", {})
    assert not handlers._job_moved(_job(None), "ADDED")
    assert handlers._job_moved(_job({"active": 1}), "MODIFIED")
    handlers._JOBS[handlers._job_key(_job({"active": 1}))] = st.observe_job(_job({"active": 1}))
    assert not handlers._job_moved(_job({"active": 1, "terminating": 0}), "MODIFIED")  # a field the status does not read
    assert handlers._job_moved(_job({"active": 1, "ready": 1}), "MODIFIED")  # its pod runs
    assert handlers._job_moved(_job({"active": 1}), "DELETED")


def _pod_body(phase: str, **status: Any) -> dict[str, Any]:
    return {"metadata": {"name": "hc-1-abcde", "namespace": "ml"}, "status": {"phase": phase, **status}}


UNSCHEDULABLE = _pod_body("Pending", conditions=[{"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                                                  "message": "0/2 nodes are available: 2 Insufficient cpu."}])


def test_a_waiting_pod_is_read_once_its_job_has_waited_long_enough(monkeypatch: pytest.MonkeyPatch) -> None:
    """No pod watch: a Job whose pod is not ready says nothing of why. Within PENDING_READ_S of the Job's
    start a reconcile reads no pod (the burst's Job events); after it, one LIST says why the pod waits."""
    from datetime import UTC, datetime, timedelta

    from tara_operator import training

    body, started = _started()
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    waiting = st.JobObservation(started.name, active=1, start_time=t0)
    api = _Api(monkeypatch, pods=[UNSCHEDULABLE])
    monkeypatch.setattr(training, "_now", lambda: t0 + timedelta(seconds=1))
    patch = reconcile_training(body, SETTINGS, _seen(body, job=waiting))
    assert not [c for c in api.calls if c.startswith("list")]
    assert {c["reason"] for c in patch["conditions"] if c["type"] == "Progressing"} == {"Scheduling"}
    api.calls.clear()
    monkeypatch.setattr(training, "_now", lambda: t0 + timedelta(seconds=training.PENDING_READ_S))
    patch = reconcile_training(body, SETTINGS, _seen(body, job=waiting))
    assert api.calls == [f"list pods {names.job_pods_selector(started.name)}", "patch status@7"]
    progressing = next(c for c in patch["conditions"] if c["type"] == "Progressing")
    assert progressing["reason"] == "Unschedulable" and "Insufficient cpu" in progressing["message"]


def test_a_failed_job_reads_its_pods_for_the_trainers_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    """The Job says it failed, not why: one LIST of its pods gives the exit code and the termination message."""
    body, started = _started()
    failed = st.JobObservation(started.name, failed=1, failed_condition="BackoffLimitExceeded")
    pod = _pod_body("Failed", containerStatuses=[{"state": {"terminated": {
        "exitCode": 5, "reason": "Error", "message": '{"reason": "QualityGateFailed", "message": "eval loss improved by 0.001"}',
        "finishedAt": "2026-01-01T00:00:00Z"}}}])
    api = _Api(monkeypatch, pods=[pod])
    patch = reconcile_training(body, SETTINGS, _seen(body, job=failed))
    assert patch["phase"] == "Failed" and patch["lastFailureReason"] == "QualityGateFailed"
    assert "0.001" in patch["lastFailureMessage"]
    assert api.calls[0] == f"list pods {names.job_pods_selector(started.name)}"


def test_a_training_reconciles_on_each_new_generation(monkeypatch: pytest.MonkeyPatch) -> None:
    """A training's event reconciles it when this process has not reconciled that uid and generation: first
    sight (creation, operator start) and spec changes; status writes (same generation) do not."""
    monkeypatch.setattr(handlers, "_HANDLED", {})
    body = kopf.Body(_training())
    assert handlers._unhandled(body, None) and handlers._unhandled(body, "ADDED")
    handlers._HANDLED[("ml", "hc")] = ("u1", 1)
    assert not handlers._unhandled(body, "MODIFIED")
    assert handlers._unhandled(kopf.Body({**_training(), "metadata": {**_training()["metadata"], "generation": 2}}), "MODIFIED")
    assert handlers._unhandled(kopf.Body({**_training(), "metadata": {**_training()["metadata"], "uid": "u2"}}), "MODIFIED")
    assert not handlers._unhandled(body, "DELETED")


def test_the_trainer_rbac_is_created_by_one_of_many_reconciles_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """A burst of new trainings in a namespace: the first reconcile creates its ServiceAccount, Role and
    RoleBinding; the next ones, before the watch shows them, send no create (each would be answered 409);
    still missing after SHARED_RETRY_S (deleted by hand): created again."""
    api = _Api(monkeypatch)
    clock = [100.0]
    monkeypatch.setattr(k8s.time, "monotonic", lambda: clock[0])
    for _ in range(3):
        reconcile_training(_training(), SETTINGS, _seen(children=False))
    assert [c for c in api.calls if c.startswith("create ") and c != "create Job"].count("create ServiceAccount") == 1
    assert api.calls[:3] == ["create ServiceAccount", "create Role", "create RoleBinding"]  # before the claim and Job
    api.calls.clear()
    clock[0] += k8s.SHARED_RETRY_S
    reconcile_training(_training(), SETTINGS, _seen(children=False))
    assert api.calls[:3] == ["create ServiceAccount", "create Role", "create RoleBinding"]
