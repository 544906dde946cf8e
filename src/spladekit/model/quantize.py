"""Quantize: a pooled fp32 graph (prepared or built) → its dynamically quantized int8 copy.

ONNX Runtime's dynamic quantization turns each MatMul's weight into int8 with a scale per
output channel and quantizes activations on the fly; it needs no calibration data. The result
is written like every other graph (weights in the aligned side file), so it loads the same way.
"""

from __future__ import annotations

import logging
from pathlib import Path

from spladekit.model import graph

__all__ = ["quantize_graph"]


def quantize_graph(fp32: Path, folder: Path) -> None:
    """Write ``folder/model.onnx``: the int8 copy of the pooled graph *fp32*."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    staged = folder / "int8-inline.onnx"
    # quantize_dynamic logs through the root logger; with no handler there, that call would
    # install one for the whole process (logging.basicConfig). A NullHandler meanwhile stops it.
    root = logging.getLogger()
    guard = logging.NullHandler() if not root.handlers else None
    if guard is not None:
        root.addHandler(guard)
    try:
        quantize_dynamic(
            fp32,
            staged,
            op_types_to_quantize=["MatMul"],
            per_channel=True,
            weight_type=QuantType.QInt8,
        )
    finally:
        if guard is not None:
            root.removeHandler(guard)
    model = graph.load_graph(staged)
    staged.unlink()
    with graph.SideFile(folder) as tensors:
        for tensor in model.graph.initializer:
            tensors.adopt(tensor)
        graph.save_graph(model, folder / "model.onnx", tensors)
