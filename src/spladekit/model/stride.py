"""Strides: widen a feed-forward layer by one cache line so its activation rows do not alias.

ONNX Runtime's CPU GEMM (MLAS) reads the left matrix in place, a dozen rows at a time. When a
row is a whole number of 4 KiB pages long — BERT-base's 3072-wide feed-forward activation
rows are 12 KiB — every row starts in the same L1 cache set and the rows evict one another.
On an AMD EPYC with AVX-512 the down projection (3072 → 768) ran at ~130 GFLOP/s where the
same product 3088 wide ran at ~190, and it is the largest MatMul of a layer (README,
Benchmark). So where the inner width is a multiple of 1024 floats, the builder and the
prepared copy of an export give the layer :data:`PAD` more inner units with zero weights:
zero columns (and bias) in the up projection, zero rows in the down projection.

The vectors stay the same bit for bit: a padded unit's activation is exactly 0 (GELU and ReLU
of 0), so it adds 0 × 0 to each output sum, after the real terms (MLAS sums the inner axis in
blocks of 128 or 256 in order, and 3072 is a whole number of them). The export pass below
pads a layer only when it can follow the padded units through the activation to exactly 0.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import onnx
from onnx import numpy_helper

from spladekit.model import graph

__all__ = ["PAD", "pad_feed_forward", "pad_width", "padded_width"]

logger = logging.getLogger(__name__)

#: Extra inner units of a padded layer: 16 float32 = one 64-byte cache line, which moves each
#: row to the next cache set (3088 ran like 3104 and 3136 on the AMD EPYC).
PAD = 16
#: Rows of this many bytes (or a multiple) all start in one L1 set: 64 sets of 64-byte lines.
_ALIAS_BYTES = 4096

_Array = npt.NDArray[np.float32]


def padded_width(width: int) -> int:
    """The inner width a layer of *width* units runs at: *width*, or *width* + :data:`PAD`."""
    return width + PAD if width > 0 and (width * 4) % _ALIAS_BYTES == 0 else width


def pad_width(up: _Array, up_bias: _Array, down: _Array) -> tuple[_Array, _Array, _Array]:
    """A feed-forward layer's weights in torch layout, widened to :func:`padded_width`.

    *up* is (inner, hidden), *up_bias* (inner,), *down* (hidden, inner).
    """
    extra = padded_width(up.shape[0]) - up.shape[0]
    if not extra:
        return up, up_bias, down
    return (
        np.pad(up, ((0, extra), (0, 0))),
        np.pad(up_bias, (0, extra)),
        np.pad(down, ((0, 0), (0, extra))),
    )


#: Element-wise ops a padded unit may pass through, each with its value at one lane: the
#: scalars are the lane's inputs in order (a padded bias lane reads 0).
_LANE: dict[str, Callable[..., float]] = {
    "Add": lambda a, b: a + b,
    "Sub": lambda a, b: a - b,
    "Mul": lambda a, b: a * b,
    "Div": lambda a, b: a / b if b else math.nan,
    "Pow": lambda a, b: a**b if a or b > 0 else math.nan,
    "Erf": math.erf,
    "Tanh": math.tanh,
    "Relu": lambda a: max(a, 0.0),
    "Sigmoid": lambda a: 1 / (1 + math.exp(-a)),
    "Gelu": lambda a: 0.5 * a * (1 + math.erf(a / math.sqrt(2))),
    "BiasGelu": lambda a, b: 0.5 * (a + b) * (1 + math.erf((a + b) / math.sqrt(2))),
    "FastGelu": lambda a, b=0.0: 0.5 * (a + b) * (1 + math.tanh(0.7978845608 * (a + b))),
}


def pad_feed_forward(model: onnx.ModelProto) -> int:
    """Widen each feed-forward layer of an export in place; returns how many were padded.

    A layer is ``MatMul(x, W1[h, n])``, element-wise ops (:data:`_LANE`) whose other inputs
    are scalars or (n,) biases, then ``MatMul(·, W2[n, h])``, with :func:`padded_width` (n)
    > n, nothing else reading its tensors and its padded units exactly 0 at the end.
    """
    body = model.graph
    producers = {out: node for node in body.node for out in node.output}
    consumers = graph.consumers(body)
    tensors = {t.name: t for t in body.initializer}
    scalars = _constants(body)
    outputs = {o.name for o in body.output}
    padded = 0
    for down in list(body.node):
        if down.op_type != "MatMul" or down.domain not in ("", "ai.onnx"):
            continue
        w2 = tensors.get(down.input[1])
        if w2 is None or len(w2.dims) != 2 or padded_width(w2.dims[0]) == w2.dims[0]:
            continue
        layer = _layer(down, producers, consumers, tensors, scalars, outputs)
        if layer is None:
            logger.debug("%s: inner width %d, not a layer this pass can pad", down.name, w2.dims[0])
            continue
        for name, axis in layer:
            array = numpy_helper.to_array(tensors[name])
            widths = [(0, 0)] * array.ndim
            widths[axis] = (0, PAD)
            tensors[name].CopyFrom(numpy_helper.from_array(np.pad(array, widths), name))
        padded += 1
    return padded


def _constants(body: onnx.GraphProto) -> dict[str, float]:
    """Single-value initializers and Constant nodes, by name (scalars a lane reads)."""
    values: dict[str, float] = {}
    for tensor in body.initializer:
        if int(np.prod(tensor.dims)) == 1 and tensor.data_type == onnx.TensorProto.FLOAT:
            values[tensor.name] = float(numpy_helper.to_array(tensor).reshape(()))
    for node in body.node:
        if node.op_type == "Constant" and node.attribute and node.attribute[0].name == "value":
            array = numpy_helper.to_array(node.attribute[0].t)
            if array.size == 1 and array.dtype == np.float32:
                values[node.output[0]] = float(array.reshape(()))
    return values


def _layer(
    down: onnx.NodeProto,
    producers: dict[str, onnx.NodeProto],
    consumers: dict[str, list[onnx.NodeProto]],
    tensors: dict[str, onnx.TensorProto],
    scalars: dict[str, float],
    outputs: set[str],
) -> list[tuple[str, int]] | None:
    """The initializers to pad (name, axis) for the layer ending in *down*, or None."""
    width = tensors[down.input[1]].dims[0]
    lanes: dict[str, float] = {}  # a tensor of the layer → its padded units' value
    pads = {down.input[1]: 0}  # initializer → the axis it is padded along
    region: list[onnx.NodeProto] = []

    def lane(name: str) -> float | None:
        """The padded units' value of tensor *name*, following it up to the up projection."""
        if name in lanes:
            return lanes[name]
        if name in scalars:
            return scalars[name]
        bias = tensors.get(name)
        if bias is not None and list(bias.dims) == [width]:
            pads[name] = 0
            return 0.0
        node = producers.get(name)
        if node is None:
            return None
        if node.op_type == "MatMul" and node.domain in ("", "ai.onnx"):
            w1 = tensors.get(node.input[1])
            if w1 is None or len(w1.dims) != 2 or w1.dims[1] != width:
                return None
            pads[node.input[1]] = 1
            value: float | None = 0.0
        elif node.op_type in _LANE and node.domain in ("", "ai.onnx", "com.microsoft"):
            inputs = [lane(i) for i in node.input]
            try:
                value = None if None in inputs else _LANE[node.op_type](*inputs)
            except (ArithmeticError, TypeError, ValueError):
                value = None
        else:
            value = None
        if value is not None:
            region.append(node)
            lanes[name] = value
        return value

    if lane(down.input[0]) != 0.0:
        return None
    inside = {id(node) for node in region} | {id(down)}
    read = [*(out for node in region for out in node.output), *pads]
    if any(
        name in outputs or any(id(c) not in inside for c in consumers.get(name, []))
        for name in read
    ):
        return None  # another node, or the graph's output, reads the layer's insides
    return list(pads.items())
