"""Which copy of a model a session runs, and the part of a cache key that tells copies apart.

A prepared export and a built graph each come in variants: in fp32 exact (standard ONNX ops,
the export's numbers bit for bit) or fused (ONNX Runtime's fused transformer kernels,
``optimize="fused"``); in int8 (``quantize="int8"``, quantized as :data:`INT8` says) always
the fused copy's (:func:`is_fused`). Every variant is its own cache entry;
:func:`variant_key` is what separates them, and this module imports nothing heavy, so a
cached entry is found without the onnx package.
"""

from __future__ import annotations

from dataclasses import dataclass

from spladekit.options import Optimize, Quantize

__all__ = ["FUSED_REVISION", "INT8", "INT8_REVISION", "Int8Config", "is_fused", "variant_key"]


@dataclass(frozen=True)
class Int8Config:
    """How ONNX Runtime's dynamic quantization makes the int8 copy.

    *per_channel*: one weight scale per output column (else one per matrix). *head*: the
    vocabulary projection (the pooled head's column blocks) is quantized too (else it stays
    fp32, as do layer norms, softmax and embeddings always).
    """

    per_channel: bool
    head: bool

    @property
    def key(self) -> str:
        """A short name of the configuration, for cache keys and reports."""
        scale = "per-channel" if self.per_channel else "per-tensor"
        return f"{scale}+{'head' if self.head else 'no-head'}"


#: The int8 configuration ``quantize="int8"`` uses. All four keep nDCG@10 within 0.005 of fp32
#: (benchmarks/int8_quality.py, SciFact test, the real splade-tiny; per-tensor with the head
#: +0.0033 on the export, +0.0015 built). Speed chose among them: the head quantized is a fifth
#: of a query's MatMul work, and a scale per matrix makes one BERT-base query 0.94x the time of
#: a scale per channel, documents 0.98-1.02x (benchmarks/int8_granularity.py, AMD EPYC AVX-512
#: VNNI, 2026-12-03).
INT8 = Int8Config(per_channel=False, head=True)


#: Bump when int8 graphs change, so cached int8 entries are made again. 2: each ``BiasGelu``
#: split so its bias folds into the int8 MatMul (spladekit.model.quantize.split_bias_gelu).
INT8_REVISION = 2

#: Bump when fused graphs change, so cached fused entries are made again. 2: they declare the
#: com.microsoft opset (without it, quantize="int8" of a fused export failed).
FUSED_REVISION = 2


def is_fused(optimize: Optimize, quantize: Quantize | None = None) -> bool:
    """Whether the session runs ONNX Runtime's fused kernels: ``optimize="fused"``, and int8.

    int8 is never the exact graph's numbers, so it always quantizes the fused graph: there
    ``Attention`` becomes one ``QAttention`` in place of three int8 projections and a dozen
    reshapes, transposes and small MatMuls, and one BERT-base query takes 0.80-0.93x the time
    of the int8 exact graph (per-round ratios, processes alternating, AMD EPYC AVX-512 VNNI,
    2026-12-03), documents/s the same (1.00x); ranking quality: benchmarks/int8_quality.py.
    """
    return optimize == "fused" or quantize == "int8"


def variant_key(*, quantize: Quantize | None, fused: bool, int8: Int8Config = INT8) -> str:
    """The variant's part of a cache key.

    The exact fp32 copy keeps the key it had before variants existed (``None``), so its cache
    entries stay valid.
    """
    key = str(quantize) if quantize is None else f"{quantize}:{int8.key}:r{INT8_REVISION}"
    return f"{key}|fused{FUSED_REVISION}" if fused else key
