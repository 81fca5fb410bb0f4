"""Reconcile one GGUFPhase: Planning → Training → Merging/Compressing → Deploying → Deployed, or Failed.

Level-based like the training reconciler. A revision is one build of the phase's inputs (the spec
minus serving, and each domain's finished training); the build Job carries the inputs' hash, so a
changed input (a domain added, a domain retrained, another quantization) starts revision N+1,
while a serving-only change just updates the Deployment. Only a revision whose build passed every
gate is rolled out; a failed build or a failed rollout leaves the previous revision serving, and
the status says so.
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import UTC, datetime
from typing import Any

import kopf

from tara_api import GGUFPhase
from tara_api.crd import DOMAIN_TRAINING, GGUF_PHASE
from tara_api.meta import GROUP
from tara_api.reasons import Reason
from tara_api.validate import Document, model_problems
from tara_operator import k8s, names
from tara_operator import status as st
from tara_operator.observed import Observed
from tara_operator.phase_cost import observe_cost
from tara_operator.reconciler import reconcile_latest
from tara_operator.render.phase import HASH_ANNOTATION, DomainOutput, render_build, render_serving
from tara_operator.render.rbac import render_trainer_rbac
from tara_operator.settings import OperatorSettings

__all__ = ["domain_outputs", "inputs_hash", "reconcile_phase", "served_quantization"]

log = logging.getLogger(__name__)


def _now() -> str:
    return datetime.now(tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def inputs_hash(spec: dict[str, Any], trainings: dict[str, dict[str, Any]]) -> str:
    """What a build depends on: the spec without serving, and each training's identity and finish.

    ``serving.targets`` and ``serving.quantization: auto`` decide or check which type the build
    serves, so they count when set (the targets with the context size the memory target is
    estimated at, and then the requested type too, which the build checks against them); switching
    between types already built, without targets, is a serving-only change. A phase with neither
    hashes as it always did."""
    relevant = {k: v for k, v in spec.items() if k not in ("serving", "storage")}  # storage changes no file built
    serving = spec.get("serving") or {}
    if serving.get("targets"):
        relevant["servingTargets"] = serving["targets"]
        relevant["servingQuantization"] = serving.get("quantization")
        if "maxMemory" in serving["targets"]:
            relevant["servingContextSize"] = serving.get("contextSize")
    elif serving.get("quantization") == "auto":
        relevant["servingQuantization"] = "auto"
    runs = {d: [t["metadata"].get("uid"), (t.get("status") or {}).get("specHash"), (t.get("status") or {}).get("completionTime")]
            for d, t in sorted(trainings.items())}
    return hashlib.sha256(json.dumps([relevant, runs], sort_keys=True).encode()).hexdigest()[:16]


def served_quantization(res: GGUFPhase, old: dict[str, Any], revision: int) -> str | None:
    """The type ``revision`` serves once deployed (pure): the one the spec names, or with ``auto`` the
    build's choice, which that revision's build Job patched into ``status.builtQuantization`` with
    ``builtRevision``. None while that is not known (never the word auto, never another revision's)."""
    requested = res.spec.serving.quantization or res.spec.quantization[0]
    if requested != "auto":
        return str(requested)
    return old.get("builtQuantization") if old.get("builtRevision") == revision else None


def served_reason(old: dict[str, Any], revision: int) -> str | None:
    """Why ``revision`` serves its type once deployed (pure): the reason its build Job patched into
    ``status.builtReason`` with ``builtRevision``; None when that revision's build did not report one."""
    return old.get("builtReason") if old.get("builtRevision") == revision else None


def domain_outputs(trainings: dict[str, dict[str, Any]]) -> list[DomainOutput]:
    """Where each domain's adapter is: the training's artifacts claim, else its checkpoint claim; and
    its checkpoint claim (the HF cache, a dequantized GGUF base) with that base's folder."""
    out = []
    for domain, t in trainings.items():
        name, spec = t["metadata"]["name"], t["spec"]
        storage = spec.get("storage") or {}
        checkpoints = (storage.get("checkpoints") or {}).get("claimName") or names.checkpoint_claim(name)
        if storage.get("artifacts") is not None:
            claim = storage["artifacts"].get("claimName") or names.child_name(name, "artifacts", 253)
        else:
            claim = checkpoints
        gguf = (((t.get("status") or {}).get("baseModel") or {}).get("gguf") or {})
        out.append(DomainOutput(domain=domain, training=name, claim=claim, subpath=name,
                                base_claim=(spec.get("baseModel") or {}).get("claimName"), output_claim=checkpoints,
                                base_folder=gguf.get("dequantizedTo")))
    return out


def reconcile_phase(body: dict[str, Any], settings: OperatorSettings, seen: Observed | None = None) -> dict[str, Any]:
    """Bring one GGUFPhase closer to its spec; returns the status patch it applied. ``seen``: what the
    watches show (the trainings, the trainer's identity, claims and ConfigMaps)."""
    seen = seen if seen is not None else Observed()
    return reconcile_latest(GGUF_PHASE.plural, body, lambda fresh, _: _reconcile(fresh, settings, seen), _refused)


def _refused(body: dict[str, Any], exc: k8s.Refused) -> dict[str, Any]:
    """The status that reports an API refusal in the Ready condition: an invalid child fails the phase,
    a forbidden request leaves it where it is while kopf retries; a served revision keeps serving."""
    old, gen = body.get("status") or {}, body["metadata"].get("generation")
    served = old.get("servedRevision")
    keep = f"; revision {served} keeps serving" if served else ""
    if isinstance(exc, k8s.Invalid):
        return _status(old, "Failed", gen, _now(), [("Ready", bool(served), Reason.CHILD_INVALID, exc.message + keep)])
    return _status(old, old.get("phase") or "Planning", gen, _now(), [("Ready", bool(served), Reason.FORBIDDEN, exc.message + keep)])


def _domains(res: GGUFPhase, ns: str, seen: Observed) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]], list[str]]:
    states, found, problems = [], {}, []
    for ref in res.spec.domains:
        training = ref.training or ref.domain
        t = seen.training(ns, training) or k8s.get_custom(DOMAIN_TRAINING.plural, ns, training)
        if t is None:
            states.append({"domain": ref.domain, "training": training, "state": "Pending",
                           "message": f"DomainTraining {training} not found in {ns}"})
            problems.append(f"{ref.domain}: DomainTraining {training} not found")
            continue
        found[ref.domain] = t
        s = t.get("status") or {}
        phase = s.get("phase")
        state = {"Succeeded": "Complete", "Failed": "Failed", "Running": "Training"}.get(phase or "", "Pending")
        entry = {"domain": ref.domain, "training": training, "state": state}
        if state == "Failed":
            entry["message"] = f"{s.get('lastFailureReason')}: {s.get('lastFailureMessage', '')}"[:4096]
        if (s.get("artifacts") or {}).get("adapterPath"):
            entry["adapterPath"] = s["artifacts"]["adapterPath"]
        if (s.get("metrics") or {}).get("tunedEvalLoss") is not None:
            entry["evalLoss"] = s["metrics"]["tunedEvalLoss"]
        states.append(entry)
    return states, found, problems


