"""Pure text views of TARA objects for ``tara phase`` and ``tara training``: tables, the phase
detail page, progress lines, status changes worth a line, and failure hints.

Functions take raw object dicts (as the API or a manifest file gives them; any field may be
missing) and a ``now`` for ages, and return text; nothing here prints, reads a clock or talks
to an API, so every view is tested with tables of cases.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from tara_api.ggufphase import GGUFPhaseSpec

__all__ = [
    "FAILURE_HINTS",
    "age",
    "duration",
    "failure_lines",
    "phase_rows",
    "phase_table",
    "progress_line",
    "show_phase",
    "size",
    "status_changes",
    "success_line",
    "table",
    "training_table",
]

NONE = "-"
# What the API server's defaulting fills in when a manifest lists no quantization.
DEFAULT_QUANTIZATION = [str(q) for q in GGUFPhaseSpec.model_fields["quantization"].default_factory()]  # type: ignore[misc]

# What to do about a DomainTraining that ended Failed, by status.lastFailureReason (the
# trainer's exit reasons and the operator's own; see README "The trainer").
FAILURE_HINTS: dict[str, str] = {
    "InvalidSpec": "fix the manifest (the message names the field); `tara validate FILE` checks it offline",
    "DatasetInvalid": "fix the data (the message names the file and line)",
    "BaseModelUnavailable": "check spec.baseModel (path, repo, revision, token secret)",
    "QualityGateFailed": "more data or steps, or lower spec.qualityGate.minEvalLossImprovement",
    "HardwareUnsupported": "QLoRA or accelerator: gpu needs a GPU node; or change the precision",
    "RetriesExhausted": "every attempt failed: read the last attempt's log, then raise spec.maxAttempts or fix the cause",
    "ImagePullFailed": "the trainer image cannot be pulled: check TARA_TRAINER_IMAGE and the registry credentials",
    "ContainerConfigInvalid": "the pod cannot start: a Secret or ConfigMap it mounts is missing",
}
DEFAULT_HINT = "read the Events and the Job's log: kubectl describe dt {name}; kubectl logs job/{job}"


def _get(obj: Any, *path: str) -> Any:
    for key in path:
        obj = obj.get(key) if isinstance(obj, dict) else None
    return obj


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def duration(seconds: float | None) -> str:
    """kubectl's compact durations: 45s, 3m20s, 25m, 5h10m, 30h, 3d4h, 40d."""
    if seconds is None:
        return NONE
    s = max(0, int(seconds))
    m, h, d = s // 60, s // 3600, s // 86400
    if s < 120:
        return f"{s}s"
    if m < 10:
        return f"{m}m{s % 60}s" if s % 60 else f"{m}m"
    if h < 3:
        return f"{m}m"
    if h < 8:
        return f"{h}h{m % 60}m" if m % 60 else f"{h}h"
    if h < 48:
        return f"{h}h"
    if d < 8:
        return f"{d}d{h % 24}h" if h % 24 else f"{d}d"
    return f"{d}d"


def age(obj: dict[str, Any], now: datetime) -> str:
    """Time since ``metadata.creationTimestamp`` ("-" for a manifest that has none)."""
    created = _parse_time(_get(obj, "metadata", "creationTimestamp"))
    return duration((now - created).total_seconds()) if created else NONE


def size(n: Any) -> str:
    if not isinstance(n, int):
        return NONE
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.2f} {unit}"
    return f"{n} B"


def _num(value: Any, digits: int = 4) -> str:
    return f"{value:.{digits}g}" if isinstance(value, int | float) and not isinstance(value, bool) else NONE


def _percent(value: Any, missing: str = NONE) -> str:
    """A relative change (0.05) as a signed percentage (+5.00%); ``missing`` when it is not a number."""
    return f"{value * 100:+.2f}%" if isinstance(value, int | float) else missing


