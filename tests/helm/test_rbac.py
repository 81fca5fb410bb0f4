"""The chart's RBAC is least privilege: exactly the permissions the operator's code and kopf use,
scoped to the watched namespaces, no wildcards; and the trainer's Role is the operator's own.

REQUIRED is the table of (API group, resource, verb) with the call that needs it. A test derives
from the operator's source what it calls (k8s.py helpers, kopf decorators, the kinds its renderers
create) and checks the table covers it, so a new API call without a permission fails here, not in
a cluster.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import kopf
import pytest
import yaml
from chart_support import ALL_ON, CASES, NAMESPACE, ROOT, find, one

from tara_api import DomainTraining, GGUFPhase
from tara_operator import k8s
from tara_operator.phase import _artifacts_claim
from tara_operator.render.phase import DomainOutput, render_build, render_serving
from tara_operator.render.rbac import render_trainer_rbac
from tara_operator.render.training import render_training
from tara_operator.settings import OperatorSettings

Permission = tuple[str, str, str]  # (apiGroup, resource, verb)
OPERATOR = ROOT / "operator" / "tara_operator"


def _perms(group: str, resources: Iterable[str], verbs: Iterable[str]) -> set[Permission]:
    return {(group, r, v) for r in resources for v in verbs}


# What every namespace the operator serves needs, and why.
REQUIRED_NAMESPACED: set[Permission] = (
    # kopf: list+watch every resource it handles; patch finalizers and progress annotations (GGUFPhases), and
    # remove the finalizer an older operator left on a DomainTraining.
    # reconciler.reconcile_latest: get_custom; handlers._phases_using: list_custom.
    _perms("tara.dev", ["domaintrainings", "ggufphases"], ["get", "list", "watch", "patch"])
    # reconciler: patch_custom_status; also what lets the operator grant the trainer Role.
    | _perms("tara.dev", ["domaintrainings/status", "ggufphases/status"], ["patch"])
    # training/phase: create_if_missing, get, list_jobs, delete; kopf.on.event(jobs).
    | _perms("batch", ["jobs"], ["create", "get", "list", "watch", "delete"])
    # list_pods: a failed Job's pods, a waiting pod, the ranks (the operator watches Jobs, not pods).
    | _perms("", ["pods"], ["list"])
    # replace_config_map_data: create, get, patch; kopf.index(configmaps).
    | _perms("", ["configmaps"], ["create", "get", "patch", "list", "watch"])
    # claims: create_if_missing; handlers._retained deletes them with retention Delete; kopf.index(claims).
    | _perms("", ["persistentvolumeclaims"], ["create", "delete", "list", "watch"])
    # the phase's serving Service; the ranks' Service of a multi-node training: create_if_missing, kopf.index(services).
    | _perms("", ["services"], ["create", "list", "watch"])
    # kopf.index/on.event(kueue workloads): why a queued training's Job waits or was evicted.
    | _perms("kueue.x-k8s.io", ["workloads"], ["list", "watch"])
    # the trainer's ServiceAccount: create_if_missing; kopf.index(serviceaccounts).
    | _perms("", ["serviceaccounts"], ["create", "list", "watch"])
    # phase: create_if_missing, get, patch (rollout, rollback); kopf.on.event(deployments).
    | _perms("apps", ["deployments"], ["create", "get", "list", "watch", "patch"])
    # render_trainer_rbac objects: create_if_missing; kopf.index(roles, rolebindings).
    | _perms("rbac.authorization.k8s.io", ["roles", "rolebindings"], ["create", "list", "watch"])
    # kopf.event / kopf.info.
    | _perms("", ["events"], ["create"])
)
REQUIRED_CLUSTER: set[Permission] = _perms("apiextensions.k8s.io", ["customresourcedefinitions"], ["list", "watch"])
# Only with some values.
WITH_SERVICE_MONITORS = _perms("monitoring.coreos.com", ["servicemonitors"], ["create"])
WITH_NAMESPACES = _perms("", ["namespaces"], ["list", "watch"])  # kopf's namespace observer
PEERING_VERBS = ["list", "watch", "patch"]  # kopf's peering watcher and keep-alive patches
# Granted beyond strict need, deliberately: reading single Pods (the README promises read-only Pods,
# and `get` is what a human debugging with the operator's identity tries first), and `get` on the
# peering objects.
ALLOWANCE: set[Permission] = {("", "pods", "get"), ("kopf.dev", "kopfpeerings", "get"), ("kopf.dev", "clusterkopfpeerings", "get")}


def required(values: dict[str, Any]) -> tuple[set[Permission], set[Permission]]:
    """(cluster-scoped permissions, permissions in each watched namespace) the values need."""
    namespaces = values.get("watchNamespaces") or []
    peering = (values.get("leaderElection") or {}).get("enabled", False)
    namespaced = set(REQUIRED_NAMESPACED)
    if (values.get("operator") or {}).get("phaseServiceMonitors"):
        namespaced |= WITH_SERVICE_MONITORS
    cluster = set(REQUIRED_CLUSTER)
    if namespaces:
        cluster |= WITH_NAMESPACES
        if peering:
            namespaced |= _perms("kopf.dev", ["kopfpeerings"], PEERING_VERBS)
    else:
        if peering:
            cluster |= _perms("kopf.dev", ["clusterkopfpeerings"], PEERING_VERBS)
        cluster |= namespaced  # a ClusterRole serves every namespace
        namespaced = set()
    return cluster, namespaced


def granted(rules: list[dict[str, Any]]) -> set[Permission]:
    return {(g, r, v) for rule in rules for g in rule.get("apiGroups", []) for r in rule.get("resources", [])
            for v in rule["verbs"]}


def operator_grants(objects: list[dict[str, Any]], service_account: str) -> tuple[set[Permission], dict[str, set[Permission]]]:
    """What the operator's service account may do: cluster-wide, and per namespace through RoleBindings."""
    def bound_to_operator(binding: dict[str, Any]) -> bool:
        return any(s["kind"] == "ServiceAccount" and s["name"] == service_account and s["namespace"] == NAMESPACE
                   for s in binding["subjects"])

    cluster: set[Permission] = set()
    for binding in filter(bound_to_operator, find(objects, "ClusterRoleBinding")):
        cluster |= granted(one(objects, "ClusterRole", binding["roleRef"]["name"])["rules"])
    per_ns: dict[str, set[Permission]] = {}
    for binding in filter(bound_to_operator, find(objects, "RoleBinding")):
        ns = binding["metadata"]["namespace"]
        assert binding["roleRef"]["kind"] == "Role"
        per_ns.setdefault(ns, set()).update(granted(one(objects, "Role", binding["roleRef"]["name"], ns)["rules"]))
    return cluster, per_ns


