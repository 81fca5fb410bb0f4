"""`tara phase ...` end to end: against the real control plane through the official client
(in-process via ``main``, and as the installed console script), and on manifest files."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml
from cli_support import NAMESPACE, Result, write_kubeconfig
from cluster_support import install_crds
from controlplane import ControlPlane
from kubernetes import client
from kubernetes.client.rest import ApiException

from tara_api import crd
from tara_cli import cluster
from tara_cli.serve import free_port

ROOT = Path(__file__).resolve().parents[2]
GROUP, VERSION, PLURAL = "tara.dev", "v1alpha1", "ggufphases"
Tara = Callable[..., Result]


def _stored(custom: client.CustomObjectsApi, name: str, ns: str = NAMESPACE) -> dict[str, Any]:
    return custom.get_namespaced_custom_object(GROUP, VERSION, ns, PLURAL, name)


def _as_stored(spec: dict[str, Any]) -> dict[str, Any]:
    """A GGUFPhase ``spec`` as the server stores it: the CRD's defaults filled in."""
    schema = crd.crd_for(crd.GGUF_PHASE)["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
    return crd.apply_defaults(schema, spec)


def test_create_apply_then_list_and_show(tara: Tara, kubeconfig: Path, custom: client.CustomObjectsApi) -> None:
    k = ("--kubeconfig", str(kubeconfig))
    r = tara("phase", "create", "phase-1", "-d", "healthcare", "-d", "business", "-q", "Q4_K_M", "-t", "business=business-v2",
             "--apply", *k)
    assert (r.code, r.out, r.err) == (0, f"ggufphase {NAMESPACE}/phase-1 created\n", "")
    stored = _stored(custom, "phase-1")
    assert stored["spec"] == _as_stored({"phaseNumber": 1, "quantization": ["Q4_K_M"],
                                         "domains": [{"domain": "healthcare"}, {"domain": "business", "training": "business-v2"}]})

    r = tara("phase", "list", *k)
    assert r.code == 0
    header, row = r.out.splitlines()
    assert header.split() == ["NAME", "PHASE", "DOMAINS", "QUANTIZATION", "REVISION", "ENDPOINT", "AGE"]
    assert row.split()[:5] == ["phase-1", "-", "-/2", "Q4_K_M", "-"]

    # What the operator reports shows up in list and show.
    custom.patch_namespaced_custom_object_status(GROUP, VERSION, NAMESPACE, PLURAL, "phase-1", {"status": {
        "phase": "Training", "domainsReady": "1/2",
        "domains": [{"domain": "healthcare", "training": "healthcare", "state": "Complete", "evalLoss": 1.25},
                    {"domain": "business", "training": "business-v2", "state": "Training", "message": "step 40/200"}],
        "conditions": [{"type": "DomainsReady", "status": "False", "reason": "Training", "message": "1/2 domains trained",
                        "lastTransitionTime": "2025-06-01T10:00:00Z"}]}})
    r = tara("list-phases", "-A", *k)  # the original design's name
    rows = [line.split() for line in r.out.splitlines()[1:]]
    assert [row[:4] for row in rows if row[:2] == ["phase-1", NAMESPACE]] == [["phase-1", NAMESPACE, "Training", "1/2"]]
    r = tara("phase", "show", "phase-1", *k)
    assert r.code == 0, r.err
    assert "Phase:        Training" in r.out and "Domains (1/2 ready):" in r.out
    assert "  business     business-v2   1        Training   -           step 40/200" in r.out
    assert "DomainsReady   False    Training" in r.out and "1/2 domains trained" in r.out
    r = tara("show-phase", "phase-1", "-o", "json", *k)
    assert json.loads(r.out) == _stored(custom, "phase-1")
    r = tara("phase", "show", "phase-1", "-o", "yaml", *k)
    assert yaml.safe_load(r.out) == _stored(custom, "phase-1")


def test_create_twice_is_already_exists(tara: Tara, kubeconfig: Path) -> None:
    args = ("create-phase", "twice", "-d", "healthcare", "--apply", "--kubeconfig", str(kubeconfig))
    assert tara(*args).code == 0
    r = tara(*args)
    assert (r.code, r.out, r.err) == (1, "", f"error: ggufphase {NAMESPACE}/twice already exists\n")


def test_file_from_create_validates_and_equals_what_apply_stores(tara: Tara, kubeconfig: Path, tmp_path: Path,
                                                                 custom: client.CustomObjectsApi) -> None:
    args = ["phase", "create", "phase-7", "-d", "education,creative", "-d", "leadership", "-q", "Q4_K_M", "-q", "Q8_0",
            "-s", "ties", "--density", "0.4", "-w", "creative=0.8", "-n", "team-c"]
    out = tmp_path / "phase-7.yaml"
    r = tara(*args, "-o", str(out))
    assert (r.code, r.out) == (0, f"wrote {out}\n")
    assert tara("validate", str(out)).code == 0
    assert tara("plan", str(out)).out.splitlines()[1].split()[:3] == ["phase", "phase-7", "#7"]
    printed = tara(*args)
    assert yaml.safe_load(printed.out) == yaml.safe_load(out.read_text())  # stdout and -o agree

    assert tara(*args, "--apply", "--kubeconfig", str(kubeconfig)).code == 0
    stored = _stored(custom, "phase-7", "team-c")
    manifest = yaml.safe_load(out.read_text())
    assert stored["spec"] == _as_stored(manifest["spec"])
    assert {k: stored["metadata"][k] for k in manifest["metadata"]} == manifest["metadata"]
    assert (stored["apiVersion"], stored["kind"]) == (manifest["apiVersion"], manifest["kind"])

    r = tara(*args, "-o", str(out))
    assert (r.code, r.err) == (1, f"error: {out} exists (use --force to overwrite it)\n")
    assert tara(*args[:-2], "-o", str(out), "--force").code == 0  # without the namespace now
    assert "namespace" not in yaml.safe_load(out.read_text())["metadata"]


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["-d", "mental_health"], ["spec.domains[1].domain: 'mental_health' does not match", "hint: domain names may be your own"]),
        (["-q", "Q3_K"], ["spec.quantization[0]: 'Q3_K' is not one of"]),
        (["-s", "adapters", "--svd-rank", "4"], ["spec.merge: svdRank applies only to svd [cel]"]),
        (["-t", "nope=x"], ["error: --training names nope, not among the phase's domains"]),
    ],
    ids=["domain-name", "quantization", "cel-rule", "training-of-unknown-domain"],
)
def test_create_refuses_invalid_phases_as_validate_words_them(tara: Tara, tmp_path: Path, kubeconfig: Path,
                                                               extra: list[str], expected: list[str]) -> None:
    out = tmp_path / "bad.yaml"
    r = tara("phase", "create", "bad", "-d", "healthcare", *extra, "-o", str(out), "--apply", "--kubeconfig", str(kubeconfig))
    assert r.code == 1 and r.out == ""
    for text in expected:
        assert text in r.err, r.err
    assert not out.exists()
    if extra[0] != "-t":
        assert r.err.startswith(f"error  {out}#1 (GGUFPhase/bad): ")  # the words of `tara validate`
    assert tara("phase", "show", "bad", "--kubeconfig", str(kubeconfig)).code == 1  # nothing was created


