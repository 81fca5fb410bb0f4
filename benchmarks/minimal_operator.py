"""The baseline of bench_operator.py: the least a kopf operator can do for a DomainTraining,
create one Job, with the same client library. Run as ``kopf run --standalone -A minimal_operator.py``."""

from __future__ import annotations

from typing import Any

import kopf
from kubernetes import client, config

config.load_kube_config()
BATCH = client.BatchV1Api()


@kopf.on.startup()
def configure(settings: kopf.OperatorSettings, **_: Any) -> None:
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix="bench.tara.dev")
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(prefix="bench.tara.dev")
    settings.execution.max_workers = 16


@kopf.on.login()
def login(**kwargs: Any) -> kopf.ConnectionInfo | None:
    return kopf.login_via_client(**kwargs)


@kopf.on.create("tara.dev", "v1alpha1", "domaintrainings")
def create_job(name: str, namespace: str, **_: Any) -> None:
    BATCH.create_namespaced_job(namespace, {
        "metadata": {"name": f"{name}-train-1", "labels": {"tara.dev/domaintraining": name}},
        "spec": {"backoffLimit": 0, "template": {"spec": {"restartPolicy": "Never",
                                                          "containers": [{"name": "trainer", "image": "trainer"}]}}},
    })