RBAC_CASES = {**CASES, "namespaces-no-peering": {"watchNamespaces": ["ml"]},
              "service-monitors": {"operator": {"phaseServiceMonitors": True}}}


@pytest.mark.parametrize("case", sorted(RBAC_CASES))
def test_operator_rbac_is_exactly_what_it_needs(render, case: str) -> None:
    values = RBAC_CASES[case]
    objects = render(values)
    sa = one(objects, "Deployment")["spec"]["template"]["spec"]["serviceAccountName"]
    assert one(objects, "ServiceAccount", sa, NAMESPACE)
    cluster, per_ns = operator_grants(objects, sa)
    need_cluster, need_ns = required(values)
    assert need_cluster <= cluster, f"missing cluster-wide: {sorted(need_cluster - cluster)}"
    assert cluster - need_cluster <= ALLOWANCE, f"not needed cluster-wide: {sorted(cluster - need_cluster - ALLOWANCE)}"
    assert sorted(per_ns) == sorted(values.get("watchNamespaces") or [])
    for ns, perms in per_ns.items():
        assert need_ns <= perms, f"missing in {ns}: {sorted(need_ns - perms)}"
        assert perms - need_ns <= ALLOWANCE, f"not needed in {ns}: {sorted(perms - need_ns - ALLOWANCE)}"


@pytest.mark.parametrize("case", sorted(RBAC_CASES))
def test_no_wildcards(render, case: str) -> None:
    for obj in render(RBAC_CASES[case]):
        for rule in obj.get("rules", []) if obj["kind"] in ("Role", "ClusterRole") else []:
            for field in ("apiGroups", "resources", "verbs", "resourceNames", "nonResourceURLs"):
                assert not any("*" in item for item in rule.get(field, [])), f"{obj['kind']} {obj['metadata']['name']}: {rule}"
            assert not {"escalate", "bind", "impersonate"} & set(rule["verbs"])