def test_add_domain_in_the_cluster(tara: Tara, kubeconfig: Path, custom: client.CustomObjectsApi) -> None:
    k = ("--kubeconfig", str(kubeconfig))
    assert tara("phase", "create", "grow", "-d", "healthcare", "--apply", *k).code == 0
    r = tara("phase", "add-domain", "grow", "education", "--training", "edu-v2", *k)
    assert (r.code, r.out) == (0, f"ggufphase {NAMESPACE}/grow: added domain education (2 domains)\n")
    stored = _stored(custom, "grow")
    assert stored["spec"]["domains"] == _as_stored({"domains": [{"domain": "healthcare"}, {"domain": "education", "training": "edu-v2"}]})["domains"]
    assert stored["metadata"]["generation"] == 2

    r = tara("add-domain", "grow", "education", *k)
    assert (r.code, r.err) == (1, "error: domain 'education' is already in phase grow\n")
    r = tara("phase", "add-domain", "grow", "Bad_Name", *k)
    assert r.code == 1 and f"error  {NAMESPACE}/grow#1 (GGUFPhase/grow): spec.domains[2].domain:" in r.err
    assert _stored(custom, "grow")["metadata"]["resourceVersion"] == stored["metadata"]["resourceVersion"]  # untouched


def test_add_domain_retries_when_someone_else_changed_the_phase(tara: Tara, kubeconfig: Path,
                                                               custom: client.CustomObjectsApi,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    k = ("--kubeconfig", str(kubeconfig))
    assert tara("phase", "create", "busy", "-d", "healthcare", "--apply", *k).code == 0
    real_get, real_patch, calls, refused = cluster.get, cluster.patch, [], []

    def get_then_race(*args: Any) -> dict[str, Any]:
        obj = real_get(*args)
        calls.append(obj["metadata"]["resourceVersion"])
        if len(calls) == 1:  # another client adds a domain between our read and our write
            custom.patch_namespaced_custom_object(GROUP, VERSION, NAMESPACE, PLURAL, "busy",
                                                  {"spec": {"domains": [{"domain": "healthcare"}, {"domain": "business"}]}})
        return obj

    def patch(*args: Any) -> dict[str, Any]:
        try:
            return real_patch(*args)
        except cluster.ClusterError as exc:
            refused.append(exc.reason)
            raise

    monkeypatch.setattr(cluster, "get", get_then_race)
    monkeypatch.setattr(cluster, "patch", patch)
    r = tara("phase", "add-domain", "busy", "education", *k)
    assert (r.code, r.err) == (0, ""), r.err
    assert len(calls) == 2 and refused == ["Conflict"]  # the server refused the write from the stale version once
    assert [d["domain"] for d in _stored(custom, "busy")["spec"]["domains"]] == ["healthcare", "business", "education"]


PHASE_FILE_EXTRA = """\
---
apiVersion: tara.dev/v1alpha1
kind: DomainTraining
metadata:
  name: education
spec:
  domain: education
  baseModel: {repo: meta-llama/Llama-3.2-1B-Instruct}
  dataset: {builtin: education}
  resources: {accelerator: cpu}
"""


def test_add_domain_to_a_file(tara: Tara, tmp_path: Path) -> None:
    path = tmp_path / "phases.yaml"
    path.write_text((ROOT / "configs" / "phases" / "phase-1.yaml").read_text() + PHASE_FILE_EXTRA)
    before = yaml.safe_load_all(path.read_text())
    before = list(before)
    r = tara("phase", "add-domain", "phase-1", "education", "-t", "education", "-f", str(path))
    assert (r.code, r.out) == (0, f"{path}: added domain education to phase-1 (3 domains)\n")
    assert r.err == f"note: comments in {path} were not kept\n"
    after = list(yaml.safe_load_all(path.read_text()))
    assert after[1] == before[1]  # the other document is kept, in place
    assert after[0]["spec"]["domains"][-1] == {"domain": "education", "training": "education"}
    before[0]["spec"]["domains"].append({"domain": "education", "training": "education"})
    assert after[0] == before[0]
    assert list(after[0]["spec"]) == list(before[0]["spec"])  # key order kept
    assert tara("validate", str(path)).code == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["phases.yaml"]  # no temporary file left

    text = path.read_text()
    for args, error in [
        (("phase-1", "education"), "error: domain 'education' is already in phase phase-1\n"),
        (("phase-2", "x"), f"error: no GGUFPhase named phase-2 in {path} (it holds phase-1)\n"),
    ]:
        r = tara("phase", "add-domain", *args, "-f", str(path))
        assert (r.code, r.err) == (1, error)
    r = tara("phase", "add-domain", "phase-1", "x" * 64, "-f", str(path))
    assert r.code == 1 and "spec.domains[3].domain" in r.err
    assert path.read_text() == text  # a refused edit leaves the file as it was


def test_list_and_show_from_files(tara: Tara, tmp_path: Path) -> None:
    r = tara("phase", "list", "-f", str(ROOT / "configs" / "phases"))
    assert r.code == 0
    rows = [line.split() for line in r.out.splitlines()]
    assert [row[0] for row in rows] == ["NAME", "phase-1", "phase-2-universal", "phase-2"]
    assert rows[2][1:4] == ["-", "-/3", "Q4_K_M,Q2_K,Q5_K_M,Q8_0"]
    r = tara("phase", "show", "-f", str(ROOT / "configs" / "phases" / "phase-2.yaml"))
    assert r.code == 0 and "Quantization: Q4_K_M, Q5_K_M (auto: the build chooses the smallest type that passes; not built yet)" in r.out
    empty = tmp_path / "none.yaml"
    empty.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
    r = tara("phase", "list", "-f", str(empty))
    assert (r.code, r.out, r.err) == (0, "", f"no ggufphases found in {empty}\n")
    r = tara("phase", "list", "-f", str(tmp_path / "missing"))
    assert (r.code, r.err) == (1, f"error: {tmp_path / 'missing'}: no such file or folder\n")


def test_not_found(tara: Tara, kubeconfig: Path) -> None:
    k = ("--kubeconfig", str(kubeconfig))
    for args in (("phase", "show", "nope"), ("phase", "add-domain", "nope", "x"), ("phase", "show", "nope", "-n", "elsewhere")):
        r = tara(*args, *k)
        ns = "elsewhere" if "-n" in args else NAMESPACE
        assert (r.code, r.out, r.err) == (1, "", f"error: ggufphase {ns}/nope not found\n")
    r = tara("phase", "list", "-n", "empty-ns", *k)
    assert (r.code, r.out, r.err) == (0, "", "no ggufphases found in namespace empty-ns\n")
    r = tara("phase", "create", "p", "-d", "healthcare", "--apply", "-n", "empty-ns", *k)  # the server: no such namespace
    assert (r.code, r.out, r.err) == (1, "", "error: namespace empty-ns not found\n")


def test_context_chooses_the_namespace(tara: Tara, kubeconfig: Path, custom: client.CustomObjectsApi) -> None:
    k = ("--kubeconfig", str(kubeconfig), "--context", "other")
    assert tara("phase", "create", "ctx", "-d", "healthcare", "--apply", *k).out == "ggufphase team-b/ctx created\n"
    assert _stored(custom, "ctx", "team-b")["metadata"]["namespace"] == "team-b"


@contextmanager
def _phases_not_served(plane: ControlPlane, custom: client.CustomObjectsApi) -> Iterator[None]:
    """The server stops serving ggufphases (the CRD's only version switched off: what a cluster
    without the CRD answers too, while deleting the CRD would delete every GGUFPhase of the run's
    cluster); the CRDs are applied again afterwards."""
    def served() -> bool:
        try:
            custom.list_namespaced_custom_object(GROUP, VERSION, NAMESPACE, PLURAL)
        except ApiException as exc:
            if exc.status != 404:
                raise
            return False
        return True

    def wait(want: bool) -> None:
        deadline = time.monotonic() + 30
        while served() != want:
            assert time.monotonic() < deadline, f"ggufphases served={served()} after 30 s"
            time.sleep(0.1)

    plane.kubectl("patch", "crd", f"{PLURAL}.{GROUP}", "--type=json",
                  "-p", '[{"op": "replace", "path": "/spec/versions/0/served", "value": false}]')
    try:
        wait(False)
        yield
    finally:
        install_crds(plane)
        wait(True)


def test_crds_not_installed(tara: Tara, kubeconfig: Path, control_plane: ControlPlane,
                            custom: client.CustomObjectsApi) -> None:
    k = ("--kubeconfig", str(kubeconfig))
    with _phases_not_served(control_plane, custom):
        for args in (("phase", "list"), ("phase", "show", "p"), ("phase", "create", "p", "-d", "a", "--apply")):
            r = tara(*args, *k)
            assert r.code == 1 and r.err.endswith("install the CRDs: kubectl apply -f crds/ or the Helm chart\n"), r.err
            assert r.err.count("\n") == 1


def test_unreachable_cluster_and_bad_kubeconfig(tara: Tara, tmp_path: Path) -> None:
    k = ("--kubeconfig", str(write_kubeconfig(tmp_path / "config", f"http://127.0.0.1:{free_port()}")))
    r = tara("phase", "list", *k)
    assert r.code == 1 and r.err.startswith("error: cannot connect to the cluster at http://127.0.0.1:") and r.err.count("\n") == 1
    r = tara("phase", "list", "--kubeconfig", str(tmp_path / "nope"))
    assert (r.code, r.err) == (1, f"error: kubeconfig {tmp_path / 'nope'} not found\n")
    r = tara("phase", "list", *k, "--context", "missing")
    assert r.code == 1 and r.err.startswith(f"error: cannot use kubeconfig {tmp_path / 'config'}: ")


@pytest.mark.parametrize(
    "args",
    [("phase", "show"), ("phase", "add-domain", "p", "d", "-f", "x.yaml", "-n", "ns"), ("phase", "create", "p"),
     ("phase", "create", "p", "-d", "a", "-s", "sparse"), ("phase",), ("phase", "list", "-A", "-n", "x")],
    ids=["show-no-name", "file-and-namespace", "no-domain", "unknown-strategy", "no-verb", "all-and-namespace"],
)
def test_usage_errors_exit_2(tara: Tara, args: tuple[str, ...]) -> None:
    r = tara(*args)
    assert r.code == 2 and "usage:" in r.err


def test_console_script_against_the_cluster(kubeconfig: Path, tmp_path: Path, custom: client.CustomObjectsApi) -> None:
    tara = shutil.which("tara", path=str(Path(sys.executable).parent))
    assert tara, "the tara console script is installed next to the interpreter"

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([tara, *args, "--kubeconfig", str(kubeconfig)], capture_output=True, text=True, timeout=60, check=False)

    created = run("phase", "create", "scripted", "-d", "healthcare", "-d", "business", "--apply", "-n", "scripts")
    assert (created.returncode, created.stdout, created.stderr) == (0, "ggufphase scripts/scripted created\n", "")
    listed = run("phase", "list", "-n", "scripts")
    assert listed.returncode == 0 and listed.stdout.splitlines()[1].split()[:3] == ["scripted", "-", "-/2"]
    missing = run("phase", "show", "nope", "-n", "scripts")
    assert (missing.returncode, missing.stderr) == (1, "error: ggufphase scripts/nope not found\n")  # no traceback
