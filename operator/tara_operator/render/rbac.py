"""The training and build pods' identity: a ServiceAccount whose Role may only patch the status of
DomainTrainings (progress) and GGUFPhases (the artifacts a build produced).

One set per namespace (not per resource), created on demand by the operator; the Role names the
one subresource and the one verb the trainer uses, nothing else.
"""

from __future__ import annotations

from typing import Any

from tara_api.crd import DOMAIN_TRAINING, GGUF_PHASE
from tara_api.meta import GROUP
from tara_operator import names
from tara_operator.settings import OperatorSettings

__all__ = ["render_trainer_rbac"]


def render_trainer_rbac(namespace: str, settings: OperatorSettings) -> list[dict[str, Any]]:
    sa = settings.trainer_service_account
    meta = {"name": sa, "namespace": namespace,
            "labels": {"app.kubernetes.io/name": "tara", "app.kubernetes.io/component": "trainer",
                       "app.kubernetes.io/managed-by": names.MANAGED_BY}}
    return [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": meta,
         "rules": [{"apiGroups": [GROUP], "resources": [f"{DOMAIN_TRAINING.plural}/status", f"{GGUF_PHASE.plural}/status"],
                    "verbs": ["patch"]}]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": meta,
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": sa},
         "subjects": [{"kind": "ServiceAccount", "name": sa, "namespace": namespace}]},
    ]
