"""Emit: one checkpoint's whole graph — its architecture's encoder, then the pooled head.

Inputs ``input_ids`` and ``attention_mask`` (int64, batch × tokens), output ``pooled_logits``
(float32, batch × vocab), opset 17 (and ``com.microsoft`` 1 for a fused graph); every weight
goes to the side file as it is emitted.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from onnx import TensorProto, helper

from spladekit.errors import ModelFormatError
from spladekit.model import graph
from spladekit.model.build import bert, distilbert
from spladekit.model.build.layers import OPSET, Emitter
from spladekit.model.build.safetensors import Checkpoint
from spladekit.model.build.weights import Settings, Weights

__all__ = ["write_graph"]

_FAMILIES = {"bert": bert.emit, "distilbert": distilbert.emit}


def write_graph(
    config: dict[str, Any],
    architecture: str,
    family: str,
    config_path: Path,
    weights: Path,
    folder: Path,
    *,
    fused: bool = False,
) -> None:
    """Write ``folder/model.onnx`` (and its side file) for the checkpoint *weights*.

    *family* is the module that emits *architecture* (``bert`` or ``distilbert``); *fused*
    emits ONNX Runtime's fused kernels (:mod:`spladekit.model.build.layers`).
    """
    emit = _FAMILIES[family]
    with graph.SideFile(folder) as tensors:
        g = Emitter(tensors, fused=fused)
        head = emit(Settings(config, config_path), Weights(Checkpoint(weights)), g, architecture)
        vocab = head.weight.shape[1]
        if head.bias.shape != (vocab,):
            msg = (
                f"{weights}: the MLM bias has shape {head.bias.shape}, the decoder {vocab} columns"
            )
            raise ModelFormatError(msg)
        bias = tensors.add("mlm.bias", head.bias)
        nodes = g.nodes + graph.pooled_head(
            head.hidden, head.weight, bias, opset=OPSET, tensors=tensors
        )
        inputs = [
            helper.make_tensor_value_info(name, TensorProto.INT64, ["batch", "sequence"])
            for name in ("input_ids", "attention_mask")
        ]
        body = helper.make_graph(nodes, "spladekit_built", inputs, [graph.pooled_output(vocab)])
        opsets = [helper.make_opsetid("", OPSET)]
        if fused:
            opsets.append(helper.make_opsetid(graph.FUSED_DOMAIN, 1))
        model = helper.make_model(
            body,
            opset_imports=opsets,
            producer_name="spladekit",
            doc_string=f"{architecture} built from {weights.name}",
        )
        model.ir_version = 8
        graph.save_graph(model, folder / "model.onnx", tensors)
