"""Build the pinned Kubernetes control plane from Go modules into the user cache; print the folder.

    python tests/cluster/binaries.py            # what `make controlplane` (and so `make test`) runs

The cluster tests run a real control plane, not an emulator: etcd, kube-apiserver,
kube-controller-manager, kube-scheduler, and kwok to fake nodes and pod lifecycles (there is no
kubelet and no container engine on these machines). Each comes from its Go module through the Go
module proxy, pinned by the ``go.mod``/``go.sum`` under ``tests/cluster/gomod/<name>/``:

* ``kubernetes``: ``k8s.io/kubernetes`` v1.37.2. Its go.mod requires the staging modules
  (``k8s.io/api``, ``k8s.io/apiserver``, ...) at v0.0.0 with replace directives into its own tree,
  which a consumer cannot use; ours replaces each with the published v0.37.2 (``go install
  pkg@version`` refuses modules with replace directives, hence ``go build`` in that module).
* ``etcd``: ``go.etcd.io/etcd/server/v3`` v3.6.16 (Debian's etcd is 3.4, older than what current
  kube-apiservers are tested with).
* ``kwok``: ``sigs.k8s.io/kwok`` v0.8.0.

Cache: ``<tara cache>/controlplane/<key>/`` where the key hashes the pins (the go.mod and go.sum
files) and the Go version, so a changed pin builds anew and fresh clones on the same machine reuse
the build. Binaries are built into a ``.partial`` folder; ``stamp.json`` is written last and the
folder renamed into place, so an interrupted build is never trusted. One line per binary while
building (a cold build takes minutes on two cores: see the README).
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "helm"))
from helmbin import cache_dir  # noqa: E402 - the cache rule lives with the other fetched binaries

__all__ = ["BINARIES", "BuildError", "ControlPlaneBinaries", "ensure_binaries"]

GOMOD = Path(__file__).resolve().parent / "gomod"
KUBERNETES_VERSION = "v1.37.2"
_VERSION_LDFLAGS = " ".join(
    f"-X {pkg}.{var}={value}"
    for pkg in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version")
    for var, value in (("gitVersion", KUBERNETES_VERSION), ("gitMajor", "1"), ("gitMinor", "37"),
                       ("gitTreeState", "clean"))
)


@dataclass(frozen=True)
class Binary:
    name: str
    module_dir: str  # under tests/cluster/gomod
    package: str
    ldflags: str = ""


# In build order: the two that every check needs come first, so a failure later still says so.
BINARIES = (
    Binary("etcd", "etcd", "go.etcd.io/etcd/server/v3"),
    Binary("kube-apiserver", "kubernetes", "k8s.io/kubernetes/cmd/kube-apiserver", _VERSION_LDFLAGS),
    Binary("kube-controller-manager", "kubernetes", "k8s.io/kubernetes/cmd/kube-controller-manager", _VERSION_LDFLAGS),
    Binary("kube-scheduler", "kubernetes", "k8s.io/kubernetes/cmd/kube-scheduler", _VERSION_LDFLAGS),
    Binary("kwok", "kwok", "sigs.k8s.io/kwok/cmd/kwok"),
)


class BuildError(RuntimeError):
    """A control-plane binary could not be built (Go missing, a module not served, a compile error)."""


@dataclass(frozen=True)
class ControlPlaneBinaries:
    folder: Path

    def path(self, name: str) -> Path:
        return self.folder / name


def _go() -> str:
    go = shutil.which("go") or shutil.which("go", path="/usr/local/go/bin")  # the machines' Go, PATH or not
    if not go:
        raise BuildError("the control plane is built from Go modules, and no `go` is on PATH (Go 1.26 or newer)")
    return go


def _go_env(env: Mapping[str, str]) -> dict[str, str]:
    # The machine's own Go; never a toolchain download. Static binaries: no libc coupling.
    return {**env, "GOTOOLCHAIN": "local", "CGO_ENABLED": "0", "GOFLAGS": "-mod=readonly"}


def cache_key(go_version: str) -> str:
    h = hashlib.sha256(go_version.encode())
    for b in BINARIES:
        h.update(f"{b.name} {b.package} {b.ldflags}\n".encode())
    for folder in sorted({b.module_dir for b in BINARIES}):
        for name in ("go.mod", "go.sum"):
            h.update((GOMOD / folder / name).read_bytes())
    return f"{KUBERNETES_VERSION}-{h.hexdigest()[:12]}"


def folder_for(env: Mapping[str, str] | None = None) -> Path:
    """Where the binaries of the current pins live (built or not); needs ``go`` on PATH."""
    env = os.environ if env is None else env
    go_version = subprocess.run([_go(), "env", "GOVERSION"], capture_output=True, text=True, check=True,
                                env=_go_env(env)).stdout.strip()
    return cache_dir(env) / "controlplane" / cache_key(f"{go_version} {platform.machine()}")


def cached(env: Mapping[str, str] | None = None) -> ControlPlaneBinaries | None:
    folder = folder_for(env)
    return ControlPlaneBinaries(folder) if (folder / "stamp.json").is_file() else None


def ensure_binaries(env: Mapping[str, str] | None = None, out=sys.stderr) -> ControlPlaneBinaries:
    """The cached build of the pinned control plane, building it first when missing.

    Raises BuildError with the failing binary and the tail of Go's output.
    """
    env = dict(os.environ if env is None else env)
    final = folder_for(env)
    if (final / "stamp.json").is_file():
        return ControlPlaneBinaries(final)
    partial = final.with_name(final.name + ".partial")
    partial.mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}
    started = time.monotonic()
    for i, b in enumerate(BINARIES, 1):
        target = partial / b.name
        if target.is_file():  # built by an interrupted run of the same pins
            print(f"control plane [{i}/{len(BINARIES)}] {b.name}: already built", file=out, flush=True)
            continue
        print(f"control plane [{i}/{len(BINARIES)}] {b.name}: building {b.package} ...", file=out, flush=True)
        t0 = time.monotonic()
        tmp = partial / f".{b.name}.tmp"
        cmd = [_go(), "build", "-trimpath", "-ldflags", f"-s -w {b.ldflags}".strip(), "-o", str(tmp), b.package]
        proc = subprocess.run(cmd, cwd=GOMOD / b.module_dir, env=_go_env(env), capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise BuildError(f"building {b.name} ({b.package}) failed:\n{(proc.stdout + proc.stderr)[-3000:]}")
        tmp.rename(target)
        timings[b.name] = round(time.monotonic() - t0, 1)
        print(f"control plane [{i}/{len(BINARIES)}] {b.name}: built in {timings[b.name]:.0f} s", file=out, flush=True)
    (partial / "stamp.json").write_text(json.dumps({
        "kubernetes": KUBERNETES_VERSION, "binaries": [b.package for b in BINARIES],
        "build_seconds": timings, "total_seconds": round(time.monotonic() - started, 1),
    }, indent=2))
    try:
        partial.rename(final)
    except OSError:
        if not (final / "stamp.json").is_file():  # not a concurrent build that won the race
            raise
        shutil.rmtree(partial, ignore_errors=True)
    return ControlPlaneBinaries(final)


def main() -> int:
    try:
        print(ensure_binaries().folder)
    except (BuildError, subprocess.CalledProcessError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
