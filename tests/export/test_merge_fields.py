"""A phase's merge fields change the universal model PEFT builds: ``domains[].weight`` leans the merge
towards a domain and ``merge.svdRank`` bounds the rank of what the svd merge adds to each weight.
Measured on the weights themselves (the tiny model's two trained adapters), before any GGUF."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from tara_api.ggufphase import MergeSpec
from tara_trainer.export import merge

pytestmark = pytest.mark.slow

WEIGHT = "model.layers.0.self_attn.q_proj.weight"


def _delta(model, base) -> torch.Tensor:
    return model.state_dict()[WEIGHT] - base.state_dict()[WEIGHT]


def test_domain_weight_and_svd_rank_shape_the_merged_weights(trainings_dir: Path, tiny_model_dir: Path, tmp_path: Path) -> None:
    base = merge.load_base(tiny_model_dir)
    healthcare, business = trainings_dir / "healthcare" / "adapter", trainings_dir / "business" / "adapter"
    alone = _delta(merge.merged_with_adapter(tiny_model_dir, healthcare), base)

    def svd(weights: tuple[float, float], rank: int | None) -> torch.Tensor:
        spec = MergeSpec.model_validate({"strategy": "svd", "svdRank": rank})
        model = merge.universal_model(tiny_model_dir, [("healthcare", healthcare, weights[0]), ("business", business, weights[1])],
                                      spec, tmp_path / f"svd-{weights}-{rank}")
        return _delta(model, base)

    def distance(delta: torch.Tensor) -> float:
        return float(torch.linalg.norm(delta - alone) / torch.linalg.norm(alone))

    equal, leaning = svd((1.0, 1.0), None), svd((1.0, 0.01), None)
    assert distance(leaning) < 0.1 < distance(equal)  # weight 0.01: the merge is healthcare's adapter, nearly
    assert int(torch.linalg.matrix_rank(equal, rtol=1e-4)) > 2  # two rank-8 adapters: more than rank 2 by default
    assert int(torch.linalg.matrix_rank(svd((1.0, 1.0), 2), rtol=1e-4)) == 2  # svdRank 2 keeps two directions
