"""`tara training follow|list` against the real control plane: a background thread plays the
operator and the trainer, writing the DomainTraining's status through the `/status`
subresource, while `follow` watches it. The CLI runs in-process, so the tests see what it reads
by wrapping its ``cluster`` functions."""

from __future__ import annotations

import copy
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from cli_support import NAMESPACE, Result
from controlplane import ControlPlane
from kubernetes import client, watch
from kubernetes.client.rest import ApiException

from tara_cli import cluster

ROOT = Path(__file__).resolve().parents[2]
GROUP, VERSION, PLURAL = "tara.dev", "v1alpha1", "domaintrainings"
Tara = Callable[..., Result]
CONDITION_TIME = "2025-06-01T10:00:00Z"


def _create(custom: client.CustomObjectsApi, name: str) -> dict[str, Any]:
    body = yaml.safe_load((ROOT / "configs" / "trainings" / "cpu" / "healthcare-cpu.yaml").read_text())
    body["metadata"]["name"] = name
    return custom.create_namespaced_custom_object(GROUP, VERSION, NAMESPACE, PLURAL, body)


def _set_status(custom: client.CustomObjectsApi, name: str, status: dict[str, Any]) -> None:
    custom.patch_namespaced_custom_object_status(GROUP, VERSION, NAMESPACE, PLURAL, name, {"status": status})


class Driver:
    """Plays the operator in a thread once `follow` has read the object (``read`` is set): later
    changes reach it through its watch. Joined on exit."""

    def __init__(self, read: threading.Event, custom: client.CustomObjectsApi, name: str,
                 statuses: list[dict[str, Any]]) -> None:
        self.error: BaseException | None = None

        def run() -> None:
            try:
                if not read.wait(20):
                    raise AssertionError(f"follow never read {name}")
                for status in statuses:
                    _set_status(custom, name, status)
            except BaseException as exc:  # noqa: BLE001 - re-raised by the test
                self.error = exc

        self.thread = threading.Thread(target=run, name=f"driver-{name}")

    def __enter__(self) -> Driver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.thread.join(30)
        if self.error:
            raise self.error


RUNNING = {"phase": "Running", "attempts": 1, "jobName": "hc-train-1",
           "conditions": [{"type": "Ready", "status": "False", "reason": "JobRunning", "message": "attempt 1 running",
                           "lastTransitionTime": CONDITION_TIME}]}


def _progress(step: int, **extra: Any) -> dict[str, Any]:
    return {"step": step, "totalSteps": 200, "percent": step / 2, "loss": round(2.0 - step / 200, 3), "etaSeconds": 200 - step, **extra}


@pytest.fixture
def name(request: pytest.FixtureRequest) -> Iterator[str]:
    yield request.node.name.split("[")[0].removeprefix("test_").replace("_", "-")[:50]


