"""A GGUF file as the base model: the pure parts as tables, then the tiny model converted to Q8_0 by
llama.cpp, dequantized into a cached folder, compared with llama.cpp on the original file, and
trained on through the `tara-trainer` CLI as a Job runs it.

The comparison's tolerance is ``ggufcheck.KL_TOLERANCE``: a mean KL divergence of 0.02 nats per
token between llama.cpp's and the dequantized model's next-token distributions (the tiny model's
Q8_0 file measures about 5e-6, SmolLM2-135M-Instruct Q4_1 0.005).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from tara_api.domaintraining import BaseModelSource, DomainTrainingStatus
from tara_trainer import ggufbase
from tara_trainer.errors import ModelUnavailable
from tara_trainer.ggufbase import DequantizedBase, GgufInfo
from tara_trainer.ggufcheck import KL_TOLERANCE, agreement, compare_with_llamacpp
from tara_trainer.progress import Progress, status_patch
from tara_trainer.settings import TrainerSettings
from tara_trainer.train import run_id

SHA = "ab" * 32
INFO = GgufInfo(
    architecture="llama",
    file_type="Q4_1",
    quant_types={"F32": 5, "Q4_1": 16},
    parameters=2_229_504,
    chat_template=True,
    add_space_prefix=False,
)
CHECK = {
    "passed": True,
    "tolerance": KL_TOLERANCE,
    "texts": 6,
    "tokens": 186,
    "meanKlDivergence": 5e-06,
    "maxKlDivergence": 7e-06,
    "top1Agreement": 0.99,
    "maxAbsLogitDiff": 0.017,
    "perplexityLlamaCpp": 1090.4,
    "perplexityDequantized": 1090.6,
    "tokenizerMismatches": [],
    "seconds": 3.5,
}


# --- pure parts --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sha", "dtype", "key"),
    [
        (SHA, "float32", "abababababababab-float32"),
        ("0123456789abcdef" + "0" * 48, "bfloat16", "0123456789abcdef-bfloat16"),
    ],
)
def test_cache_key_is_content_and_dtype(sha: str, dtype: str, key: str) -> None:
    assert ggufbase.cache_key(sha, dtype) == key


@pytest.mark.parametrize(
    ("head", "error"),
    [
        (b"GGUF\x03\x00\x00\x00", None),
        (b"PK\x03\x04", "is not a GGUF file: it starts with b'PK\\x03\\x04'"),
        (b"", "is not a GGUF file: it starts with b''"),
        (b'{\n  "', "a folder holding config.json"),
    ],
)
def test_magic(head: bytes, error: str | None) -> None:
    if error is None:
        ggufbase.check_magic(Path("m.gguf"), head)
    else:
        with pytest.raises(ModelUnavailable) as caught:
            ggufbase.check_magic(Path("m.gguf"), head)
        assert error in str(caught.value) and caught.value.exit_code == 4


@pytest.mark.parametrize(
    ("arch", "supported", "ok"),
    [
        ("llama", frozenset({"llama", "qwen2"}), True),
        ("rwkv6", frozenset({"llama", "qwen2"}), False),
        ("rwkv6", frozenset(), True),  # transformers does not say: loading decides
    ],
)
def test_architecture(arch: str, supported: frozenset[str], ok: bool) -> None:
    if ok:
        ggufbase.check_architecture(Path("m.gguf"), arch, supported, "5.23.0")
        return
    with pytest.raises(ModelUnavailable) as caught:
        ggufbase.check_architecture(Path("m.gguf"), arch, supported, "5.23.0")
    assert "transformers 5.23.0 cannot dequantize GGUF architecture 'rwkv6' (it reads llama, qwen2)" in str(
        caught.value
    )
    assert "baseModel.repo" in str(caught.value)


@pytest.mark.parametrize(
    ("tensors", "later"),
    [
        (
            [("model.embed_tokens.weight", 1), ("model.norm.weight", 2), ("lm_head.weight", 1)],
            ["lm_head.weight"],
        ),
        ([("a", 1), ("b", 2), ("c", 3)], []),
        ([("a", 7), ("b", 7), ("c", 7)], ["b", "c"]),
    ],
)
def test_later_aliases_drop_a_tied_head(tensors: list[tuple[str, int]], later: list[str]) -> None:
    assert ggufbase.later_aliases(tensors) == later


def test_stamp_and_record_say_where_the_start_came_from() -> None:
    body = ggufbase.stamp(Path("/models/smol.Q4_1.gguf"), SHA, INFO, "float32", 12.345, CHECK)
    assert body["source"] == "smol.Q4_1.gguf" and body["sha256"] == SHA and body["fileType"] == "Q4_1"
    assert (
        body["quantTypes"] == {"F32": 5, "Q4_1": 16}
        and body["parameters"] == 2_229_504
        and body["seconds"] == 12.35
    )
    assert body["verification"] == CHECK and {"transformers", "gguf", "torch"} <= set(body["versions"])
    base = DequantizedBase(
        Path("/models/smol.Q4_1.gguf"), Path("/cache/abababababababab-float32"), body, reused=True
    )
    record = base.record()
    assert record["dequantizedTo"] == "/cache/abababababababab-float32" and record["reused"] is True
    # The status the trainer patches is what the CRD accepts.
    progress = Progress(domain="healthcare", base_model="/models/smol.Q4_1.gguf", base_gguf=record)
    patch = status_patch(progress)["status"]
    assert patch["baseModel"] == {"path": "/models/smol.Q4_1.gguf", "gguf": record}
    status = DomainTrainingStatus.model_validate(patch)
    assert status.base_model.gguf.verification.mean_kl_divergence == 5e-06
    assert (
        "baseModel" not in status_patch(Progress(domain="healthcare", base_model="/models/folder"))["status"]
    )


@pytest.mark.parametrize(
    ("check", "says"),
    [
        (
            {"passed": False, "meanKlDivergence": 0.5, "tolerance": 0.02, "tokenizerMismatches": []},
            "mean KL divergence 0.5 nats/token above the tolerance 0.02",
        ),
        (
            {
                "passed": False,
                "meanKlDivergence": 0.001,
                "tolerance": 0.02,
                "tokenizerMismatches": ["'Hi': llama.cpp [5] vs Hugging Face [6] at token 0"],
            },
            "tokenizes 'Hi': llama.cpp [5] vs Hugging Face [6] at token 0",
        ),
    ],
)
def test_a_disagreement_is_said_in_a_sentence(check: dict, says: str) -> None:
    assert ggufbase._disagreement(check) == says


def test_no_llamacpp_skips_the_comparison_and_says_why() -> None:
    from tara_trainer.llamacpp import ToolchainError

    def missing():
        raise ToolchainError("llama.cpp 0.3.36 is not built in /x; run `make llama`")

    result = ggufbase.llamacpp_verifier(missing, threads=1)(Path("m.gguf"), Path("/folder"))
    assert result == {
        "skipped": "llama.cpp could not run: llama.cpp 0.3.36 is not built in /x; run `make llama`"
    }


def test_a_skipped_comparison_is_a_valid_status() -> None:
    body = ggufbase.stamp(
        Path("m.gguf"), SHA, INFO, "bfloat16", 1.0, {"skipped": "llama.cpp could not run: not built"}
    )
    record = DequantizedBase(Path("m.gguf"), Path("/c"), body, reused=False).record()
    assert DomainTrainingStatus.model_validate(
        {"baseModel": {"gguf": record}}
    ).base_model.gguf.verification.skipped


def _logits(rows: list[list[float]]) -> np.ndarray:
    return np.asarray(rows, dtype=np.float64)


def test_agreement_measures_distributions_not_offsets() -> None:
    ids = [0, 1, 2]
    p = _logits([[2.0, 1.0, 0.0], [0.0, 3.0, 1.0], [1.0, 1.0, 5.0]])
    same = agreement([(ids, p, p + 7.0)])  # a constant shift is the same distribution
    assert same.mean_kl < 1e-12 and same.top1 == 1.0 and same.passed
    assert same.perplexity_llamacpp == pytest.approx(same.perplexity_dequantized)
    assert same.tokens == 3 and same.texts == 1 and same.max_abs_logit_diff == pytest.approx(7.0)
    swapped = agreement([(ids, p, p[:, ::-1])])
    assert swapped.mean_kl > 1.0 and swapped.top1 < 1.0 and not swapped.passed
    assert not agreement(
        [(ids, p, p)], mismatches=["'x': llama.cpp [1] vs Hugging Face [2] at token 0"]
    ).passed
    with pytest.raises(ValueError, match="shapes differ"):
        agreement([(ids, p, p[:2])])
    with pytest.raises(ValueError, match="no sample"):
        agreement([])


def test_agreement_to_dict_is_the_status_shape() -> None:
    p = _logits([[2.0, 1.0], [0.5, 0.0]])
    out = agreement([([0, 1], p, p)]).to_dict()
    assert DomainTrainingStatus.model_validate(
        {"baseModel": {"gguf": {"sha256": SHA, "dequantizedTo": "/c", "verification": out}}}
    )
    assert out["passed"] is True and out["tolerance"] == KL_TOLERANCE


def test_settings_and_run_identity(tmp_path: Path) -> None:
    assert TrainerSettings(cache_dir=tmp_path).gguf_base_cache == tmp_path / "gguf-base"
    env = {"TARA_GGUF_CACHE_DIR": str(tmp_path / "g")}
    assert TrainerSettings.from_env(env).gguf_base_cache == tmp_path / "g"
    from tara_api.domaintraining import DomainTrainingSpec

    spec = DomainTrainingSpec.model_validate(
        {
            "domain": "d",
            "baseModel": {"path": "m.gguf"},
            "dataset": {"builtin": "healthcare"},
            "resources": {"accelerator": "cpu"},
        }
    )
    assert run_id(spec) == run_id(spec, None) and run_id(spec, SHA) != run_id(spec, "cd" * 32)


@pytest.mark.parametrize(
    ("path", "error"),
    [
        ("models/smol.Q4_1.gguf", None),
        ("/models/SMOL.GGUF", None),
        ("models/smol.gguf/", "a .gguf path names a file"),
        ("models/qwen-00001-of-00003.gguf", "split GGUF"),
    ],
)
def test_api_accepts_a_gguf_file_and_refuses_a_folder_or_a_split_file(path: str, error: str | None) -> None:
    body = {"path": path, "claimName": "models"}
    if error is None:
        assert BaseModelSource.model_validate(body).path == path
    else:
        with pytest.raises(ValueError, match=error):
            BaseModelSource.model_validate(body)


# --- errors a user meets, with small files -----------------------------------------------------


def _never(gguf: Path, folder: Path) -> dict:
    raise AssertionError("no comparison expected")


def _write_gguf(path: Path, architecture: str) -> Path:
    """A GGUF file with one tensor and no tokenizer: enough for the header checks."""
    import gguf

    writer = gguf.GGUFWriter(str(path), architecture)
    writer.add_tensor("token_embd.weight", np.zeros((4, 8), dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def test_missing_file_bad_magic_and_unsupported_architecture_are_named(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    with pytest.raises(ModelUnavailable, match="does not exist"):
        ggufbase.prepare(tmp_path / "nope.gguf", cache, "float32", _never)
    folder = tmp_path / "folder.gguf"
    folder.mkdir()
    with pytest.raises(ModelUnavailable, match="is a folder without config.json"):
        ggufbase.prepare(folder, cache, "float32", _never)
    zipped = tmp_path / "model.gguf"
    zipped.write_bytes(b"PK\x03\x04" + b"\0" * 64)
    with pytest.raises(ModelUnavailable, match="is not a GGUF file"):
        ggufbase.prepare(zipped, cache, "float32", _never)
    with pytest.raises(ModelUnavailable, match="cannot dequantize GGUF architecture 'rwkv6'"):
        ggufbase.prepare(_write_gguf(tmp_path / "rwkv.gguf", "rwkv6"), cache, "float32", _never)
    assert not cache.exists()  # nothing was written for files that were refused


def test_unwritable_cache_is_an_error_only_without_the_folder(tmp_path: Path) -> None:
    from tara_trainer.checkpoints import file_digest

    source = _write_gguf(tmp_path / "m.gguf", "llama")
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    with pytest.raises(ModelUnavailable) as caught:
        ggufbase.prepare(source, blocked / "cache", "float32", _never)
    assert "not writable" in str(caught.value) and "TARA_GGUF_CACHE_DIR" in str(caught.value)

    sha = file_digest(source)
    folder = tmp_path / "cache" / ggufbase.cache_key(sha, "float32")
    folder.mkdir(parents=True)
    (folder / ggufbase.STAMP).write_text(json.dumps(ggufbase.stamp(source, sha, INFO, "float32", 1.0, CHECK)))
    # A cache that cannot be written but already holds the folder is fine: nothing is written.
    hit = ggufbase.prepare(source, tmp_path / "cache", "float32", _never)
    assert hit.reused and hit.folder == folder and hit.sha256 == sha


# --- the tiny model through llama.cpp and back ---------------------------------------------------


@pytest.fixture(scope="module")
def tiny_gguf(tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path, toolchain) -> Path:
    """The tiny model converted to Q8_0 by llama.cpp's converter, as users download GGUF files."""
    from tara_trainer.export.tools import convert_base

    out = tmp_path_factory.mktemp("gguf") / "tiny-Q8_0.gguf"
    convert_base(toolchain, tiny_model_dir, out, "q8_0")
    return out


