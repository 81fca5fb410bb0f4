"""The registry of GGUF quantization types TARA builds and serves.

Quantization types are data, not if-chains: each carries the bits per weight llama.cpp's
k-quant tables give for it, the original design's intended use, and the default perplexity
gate. The builder, the quality gate and the docs all read this table.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

__all__ = ["QUANT_TYPES", "QuantInfo", "QuantType"]


class QuantType(enum.StrEnum):
    Q2_K = "Q2_K"
    Q4_K_M = "Q4_K_M"
    Q5_K_M = "Q5_K_M"
    Q8_0 = "Q8_0"


@dataclass(frozen=True)
class QuantInfo:
    type: QuantType
    nominal_bits_per_weight: float
    use: str
    default_max_perplexity_increase: float  # fraction of the F16 perplexity


QUANT_TYPES: dict[QuantType, QuantInfo] = {
    info.type: info
    for info in (
        QuantInfo(QuantType.Q2_K, 2.63, "mobile and edge devices; largest quality loss", 0.50),
        QuantInfo(QuantType.Q4_K_M, 4.85, "production default: the best size/quality balance", 0.10),
        QuantInfo(QuantType.Q5_K_M, 5.69, "quality-critical domains", 0.05),
        QuantInfo(QuantType.Q8_0, 8.50, "development and reference; near-lossless", 0.02),
    )
}
