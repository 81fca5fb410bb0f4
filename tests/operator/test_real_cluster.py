"""The operator against a real cluster: runs only when KUBECONFIG points at one that answers.

It installs the CRDs (server-side validation then applies: the schema and the CEL rules), runs
``tara-operator`` for one temporary namespace, creates a CPU DomainTraining, waits for its Job and
status, checks that the API server itself refuses an invalid manifest, and deletes the namespace.
The Job's pod may not start (the trainer image must be pullable); nothing here waits for training.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
import yaml
from operator_support import GROUP, VERSION, Operator, wait_for

pytestmark = [pytest.mark.cluster, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def real_api():
    path = os.environ.get("KUBECONFIG")
    if not path or not Path(path).is_file():
        pytest.skip("KUBECONFIG does not point at a cluster")
    from kubernetes import client, config

    try:
        api = config.new_client_from_config(config_file=path)
        client.VersionApi(api).get_code(_request_timeout=5)
    except Exception as exc:  # noqa: BLE001 - any failure means: no cluster to test against
        pytest.skip(f"the cluster in KUBECONFIG does not answer: {exc}")
    return api


def test_operator_on_a_real_cluster(real_api, tmp_path) -> None:
    from kubernetes import client
    from kubernetes.client.rest import ApiException

    ext = client.ApiextensionsV1Api(real_api)
    for crd in sorted((ROOT / "crds").glob("*.yaml")):
        body = yaml.safe_load(crd.read_text())
        try:
            ext.create_custom_resource_definition(body)
        except ApiException as exc:
            if exc.status != 409:
                raise
    ns = f"tara-e2e-{uuid.uuid4().hex[:6]}"
    core, custom = client.CoreV1Api(real_api), client.CustomObjectsApi(real_api)
    core.create_namespace({"metadata": {"name": ns}})
    op = Operator(Path(os.environ["KUBECONFIG"]), tmp_path / "operator.log", {"TARA_NAMESPACES": ns}).start()
    try:
        body = {"apiVersion": f"{GROUP}/{VERSION}", "kind": "DomainTraining", "metadata": {"name": "healthcare"},
                "spec": {"domain": "healthcare", "baseModel": {"repo": "Qwen/Qwen2.5-0.5B-Instruct"},
                         "dataset": {"builtin": "healthcare"}, "resources": {"accelerator": "cpu", "cpu": "1", "memory": "2Gi"}}}
        wait_for("CRDs established", lambda: custom.create_namespaced_custom_object(GROUP, VERSION, ns, "domaintrainings", body), 60)
        wait_for("Job", lambda: client.BatchV1Api(real_api).list_namespaced_job(ns).items, 60)
        status = wait_for("status", lambda: custom.get_namespaced_custom_object(GROUP, VERSION, ns, "domaintrainings", "healthcare")
                          .get("status"), 60)
        assert status["attempts"] == 1
        bad = {**body, "metadata": {"name": "bad"}, "spec": {**body["spec"], "lora": {"qlora": True}}}
        with pytest.raises(ApiException) as info:  # the CRD's CEL rule, enforced by the API server
            custom.create_namespaced_custom_object(GROUP, VERSION, ns, "domaintrainings", bad)
        assert info.value.status == 422 and "qlora" in info.value.body
    finally:
        op.stop()
        core.delete_namespace(ns)