@pytest.fixture(scope="module")
def dequantized(tmp_path_factory: pytest.TempPathFactory, tiny_gguf: Path, toolchain) -> DequantizedBase:
    verify = ggufbase.llamacpp_verifier(lambda: toolchain, threads=2)
    return ggufbase.prepare(tiny_gguf, tmp_path_factory.mktemp("cache"), "float32", verify)


@pytest.mark.slow
def test_dequantized_folder_reloads_matches_the_weights_and_llamacpp(
    dequantized: DequantizedBase, tiny_gguf: Path, tiny_model_dir: Path
) -> None:
    import torch
    from safetensors.torch import load_file
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from tara_trainer.tiny import CHAT_TEMPLATE, load_tokenizer

    folder = dequantized.folder
    assert not dequantized.reused and folder.name == ggufbase.cache_key(dequantized.sha256, "float32")
    assert {"config.json", "model.safetensors", "tokenizer.json", ggufbase.STAMP} <= {
        p.name for p in folder.iterdir()
    }
    assert not list(folder.parent.glob(".*.partial-*"))
    stamp = json.loads((folder / ggufbase.STAMP).read_text())
    assert (
        stamp["fileType"] == "Q8_0"
        and stamp["quantTypes"] == {"F32": 5, "Q8_0": 16}
        and stamp["architecture"] == "llama"
    )
    check = stamp["verification"]
    assert (
        check["passed"] and check["meanKlDivergence"] <= KL_TOLERANCE and check["tokenizerMismatches"] == []
    )
    assert check["top1Agreement"] > 0.9, check

    config = json.loads((folder / "config.json").read_text())
    assert "quantization_config" not in config and config["model_type"] == "llama"
    model = AutoModelForCausalLM.from_pretrained(folder)  # plain: no gguf_file
    original = load_file(tiny_model_dir / "model.safetensors")
    for name, weight in original.items():  # Q8_0: within one quantization step of the tensor's largest weight
        got = model.state_dict()[name]
        step = weight.abs().max() / 127
        assert torch.allclose(got, weight, atol=float(step)), name

    tokenizer = AutoTokenizer.from_pretrained(folder)
    reference = load_tokenizer(tiny_model_dir)
    assert tokenizer.chat_template == CHAT_TEMPLATE
    for text in ("Hello, world!", "  two leading spaces\tand a tab", "Café 東京 🙂"):
        assert tokenizer(text)["input_ids"] == reference(text)["input_ids"], text


