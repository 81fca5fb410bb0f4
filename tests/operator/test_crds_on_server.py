"""The CRDs as a real kube-apiserver takes them: the previous GGUFPhase CRD refused and the current
one accepted, an upgrade from the previous CRDs that does not restart running trainings, and the
printer columns and field descriptions as ``kubectl get`` and ``kubectl explain`` show them."""

from __future__ import annotations

import copy
import time
from pathlib import Path

import pytest
import yaml
from cluster_support import ROOT, install_crds
from operator_support import GROUP, VERSION, Operator, trainer_patcher, wait_for

from tara_trainer.progress import Progress, status_patch

pytestmark = pytest.mark.slow

PREVIOUS = Path(__file__).resolve().parents[1] / "cluster" / "previous-crds"
CURRENT = ROOT / "crds"


def _renamed(path: Path, group: str) -> str:
    """The CRD under another API group, so that a server-side dry run can judge it beside ours."""
    crd = yaml.safe_load(path.read_text())
    crd = copy.deepcopy(crd)
    crd["metadata"]["name"] = f"{crd['spec']['names']['plural']}.{group}"
    crd["spec"]["group"] = group
    return yaml.safe_dump(crd)


def test_previous_ggufphase_crd_is_refused_and_the_current_one_accepted(control_plane) -> None:
    old = control_plane.kubectl("apply", "--dry-run=server", "-f", "-", check=False,
                                input=_renamed(PREVIOUS / "tara.dev_ggufphases.yaml", "previous.tara.dev"))
    assert old.returncode != 0
    assert "routerWeights" in old.stderr and "no such key: content" in old.stderr, old.stderr
    new = control_plane.kubectl("apply", "--dry-run=server", "-f", "-", check=False,
                                input=_renamed(CURRENT / "tara.dev_ggufphases.yaml", "previous.tara.dev"))
    assert new.returncode == 0, new.stderr


def _dt(name: str) -> dict:
    return {"apiVersion": f"{GROUP}/{VERSION}", "kind": "DomainTraining", "metadata": {"name": name},
            "spec": {"domain": "healthcare", "baseModel": {"repo": "Qwen/Qwen2.5-3B-Instruct"},
                     "dataset": {"builtin": "healthcare"}, "resources": {"accelerator": "cpu"}}}


def _without_seed(path: Path) -> str:
    """The previous DomainTraining CRD as a release without ``spec.training.seed`` would have it: the
    current CRD has that field with a default, which the server fills in when it reads older objects."""
    crd = yaml.safe_load(path.read_text())
    training = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]["training"]
    del training["properties"]["seed"]
    training.get("default", {}).pop("seed", None)
    return yaml.safe_dump(crd)


def test_crd_upgrade_does_not_restart_running_trainings(control_plane, operator: Operator, cluster, tmp_path) -> None:
    ns = cluster.namespace("crd-upgrade")
    try:
        control_plane.kubectl("apply", "--server-side", "--force-conflicts", "-f", "-",
                              input=_without_seed(PREVIOUS / "tara.dev_domaintrainings.yaml"))
        for name in ("one", "two"):
            cluster.custom.create_namespaced_custom_object(GROUP, VERSION, ns, "domaintrainings", _dt(name))
        for name in ("one", "two"):
            wait_for(f"{name} Running", lambda n=name: cluster.status(ns, n).get("phase") == "Running")
        assert trainer_patcher(control_plane, ns, "one", tmp_path / "sa").patch(
            status_patch(Progress("healthcare", "Running", step=7, total_steps=100, loss=2.0)))
        before = {n: (cluster.status(ns, n)["jobName"], cluster.training(ns, n)["metadata"]["generation"]) for n in ("one", "two")}

        assert "seed" not in cluster.training(ns, "one")["spec"]["training"]
        install_crds(control_plane)  # the upgrade: the current CRDs over the previous ones
        assert cluster.training(ns, "one")["spec"]["training"]["seed"] == 42  # the new default, filled in on read
        time.sleep(5)  # several of the operator's resyncs (TARA_RESYNC_SECONDS=1)
        for name in ("one", "two"):
            status = cluster.status(ns, name)
            assert (status["jobName"], cluster.training(ns, name)["metadata"]["generation"]) == before[name]
            assert status["phase"] == "Running" and status["attempts"] == 1
            assert not [c for c in status["conditions"] if c["type"] == "SpecChanged" and c["status"] == "True"]
            assert [j.metadata.name for j in cluster.jobs(ns, f"tara.dev/domaintraining={name}")] == [before[name][0]]
        assert cluster.status(ns, "one")["progress"]["step"] == 7
    finally:
        install_crds(control_plane)