def test_operator_identity_is_not_reused_for_training(render) -> None:
    objects = render(ALL_ON)
    operator_sa = one(objects, "Deployment")["spec"]["template"]["spec"]["serviceAccountName"]
    assert operator_sa != ALL_ON.get("operator", {}).get("trainerServiceAccount", "tara-trainer")


# --- derived from the operator's code --------------------------------------------------------------


def _source() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(OPERATOR.rglob("*.py")))


PLURALS = {"ConfigMap": "configmaps", "PersistentVolumeClaim": "persistentvolumeclaims", "ServiceAccount": "serviceaccounts",
           "Service": "services", "Pod": "pods", "Job": "jobs", "Deployment": "deployments", "Role": "roles",
           "RoleBinding": "rolebindings", "ServiceMonitor": "servicemonitors"}
GROUPS = {"Job": "batch", "Deployment": "apps", "Role": "rbac.authorization.k8s.io", "RoleBinding": "rbac.authorization.k8s.io",
          "ServiceMonitor": "monitoring.coreos.com"}


def _kind_perm(kind: str, verb: str) -> Permission:
    return (GROUPS.get(kind, ""), PLURALS[kind], verb)


def _created_kinds() -> set[str]:
    """Every kind the operator's renderers produce: the operator creates each with create_if_missing."""
    settings = OperatorSettings(service_monitor=True)
    training = yaml.safe_load((ROOT / "configs" / "trainings" / "cpu" / "healthcare-cpu.yaml").read_text(encoding="utf-8"))
    training["metadata"]["namespace"] = "ml"
    phase = yaml.safe_load((ROOT / "configs" / "phases" / "phase-1.yaml").read_text(encoding="utf-8"))
    phase["metadata"]["namespace"] = "ml"
    res, gp = DomainTraining.model_validate(training), GGUFPhase.model_validate(phase)
    children = render_training(res, settings, attempt=1, uid="u")
    outputs = [DomainOutput(d.domain, d.training or d.domain, f"{d.domain}-checkpoints", d.domain) for d in gp.spec.domains]
    objects = [*render_trainer_rbac("ml", settings), _artifacts_claim("ml", settings), children["configMap"], *children["claims"],
               *render_build(gp, settings, revision=1, outputs=outputs, uid="u").values(),
               *render_serving(gp, settings, revision=1, uid="u").values()]
    objects.append(render_training(res, settings, attempt=1, uid="u", run="abcdef")["job"])
    return {o["kind"] for o in objects if isinstance(o, dict) and "kind" in o}


def _called_perms(source: str) -> set[Permission]:
    perms: set[Permission] = set()
    for helper, verb in (("get", "get"), ("delete", "delete"), ("patch", "patch")):
        for kind in re.findall(rf'\bk8s\.{helper}\(\s*"(\w+)"', source):
            perms.add(_kind_perm(kind, verb))
    calls = {"list_pods": [("", "pods", "list")], "list_jobs": [("batch", "jobs", "list")],
             "replace_config_map_data": [("", "configmaps", v) for v in ("create", "get", "patch")]}
    for helper, needed in calls.items():
        if re.search(rf"\bk8s\.{helper}\(", source):
            perms.update(needed)
    for helper, suffix, verb in (("get_custom", "", "get"), ("list_custom", "", "list"), ("patch_custom_status", "/status", "patch")):
        for plural in re.findall(rf"\bk8s\.{helper}\(\s*([\w\"]+)", source):
            targets = ["domaintrainings", "ggufphases"] if not plural.startswith('"') else [plural.strip('"')]
            perms.update(("tara.dev", p + suffix, verb) for p in targets)  # the plural is often a variable
    # kopf: every resource with a handler or an index is listed and watched; change handlers
    # (create, update, resume, delete) also patch it (finalizers, progress annotations), and so does
    # kopf on our own kinds whatever their handlers: it removes a finalizer of ours that no handler
    # needs (an older operator put it on DomainTrainings).
    import tara_operator.handlers  # noqa: F401 - registers the handlers in kopf's default registry

    registry = kopf.get_default_registry()
    for handlers, patches in ((registry._watching, False), (registry._spawning, False), (registry._changing, True),
                              (registry._indexing, False)):
        for handler in handlers.get_all_handlers():
            group, plural = handler.selector.group or "", handler.selector.any_name
            perms.update((group, plural, v) for v in ("list", "watch"))
            if patches or (group == "tara.dev" and handlers is registry._watching):
                perms.add((group, plural, "patch"))
    if re.search(r"\bkopf\.(event|info|warn|exception)\(", source):
        perms.add(("", "events", "create"))
    return perms


