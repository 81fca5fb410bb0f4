"""Reconcile one DomainTraining: validate, ensure its children, read its attempt, decide, report.

Level-based and idempotent: every call recomputes the desired state from the resource and what
exists, so a repeated event, a resync or an operator restart changes nothing that is already right.
What exists is what the operator's watches show (``observed``): a reconcile creates only the
children missing there and writes the status only when it changed, so the Job events of an
attempt cost no API call unless they change what the status says. The one child it reads from the
API is the attempt's pods, and only when the Job's status cannot say what the status needs
(``status.pods_needed``: a failed Job's exit code and termination message, which of several ranks
runs, why a pod waits ``PENDING_READ_S`` after its Job started); the operator does not watch pods.
Calls for the same resource are serialized in-process (Job, Workload and resource events may arrive
together). The pure decisions live in ``status`` and ``render``; the API calls in ``k8s``.
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import kopf

from tara_api import DomainTraining
from tara_api.crd import DOMAIN_TRAINING
from tara_api.domaintraining import DomainTrainingSpec
from tara_api.reasons import Reason
from tara_api.validate import Document, model_problems
from tara_operator import cost, k8s, metrics, names
from tara_operator import status as st
from tara_operator.observed import Observed
from tara_operator.reconciler import Announce, reconcile_latest
from tara_operator.render.rbac import render_trainer_rbac
from tara_operator.render.training import OUTPUT_DIR, render_training
from tara_operator.settings import OperatorSettings

__all__ = ["only_cost_dropped", "reconcile_training", "run_spec_hash"]

log = logging.getLogger(__name__)
TERMINAL = ("Succeeded", "Failed")
# How long a Job's pod may wait (not ready) before a reconcile reads why: a pod that waits changes
# nothing in its Job, so no Job event announces it; the resync (TARA_RESYNC_SECONDS) reads it then.
PENDING_READ_S = 5.0


_NOT_A_RUN = ("suspend", "maxAttempts", "scheduling")  # changing these does not restart a run


def run_spec_hash(spec: DomainTrainingSpec) -> str:
    """Hash of what defines a run: the spec's fields that differ from their defaults, but suspend,
    maxAttempts and scheduling (the queue a run waits in is not what it computes). A field a newer CRD adds with a default (which the API server then fills in when it
    reads older objects) or a default written out by hand changes nothing, so a CRD upgrade restarts
    no training."""
    relevant = {k: v for k, v in spec.model_dump(mode="json", by_alias=True, exclude_defaults=True).items()
                if k not in _NOT_A_RUN}
    return hashlib.sha256(json.dumps(relevant, sort_keys=True).encode()).hexdigest()[:10]


def _legacy_run_spec_hash(spec: dict[str, Any]) -> str:
    """The hash of operators before 0.2 (the spec as read, defaults filled in): a run they started
    keeps its hash, and its Job name, while the spec stays as it was."""
    relevant = {k: v for k, v in spec.items() if k not in _NOT_A_RUN}
    return hashlib.sha256(json.dumps(relevant, sort_keys=True).encode()).hexdigest()[:10]


def _now() -> datetime:
    return datetime.now(tz=UTC)


def _iso(t: datetime | None) -> str | None:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ") if t else None


def reconcile_training(body: dict[str, Any], settings: OperatorSettings, seen: Observed | None = None, *,
                       running_cost: bool = True) -> dict[str, Any]:
    """Bring one DomainTraining closer to its spec; returns the status patch it applied. ``seen``: what
    the watches show (nothing seen: every child is created or read). ``running_cost``: also write a
    status whose only change is the cost, which grows with every second a Job runs; the resync does,
    the reconciles of its Jobs' and Pods' events leave it to the resync (else each of them writes)."""
    seen = seen if seen is not None else Observed()
    known = seen.training(body["metadata"]["namespace"], body["metadata"]["name"])

    def compute(fresh: dict[str, Any], announce: Announce) -> dict[str, Any]:
        return only_cost_dropped(_reconcile(fresh, settings, seen, announce), running_cost)

    return reconcile_latest(DOMAIN_TRAINING.plural, body, compute, _refused, known)


def only_cost_dropped(patch: dict[str, Any], running_cost: bool) -> dict[str, Any]:
    """The status patch to write: none when it would change the cost alone and ``running_cost`` is off."""
    return {} if not running_cost and set(patch) == {"cost"} else patch


def _refused(body: dict[str, Any], exc: k8s.Refused) -> dict[str, Any]:
    """The status that reports an API refusal: a child the server finds invalid fails the resource (the
    same object would be refused again); a forbidden request leaves the phase as it is while kopf
    retries."""
    old, generation, stamp = body.get("status") or {}, body["metadata"].get("generation"), _iso(_now()) or ""
    if isinstance(exc, k8s.Invalid):
        return _status(old, "Failed", Reason.CHILD_INVALID, exc.message, generation, stamp, ready=False,
                       extra={"lastFailureReason": Reason.CHILD_INVALID, "lastFailureMessage": exc.message[:32768]})
    return _status(old, old.get("phase") or "Pending", Reason.FORBIDDEN, exc.message, generation, stamp, ready=False, extra={})


def _invalid(body: dict[str, Any]) -> str | None:
    """Problems by the pydantic API types: the API server already enforced the CRD schema and its CEL
    rules, which the types repeat (a test proves they agree), at a fraction of the cost of
    interpreting CEL again for every resource."""
    problems = model_problems(Document(f"{body['metadata']['namespace']}/{body['metadata']['name']}", 1, body))
    return "; ".join(str(p) for p in problems) or None


def _event(body: dict[str, Any], type_: str, reason: str, message: str) -> None:
    kopf.event(body, type=type_, reason=reason, message=message[:1024])


def _reconcile(body: dict[str, Any], settings: OperatorSettings, seen: Observed, announce: Announce) -> dict[str, Any]:
    ns, name, uid = body["metadata"]["namespace"], body["metadata"]["name"], body["metadata"]["uid"]
    generation = body["metadata"].get("generation")
    old = body.get("status") or {}
    now = _now()
    stamp = _iso(now) or ""
    manifest = {k: v for k, v in body.items() if k != "status"}
    problem = _invalid(manifest)
    if problem is not None:
        if old.get("phase") != "Failed" or old.get("lastFailureReason") != Reason.INVALID_SPEC or old.get("observedGeneration") != generation:
            announce.append(lambda: _event(body, "Warning", Reason.INVALID_SPEC, problem))
        return _status(old, "Failed", Reason.INVALID_SPEC, problem, generation, stamp, ready=False, extra={
            "lastFailureReason": Reason.INVALID_SPEC, "lastFailureMessage": problem})
    res = DomainTraining.model_validate(manifest)
    spec = res.spec
    run = run_spec_hash(spec)
    if old.get("specHash") == _legacy_run_spec_hash(body["spec"]):
        run = old["specHash"]
    attempts = int(old.get("attempts") or 0)
    extra: dict[str, Any] = {"specHash": run}
    spec_changed = bool(old.get("specHash")) and old.get("specHash") != run
    if spec_changed:
        prev_job = old.get("jobName")
        if prev_job and k8s.delete("Job", ns, prev_job):
            kopf.event(body, type="Normal", reason="SpecChanged", message=f"spec changed: stopped Job {prev_job}; starting a new run")
        attempts = 0
        extra.update(attempts=0, jobName=None, completionTime=None, lastFailureReason=None, lastFailureMessage=None,
                     artifacts=None)  # the old run's adapter (and its sha256) is replaced when the new run ends

    children = render_training(res, settings, attempt=max(1, attempts), uid=uid, run=run)
    if children["configMap"] is not None:  # an outsized spec; any other is the Job's annotation
        k8s.replace_config_map_data(children["configMap"], seen.config_data(ns, children["configMap"]["metadata"]["name"]))
    # The trainer's ServiceAccount and Role, per namespace, before its Job (the pods' ServiceAccount
    # must exist when the Job controller creates them, else each pod create is refused and retried
    # after a backoff): created when the watches do not show them, so one deleted by hand comes back
    # at a later reconcile, without an operator restart. The first of many reconciles at once creates
    # them while the others wait (k8s.ensure_shared), with nothing sent yet: their claims go with
    # their Jobs after the wait, in the one round trip their Jobs alone took when the claims went first.
    k8s.ensure_shared(seen.missing(render_trainer_rbac(ns, settings)))

    job_name = names.training_job_name(name, attempts, run, spec.resources.nodes) if attempts else None
    job = seen.job(ns, name, job_name) if job_name else None
    pods = _pods(ns, job, now)
    outcome = st.classify(job, pods, seen.workload_of(ns, job_name) if job_name else None)
    preemptions = int(old.get("preemptions") or 0)
    decision = st.decide(outcome, attempts, spec.max_attempts, spec.suspend, settings.backoff_base_s, settings.backoff_max_s,
                         preemptions)
    ended = outcome.kind in (st.OutcomeKind.RETRY, st.OutcomeKind.PREEMPTED)  # the attempt is over; another resumes
    retrying = decision.start_attempt is not None and bool(attempts) and ended
    wait_s = _backoff_left(decision, pods, job, now) if retrying else 0.0
    # The claims: sent with the attempt's Job when one starts now (k8s.create_each: neither needs the
    # other at the API, a pod waits for a claim not made yet), else alone, so that one deleted by hand
    # comes back while the resource lives.
    claims = seen.missing(children["claims"])
    created_claims = [] if decision.start_attempt is not None and wait_s <= 0 else k8s.ensure(claims)

    if job is not None and job.suspended and job.queue != spec.scheduling.queue_name and not spec.suspend:
        return _requeue(body, ns, job, spec.scheduling.queue_name, old, generation, stamp, extra)

    if decision.phase == "Suspended":
        if job and not (job.complete or job.succeeded) and k8s.delete("Job", ns, job_name or ""):
            kopf.event(body, type="Normal", reason="Suspended", message=f"suspended: deleted Job {job_name}; checkpoints kept")
        return _status(old, "Suspended", "Suspended", decision.message, generation, stamp, ready=False,
                       extra={**extra, "jobName": None, "cost": _cost(ns, name, res, settings, now, seen)})

    if decision.start_attempt is not None:
        if retrying:
            extra.update(lastFailureReason=outcome.reason, lastFailureMessage=outcome.message[:32768])
            if outcome.preemption is not None:
                extra.update(_preempted(old, outcome.preemption))
            if wait_s > 0:
                return _status(old, "Pending", outcome.reason, f"{outcome.message}; attempt {decision.start_attempt} starts in "
                               f"{wait_s:.0f} s", generation, stamp, ready=False, extra={**extra, "cost": _cost(ns, name, res, settings, now, seen)})
        attempt = decision.start_attempt
        attempt_children = children if attempt == max(1, attempts) else render_training(res, settings, attempt, uid, run)
        new_job = attempt_children["job"]
        job_name = new_job["metadata"]["name"]
        # Before the Job, not beside it: the ranks look each other up at start (a multi-node attempt only).
        _ensure_service(attempt_children, seen)
        try:
            *claimed, job_created = k8s.create_each([*claims, new_job])
        except k8s.Refused:
            # A refused claim stopped its Job when the claims went first: the Job sent beside it goes
            # (its pod would wait for the claim, holding its queue's quota) while the refusal is reported.
            if claims:
                k8s.delete("Job", ns, job_name)
            raise
        created_claims = [c["metadata"]["name"] for c, made in zip(claims, claimed, strict=True) if made]
        # A first attempt is routine: the status says it (attempts, jobName, Pending). A later one
        # retries after a failure or a preemption, which a user reads in the Events.
        if job_created and attempt > 1:
            also = f" and claim {', '.join(created_claims)}" if created_claims else ""
            kopf.event(body, type="Normal", reason="AttemptStarted",
                       message=f"attempt {attempt}: created Job {job_name}{also}, resuming from the latest checkpoint")
        extra.update(attempts=attempt, jobName=job_name, startTime=old.get("startTime") or stamp)
        if attempt > 1 and ended:
            announce.append(lambda: _attempt_failed(body, spec.domain, outcome.reason, f"attempt {attempts} ended: {outcome.message}"))
        extra["cost"] = _cost(ns, name, res, settings, now, seen)
        # What the next reconcile will say of the new Job while its pod is not running: the Job's first
        # events then change no status.
        waiting = st.classify(st.observe_job(new_job), [])
        phase = "Queued" if waiting.kind == st.OutcomeKind.QUEUED else "Pending"
        return _status(old, phase, waiting.reason, waiting.message, generation, stamp, ready=False, extra=extra,
                       spec_changed=spec_changed)

    _ensure_service(children, seen)  # a Service deleted by hand comes back while the attempt lives

    extra["cost"] = _cost(ns, name, res, settings, now, seen)
    if created_claims:  # a claim deleted by hand while the resource lives
        kopf.event(body, type="Warning", reason=Reason.CLAIM_RECREATED, message=f"recreated missing claim {', '.join(created_claims)}")
    if decision.phase == "Succeeded":
        if old.get("phase") != "Succeeded":
            announce.append(lambda: _event(body, "Normal", "Trained", f"training finished; adapter in {OUTPUT_DIR}/{name}/adapter"))
        adapter_root = "/mnt/tara/artifacts" if spec.storage.artifacts is not None else OUTPUT_DIR
        extra.update(completionTime=old.get("completionTime") or _iso(job.completion_time if job else now),
                     # the trainer's sha256 of the manifest (written before its pod ended) is kept
                     artifacts={**(old.get("artifacts") or {}), "adapterPath": f"{adapter_root}/{name}/adapter",
                                "manifestPath": f"{adapter_root}/{name}/adapter/manifest.json"})
        return _status(old, "Succeeded", "Trained", decision.message, generation, stamp, ready=True, extra=extra)
    if decision.phase == "Failed":
        if old.get("phase") != "Failed":
            announce.append(lambda: _attempt_failed(body, spec.domain, decision.reason, decision.message))
        extra.update(lastFailureReason=decision.reason, lastFailureMessage=decision.message[:32768],
                     completionTime=old.get("completionTime") or stamp)
        return _status(old, "Failed", decision.reason, decision.message, generation, stamp, ready=False, extra=extra)
    if decision.phase == "Queued" and outcome.preemption is not None:
        preempted = _preempted(old, outcome.preemption)
        if preempted:  # a new eviction: said once
            extra.update(preempted)
            announce.append(lambda: _event(body, "Warning", Reason.PREEMPTED, f"attempt {attempts}: {outcome.message}"))
    return _status(old, decision.phase, decision.reason, decision.message, generation, stamp, ready=False, extra=extra)


def _pods(ns: str, job: st.JobObservation | None, now: datetime) -> list[st.PodObservation]:
    """The attempt's pods, read from the API only when its Job's status cannot say what the outcome needs."""
    if job is None or not st.pods_needed(job, now, PENDING_READ_S):
        return []
    return [st.observe_pod(p) for p in k8s.list_pods(ns, names.job_pods_selector(job.name))]


def _backoff_left(decision: st.Decision, pods: list[st.PodObservation], job: st.JobObservation | None,
                  now: datetime) -> float:
    """Seconds until the next attempt may start: its backoff counts from when the last one ended (0: now)."""
    failed_at = max((p.finished_at for p in pods if p.finished_at), default=None) or (job.completion_time if job else None)
    if failed_at is None:
        return 0.0
    return max(0.0, (failed_at + timedelta(seconds=decision.delay_s) - now).total_seconds())


def _requeue(body: dict[str, Any], ns: str, job: st.JobObservation, queue: str | None, old: dict[str, Any],
             generation: int | None, stamp: str, extra: dict[str, Any]) -> dict[str, Any]:
    """A Job still waiting (suspended) in a queue the spec no longer names: delete it; the next
    reconcile, once the watch shows it gone, creates the same attempt in the new queue (or none)."""
    if k8s.delete("Job", ns, job.name):
        kopf.event(body, type="Normal", reason="QueueChanged",
                   message=f"scheduling.queueName is {queue or 'unset'}: deleted the waiting Job {job.name} to recreate it")
    return _status(old, "Queued" if queue else "Pending", Reason.QUEUED if queue else Reason.SCHEDULING,
                   f"moving Job {job.name} from queue {job.queue or '(none)'} to {queue or '(none)'}", generation, stamp,
                   ready=False, extra=extra)


def _ensure_service(children: dict[str, Any], seen: Observed) -> None:
    """The headless Service of a multi-node attempt, created when the watches do not show it."""
    if children.get("service") is not None:
        k8s.ensure(seen.missing([children["service"]]))


def _preempted(old: dict[str, Any], preemption: st.Preemption) -> dict[str, Any]:
    """The status fields of a preemption not yet counted (none when ``lastPreemption`` already is
    this one): level-based, the status remembers which eviction it counted by its time."""
    last = {"source": preemption.source, "reason": preemption.reason[:1024], "message": preemption.message[:32768],
            **({"time": _iso(preemption.time)} if preemption.time else {})}
    if old.get("lastPreemption") == last:
        return {}
    return {"preemptions": int(old.get("preemptions") or 0) + 1, "lastPreemption": last}


def _attempt_failed(body: dict[str, Any], domain: str, reason: str, message: str) -> None:
    _event(body, "Warning", reason, message)
    metrics.ATTEMPT_FAILURES.labels(body["metadata"]["namespace"], body["metadata"]["name"], domain, reason).inc()


def _cost(ns: str, name: str, res: DomainTraining, settings: OperatorSettings, now: datetime, seen: Observed) -> dict[str, Any]:
    """GPU- and CPU-hours of every attempt Job of this resource (running ones up to now), from what each
    Job's pods request (a Job read without its template: what the spec asks), priced per GPU product."""
    r = res.spec.resources
    gpus = (r.gpu.count if r.gpu else 1) if r.accelerator.value == "gpu" else 0
    from_spec = cost.PodUsage(cores=cost.cores_of(r.cpu), gpus=gpus, gpu_product=r.gpu.product if gpus and r.gpu else None)
    prices, default_cores = settings.prices(), cost.cores_of(settings.default_cpu_request)
    total = cost.Figures()
    for obs in seen.jobs_of(ns, name):
        if obs.start_time:
            seconds = ((obs.ended_at or obs.completion_time or now) - obs.start_time).total_seconds()
            total = total + cost.priced(seconds, obs.usage or from_spec, prices, default_cores)
    out = total.to_status(prices)
    if "estimatedCost" in out:
        out["currency"] = settings.currency
    return out


def _status(old: dict[str, Any], phase: str, reason: str, message: str, generation: int | None, now: str, *, ready: bool,
            extra: dict[str, Any], spec_changed: bool = False) -> dict[str, Any]:
    progressing = phase in ("Pending", "Queued", "Running")
    degraded = phase == "Failed" or bool(extra.get("lastFailureReason"))
    conditions = [
        st.condition("Ready", ready, reason, message, generation, now),
        st.condition("Progressing", progressing, reason, message, generation, now),
        st.condition("Degraded", degraded, extra.get("lastFailureReason") or old.get("lastFailureReason") or "None",
                     extra.get("lastFailureMessage") or "", generation, now),
    ]
    if spec_changed:  # stays True (with the generation it happened at) for the run the change started
        conditions.append(st.condition("SpecChanged", True, "NewRun",
                                       f"the spec changed at generation {generation}; the running attempt was stopped "
                                       "and a new run started (its checkpoints are set aside, not resumed)", generation, now))
    status = {"phase": phase, "observedGeneration": generation,
              "conditions": st.merge_conditions(old.get("conditions"), conditions), **extra}
    # Only send what changed (conditions compare without their timestamps' noise).
    return {k: v for k, v in status.items() if old.get(k) != v}