@pytest.fixture
def read(monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    """Set once `tara` has read an object (its ``cluster.get``, wrapped)."""
    done, real_get = threading.Event(), cluster.get

    def get(*args: Any) -> dict[str, Any]:
        obj = real_get(*args)
        done.set()
        return obj

    monkeypatch.setattr(cluster, "get", get)
    return done


def test_follow_until_succeeded(tara: Tara, kubeconfig: Path, read: threading.Event, custom: client.CustomObjectsApi,
                                name: str) -> None:
    _create(custom, name)
    statuses = [{"phase": "Pending"}, RUNNING]
    statuses += [{"progress": _progress(step)} for step in (50, 100, 150)]
    statuses += [{"progress": _progress(200, evalLoss=1.1), "checkpoint": {"path": "checkpoint-200", "step": 200}},
                 {"phase": "Succeeded", "metrics": {"baseEvalLoss": 1.5, "tunedEvalLoss": 1.1, "improvement": 0.267},
                  "artifacts": {"adapterPath": f"/mnt/tara/checkpoints/{name}/adapter"},
                  "conditions": [{**RUNNING["conditions"][0], "status": "True", "reason": "Trained", "message": "adapter ready"}]}]
    with Driver(read, custom, name, statuses):
        started = time.monotonic()
        r = tara("training", "follow", name, "--timeout", "60", "--kubeconfig", str(kubeconfig))
    assert time.monotonic() - started < 30
    assert (r.code, r.err) == (0, ""), r.err
    assert r.out.splitlines() == [
        "phase Pending",
        "phase Pending -> Running",
        "attempt 1 (Job hc-train-1)",
        "Ready=False JobRunning: attempt 1 running",
        "step 50/200 (25.0%)  loss 1.75  ETA 2m30s",
        "step 100/200 (50.0%)  loss 1.5  ETA 100s",
        "step 150/200 (75.0%)  loss 1.25  ETA 50s",
        "checkpoint at step 200",
        "step 200/200 (100.0%)  loss 1  eval loss 1.1  ETA 0s",
        "phase Running -> Succeeded",
        "Ready=True Trained: adapter ready",
        f"{name} Succeeded, eval loss 1.5 -> 1.1 (26.7% better), adapter /mnt/tara/checkpoints/{name}/adapter",
    ]


def test_follow_a_failure(tara: Tara, kubeconfig: Path, read: threading.Event, custom: client.CustomObjectsApi,
                          name: str) -> None:
    _create(custom, name)
    failed = {"phase": "Failed", "lastFailureReason": "DatasetInvalid",
              "lastFailureMessage": "healthcare.jsonl line 7: not valid JSON"}
    with Driver(read, custom, name, [RUNNING, {"progress": _progress(20)}, failed]):
        r = tara("training", "follow", name, "--kubeconfig", str(kubeconfig))
    assert r.code == 1
    assert "step 20/200 (10.0%)" in r.out and "phase Running -> Failed" in r.out
    assert r.err.splitlines() == [
        f"{name} Failed: DatasetInvalid: healthcare.jsonl line 7: not valid JSON",
        "hint: fix the data (the message names the file and line)",
    ]


def test_follow_ignores_the_previous_runs_outcome(tara: Tara, kubeconfig: Path, read: threading.Event,
                                                  custom: client.CustomObjectsApi, name: str) -> None:
    _create(custom, name)
    _set_status(custom, name, {"phase": "Succeeded", "observedGeneration": 1})
    custom.patch_namespaced_custom_object(GROUP, VERSION, NAMESPACE, PLURAL, name, {"spec": {"training": {"maxSteps": 300}}})
    new_run = [{"phase": "Pending", "observedGeneration": 2}, {"phase": "Failed", "lastFailureReason": "Crashed"}]
    with Driver(read, custom, name, new_run):
        r = tara("training", "follow", name, "--kubeconfig", str(kubeconfig))
    assert r.code == 1 and "phase Succeeded -> Pending" in r.out and "Failed: Crashed" in r.err


def test_follow_times_out(tara: Tara, kubeconfig: Path, custom: client.CustomObjectsApi, name: str) -> None:
    _create(custom, name)
    _set_status(custom, name, {**RUNNING, "progress": _progress(10)})
    started = time.monotonic()
    r = tara("training", "follow", name, "--timeout", "1", "--kubeconfig", str(kubeconfig))
    assert 1 <= time.monotonic() - started < 10
    assert r.code == 1
    assert r.err == f"error: timed out after 1s following domaintraining {NAMESPACE}/{name} (phase Running, step 10/200)\n"


def test_follow_a_deleted_training(tara: Tara, kubeconfig: Path, read: threading.Event, custom: client.CustomObjectsApi,
                                   name: str) -> None:
    _create(custom, name)

    def delete() -> None:
        if read.wait(20):
            custom.delete_namespaced_custom_object(GROUP, VERSION, NAMESPACE, PLURAL, name)

    thread = threading.Thread(target=delete)
    thread.start()
    r = tara("training", "follow", name, "--timeout", "30", "--kubeconfig", str(kubeconfig))
    thread.join(30)
    assert (r.code, r.err) == (1, f"error: domaintraining {NAMESPACE}/{name} was deleted\n")


def _watch_expired(custom: client.CustomObjectsApi, name: str, version: str) -> bool:
    """Whether the server refuses to watch ``name`` from ``version`` with 410 Gone."""
    try:
        for _ in watch.Watch().stream(custom.list_namespaced_custom_object, GROUP, VERSION, NAMESPACE, PLURAL,
                                      field_selector=f"metadata.name={name}", resource_version=version, timeout_seconds=1):
            pass
    except ApiException as exc:
        if exc.status != 410:
            raise
        return True
    return False


def test_follow_resumes_after_the_watch_expired(tara: Tara, kubeconfig: Path, control_plane: ControlPlane,
                                                custom: client.CustomObjectsApi, name: str,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """A resourceVersion too old to watch from (410 Gone) makes follow read the object again. A
    restarted kube-apiserver fills its watch cache from the current resourceVersion, so a version
    written before the restart is too old to watch from."""
    stale = copy.deepcopy(_create(custom, name))
    _set_status(custom, name, {"phase": "Succeeded"})
    for i in range(3):
        custom.patch_namespaced_custom_object(GROUP, VERSION, NAMESPACE, PLURAL, name, {"metadata": {"labels": {"n": str(i)}}})
    control_plane.restart_apiserver()
    deadline = time.monotonic() + 30
    while not _watch_expired(custom, name, stale["metadata"]["resourceVersion"]):
        assert time.monotonic() < deadline, "the restarted server still watches from the old resourceVersion"
        time.sleep(0.2)
    real_get, real_watch, reads, expired = cluster.get, cluster.watch_object, [], []

    def first_read_is_stale(*args: Any) -> dict[str, Any]:
        reads.append(args)
        return stale if len(reads) == 1 else real_get(*args)

    def watch_object(*args: Any) -> Iterator[tuple[str, dict[str, Any]]]:
        try:
            yield from real_watch(*args)
        except cluster.ClusterError as exc:
            expired.append(exc.reason)
            raise

    monkeypatch.setattr(cluster, "get", first_read_is_stale)
    monkeypatch.setattr(cluster, "watch_object", watch_object)
    r = tara("training", "follow", name, "--timeout", "30", "--kubeconfig", str(kubeconfig))
    assert (r.code, len(reads), expired) == (0, 2, ["Gone"]), r.err
    assert r.out.splitlines()[-1] == f"{name} Succeeded"


def test_follow_missing_training(tara: Tara, kubeconfig: Path) -> None:
    r = tara("training", "follow", "nope", "--kubeconfig", str(kubeconfig))
    assert (r.code, r.err) == (1, f"error: domaintraining {NAMESPACE}/nope not found\n")


def test_training_list(tara: Tara, kubeconfig: Path, custom: client.CustomObjectsApi, name: str) -> None:
    _create(custom, name)
    _set_status(custom, name, {**RUNNING, "progress": _progress(50)})
    r = tara("training", "list", "--kubeconfig", str(kubeconfig))
    assert r.code == 0
    row = next(line.split() for line in r.out.splitlines() if line.startswith(name + " "))
    assert row[:8] == [name, "healthcare", "Running", "25.0%", "50/200", "1.75", "-", "2m30s"]
    r = tara("training", "list", "-f", str(ROOT / "configs" / "trainings" / "cpu"))
    assert [line.split()[0] for line in r.out.splitlines()[1:]] == [
        "business-cpu", "creative-cpu", "education-cpu", "healthcare-cpu", "leadership-cpu"]


def test_follow_as_a_console_script(kubeconfig: Path, custom: client.CustomObjectsApi, name: str) -> None:
    _create(custom, name)
    _set_status(custom, name, {"phase": "Failed", "lastFailureReason": "QualityGateFailed", "lastFailureMessage": "0.1% < 2%"})
    tara = Path(sys.executable).parent / "tara"
    result = subprocess.run([str(tara), "training", "follow", name, "--kubeconfig", str(kubeconfig)],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 1
    assert result.stdout == "phase Failed\n"  # not a terminal: lines, no bar
    assert result.stderr.splitlines() == [f"{name} Failed: QualityGateFailed: 0.1% < 2%",
                                          "hint: more data or steps, or lower spec.qualityGate.minEvalLossImprovement"]
