"""Suite-wide fixtures: fail any test that leaks threads it started; the tiny offline model; the
cached llama.cpp build; two domains trained on the tiny model; and a validated GGUF build of them.

The llama.cpp tools come from the user cache (``make llama`` fills it; the fixture builds it when
missing, which takes minutes once per machine). The adapters are trained in-process for a few
dozen steps, enough for each to move the logits visibly. Fixtures are lazy: a test run that needs
none of them builds none of them.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tara_api import DomainTraining, GGUFPhase
from tara_trainer.llamacpp import LlamaCpp, ensure_toolchain
from tara_trainer.settings import TrainerSettings
from tara_trainer.train import TrainRequest, train

sys.path.insert(0, str(Path(__file__).resolve().parent / "cluster"))  # controlplane, cluster_support

DOMAINS = ("healthcare", "business")


@pytest.fixture(autouse=True)
def _no_leaked_threads():
    before = set(threading.enumerate())
    yield
    leaked = [t for t in set(threading.enumerate()) - before if t.is_alive() and not t.daemon]
    # A pool shut down without waiting (transformers' weight loader: shutdown(wait=False)) may still be
    # ending its workers: a thread that ends within a grace period is not a leak, one that stays is.
    for thread in leaked:
        thread.join(timeout=5)
    leaked = [t for t in leaked if t.is_alive()]
    assert not leaked, f"test leaked threads: {leaked}"


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny offline Llama model and SentencePiece tokenizer, built once per session."""
    from tara_trainer.tiny import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny") / "model")



@pytest.fixture(scope="session")
def settings() -> TrainerSettings:
    env = {k: v for k, v in os.environ.items() if k in ("TARA_CACHE_DIR", "XDG_CACHE_HOME", "HOME")}
    return TrainerSettings.from_env({**env, "TARA_STATE_INTERVAL": "60", "TARA_THREADS": "2"})


@pytest.fixture(scope="session")
def toolchain(settings: TrainerSettings) -> LlamaCpp:
    return ensure_toolchain(settings.cache_dir)


def _training(domain: str, model: Path, steps: int = 24, lr: float = 3e-3, r: int = 8) -> DomainTraining:
    return DomainTraining.model_validate({
        "apiVersion": "tara.dev/v1alpha1", "kind": "DomainTraining", "metadata": {"name": domain},
        "spec": {
            "domain": domain, "baseModel": {"path": str(model)}, "dataset": {"builtin": domain},
            "lora": {"r": r, "alpha": 2 * r},
            "training": {"maxSteps": steps, "batchSize": 8, "sequenceLength": 128, "learningRate": lr,
                         "saveSteps": 1000, "evalSteps": 1000, "loggingSteps": 50, "gradientCheckpointing": False,
                         "warmupRatio": 0.0},
            "resources": {"accelerator": "cpu"},
            "qualityGate": {"enabled": False},
        },
    })


@pytest.fixture(scope="session")
def trainings_dir(tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path, settings: TrainerSettings) -> Path:
    """``<dir>/<domain>/adapter`` for each domain, as DomainTraining Jobs leave them on the volume."""
    root = tmp_path_factory.mktemp("trainings")
    for domain in DOMAINS:
        res = _training(domain, tiny_model_dir)
        train(TrainRequest(name=domain, spec=res.spec, output_dir=root / domain, base_dir=root), settings)
    return root


def _phase_manifest(path: Path, **spec) -> Path:
    body = {
        "apiVersion": "tara.dev/v1alpha1", "kind": "GGUFPhase", "metadata": {"name": path.stem},
        "spec": {"phaseNumber": 1, "domains": [{"domain": d} for d in DOMAINS], **spec},
    }
    path.write_text(yaml.safe_dump(body), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def domains() -> tuple[str, ...]:
    return DOMAINS


@pytest.fixture(scope="session")
def phase_manifest():
    """``phase_manifest(path, **spec)`` writes a GGUFPhase of the test domains with extra spec fields."""
    return _phase_manifest


@pytest.fixture(scope="session")
def training():
    """``training(domain, model, steps=, lr=, r=)``: a DomainTraining for the tiny model."""
    return _training


@pytest.fixture(scope="session")
def tiny_phase_build(tmp_path_factory: pytest.TempPathFactory, trainings_dir: Path, settings: TrainerSettings,
                     toolchain: LlamaCpp) -> Path:
    """A validated adapters build (Q8_0 served) of the two trained domains: what llama-server serves in tests."""
    from tara_trainer.export.build import BuildRequest, build

    root = tmp_path_factory.mktemp("phase-build")
    phase = GGUFPhase.model_validate(yaml.safe_load(_phase_manifest(root / "phase-1.yaml", quantization=["Q8_0"]).read_text()))
    return build(BuildRequest(phase=phase, output_dir=root / "build", trainings_dir=trainings_dir), settings).output_dir


@pytest.fixture(scope="session")
def control_plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    """The real control plane (tests/cluster/controlplane.py), started once per test run with the CRDs
    installed; built from its Go modules first when the cache lacks it (minutes, once per machine)."""
    from cluster_support import CHART_CRDS
    from controlplane import ControlPlane

    t0 = time.monotonic()
    plane = ControlPlane(tmp_path_factory.mktemp("controlplane")).start(crds=CHART_CRDS)
    try:
        print(f"\ncontrol plane ready in {time.monotonic() - t0:.1f} s at {plane.url}", file=sys.stderr)
        yield plane
    finally:
        plane.stop()