def _text(value: Any) -> str:
    return NONE if value is None or value == "" else str(value)


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Columns as kubectl aligns them: left-aligned, three spaces apart."""
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]
    lines = ["   ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in [headers, *rows]]
    return "\n".join(lines)


# ---------------------------------------------------------------- GGUFPhase


def _domains_cell(obj: dict[str, Any]) -> str:
    ready = _get(obj, "status", "domainsReady")
    if ready:
        return str(ready)
    domains = _get(obj, "spec", "domains")
    return f"-/{len(domains)}" if isinstance(domains, list) else NONE


def phase_rows(objects: Sequence[dict[str, Any]], now: datetime, namespaces: bool) -> list[list[str]]:
    rows = []
    for obj in objects:
        quants = _get(obj, "spec", "quantization") or DEFAULT_QUANTIZATION
        row = [_text(_get(obj, "metadata", "name"))]
        if namespaces:
            row.append(_text(_get(obj, "metadata", "namespace")))
        row += [
            _text(_get(obj, "status", "phase")),
            _domains_cell(obj),
            ",".join(map(str, quants)) if isinstance(quants, list) else NONE,
            _text(_get(obj, "status", "servedRevision")),
            _text(_get(obj, "status", "endpoint")),
            age(obj, now),
        ]
        rows.append(row)
    return rows


def phase_table(objects: Sequence[dict[str, Any]], now: datetime, namespaces: bool = False) -> str:
    headers = ["NAME", *(["NAMESPACE"] if namespaces else []), "PHASE", "DOMAINS", "QUANTIZATION", "REVISION", "ENDPOINT", "AGE"]
    return table(headers, phase_rows(objects, now, namespaces))


def _conditions(obj: dict[str, Any], now: datetime) -> list[str]:
    conditions = _get(obj, "status", "conditions")
    if not isinstance(conditions, list) or not conditions:
        return ["  (none reported yet)"]
    rows = []
    for c in conditions:
        when = _parse_time(c.get("lastTransitionTime"))
        rows.append([_text(c.get("type")), _text(c.get("status")), _text(c.get("reason")),
                     duration((now - when).total_seconds()) if when else NONE, c.get("message") or ""])
    return ["  " + line for line in table(["TYPE", "STATUS", "REASON", "AGE", "MESSAGE"], rows).splitlines()]


def _domain_lines(obj: dict[str, Any]) -> list[str]:
    states = {d.get("domain"): d for d in _get(obj, "status", "domains") or [] if isinstance(d, dict)}
    spec_domains = [d for d in _get(obj, "spec", "domains") or [] if isinstance(d, dict)]
    rows = []
    for ref in spec_domains:
        name = ref.get("domain")
        state = states.pop(name, {})
        rows.append([_text(name), _text(state.get("training") or ref.get("training") or name), _num(ref.get("weight", 1.0), 3),
                     _text(state.get("state")), _num(state.get("evalLoss")), state.get("message") or ""])
    for name, state in states.items():  # in the status but no longer in the spec
        rows.append([_text(name), _text(state.get("training")), NONE, _text(state.get("state")), _num(state.get("evalLoss")),
                     "(removed from the spec) " + (state.get("message") or "")])
    return ["  " + line for line in table(["DOMAIN", "TRAINING", "WEIGHT", "STATE", "EVAL LOSS", "MESSAGE"], rows).splitlines()]


def _artifact_lines(obj: dict[str, Any]) -> list[str]:
    artifacts = [a for a in _get(obj, "status", "artifacts") or [] if isinstance(a, dict)]
    if not artifacts:
        return ["  (none built yet)"]
    rows = []
    for a in artifacts:
        rows.append([
            _text(a.get("kind")), _text(a.get("quantization")), _text(a.get("domain")), _text(a.get("path")),
            size(a.get("bytes")), _num(a.get("bitsPerWeight"), 3), _num(a.get("perplexity"), 5),
            _percent(a.get("perplexityIncrease")),
            str(a.get("sha256") or NONE)[:12],
        ])
    return ["  " + line for line in table(["KIND", "QUANT", "DOMAIN", "FILE", "SIZE", "BITS/W", "PERPLEXITY", "VS F16", "SHA256"],
                                          rows).splitlines()]


def _serving(serving: dict[str, Any]) -> str:
    if serving.get("enabled") is False:
        return "disabled"
    resources = serving.get("resources") or {}
    parts = [f"{serving.get('replicas', 1)} replica(s) on {resources.get('accelerator', 'cpu')}"]
    if serving.get("defaultDomain"):
        parts.append(f"default domain {serving['defaultDomain']}")
    targets = serving.get("targets") or {}
    limits = [f"{label} <= {targets[key]}" for key, label in (("maxFileSize", "files"), ("maxMemory", "memory"))
              if targets.get(key) is not None]
    if isinstance(targets.get("maxQualityLoss"), int | float):
        limits.append(f"quality loss <= {_percent(targets['maxQualityLoss'])}")
    if limits:
        parts.append("targets: " + ", ".join(limits))
    return ", ".join(parts)


def _merge_check_lines(obj: dict[str, Any]) -> list[str]:
    checks = [c for c in _get(obj, "status", "mergeCheck") or [] if isinstance(c, dict)]
    rows = [[_text(c.get("domain")), _num(c.get("adapterPerplexity"), 5), _num(c.get("mergedPerplexity"), 5),
             _percent(c.get("loss")), _percent(c.get("allowed"), "(report only)"), "yes" if c.get("passed") else "no"]
            for c in checks]
    return ["  " + line for line in table(["DOMAIN", "ADAPTER PPL", "MERGED PPL", "LOSS", "ALLOWED", "PASSED"], rows).splitlines()]


def _serving_type(serving: dict[str, Any], status: dict[str, Any], quants: Sequence[Any], served: str | None) -> str:
    """What is known of the type that serves: the one serving, the one the spec names, or with auto the
    build's choice once a build reported it (never the word auto as if it were a type)."""
    if served:
        return f"serving {served}"
    requested = serving.get("quantization") or quants[0]
    if requested != "auto":
        return f"serves {requested}"
    if status.get("builtQuantization"):
        serving_now = "not serving yet" if serving.get("enabled", True) else "serving is disabled"
        return f"auto: revision {_text(status.get('builtRevision'))}'s build chose {status['builtQuantization']}, {serving_now}"
    return "auto: the build chooses the smallest type that passes; not built yet"