def _reconcile(body: dict[str, Any], settings: OperatorSettings, seen: Observed) -> dict[str, Any]:
    ns, name, uid = body["metadata"]["namespace"], body["metadata"]["name"], body["metadata"]["uid"]
    gen = body["metadata"].get("generation")
    old = body.get("status") or {}
    now = _now()
    manifest = {k: v for k, v in body.items() if k != "status"}
    problems = model_problems(Document(f"{ns}/{name}", 1, manifest))
    if problems:
        text = "; ".join(str(p) for p in problems)
        if old.get("phase") != "Failed" or old.get("observedGeneration") != gen:
            kopf.event(body, type="Warning", reason=Reason.INVALID_SPEC, message=text[:1024])
        return _status(old, "Failed", gen, now, [("Ready", False, Reason.INVALID_SPEC, text)])
    res = GGUFPhase.model_validate(manifest)
    states, trainings, missing = _domains(res, ns, seen)
    complete = sum(1 for s in states if s["state"] == "Complete")
    base = {"domains": states, "domainsReady": f"{complete}/{len(states)}",
            "cost": observe_cost(res, trainings, old, settings, datetime.now(tz=UTC))}
    serving = _serving_conditions(old)
    if missing:
        return _status(old, "Planning", gen, now, [("DomainsReady", False, Reason.MISSING_TRAINING, "; ".join(missing)), *serving], base)
    failed = [s for s in states if s["state"] == "Failed"]
    if failed:
        msg = "; ".join(f"{s['domain']}: {s.get('message', '')}" for s in failed)
        if old.get("phase") != "Failed":
            kopf.event(body, type="Warning", reason=Reason.DOMAIN_FAILED, message=msg[:1024])
        return _status(old, "Failed", gen, now, [("DomainsReady", False, Reason.DOMAIN_FAILED, msg), *serving], base)
    bases = {json.dumps(t["spec"].get("baseModel"), sort_keys=True) for t in trainings.values()}
    if len(bases) > 1:
        msg = "the phase's domains were trained on different base models; a phase serves one base"
        return _status(old, "Failed", gen, now, [("DomainsReady", False, Reason.INCOMPATIBLE_DOMAINS, msg), *serving], base)
    if complete < len(states):
        waiting = ", ".join(s["domain"] for s in states if s["state"] != "Complete")
        return _status(old, "Training", gen, now, [("DomainsReady", False, "Training", f"waiting for {waiting}"), *serving], base)

    ready_domains = ("DomainsReady", True, "Complete", f"{complete} domain(s) trained")
    # The build runs as the trainer and writes to the namespace's artifacts claim: both created on
    # every reconcile from here on that the watches do not show them, never remembered.
    k8s.ensure(seen.missing([*render_trainer_rbac(ns, settings), _artifacts_claim(ns, settings)]))
    digest = inputs_hash(body["spec"], trainings)
    revision = int(old.get("revision") or 0)
    job_body = k8s.get("Job", ns, names.build_job_name(name, revision)) if revision else None
    if job_body is None or (job_body["metadata"].get("annotations") or {}).get(HASH_ANNOTATION) != digest:
        if job_body is not None and not st.observe_job(job_body).complete:
            k8s.delete("Job", ns, job_body["metadata"]["name"])  # inputs changed under a running build
        revision += 1
        # never pruned by the new build: the revision serving, and the one the Deployment runs or rolls out to
        current = k8s.get("Deployment", ns, names.deployment_name(name))
        protect = (int(old.get("servedRevision") or 0), (_revision_of(current) if current else None) or 0)
        rendered = render_build(res, settings, revision, domain_outputs(trainings), uid, inputs_hash=digest, protect=protect)
        k8s.replace_config_map_data(rendered["configMap"], seen.config_data(ns, rendered["configMap"]["metadata"]["name"]))
        k8s.create_if_missing(rendered["job"])
        kopf.event(body, type="Normal", reason="BuildStarted", message=f"revision {revision}: build Job {rendered['job']['metadata']['name']}")
        building = "Merging" if res.spec.merge.strategy.value != "adapters" else "Compressing"
        return _status(old, building, gen, now, [ready_domains, ("Built", False, "Building", f"revision {revision} is building"),
                                                 *serving], {**base, "revision": revision, "buildJobName": rendered["job"]["metadata"]["name"]})
    job_name = job_body["metadata"]["name"]
    outcome = st.classify(st.observe_job(job_body), [st.observe_pod(p) for p in k8s.list_pods(ns, names.job_pods_selector(job_name))])
    extra = {**base, "revision": revision, "buildJobName": job_name}
    if outcome.kind in (st.OutcomeKind.PENDING, st.OutcomeKind.RUNNING):
        building = "Merging" if res.spec.merge.strategy.value != "adapters" else "Compressing"
        return _status(old, building, gen, now, [ready_domains, ("Built", False, "Building", outcome.message), *serving], extra)
    if outcome.kind != st.OutcomeKind.SUCCEEDED:
        served = old.get("servedRevision")
        keep = f"; revision {served} keeps serving" if served else ""
        if old.get("phase") != "Failed" or old.get("revision") != revision:
            kopf.event(body, type="Warning", reason=outcome.reason, message=f"revision {revision} failed: {outcome.message}{keep}"[:1024])
        gate = ("QualityGatePassed", False, outcome.reason, outcome.message) if outcome.reason == Reason.QUALITY_GATE_FAILED else None
        conds = [ready_domains, ("Built", False, outcome.reason, f"revision {revision}: {outcome.message}"), *([gate] if gate else []),
                 ("Ready", bool(served), Reason.PREVIOUS_REVISION_SERVING if served else outcome.reason,
                  f"revision {served} keeps serving" if served else "nothing is serving")]
        return _status(old, "Failed", gen, now, conds, extra)
    built = [ready_domains, ("Built", True, "Built", f"revision {revision} built and validated"),
             ("QualityGatePassed", True, "Passed", "every artifact passed the gate")]
    if not res.spec.serving.enabled:
        # turning serving off does not delete a Deployment that serves: the message says it still does
        served = old.get("servedRevision")
        still = f"; revision {served} still serves from Deployment {old.get('deploymentName')} (delete it to stop)" if served else ""
        return _status(old, "Deployed", gen, now, [*built, ("Ready", True, "Built", f"serving is disabled; artifacts are ready{still}")],
                       extra)
    return _deploy(body, res, settings, revision, old, gen, now, built, extra, seen)