@pytest.mark.slow
def test_a_folder_that_disagrees_with_llamacpp_is_not_published(tiny_gguf: Path, tmp_path: Path) -> None:
    def disagrees(gguf: Path, folder: Path) -> dict:
        assert (folder / "model.safetensors").is_file() and folder.name.startswith(".")
        return {
            "passed": False,
            "meanKlDivergence": 0.5,
            "tolerance": KL_TOLERANCE,
            "tokenizerMismatches": [],
        }

    with pytest.raises(
        ModelUnavailable, match="disagrees with llama.cpp on the original file: mean KL divergence 0.5"
    ):
        ggufbase.prepare(tiny_gguf, tmp_path, "float32", disagrees)
    assert [p.name for p in tmp_path.iterdir() if not p.name.endswith(".lock")] == []


@pytest.mark.slow
def test_a_second_trainer_reuses_the_folder(dequantized: DequantizedBase, tiny_gguf: Path) -> None:
    again = ggufbase.prepare(tiny_gguf, dequantized.folder.parent, "float32", _never)
    assert again.reused and again.folder == dequantized.folder and again.stamp == dequantized.stamp


@pytest.mark.slow
def test_the_comparison_catches_wrong_weights_and_a_wrong_tokenizer(
    dequantized: DequantizedBase, tiny_gguf: Path, toolchain, tmp_path: Path
) -> None:
    from safetensors.torch import load_file, save_file

    scaled = tmp_path / "scaled"
    shutil.copytree(dequantized.folder, scaled)
    weights = load_file(scaled / "model.safetensors")
    weights["lm_head.weight"] = weights["lm_head.weight"] * 30  # as a dequantizer that loses the block scales
    save_file(weights, scaled / "model.safetensors", metadata={"format": "pt"})
    bad = compare_with_llamacpp(toolchain, tiny_gguf, scaled)
    assert not bad.passed and bad.mean_kl > 10 * KL_TOLERANCE, bad.summary()

    prefixed = tmp_path / "prefixed"
    shutil.copytree(dequantized.folder, prefixed)
    spec = json.loads((prefixed / "tokenizer.json").read_text())
    # What transformers builds before ggufbase honours the file's add_space_prefix: false.
    spec["pre_tokenizer"]["prepend_scheme"] = "first"
    (prefixed / "tokenizer.json").write_text(json.dumps(spec))
    mismatched = compare_with_llamacpp(toolchain, tiny_gguf, prefixed)
    assert not mismatched.passed and mismatched.tokenizer_mismatches


