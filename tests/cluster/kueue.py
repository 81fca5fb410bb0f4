"""Kueue's CRDs for the queueing tests, from the pinned Go module; prints the folder.

    python tests/cluster/kueue.py

The operator reads the Workloads Kueue makes for its Jobs (``kueue.x-k8s.io``); the tests install
Kueue's own CRDs on the real control plane so that the API server enforces Kueue's schema and CEL
rules on every Workload, and then play Kueue's controller themselves (create the Workload of a Job,
reserve quota, admit, evict, unsuspend): building and running Kueue's manager is not needed for
what the operator observes. The CRDs come from ``sigs.k8s.io/kueue`` (``config/components/crd/bases``)
through the Go module proxy, pinned and checksummed by ``tests/cluster/gomod/kueue/go.{mod,sum}``;
the folder is cached as ``<tara cache>/kueue/<version>-<hash of the pins>/crds`` and written whole
before it is renamed into place.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from binaries import BuildError, _go, _go_env  # noqa: E402 - the same Go rules as the control plane
from helmbin import cache_dir  # noqa: E402 - binaries put tests/helm on sys.path

__all__ = ["KUEUE_CRDS", "KUEUE_MODULE", "ensure_kueue_crds"]

GOMOD = Path(__file__).resolve().parent / "gomod" / "kueue"
KUEUE_MODULE = "sigs.k8s.io/kueue"
# The kinds a queue needs; Workload is the one the operator reads.
KUEUE_CRDS = ("workloads", "localqueues", "clusterqueues", "resourceflavors", "workloadpriorityclasses")


def _version() -> str:
    for line in (GOMOD / "go.mod").read_text().splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[:2] == ["require", KUEUE_MODULE]:
            return parts[2]
    raise BuildError(f"{GOMOD / 'go.mod'} requires no {KUEUE_MODULE}")


def ensure_kueue_crds(env: dict[str, str] | None = None) -> Path:
    """The folder of Kueue's CRDs at the pinned version, downloaded first when the cache lacks it.

    Raises BuildError when Go or the module proxy fails."""
    import os

    env = dict(os.environ if env is None else env)
    pins = hashlib.sha256((GOMOD / "go.mod").read_bytes() + (GOMOD / "go.sum").read_bytes()).hexdigest()[:12]
    final = cache_dir(env) / "kueue" / f"{_version()}-{pins}"
    if (final / "stamp.json").is_file():
        return final / "crds"
    proc = subprocess.run([_go(), "mod", "download", "-json", KUEUE_MODULE], cwd=GOMOD, env=_go_env(env),
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise BuildError(f"go mod download {KUEUE_MODULE} failed:\n{(proc.stdout + proc.stderr)[-3000:]}")
    module = Path(json.loads(proc.stdout)["Dir"])
    partial = final.with_name(final.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    (partial / "crds").mkdir(parents=True)
    for kind in KUEUE_CRDS:
        source = module / "config" / "components" / "crd" / "bases" / f"kueue.x-k8s.io_{kind}.yaml"
        (partial / "crds" / source.name).write_bytes(source.read_bytes())
    (partial / "stamp.json").write_text(json.dumps({"module": KUEUE_MODULE, "version": _version(), "crds": list(KUEUE_CRDS)}))
    shutil.rmtree(final, ignore_errors=True)
    partial.rename(final)
    return final / "crds"


if __name__ == "__main__":
    try:
        print(ensure_kueue_crds())
    except BuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