def show_phase(obj: dict[str, Any], now: datetime) -> str:
    """The phase as ``tara phase show`` prints it: summary, domains, artifacts, conditions."""
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    merge = spec.get("merge") or {}
    quants = spec.get("quantization") or DEFAULT_QUANTIZATION
    serving = spec.get("serving") or {}
    served_quant = status.get("servedQuantization")
    revision = _text(status.get("revision"))
    if status.get("servedRevision") is not None:
        revision += f" (serving {status['servedRevision']})"
    quant_text = ", ".join(map(str, quants)) + f" ({_serving_type(serving, status, quants, served_quant)})"
    strategy = str(merge.get("strategy", "adapters"))
    if merge.get("density") is not None:
        strategy += f", density {merge['density']}"
    if merge.get("svdRank") is not None:
        strategy += f", svd rank {merge['svdRank']}"
    summary = [
        ("Name", _text(_get(obj, "metadata", "name"))),
        ("Namespace", _text(_get(obj, "metadata", "namespace"))),
        ("Phase", _text(status.get("phase"))),
        ("Phase number", _text(spec.get("phaseNumber"))),
        ("Merge", strategy),
        ("Quantization", quant_text),
        *([("Served because", status["servedReason"])] if status.get("servedReason") else []),
        ("Revision", revision),
        ("Serving", _serving(serving)),
        ("Endpoint", _text(status.get("endpoint"))),
        ("Build Job", _text(status.get("buildJobName"))),
        ("Age", age(obj, now)),
    ]
    width = max(len(k) for k, _ in summary) + 2
    lines = [f"{k + ':':<{width}}{v}" for k, v in summary]
    ready = f" ({status['domainsReady']} ready)" if status.get("domainsReady") else ""
    lines += ["", f"Domains{ready}:", *_domain_lines(obj)]
    lines += ["", "Artifacts:", *_artifact_lines(obj)]
    if _get(obj, "status", "mergeCheck"):
        lines += ["", "Merge check (merged model against each domain's own adapter):", *_merge_check_lines(obj)]
    lines += ["", "Conditions:", *_conditions(obj, now)]
    return "\n".join(lines)


# ---------------------------------------------------------------- DomainTraining