def test_code_scan_finds_the_operator_calls() -> None:
    """The scan below reads the code; it must actually see calls (a scan that finds nothing
    would pass vacuously)."""
    perms = _called_perms(_source())
    assert ("batch", "jobs", "delete") in perms and ("tara.dev", "domaintrainings/status", "patch") in perms
    assert ("apps", "deployments", "watch") in perms and ("", "events", "create") in perms
    assert len(perms) >= 20


def test_required_table_covers_what_the_operator_calls() -> None:
    needed = _called_perms(_source()) | {_kind_perm(kind, "create") for kind in _created_kinds()}
    table = REQUIRED_NAMESPACED | WITH_SERVICE_MONITORS
    assert needed - table == set(), "the operator calls the API without a permission in the chart"
    # The kinds k8s.py knows are all covered, so a new kind there without RBAC shows up here.
    assert {PLURALS[kind] for kind in k8s._KINDS} <= {r for _, r, _ in table}


def test_table_has_nothing_the_operator_does_not_call() -> None:
    needed = _called_perms(_source()) | {_kind_perm(kind, "create") for kind in _created_kinds()}
    assert (REQUIRED_NAMESPACED | WITH_SERVICE_MONITORS) - needed == set()


# --- the trainer's identity --------------------------------------------------------------------------


@pytest.mark.parametrize("case", sorted(RBAC_CASES))
def test_trainer_rbac_is_the_operators_own(render, case: str) -> None:
    """The chart pre-creates exactly what render_trainer_rbac creates on demand, in the release
    namespace and every watched one."""
    values = RBAC_CASES[case]
    objects = render(values)
    sa = (values.get("operator") or {}).get("trainerServiceAccount", "tara-trainer")
    namespaces = sorted({NAMESPACE, *(values.get("watchNamespaces") or [])})
    for kind in ("ServiceAccount", "Role", "RoleBinding"):
        assert sorted(o["metadata"]["namespace"] for o in find(objects, kind, sa)) == namespaces, kind
    settings = OperatorSettings(trainer_service_account=sa)
    for ns in namespaces:
        expected = {o["kind"]: o for o in render_trainer_rbac(ns, settings)}
        role, binding = one(objects, "Role", sa, ns), one(objects, "RoleBinding", sa, ns)
        assert role["rules"] == expected["Role"]["rules"]
        assert binding["roleRef"] == expected["RoleBinding"]["roleRef"]
        assert binding["subjects"] == expected["RoleBinding"]["subjects"]
        assert role["metadata"]["labels"]["app.kubernetes.io/component"] == "trainer"


def test_trainer_rbac_can_be_left_to_the_operator(render) -> None:
    objects = render({"trainerRbac": {"create": False}})
    assert not find(objects, "Role", "tara-trainer") and not find(objects, "ServiceAccount", "tara-trainer")


def test_trainer_service_account_name_follows_the_setting(render) -> None:
    objects = render({"operator": {"trainerServiceAccount": "trainer-x"}})
    assert one(objects, "Role", "trainer-x", NAMESPACE)
    env = {e["name"]: e["value"] for e in one(objects, "Deployment")["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["TARA_TRAINER_SERVICE_ACCOUNT"] == "trainer-x"


def test_operator_may_grant_the_trainer_role(render) -> None:
    """Kubernetes refuses to create a Role granting what its creator does not hold."""
    for values in (CASES["defaults"], ALL_ON):
        objects = render(values)
        sa = one(objects, "Deployment")["spec"]["template"]["spec"]["serviceAccountName"]
        cluster, per_ns = operator_grants(objects, sa)
        trainer = granted(render_trainer_rbac("x", OperatorSettings())[1]["rules"])
        for ns in values.get("watchNamespaces") or [None]:
            assert trainer <= cluster | per_ns.get(ns, set())


def test_rbac_can_be_left_out(render) -> None:
    objects = render({"rbac": {"create": False}})
    assert not find(objects, "ClusterRole") and not find(objects, "ClusterRoleBinding")
    assert {r["metadata"]["name"] for r in find(objects, "Role")} == {"tara-trainer"}
