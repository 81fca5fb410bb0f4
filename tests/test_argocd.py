"""Argo CD integration: the Lua health checks run (with lupa) on sample statuses and map phases and
conditions to Healthy/Progressing/Degraded/Suspended; argocd-cm carries exactly those scripts; the
Application and the sync waves are consistent."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from lupa import LuaRuntime

ROOT = Path(__file__).resolve().parents[1]
ARGO = ROOT / "configs" / "argocd"


def health(kind: str, obj: dict) -> tuple[str, str]:
    lua = LuaRuntime(unpack_returned_tuples=True)

    def to_lua(value):
        if isinstance(value, dict):
            return lua.table_from({k: to_lua(v) for k, v in value.items()})
        if isinstance(value, list):
            return lua.table_from([to_lua(v) for v in value])
        return value

    script = (ARGO / "health" / f"{kind.lower()}.lua").read_text()
    result = lua.eval(f"function(obj) {script} end")(to_lua(obj))
    return result["status"], result["message"]


def _obj(status: dict | None, generation: int = 1) -> dict:
    body = {"metadata": {"name": "x", "generation": generation}}
    if status is not None:
        body["status"] = status
    return body


@pytest.mark.parametrize(
    ("status", "generation", "expected", "text"),
    [
        (None, 1, "Progressing", "Waiting for the TARA operator"),
        ({"phase": "Pending", "observedGeneration": 1}, 1, "Progressing", "Pending"),
        ({"phase": "Running", "observedGeneration": 1, "progress": {"percent": 40.0, "step": 40, "totalSteps": 100}}, 1,
         "Progressing", "40.0% (step 40/100)"),
        ({"phase": "Pending", "observedGeneration": 1, "lastFailureReason": "Preempted"}, 1, "Progressing", "last attempt: Preempted"),
        ({"phase": "Succeeded", "observedGeneration": 1, "metrics": {"tunedEvalLoss": 1.5}}, 1, "Healthy", "eval loss 1.5000"),
        ({"phase": "Succeeded", "observedGeneration": 1}, 2, "Progressing", "generation 2"),
        ({"phase": "Failed", "observedGeneration": 1, "lastFailureReason": "QualityGateFailed", "lastFailureMessage": "too small"}, 1,
         "Degraded", "QualityGateFailed: too small"),
        ({"phase": "Suspended", "observedGeneration": 1}, 1, "Suspended", "checkpoints are kept"),
    ],
)
def test_domaintraining_health(status, generation, expected, text) -> None:
    got, message = health("DomainTraining", _obj(status, generation))
    assert got == expected and text in message, message


@pytest.mark.parametrize(
    ("status", "expected", "text"),
    [
        ({"phase": "Planning", "observedGeneration": 1, "domainsReady": "0/2"}, "Progressing", "0/2 domains trained"),
        ({"phase": "Compressing", "observedGeneration": 1}, "Progressing", "Compressing"),
        ({"phase": "Deployed", "observedGeneration": 1, "servedRevision": 2, "servedQuantization": "Q4_K_M",
          "endpoint": "http://p.ml.svc:80"}, "Healthy", "Revision 2 serving Q4_K_M at http://p.ml.svc:80"),
        ({"phase": "Failed", "observedGeneration": 1, "servedRevision": 1, "conditions": [
            {"type": "Built", "status": "False", "reason": "QualityGateFailed", "message": "Q4_K_M FAILS"},
            {"type": "Ready", "status": "True", "reason": "PreviousRevisionServing", "message": "revision 1 keeps serving"}]},
         "Degraded", "QualityGateFailed: Q4_K_M FAILS (revision 1 keeps serving)"),
        ({"phase": "Failed", "observedGeneration": 1, "conditions": [
            {"type": "Ready", "status": "False", "reason": "InvalidSpec", "message": "bad"}]}, "Degraded", "InvalidSpec: bad"),
    ],
)
def test_ggufphase_health(status, expected, text) -> None:
    got, message = health("GGUFPhase", _obj(status))
    assert got == expected and text in message, message


def test_argocd_cm_carries_the_scripts() -> None:
    cm = yaml.safe_load((ARGO / "argocd-cm-health.yaml").read_text())
    for kind in ("DomainTraining", "GGUFPhase"):
        assert cm["data"][f"resource.customizations.health.tara.dev_{kind}"] == (ARGO / "health" / f"{kind.lower()}.lua").read_text()


def test_sync_waves_apply_trainings_before_phases() -> None:
    app = yaml.safe_load((ARGO / "application-configs.yaml").read_text())
    assert app["kind"] == "Application" and app["spec"]["source"]["path"] == "configs"
    waves = {}
    for path in list((ROOT / "configs" / "trainings").rglob("*.yaml")) + list((ROOT / "configs" / "phases").glob("*.yaml")):
        body = yaml.safe_load(path.read_text())
        waves.setdefault(body["kind"], set()).add(int(body["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"]))
    assert max(waves["DomainTraining"]) < min(waves["GGUFPhase"])
