"""Rewrite: an exported ONNX masked-LM → the same model ending in the pooled head.

The export's ``logits = Add(MatMul(hidden, W), b)`` is replaced by
:func:`spladekit.model.graph.pooled_head` on ``hidden``, ``W`` and ``b`` (``W`` may also be
``Transpose(E)``, a decoder tied to the word embeddings); a head of any other shape keeps its
full logits and gets a masked max (:func:`spladekit.model.graph.pooled_max`). Feed-forward
layers 4 KiB-rows wide get one cache line more, of zeros (:mod:`spladekit.model.stride`: the
same vectors, a faster down projection), and each layer's q, k and v projections become one
MatMul (:mod:`spladekit.model.pack`: the same vectors, a faster query). Every weight then
moves to the aligned side file. :mod:`spladekit.model.prepare` decides when this runs.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import onnx
from onnx import numpy_helper

from spladekit.model import graph
from spladekit.model.pack import pack_projections
from spladekit.model.stride import PAD, pad_feed_forward
from spladekit.pipeline.run import POOLED_OUTPUT

__all__ = ["NotRewritable", "rewrite_export"]

logger = logging.getLogger(__name__)


class NotRewritable(Exception):  # noqa: N818  (a signal to prepare, not an error users see)
    """The export is readable, but this rewrite does not apply to it."""


def rewrite_export(source: Path, folder: Path) -> None:
    """Write ``folder/model.onnx``: the pooled graph, weights in a side file beside it."""
    model = graph.load_graph(source)
    opset = graph.opset_of(model)
    if opset < 13:
        msg = f"{source} uses ONNX opset {opset}; preparing needs opset 13 or newer"
        raise NotRewritable(msg)
    body = model.graph
    input_names = {i.name for i in body.input}
    if not {"input_ids", "attention_mask"} <= input_names:
        msg = f"{source} takes {sorted(input_names)}, not input_ids and attention_mask"
        raise NotRewritable(msg)
    padded = pad_feed_forward(model)
    if padded:
        logger.info("%s: %d feed-forward layers widened by %d zero units", source, padded, PAD)
    packed = pack_projections(model)
    if packed:
        logger.info("%s: %d sets of sibling projections packed into one MatMul", source, packed)
    output_names = [o.name for o in body.output]
    with graph.SideFile(folder) as tensors:
        if POOLED_OUTPUT not in output_names:  # else already prepared: only move the weights
            logits = "logits" if "logits" in output_names else output_names[0]
            info = body.output[output_names.index(logits)].type.tensor_type
            rank = len(info.shape.dim) if info.HasField("shape") else None
            if rank != 3:
                msg = f"{source}: output {logits!r} has rank {rank}, not (batch, tokens, vocab)"
                raise NotRewritable(msg)
            _pool(body, logits, opset, tensors)
        else:
            for tensor in body.initializer:
                tensors.adopt(tensor)
        graph.save_graph(model, folder / "model.onnx", tensors)


def _pool(body: onnx.GraphProto, logits: str, opset: int, tensors: graph.SideFile) -> None:
    """End *body* in the pooled head (or a masked max over *logits* when none is found).

    The export's own weights go to the side file first, in their order, then the head's.
    """
    head = _find_head(body, logits)
    if head is not None:
        add, matmul, hidden, weight, bias = head  # weight: a copy, valid once its tensor moves
        _remove(body, [add, matmul], reads={hidden, bias})
    for tensor in body.initializer:
        tensors.adopt(tensor)
    if head is None:
        logger.info("no MatMul+bias head found; pooling the full logits in-graph")
        nodes = graph.pooled_max(logits, opset=opset, tensors=tensors)
        vocab = None
    else:
        nodes = graph.pooled_head(hidden, weight, bias, opset=opset, tensors=tensors)
        vocab = weight.shape[1]
    body.node.extend(nodes)
    del body.output[:]
    body.output.append(graph.pooled_output(vocab))


def _remove(body: onnx.GraphProto, removed: list[onnx.NodeProto], *, reads: set[str]) -> None:
    """Delete the *removed* nodes, and the initializers only they read (the unsplit decoder).

    *reads* are the names the nodes replacing them read. Elements are deleted in place, by
    index: copying the graph's fields would copy weights.
    """
    outputs = {name for node in removed for name in node.output}
    read = graph.names_read(removed)
    for index in reversed(range(len(body.node))):
        if outputs.intersection(body.node[index].output):
            del body.node[index]
    unused = read - graph.names_read(list(body.node)) - reads - {i.name for i in body.input}
    for index in reversed(range(len(body.initializer))):
        if body.initializer[index].name in unused:
            del body.initializer[index]


def _find_head(
    body: onnx.GraphProto, logits: str
) -> tuple[onnx.NodeProto, onnx.NodeProto, str, npt.NDArray[np.float32], str] | None:
    """``logits = Add(MatMul(hidden, W[h, V]), b[V])`` → (add, matmul, hidden, W, b)."""
    producers = {out: node for node in body.node for out in node.output}
    by_name = {t.name: t for t in body.initializer}
    add = producers.get(logits)
    if add is None or add.op_type != "Add" or add.domain not in ("", "ai.onnx"):
        return None
    for product, bias_name in (tuple(add.input), tuple(add.input)[::-1]):
        bias = by_name.get(bias_name)
        matmul = producers.get(product)
        if bias is None or matmul is None or len(bias.dims) != 1:
            continue
        if matmul.op_type != "MatMul" or matmul.domain not in ("", "ai.onnx"):
            continue
        hidden, weight_name = matmul.input
        weight = _matrix(weight_name, by_name, producers)
        consumers = sum(product in n.input for n in body.node)
        if (
            weight is not None
            and weight.dtype == np.float32
            and weight.ndim == 2
            and weight.shape[1] == bias.dims[0]
            and consumers == 1
        ):
            return add, matmul, hidden, weight, bias_name
    return None


def _matrix(
    name: str, by_name: dict[str, onnx.TensorProto], producers: dict[str, onnx.NodeProto]
) -> npt.NDArray[Any] | None:
    """An initializer, or ``Transpose(E[V, h])`` of one (a decoder tied to the embeddings)."""
    if name in by_name:
        matrix: npt.NDArray[Any] = numpy_helper.to_array(by_name[name])
        return matrix
    node = producers.get(name)
    if node is None or node.op_type != "Transpose" or node.input[0] not in by_name:
        return None
    perms = [list(a.ints) for a in node.attribute if a.name == "perm"]
    source: npt.NDArray[Any] = numpy_helper.to_array(by_name[node.input[0]])
    if source.ndim != 2 or any(p not in ([], [1, 0]) for p in perms):
        return None
    return np.transpose(source)
