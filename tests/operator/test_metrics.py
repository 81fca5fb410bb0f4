"""Training series: gauges from status.progress, the stall timestamp moving only with the step, and
series removed with their resource."""

from __future__ import annotations

from prometheus_client import REGISTRY

from tara_operator.metrics import TrainingSeries


def _body(step: int, updated: str, **progress: float) -> dict:
    return {"metadata": {"namespace": "m", "name": "hc"}, "spec": {"domain": "healthcare"},
            "status": {"progress": {"step": step, "updatedAt": updated, **progress}}}


def _value(name: str) -> float | None:
    return REGISTRY.get_sample_value(name, {"namespace": "m", "name": "hc", "domain": "healthcare"})


def test_stall_timestamp_moves_with_the_step_only() -> None:
    series = TrainingSeries()
    series.observe(_body(5, "2026-01-01T00:00:00Z", loss=2.5, evalLoss=2.75, tokensPerSecond=900.0))
    assert _value("tara_training_last_progress_timestamp_seconds") == 1767225600.0
    assert (_value("tara_training_loss"), _value("tara_training_eval_loss"), _value("tara_training_tokens_per_second")) == (2.5, 2.75, 900.0)
    series.observe(_body(5, "2026-01-01T00:10:00Z", loss=2.4))  # a report without progress: still stalled since 00:00
    assert _value("tara_training_last_progress_timestamp_seconds") == 1767225600.0 and _value("tara_training_loss") == 2.4
    series.observe(_body(6, "2026-01-01T00:20:00Z"))
    assert _value("tara_training_last_progress_timestamp_seconds") == 1767226800.0 and _value("tara_training_step") == 6
    series.observe({**_body(7, "not a time")}, now=42.0)  # an unreadable time: when the operator saw it
    assert _value("tara_training_last_progress_timestamp_seconds") == 42.0


def test_forget_removes_every_series() -> None:
    series = TrainingSeries()
    series.observe(_body(1, "2026-01-01T00:00:00Z", loss=1.0))
    series.forget(("m", "hc"), "healthcare")
    assert _value("tara_training_step") is None and _value("tara_training_loss") is None
    assert _value("tara_training_last_progress_timestamp_seconds") is None
    series.forget(("m", "hc"), "healthcare")  # twice is harmless


def test_resource_counts_follow_each_move() -> None:
    """``tara_operator_resources`` by phase, moved one resource at a time; a phase left empty reads 0."""
    from tara_operator.handlers import _Phases

    tally = _Phases("TestKind", "Pending")
    count = lambda phase: REGISTRY.get_sample_value("tara_operator_resources", {"kind": "TestKind", "phase": phase})  # noqa: E731
    one = lambda name, phase=None: {"metadata": {"namespace": "m", "name": name}, **({"status": {"phase": phase}} if phase else {})}  # noqa: E731
    tally.track(one("a"))
    tally.track(one("b"))
    tally.track(one("b"))  # the same phase again: counted once
    assert (count("Pending"), count("Running")) == (2, None)
    tally.track(one("a", "Running"))
    assert (count("Pending"), count("Running")) == (1, 1)
    tally.forget(("m", "a"))
    tally.forget(("m", "gone"))  # never tracked: nothing moves
    assert (count("Pending"), count("Running")) == (1, 0)
    assert REGISTRY.get_sample_value("tara_resource_phase", {"kind": "TestKind", "namespace": "m", "name": "b", "phase": "Pending"}) == 1