def test_kubectl_get_columns_and_explain_descriptions(control_plane, operator: Operator, cluster, tmp_path) -> None:
    ns = cluster.namespace("kubectl-views")
    cluster.custom.create_namespaced_custom_object(GROUP, VERSION, ns, "domaintrainings", _dt("hc"))
    wait_for("Running", lambda: cluster.status(ns, "hc").get("phase") == "Running")
    split = {"kind": "grouped", "groups": 65, "largestGroup": 8, "rowsMoved": 43}
    assert trainer_patcher(control_plane, ns, "hc", tmp_path / "sa").patch(status_patch(Progress(
        "healthcare", "Running", step=40, total_steps=100, loss=2.5, eval_loss=2.75, tokens_per_second=812.5,
        checkpoint="/ckpt/checkpoint-40", checkpoint_step=40,
        data={"path": "/data/healthcare.jsonl", "rows": 270, "badRows": 0, "train": 241, "eval": 29, "split": split})))
    assert cluster.status(ns, "hc")["data"] == {"rows": 270, "badRows": 0, "train": 241, "eval": 29, "split": split}
    table = control_plane.kubectl("get", "dt", "-n", ns).stdout.split("\n")
    assert table[0].split() == ["NAME", "DOMAIN", "PHASE", "PROGRESS", "STEP", "LOSS", "AGE"]
    assert table[1].split()[:6] == ["hc", "healthcare", "Running", "40", "40", "2.5"]
    wide = control_plane.kubectl("get", "domaintrainings", "-n", ns, "-o", "wide").stdout.split("\n")
    assert wide[0].split()[6:10] == ["EVAL", "TOK/S", "ETA", "CHECKPOINT"]
    assert wide[1].split()[6:8] == ["2.75", "812.5"]
    explain = control_plane.kubectl("explain", "domaintraining.spec.lora.r").stdout
    assert "FIELD: r <integer>" in explain and "LoRA rank" in explain
    explain = control_plane.kubectl("explain", "domaintraining.spec.dataset.split").stdout
    assert "grouped" in explain and "memorised answers" in explain
    explain = control_plane.kubectl("explain", "ggufphase.spec.serving.progressDeadlineSeconds").stdout
    assert "previous revision is restored" in explain


def test_a_gguf_base_is_checked_by_the_server_and_its_dequantized_start_fits_the_status(
    control_plane, operator: Operator, cluster, tmp_path
) -> None:
    ns = cluster.namespace("gguf-base")
    folder = _dt("folder")
    folder["spec"]["baseModel"] = {"path": "models/smol.Q4_1.gguf/", "claimName": "models"}
    refused = control_plane.kubectl("apply", "--dry-run=server", "-n", ns, "-f", "-", check=False, input=yaml.safe_dump(folder))
    assert refused.returncode != 0 and "a .gguf path names a file" in refused.stderr, refused.stderr

    body = _dt("hc")
    body["spec"]["baseModel"] = {"path": "/models/smol.Q4_1.gguf"}
    cluster.custom.create_namespaced_custom_object(GROUP, VERSION, ns, "domaintrainings", body)
    wait_for("Running", lambda: cluster.status(ns, "hc").get("phase") == "Running")
    gguf = {"sha256": "ab" * 32, "fileType": "Q4_1", "quantTypes": {"F32": 61, "Q4_1": 210, "Q8_0": 1},
            "architecture": "llama", "parameters": 134515008, "dtype": "bfloat16",
            "dequantizedTo": "/mnt/tara/output/.cache/tara/gguf-base/abababababababab-bfloat16", "seconds": 16.2,
            "reused": False, "verification": {"passed": True, "tolerance": 0.02, "texts": 6, "tokens": 130,
                                               "meanKlDivergence": 0.0046, "maxKlDivergence": 0.054, "top1Agreement": 0.94,
                                               "maxAbsLogitDiff": 4.39, "perplexityLlamaCpp": 83.6,
                                               "perplexityDequantized": 82.8, "tokenizerMismatches": [], "seconds": 1.9}}
    assert trainer_patcher(control_plane, ns, "hc", tmp_path / "sa").patch(status_patch(Progress(
        "healthcare", "Running", base_model="/models/smol.Q4_1.gguf", base_gguf=gguf)))  # Strict: every field known
    assert cluster.status(ns, "hc")["baseModel"] == {"path": "/models/smol.Q4_1.gguf", "gguf": gguf}