@pytest.mark.slow
def test_training_on_a_gguf_file_records_the_dequantized_start(
    tiny_gguf: Path, settings: TrainerSettings, tmp_path: Path
) -> None:
    shutil.copy(tiny_gguf, tmp_path / "tiny.gguf")
    spec = {
        "domain": "healthcare",
        "baseModel": {"path": "tiny.gguf"},
        "dataset": {"builtin": "healthcare"},
        "lora": {"r": 4, "alpha": 8},
        "training": {
            "maxSteps": 3,
            "batchSize": 8,
            "sequenceLength": 64,
            "saveSteps": 1000,
            "evalSteps": 1000,
            "loggingSteps": 1,
            "gradientCheckpointing": False,
            "warmupRatio": 0.0,
        },
        "resources": {"accelerator": "cpu"},
        "qualityGate": {"enabled": False},
    }
    manifest = tmp_path / "hc.yaml"
    manifest.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "tara.dev/v1alpha1",
                "kind": "DomainTraining",
                "metadata": {"name": "hc"},
                "spec": spec,
            }
        )
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("TARA_")}
    env.update(
        TARA_CACHE_DIR=str(settings.cache_dir),
        TARA_GGUF_CACHE_DIR=str(tmp_path / "cache"),
        TARA_STATE_INTERVAL="0.2",
    )
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, "-m", "tara_trainer.cli", "train", "--spec", str(manifest), "--output", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-4000:]

    base = json.loads((out / "adapter" / "manifest.json").read_text())["baseModel"]
    gguf = base["gguf"]
    assert base["path"] == str(tmp_path / "tiny.gguf") and base["id"] == gguf["dequantizedTo"]
    assert gguf["fileType"] == "Q8_0" and len(gguf["sha256"]) == 64 and gguf["verification"]["passed"]
    assert Path(gguf["dequantizedTo"]).parent == tmp_path / "cache"
    state = json.loads((out / "state.json").read_text())
    assert state["status"] == "Succeeded" and state["base_gguf"] == gguf
    status = status_patch(Progress(**{k: v for k, v in state.items() if k != "percent"}))["status"]
    assert DomainTrainingStatus.model_validate(status).base_model.gguf.file_type == "Q8_0"

    (tmp_path / "tiny.gguf").write_bytes(b"not a gguf at all")
    refused = subprocess.run(
        [
            sys.executable,
            "-m",
            "tara_trainer.cli",
            "train",
            "--spec",
            str(manifest),
            "--output",
            str(tmp_path / "out2"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert refused.returncode == ModelUnavailable.exit_code and "is not a GGUF file" in refused.stderr


@pytest.mark.slow
def test_two_trainers_at_once_dequantize_once(tiny_gguf: Path, tmp_path: Path) -> None:
    """The second trainer waits on the file lock while the first dequantizes, then reuses its folder."""
    import threading

    first_inside, calls = threading.Event(), []

    def verify(gguf: Path, folder: Path) -> dict:
        calls.append(folder)
        first_inside.set()  # the first trainer holds the lock from here until it renames the folder
        threading.Event().wait(1.0)
        return {"skipped": "not compared in this test"}

    results: dict[str, DequantizedBase] = {}

    def trainer(name: str) -> None:
        results[name] = ggufbase.prepare(tiny_gguf, tmp_path / "cache", "float32", verify)

    one = threading.Thread(target=trainer, args=("one",))
    one.start()
    assert first_inside.wait(120)
    two = threading.Thread(target=trainer, args=("two",))
    two.start()
    one.join(120)
    two.join(120)
    assert len(calls) == 1  # dequantized and compared once
    assert (results["one"].reused, results["two"].reused) == (False, True)
    assert results["one"].folder == results["two"].folder and results["two"].stamp == results["one"].stamp
    assert not list((tmp_path / "cache").glob(".*.partial-*"))
