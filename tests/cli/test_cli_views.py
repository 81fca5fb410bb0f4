"""The CLI's pure views (tables, the phase page, progress and status lines) and the follower
that turns successive DomainTraining versions into output: tables of cases, no I/O."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from tara_cli import views
from tara_cli.training import Follower, _is_terminal, terminal_result

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2025, 6, 1, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(None, "-"), (-3, "0s"), (0, "0s"), (45, "45s"), (119, "119s"), (120, "2m"), (200, "3m20s"), (600, "10m"),
     (3 * 3600 - 1, "179m"), (3 * 3600, "3h"), (5 * 3600 + 600, "5h10m"), (30 * 3600, "30h"), (3 * 86400 + 4 * 3600, "3d4h"),
     (40 * 86400, "40d")],
)
def test_duration(seconds: float | None, text: str) -> None:
    assert views.duration(seconds) == text


@pytest.mark.parametrize(
    ("n", "text"), [(None, "-"), ("12", "-"), (0, "0 B"), (1023, "1023 B"), (1536, "1.50 KiB"), (29884416, "28.50 MiB"), (3 << 30, "3.00 GiB")]
)
def test_size(n: Any, text: str) -> None:
    assert views.size(n) == text


@pytest.mark.parametrize(
    ("meta", "text"),
    [({}, "-"), ({"creationTimestamp": "2025-06-01T11:59:15Z"}, "45s"), ({"creationTimestamp": "2025-05-30T12:00:00Z"}, "2d"),
     ({"creationTimestamp": "yesterday"}, "-")],
)
def test_age(meta: dict[str, Any], text: str) -> None:
    assert views.age({"metadata": meta}, NOW) == text


def _phase(**status: Any) -> dict[str, Any]:
    obj = yaml.safe_load((ROOT / "configs" / "phases" / "phase-1.yaml").read_text())
    obj["metadata"].update(namespace="tara", creationTimestamp="2025-06-01T09:30:00Z")
    if status:
        obj["status"] = status
    return obj


DEPLOYED = {
    "phase": "Deployed", "domainsReady": "2/2", "revision": 3, "servedRevision": 2, "servedQuantization": "Q4_K_M",
    "endpoint": "http://phase-1-serve.tara.svc", "buildJobName": "phase-1-build-3",
    "domains": [{"domain": "healthcare", "training": "healthcare", "state": "Complete", "evalLoss": 1.2345},
                {"domain": "business", "training": "business", "state": "Training", "message": "step 40/200"},
                {"domain": "legal", "training": "legal", "state": "Complete"}],
    "artifacts": [
        {"kind": "base", "quantization": "Q4_K_M", "path": "rev-2/base-Q4_K_M.gguf", "bytes": 1960000000, "sha256": "a" * 64,
         "bitsPerWeight": 4.91, "perplexity": 8.412, "perplexityIncrease": 0.031},
        {"kind": "lora", "quantization": "F16", "domain": "healthcare", "path": "rev-2/lora-healthcare.gguf", "bytes": 29884416,
         "sha256": "b" * 64},
    ],
    "conditions": [
        {"type": "Built", "status": "False", "reason": "QualityGateFailed", "message": "Q4_K_M +12% > 10%",
         "lastTransitionTime": "2025-06-01T11:55:00Z"},
        {"type": "Ready", "status": "True", "reason": "PreviousRevisionServing", "lastTransitionTime": "2025-06-01T10:00:00Z"},
    ],
}

SHOW_DEPLOYED = """\
Name:         phase-1
Namespace:    tara
Phase:        Deployed
Phase number: 1
Merge:        adapters
Quantization: Q4_K_M (serving Q4_K_M)
Revision:     3 (serving 2)
Serving:      1 replica(s) on cpu, default domain healthcare
Endpoint:     http://phase-1-serve.tara.svc
Build Job:    phase-1-build-3
Age:          150m

Domains (2/2 ready):
  DOMAIN       TRAINING     WEIGHT   STATE      EVAL LOSS   MESSAGE
  healthcare   healthcare   1        Complete   1.234
  business     business     1        Training   -           step 40/200
  legal        legal        -        Complete   -           (removed from the spec)

Artifacts:
  KIND   QUANT    DOMAIN       FILE                         SIZE        BITS/W   PERPLEXITY   VS F16   SHA256
  base   Q4_K_M   -            rev-2/base-Q4_K_M.gguf       1.83 GiB    4.91     8.412        +3.10%   aaaaaaaaaaaa
  lora   F16      healthcare   rev-2/lora-healthcare.gguf   28.50 MiB   -        -            -        bbbbbbbbbbbb