def training_table(objects: Sequence[dict[str, Any]], now: datetime, namespaces: bool = False) -> str:
    headers = ["NAME", *(["NAMESPACE"] if namespaces else []), "DOMAIN", "PHASE", "PROGRESS", "STEP", "LOSS", "EVAL LOSS", "ETA", "AGE"]
    rows = []
    for obj in objects:
        p = _get(obj, "status", "progress") or {}
        percent = p.get("percent")
        row = [_text(_get(obj, "metadata", "name"))]
        if namespaces:
            row.append(_text(_get(obj, "metadata", "namespace")))
        row += [
            _text(_get(obj, "spec", "domain")), _text(_get(obj, "status", "phase")),
            f"{percent:.1f}%" if isinstance(percent, int | float) else NONE,
            f"{p.get('step', 0)}/{p.get('totalSteps', 0)}" if p else NONE,
            _num(p.get("loss")), _num(p.get("evalLoss")),
            duration(p.get("etaSeconds")) if p.get("etaSeconds") is not None else NONE,
            age(obj, now),
        ]
        rows.append(row)
    return table(headers, rows)


def progress_line(progress: dict[str, Any]) -> str:
    """One line per progress report, for logs: ``step 40/200 (20.0%) loss 1.234 ...``."""
    step, total = progress.get("step", 0), progress.get("totalSteps", 0)
    percent = progress.get("percent")
    if not isinstance(percent, int | float):
        percent = 100.0 * step / total if total else 0.0
    parts = [f"step {step}/{total} ({percent:.1f}%)"]
    if progress.get("epoch") is not None:
        parts.append(f"epoch {_num(progress['epoch'], 3)}")
    if progress.get("loss") is not None:
        parts.append(f"loss {_num(progress['loss'])}")
    if progress.get("evalLoss") is not None:
        parts.append(f"eval loss {_num(progress['evalLoss'])}")
    if progress.get("tokensPerSecond") is not None:
        parts.append(f"{progress['tokensPerSecond']:.0f} tok/s")
    if progress.get("etaSeconds") is not None:
        parts.append(f"ETA {duration(progress['etaSeconds'])}")
    return "  ".join(parts)


def status_changes(old: dict[str, Any] | None, new: dict[str, Any]) -> list[str]:
    """Lines worth printing between two statuses: a new phase, a new attempt or checkpoint, and
    each condition whose status or reason changed."""
    old = old or {}
    lines = []
    if new.get("phase") and new.get("phase") != old.get("phase"):
        lines.append(f"phase {old['phase']} -> {new['phase']}" if old.get("phase") else f"phase {new['phase']}")
    if (new.get("attempts") or 0) > (old.get("attempts") or 0):
        job = f" (Job {new['jobName']})" if new.get("jobName") else ""
        lines.append(f"attempt {new['attempts']}{job}")
    step = _get(new, "checkpoint", "step")
    if step is not None and step != _get(old, "checkpoint", "step"):
        lines.append(f"checkpoint at step {step}")
    before = {c.get("type"): c for c in old.get("conditions") or [] if isinstance(c, dict)}
    for c in new.get("conditions") or []:
        if not isinstance(c, dict):
            continue
        prev = before.get(c.get("type")) or {}
        if (prev.get("status"), prev.get("reason")) != (c.get("status"), c.get("reason")):
            message = f": {c['message']}" if c.get("message") else ""
            lines.append(f"{c.get('type')}={c.get('status')} {c.get('reason')}{message}")
    return lines


def success_line(name: str, status: dict[str, Any]) -> str:
    metrics = status.get("metrics") or {}
    parts = [f"{name} Succeeded"]
    base, tuned = metrics.get("baseEvalLoss"), metrics.get("tunedEvalLoss")
    if isinstance(base, int | float) and isinstance(tuned, int | float):
        gain = metrics.get("improvement")
        better = f" ({gain * 100:.1f}% better)" if isinstance(gain, int | float) else ""
        parts.append(f"eval loss {_num(base)} -> {_num(tuned)}{better}")
    adapter = _get(status, "artifacts", "adapterPath")
    if adapter:
        parts.append(f"adapter {adapter}")
    return ", ".join(parts)


def failure_lines(name: str, status: dict[str, Any]) -> list[str]:
    """What failed and what to do: the reason, the message and a hint for that reason."""
    reason = status.get("lastFailureReason") or "Failed"
    message = status.get("lastFailureMessage") or ""
    hint = FAILURE_HINTS.get(reason) or DEFAULT_HINT.format(name=name, job=status.get("jobName") or f"<{name} job>")
    return [f"{name} Failed: {reason}" + (f": {message}" if message else ""), f"hint: {hint}"]