def _deploy(body, res: GGUFPhase, settings: OperatorSettings, revision: int, old: dict[str, Any], gen, now: str,
            built: list, extra: dict[str, Any], seen: Observed) -> dict[str, Any]:
    ns, uid = body["metadata"]["namespace"], body["metadata"]["uid"]
    served = old.get("servedRevision")
    objs = render_serving(res, settings, revision, uid)
    deploy_name = objs["deployment"]["metadata"]["name"]
    current = k8s.get("Deployment", ns, deploy_name)
    rolled_back = (current or {}).get("metadata", {}).get("annotations", {}).get(f"{GROUP}/rolled-back") == str(revision)
    if rolled_back:
        msg = f"the rollout of revision {revision} failed and was rolled back; revision {served} keeps serving"
        return _status(old, "Failed", gen, now, [*built, ("Ready", bool(served), Reason.ROLLOUT_FAILED, msg)], extra)
    k8s.replace_config_map_data(objs["configMap"], seen.config_data(ns, objs["configMap"]["metadata"]["name"]))
    k8s.create_if_missing(objs["service"])
    if "serviceMonitor" in objs:
        k8s.create_if_missing(objs["serviceMonitor"])
    if current is None:
        k8s.create_if_missing(objs["deployment"])
        kopf.event(body, type="Normal", reason="Deploying", message=f"created Deployment {deploy_name} for revision {revision}")
        current = objs["deployment"]
    elif _revision_of(current) != revision or current["spec"].get("replicas") != objs["deployment"]["spec"]["replicas"]:
        k8s.patch("Deployment", ns, deploy_name, {"metadata": {"annotations": objs["deployment"]["metadata"]["annotations"]},
                                                 "spec": objs["deployment"]["spec"]})
        kopf.event(body, type="Normal", reason="Deploying", message=f"rolling out revision {revision}")
        current = k8s.get("Deployment", ns, deploy_name) or current
    extra = {**extra, "deploymentName": deploy_name}
    dstatus = current.get("status") or {}
    conditions = {c.get("type"): c for c in dstatus.get("conditions") or []}
    want = objs["deployment"]["spec"]["replicas"]
    if (conditions.get("Progressing") or {}).get("reason") == Reason.PROGRESS_DEADLINE_EXCEEDED and served and served != revision:
        previous = render_serving(res, settings, served, uid)["deployment"]
        previous["metadata"]["annotations"][f"{GROUP}/rolled-back"] = str(revision)
        k8s.patch("Deployment", ns, deploy_name, {"metadata": {"annotations": previous["metadata"]["annotations"]},
                                                 "spec": previous["spec"]})
        msg = f"revision {revision} did not become ready in time; rolled back to revision {served}"
        kopf.event(body, type="Warning", reason=Reason.ROLLOUT_FAILED, message=msg)
        return _status(old, "Failed", gen, now, [*built, ("Ready", True, Reason.ROLLOUT_FAILED, msg)], extra)
    observed = int(dstatus.get("observedGeneration") or 0) >= int(current["metadata"].get("generation") or 1)
    if observed and int(dstatus.get("updatedReplicas") or 0) >= want and int(dstatus.get("readyReplicas") or 0) >= want:
        endpoint = f"http://{deploy_name}.{ns}.svc:80"
        if old.get("servedRevision") != revision:
            kopf.event(body, type="Normal", reason="Deployed", message=f"revision {revision} is serving at {endpoint}")
        chosen = served_quantization(res, old, revision)
        unknown = "" if chosen else (f"; the type serving.quantization auto chose is unknown: revision {revision}'s build "
                                     "did not report it into status.builtQuantization (see the build Job's log)")
        # None removes an earlier revision's type (a merge patch's null), so the status never names one not serving
        return _status(old, "Deployed", gen, now, [*built, ("Ready", True, "Deployed", f"revision {revision} serving{unknown}")],
                       {**extra, "servedRevision": revision, "endpoint": endpoint, "servedQuantization": chosen,
                        "servedReason": served_reason(old, revision)})
    keep = f"; revision {served} serves meanwhile" if served and served != revision else ""
    return _status(old, "Deploying", gen, now, [*built, ("Ready", bool(served), "Deploying", f"rolling out revision {revision}{keep}")],
                   extra)