Conditions:
  TYPE    STATUS   REASON                    AGE    MESSAGE
  Built   False    QualityGateFailed         5m     Q4_K_M +12% > 10%
  Ready   True     PreviousRevisionServing   120m"""

SHOW_MANIFEST = """\
Name:         phase-2-universal
Namespace:    -
Phase:        -
Phase number: 2
Merge:        ties, density 0.5
Quantization: Q4_K_M, Q2_K, Q5_K_M, Q8_0 (serves Q4_K_M)
Revision:     -
Serving:      1 replica(s) on cpu
Endpoint:     -
Build Job:    -
Age:          -

Domains:
  DOMAIN       TRAINING     WEIGHT   STATE   EVAL LOSS   MESSAGE
  education    education    1        -       -
  creative     creative     0.8      -       -
  leadership   leadership   1        -       -

Artifacts:
  (none built yet)

Conditions:
  (none reported yet)"""


def test_show_phase_with_status() -> None:
    assert views.show_phase(_phase(**DEPLOYED), NOW) == SHOW_DEPLOYED


def test_show_phase_of_a_manifest() -> None:
    obj = yaml.safe_load((ROOT / "configs" / "phases" / "phase-2-universal.yaml").read_text())
    assert views.show_phase(obj, NOW) == SHOW_MANIFEST


def test_show_phase_serving_disabled_and_merge_options() -> None:
    obj = {"metadata": {"name": "p"}, "spec": {"merge": {"strategy": "svd", "svdRank": 8}, "serving": {"enabled": False}}}
    text = views.show_phase(obj, NOW)
    assert "Merge:        svd, svd rank 8" in text and "Serving:      disabled" in text



@pytest.mark.parametrize(
    ("serving", "status", "expected"),
    [({}, {}, "Q8_0, Q4_K_M (serves Q8_0)"),
     ({"quantization": "Q4_K_M"}, {}, "Q8_0, Q4_K_M (serves Q4_K_M)"),
     ({"quantization": "auto"}, {}, "Q8_0, Q4_K_M (auto: the build chooses the smallest type that passes; not built yet)"),
     ({"quantization": "auto"}, {"builtRevision": 1, "builtQuantization": "Q4_K_M"},
      "Q8_0, Q4_K_M (auto: revision 1's build chose Q4_K_M, not serving yet)"),
     ({"quantization": "auto", "enabled": False}, {"builtRevision": 1, "builtQuantization": "Q4_K_M"},
      "Q8_0, Q4_K_M (auto: revision 1's build chose Q4_K_M, serving is disabled)"),
     ({"quantization": "auto"}, {"servedQuantization": "Q8_0", "builtRevision": 2, "builtQuantization": "Q4_K_M"},
      "Q8_0, Q4_K_M (serving Q8_0)")],
    ids=["first", "named", "auto-not-built", "auto-built", "auto-disabled", "auto-serving"],
)
def test_show_phase_says_what_is_known_of_the_served_type(serving: dict, status: dict, expected: str) -> None:
    obj = {"metadata": {"name": "p"}, "spec": {"quantization": ["Q8_0", "Q4_K_M"], "serving": serving}, "status": status}
    line = next(x for x in views.show_phase(obj, NOW).splitlines() if x.startswith("Quantization:"))
    assert line.split(":", 1)[1].strip() == expected and "(serves auto)" not in line


def test_show_phase_targets_served_reason_and_merge_check() -> None:
    obj = {"metadata": {"name": "p"},
           "spec": {"merge": {"strategy": "ties"}, "quantization": ["Q8_0", "Q4_K_M"],
                    "serving": {"quantization": "auto", "targets": {"maxMemory": "8Gi", "maxQualityLoss": 0.05}}},
           "status": {"servedQuantization": "Q4_K_M", "servedReason": "auto: Q4_K_M 1.35 MiB is the smallest type that passes",
                      "mergeCheck": [{"domain": "healthcare", "adapterPerplexity": 5.73, "mergedPerplexity": 5.74, "loss": 0.003,
                                      "allowed": 0.02, "passed": True},
                                     {"domain": "business", "adapterPerplexity": 6.13, "mergedPerplexity": 6.94, "loss": 0.133,
                                      "passed": False}]}}
    text = views.show_phase(obj, NOW)
    assert "Serving:        1 replica(s) on cpu, targets: memory <= 8Gi, quality loss <= +5.00%" in text
    assert "Served because: auto: Q4_K_M 1.35 MiB is the smallest type that passes" in text
    assert text.split("Merge check (merged model against each domain's own adapter):\n")[1].split("\n\n")[0] == (
        "  DOMAIN       ADAPTER PPL   MERGED PPL   LOSS      ALLOWED         PASSED\n"
        "  healthcare   5.73          5.74         +0.30%    +2.00%          yes\n"
        "  business     6.13          6.94         +13.30%   (report only)   no")
    assert "Merge check" not in views.show_phase(_phase(**DEPLOYED), NOW)

@pytest.mark.parametrize(
    ("objects", "namespaces", "expected"),
    [
        ([], False, "NAME   PHASE   DOMAINS   QUANTIZATION   REVISION   ENDPOINT   AGE"),
        ([_phase()], False,
         "NAME      PHASE   DOMAINS   QUANTIZATION   REVISION   ENDPOINT   AGE\n"
         "phase-1   -       -/2       Q4_K_M         -          -          150m"),
        ([_phase(**DEPLOYED), {"metadata": {"name": "bare"}, "spec": {"domains": [{"domain": "x"}]}}], True,
         "NAME      NAMESPACE   PHASE      DOMAINS   QUANTIZATION   REVISION   ENDPOINT                        AGE\n"
         "phase-1   tara        Deployed   2/2       Q4_K_M         2          http://phase-1-serve.tara.svc   150m\n"
         "bare      -           -          -/1       Q4_K_M         -          -                               -"),
    ],
    ids=["empty", "manifest", "cluster-all-namespaces"],
)
def test_phase_table(objects: list[dict[str, Any]], namespaces: bool, expected: str) -> None:
    assert views.phase_table(objects, NOW, namespaces=namespaces) == expected


def test_training_table() -> None:
    running = {"metadata": {"name": "healthcare", "namespace": "tara", "creationTimestamp": "2025-06-01T11:00:00Z"},
               "spec": {"domain": "healthcare"},
               "status": {"phase": "Running", "progress": {"step": 40, "totalSteps": 200, "percent": 20.0, "loss": 1.23456,
                                                           "evalLoss": 1.5, "etaSeconds": 320}}}
    fresh = {"metadata": {"name": "business"}, "spec": {"domain": "business"}}
    assert views.training_table([running, fresh], NOW, namespaces=True) == (
        "NAME         NAMESPACE   DOMAIN       PHASE     PROGRESS   STEP     LOSS    EVAL LOSS   ETA     AGE\n"
        "healthcare   tara        healthcare   Running   20.0%      40/200   1.235   1.5         5m20s   60m\n"
        "business     -           business     -         -          -        -       -           -       -"
    )


@pytest.mark.parametrize(
    ("progress", "line"),
    [
        ({}, "step 0/0 (0.0%)"),
        ({"step": 50, "totalSteps": 200}, "step 50/200 (25.0%)"),
        ({"step": 40, "totalSteps": 200, "percent": 20.0, "epoch": 0.4, "loss": 1.23456, "evalLoss": 1.5,
          "tokensPerSecond": 2510.4, "etaSeconds": 320},
         "step 40/200 (20.0%)  epoch 0.4  loss 1.235  eval loss 1.5  2510 tok/s  ETA 5m20s"),
    ],
    ids=["empty", "no-percent", "everything"],
)
def test_progress_line(progress: dict[str, Any], line: str) -> None:
    assert views.progress_line(progress) == line


READY_FALSE = {"type": "Ready", "status": "False", "reason": "JobRunning", "message": "attempt 1 running"}


@pytest.mark.parametrize(
    ("old", "new", "lines"),
    [
        (None, {}, []),
        (None, {"phase": "Pending"}, ["phase Pending"]),
        ({"phase": "Pending"}, {"phase": "Running", "attempts": 1, "jobName": "j-1"}, ["phase Pending -> Running", "attempt 1 (Job j-1)"]),
        ({"phase": "Running", "attempts": 1}, {"phase": "Running", "attempts": 1}, []),
        ({"checkpoint": {"step": 20}}, {"checkpoint": {"step": 40, "path": "c"}}, ["checkpoint at step 40"]),
        ({}, {"conditions": [READY_FALSE]}, ["Ready=False JobRunning: attempt 1 running"]),
        ({"conditions": [READY_FALSE]}, {"conditions": [{**READY_FALSE, "message": "new text"}]}, []),
        ({"conditions": [READY_FALSE]}, {"conditions": [{**READY_FALSE, "status": "True", "reason": "Trained", "message": ""}]},
         ["Ready=True Trained"]),
    ],
    ids=["nothing", "first-phase", "phase-and-attempt", "unchanged", "checkpoint", "new-condition", "message-only",
         "condition-flips"],
)
def test_status_changes(old: dict[str, Any] | None, new: dict[str, Any], lines: list[str]) -> None:
    assert views.status_changes(old, new) == lines


@pytest.mark.parametrize(
    ("status", "lines"),
    [
        ({"lastFailureReason": "DatasetInvalid", "lastFailureMessage": "data.jsonl line 3: not JSON"},
         ["hc Failed: DatasetInvalid: data.jsonl line 3: not JSON", "hint: fix the data (the message names the file and line)"]),
        ({"lastFailureReason": "Crashed", "jobName": "hc-1-train-2"},
         ["hc Failed: Crashed", "hint: read the Events and the Job's log: kubectl describe dt hc; kubectl logs job/hc-1-train-2"]),
        ({}, ["hc Failed: Failed", "hint: read the Events and the Job's log: kubectl describe dt hc; kubectl logs job/<hc job>"]),
    ],
    ids=["known-reason", "unknown-reason", "no-reason"],
)
def test_failure_lines(status: dict[str, Any], lines: list[str]) -> None:
    assert views.failure_lines("hc", status) == lines


@pytest.mark.parametrize(
    ("status", "line"),
    [
        ({}, "hc Succeeded"),
        ({"metrics": {"baseEvalLoss": 2.5, "tunedEvalLoss": 2.0, "improvement": 0.2}, "artifacts": {"adapterPath": "/a"}},
         "hc Succeeded, eval loss 2.5 -> 2 (20.0% better), adapter /a"),
    ],
)
def test_success_line(status: dict[str, Any], line: str) -> None:
    assert views.success_line("hc", status) == line


@pytest.mark.parametrize(
    ("generation", "status", "result"),
    [
        (1, {}, None),
        (1, {"phase": "Running"}, None),
        (1, {"phase": "Succeeded"}, 0),
        (1, {"phase": "Failed"}, 1),
        (2, {"phase": "Succeeded", "observedGeneration": 1}, None),  # the previous run's outcome
        (2, {"phase": "Failed", "observedGeneration": 2}, 1),
        (None, {"phase": "Succeeded", "observedGeneration": 3}, 0),
    ],
)
def test_terminal_result(generation: int | None, status: dict[str, Any], result: int | None) -> None:
    assert terminal_result({"metadata": {"generation": generation}, "status": status}) == result


def _versions() -> list[dict[str, Any]]:
    def obj(**status: Any) -> dict[str, Any]:
        return {"metadata": {"name": "hc", "generation": 1}, "status": status}

    return [
        obj(phase="Pending"),
        obj(phase="Running", attempts=1, progress={"step": 10, "totalSteps": 40, "loss": 2.0, "etaSeconds": 90}),
        obj(phase="Running", attempts=1, progress={"step": 10, "totalSteps": 40, "loss": 2.0, "etaSeconds": 80}),  # ETA only
        obj(phase="Running", attempts=1, progress={"step": 40, "totalSteps": 40, "loss": 1.5, "evalLoss": 1.6}),
        obj(phase="Succeeded", attempts=1, progress={"step": 40, "totalSteps": 40, "loss": 1.5, "evalLoss": 1.6}),
    ]


def test_follower_prints_a_line_per_progress_report_when_not_a_terminal() -> None:
    out, err = io.StringIO(), io.StringIO()
    follower = Follower("hc", out, err, tty=False)
    results = [follower.update(v) for v in _versions()]
    assert results == [None, None, None, None, 0]
    assert out.getvalue().splitlines() == [
        "phase Pending", "phase Pending -> Running", "attempt 1", "step 10/40 (25.0%)  loss 2  ETA 90s",
        "step 40/40 (100.0%)  loss 1.5  eval loss 1.6", "phase Running -> Succeeded", "hc Succeeded",
    ]
    assert err.getvalue() == ""


def test_follower_draws_a_bar_on_a_terminal() -> None:
    out, err = io.StringIO(), io.StringIO()
    follower = Follower("hc", out, err, tty=True)
    for version in _versions()[:4]:
        assert follower.update(version) is None
    assert follower.bar is not None and (follower.bar.n, follower.bar.total) == (40, 40)
    failed = {"metadata": {"name": "hc"}, "status": {"phase": "Failed", "lastFailureReason": "QualityGateFailed"}}
    assert follower.update(failed) == 1
    assert follower.bar is None  # closed before the verdict
    text = out.getvalue()
    assert "hc: " in text and "%|" in text and "10/40" in text and "40/40" in text and "40/40, loss 1.5, eval 1.6" in text
    assert "10/40, loss 2, ETA 90s" in text
    assert "phase Running -> Failed" in text
    assert err.getvalue().splitlines() == [
        "hc Failed: QualityGateFailed", "hint: more data or steps, or lower spec.qualityGate.minEvalLossImprovement"]


def test_only_a_sized_terminal_gets_a_bar(tmp_path: Path) -> None:
    assert not _is_terminal(io.StringIO())
    with open(tmp_path / "log", "w") as log:
        assert not _is_terminal(log)