def _phase(name: str, **spec) -> dict:
    return {"apiVersion": f"{GROUP}/{VERSION}", "kind": "GGUFPhase", "metadata": {"name": name},
            "spec": {"phaseNumber": 1, "domains": [{"domain": "healthcare"}, {"domain": "business"}], **spec}}


def test_merge_gate_and_serving_targets_on_the_server(control_plane, operator: Operator, cluster, tmp_path) -> None:
    from tara_trainer.export.build import phase_status

    ns = cluster.namespace("quality-gates")
    # a phase that does not ask for them gets neither filled in: no default changes a stored phase's build inputs
    cluster.custom.create_namespaced_custom_object(GROUP, VERSION, ns, "ggufphases", _phase("plain"))
    plain = cluster.custom.get_namespaced_custom_object(GROUP, VERSION, ns, "ggufphases", "plain")["spec"]
    assert "maxMergeLoss" not in plain["qualityGate"] and "targets" not in plain["serving"]
    assert plain["qualityGate"]["logitTolerance"] == 0.1  # defaults the server does fill in
    # the merge gate needs a merge
    refused = control_plane.kubectl("apply", "--dry-run=server", "-n", ns, "-f", "-", check=False,
                                    input=yaml.safe_dump(_phase("wrong", qualityGate={"maxMergeLoss": 0.05})))
    assert refused.returncode != 0 and "maxMergeLoss applies only to a merge strategy" in refused.stderr, refused.stderr
    refused = control_plane.kubectl("apply", "--dry-run=server", "-n", ns, "-f", "-", check=False,
                                    input=yaml.safe_dump(_phase("wrong", serving={"targets": {"maxFileSize": "-1Gi"}})))
    assert refused.returncode != 0 and "maxFileSize" in refused.stderr, refused.stderr
    gated = _phase("gated", merge={"strategy": "ties"}, qualityGate={"maxMergeLoss": 0.05},
                   serving={"quantization": "auto", "targets": {"maxFileSize": "2Gi", "maxMemory": 3221225472, "maxQualityLoss": 0.05}})
    cluster.custom.create_namespaced_custom_object(GROUP, VERSION, ns, "ggufphases", gated)
    # what a finished build reports passes the server's schema with Strict field validation (a training's
    # reconcile creates the trainer's ServiceAccount, which the build Job runs as)
    cluster.custom.create_namespaced_custom_object(GROUP, VERSION, ns, "domaintrainings", _dt("healthcare"))
    wait_for("Running", lambda: cluster.status(ns, "healthcare").get("phase") == "Running")
    manifest = {
        "artifacts": [{"kind": "merged", "quantization": "Q4_K_M", "path": "universal-ties-Q4_K_M.gguf", "bytes": 1900000000,
                       "sha256": "ab" * 32, "bitsPerWeight": 4.9, "perplexity": 8.4, "perplexityIncrease": 0.031}],
        "served": {"quantization": "Q4_K_M", "model": "universal-ties-Q4_K_M.gguf", "loras": {},
                   "reason": "auto: Q4_K_M 1.77 GiB, memory 2.02 GiB, quality loss +3.10% is the smallest type that passes "
                             "the quality gate and meets serving.targets"},
        "checks": {"merge": {"domains": [
            {"domain": "healthcare", "adapterPerplexity": 8.1, "mergedPerplexity": 8.4, "basePerplexity": 11.2, "loss": 0.037,
             "gainKept": 0.9, "allowed": 0.05, "passed": True},
            {"domain": "business", "adapterPerplexity": 9.0, "mergedPerplexity": 9.1, "basePerplexity": 12.0, "loss": 0.011,
             "gainKept": 0.97, "allowed": 0.05, "passed": True}]}},
    }
    report = phase_status(manifest, Path("/mnt/tara/phases/gated/rev-1"))
    assert trainer_patcher(control_plane, ns, "gated", tmp_path / "sa", plural="ggufphases").patch({"status": report})
    status = cluster.custom.get_namespaced_custom_object(GROUP, VERSION, ns, "ggufphases", "gated")["status"]
    assert status["builtReason"] == manifest["served"]["reason"] and status["builtQuantization"] == "Q4_K_M"
    assert status["builtRevision"] == 1 and "servedQuantization" not in status and "servedReason" not in status  # the operator
    # says those once the revision serves
    assert status["mergeCheck"][0] == {"domain": "healthcare", "adapterPerplexity": 8.1, "mergedPerplexity": 8.4, "loss": 0.037,
                                       "allowed": 0.05, "passed": True}
    explain = control_plane.kubectl("explain", "ggufphase.spec.serving.targets.maxMemory").stdout
    assert "KV cache" in explain