def _revision_of(deployment: dict[str, Any]) -> int | None:
    value = ((deployment.get("spec") or {}).get("template", {}).get("metadata", {}).get("annotations") or {}).get(f"{GROUP}/revision")
    return int(value) if value else None


def _serving_conditions(old: dict[str, Any]) -> list[tuple[str, bool, str, str]]:
    served = old.get("servedRevision")
    return [("Ready", True, Reason.PREVIOUS_REVISION_SERVING, f"revision {served} keeps serving")] if served else [
        ("Ready", False, Reason.NOT_DEPLOYED, "nothing is serving yet")]


def _artifacts_claim(ns: str, settings: OperatorSettings) -> dict[str, Any]:
    spec: dict[str, Any] = {"accessModes": ["ReadWriteMany"], "resources": {"requests": {"storage": settings.artifacts_size}}}
    if settings.storage_class:
        spec["storageClassName"] = settings.storage_class
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "spec": spec,
            "metadata": {"name": settings.artifacts_claim, "namespace": ns,
                         "labels": {"app.kubernetes.io/name": "tara", "app.kubernetes.io/managed-by": names.MANAGED_BY}}}


def _status(old: dict[str, Any], phase: str, gen, now: str, conds: list[tuple[str, bool, str, str]],
            extra: dict[str, Any] | None = None) -> dict[str, Any]:
    conditions = st.merge_conditions(old.get("conditions"), [st.condition(t, ok, r, m, gen, now) for t, ok, r, m in conds])
    status = {"phase": phase, "observedGeneration": gen, "conditions": conditions, **(extra or {})}
    if old.get("phase") != phase:
        status["lastTransitionTime"] = now
    return {k: v for k, v in status.items() if old.get(k) != v}
