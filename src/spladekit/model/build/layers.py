"""The transformer pieces a built graph is made of, one small function each.

Each function emits the nodes of one piece (a linear layer, layer norm, an activation, the
attention mask, self-attention, a whole encoder layer) into an :class:`Emitter`, following the
exact Hugging Face math. An exact emitter writes standard ONNX ops in the node pattern a torch
export has (``MatMul`` + ``Add`` projections, ``Reshape`` / ``Transpose`` heads, erf GELU, an
additive mask); a fused one (``Emitter(fused=True)``, ``optimize="fused"``) writes ONNX
Runtime's fused CPU kernels instead (:data:`~spladekit.model.graph.FUSED_DOMAIN`): ``Attention`` (one packed Q/K/V
projection, masked softmax and context in one op) and ``BiasGelu`` / ``FastGelu`` (bias and
activation in one pass). The bias, residual and layer norm stay ``Add`` + ``Add`` +
``LayerNormalization``: ONNX Runtime's ``SkipLayerNormalization`` is slower on the CPU
(:data:`~spladekit.pipeline.run.DISABLED_FUSIONS`). The same numbers up to float rounding
(tests/model/test_fuse.py: within 1e-4).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
import onnx
from onnx import TensorProto, helper

from spladekit.errors import ModelFormatError
from spladekit.model.graph import FUSED_DOMAIN, TensorSink
from spladekit.model.stride import pad_width

__all__ = [
    "ACTIVATIONS",
    "OPSET",
    "Emitter",
    "activation",
    "additive_mask",
    "attention_mask",
    "check_activation",
    "encoder_layer",
    "fused_attention",
    "layer_norm",
    "linear",
    "linear_activation",
    "self_attention",
]

#: Opset of built graphs: LayerNormalization is standard from 17.
OPSET = 17
#: Hugging Face ``hidden_act`` names this builder computes. The tanh GELU names are one
#: formula written three ways in transformers.
ACTIVATIONS = ("gelu", "gelu_new", "gelu_pytorch_tanh", "gelu_fast", "relu")
#: The additive mask's value for padding: torch.finfo(float32).min, as transformers uses.
_MASKED = float(np.finfo(np.float32).min)


class Emitter:
    """Nodes of the graph being built; its tensors go straight to *tensors* (the side file).

    *fused* picks ONNX Runtime's fused kernels where the pieces below have one.
    """

    def __init__(self, tensors: TensorSink, *, fused: bool = False) -> None:
        self.tensors = tensors
        self.fused = fused
        self.nodes: list[onnx.NodeProto] = []
        self._count = 0
        self._constants: dict[tuple[str, bytes], str] = {}

    def op(self, op_type: str, inputs: list[str], stem: str, **attrs: Any) -> str:
        """Emit one node; its single output gets a unique name built from *stem*."""
        self._count += 1
        out = f"{stem}/{op_type}_{self._count}"
        self.nodes.append(helper.make_node(op_type, inputs, [out], name=out, **attrs))
        return out

    def tensor(self, name: str, array: npt.NDArray[Any]) -> str:
        """A weight, stored under its checkpoint name."""
        return self.tensors.add(name, array)

    def split(self, x: str, sizes: list[int], stem: str) -> list[str]:
        """Emit ``Split`` of *x*'s last axis into parts of *sizes*; their names, in order."""
        self._count += 1
        outs = [f"{stem}/Split_{self._count}_{i}" for i in range(len(sizes))]
        sizes_name = self.const(sizes, np.int64)
        node = helper.make_node("Split", [x, sizes_name], outs, name=outs[0], axis=-1)
        self.nodes.append(node)
        return outs

    def const(self, value: npt.ArrayLike, dtype: type[np.generic] = np.float32) -> str:
        """A small constant, stored once however often it is used."""
        array = np.asarray(value, dtype=dtype)
        key = (f"{array.dtype}{array.shape}", array.tobytes())
        if key not in self._constants:
            self._constants[key] = self.tensors.add(f"const/{len(self._constants)}", array)
        return self._constants[key]


def linear(
    g: Emitter,
    x: str,
    weight: npt.NDArray[np.float32],
    bias: npt.NDArray[np.float32],
    name: str,
) -> str:
    """``x @ weight.T + bias`` for a torch ``nn.Linear`` weight of shape (out, in)."""
    w = g.tensor(f"{name}.weight", np.ascontiguousarray(weight.T))
    return g.op("Add", [g.op("MatMul", [x, w], name), g.tensor(f"{name}.bias", bias)], name)


def layer_norm(
    g: Emitter,
    x: str,
    weight: npt.NDArray[np.float32],
    bias: npt.NDArray[np.float32],
    eps: float,
    name: str,
) -> str:
    """``nn.LayerNorm`` over the last axis, with the checkpoint's epsilon."""
    gamma = g.tensor(f"{name}.weight", weight)
    beta = g.tensor(f"{name}.bias", bias)
    return g.op("LayerNormalization", [x, gamma, beta], name, axis=-1, epsilon=eps)


def check_activation(kind: object, where: str) -> str:
    """*kind* when it is an activation this builder computes, else a ModelFormatError."""
    if kind not in ACTIVATIONS:
        msg = (
            f"{where}: activation {kind!r} is not one spladekit can build; "
            f"it computes {', '.join(ACTIVATIONS)}"
        )
        raise ModelFormatError(msg)
    return str(kind)


def activation(g: Emitter, x: str, kind: str, name: str) -> str:
    """Hugging Face's ``ACT2FN[kind]``: erf GELU, its tanh approximation, or ReLU."""
    if kind == "relu":
        return g.op("Relu", [x], name)
    if kind == "gelu":  # 0.5 x (1 + erf(x / sqrt 2)), as torch exports it
        erf = g.op("Erf", [g.op("Div", [x, g.const(math.sqrt(2.0))], name)], name)
        one = g.op("Add", [erf, g.const(1.0)], name)
        return g.op("Mul", [g.op("Mul", [x, one], name), g.const(0.5)], name)
    # 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3)))
    cube = g.op("Mul", [g.op("Mul", [x, x], name), x], name)
    inner = g.op("Add", [x, g.op("Mul", [cube, g.const(0.044715)], name)], name)
    tanh = g.op("Tanh", [g.op("Mul", [inner, g.const(math.sqrt(2.0 / math.pi))], name)], name)
    one = g.op("Add", [tanh, g.const(1.0)], name)
    return g.op("Mul", [g.op("Mul", [x, one], name), g.const(0.5)], name)


def additive_mask(g: Emitter) -> str:
    """(batch, 1, 1, tokens): 0 where ``attention_mask`` is 1, float32's lowest where it is 0."""
    mask = g.op("Unsqueeze", ["attention_mask", g.const([1, 2], np.int64)], "mask")
    mask = g.op("Cast", [mask], "mask", to=TensorProto.FLOAT)
    return g.op("Mul", [g.op("Sub", [g.const(1.0), mask], "mask"), g.const(_MASKED)], "mask")


def self_attention(
    g: Emitter,
    x: str,
    mask: str,
    weights: dict[str, npt.NDArray[np.float32]],
    *,
    heads: int,
    names: dict[str, str],
) -> str:
    """Multi-head self-attention with its output projection: ``softmax(q kᵀ / √d + mask) v``.

    q, k and v are one MatMul of their weights side by side, then ``Split``
    (:mod:`spladekit.model.pack`: the same numbers as three, a faster query).

    *weights* holds ``{q,k,v,o}.weight`` / ``.bias`` (torch layout); *names* the checkpoint
    names of the q, k, v and o projections.
    """
    hidden = weights["q.weight"].shape[0]
    if hidden % heads:
        msg = f"hidden size {hidden} is not a multiple of {heads} attention heads"
        raise ModelFormatError(msg)
    size = hidden // heads
    heads_shape = g.const([0, 0, heads, size], np.int64)
    stem = names["q"]
    packed = linear(  # one GEMM for the three (spladekit.model.pack: the same numbers)
        g,
        x,
        np.concatenate([weights[f"{part}.weight"] for part in "qkv"]),
        np.concatenate([weights[f"{part}.bias"] for part in "qkv"]),
        f"{stem}.packed_qkv",
    )
    parts = g.split(packed, [hidden] * 3, stem)

    def heads_of(part: str, perm: list[int]) -> str:
        out = parts["qkv".index(part)]
        reshaped = g.op("Reshape", [out, heads_shape], names[part])
        return g.op("Transpose", [reshaped], names[part], perm=perm)

    q = heads_of("q", [0, 2, 1, 3])  # (batch, heads, tokens, size)
    k = heads_of("k", [0, 2, 3, 1])  # (batch, heads, size, tokens)
    v = heads_of("v", [0, 2, 1, 3])
    stem = names["o"]
    scores = g.op("Div", [g.op("MatMul", [q, k], stem), g.const(math.sqrt(size))], stem)
    probs = g.op("Softmax", [g.op("Add", [scores, mask], stem)], stem, axis=-1)
    context = g.op("Transpose", [g.op("MatMul", [probs, v], stem)], stem, perm=[0, 2, 1, 3])
    merged = g.op("Reshape", [context, g.const([0, 0, hidden], np.int64)], stem)
    return linear(g, merged, weights["o.weight"], weights["o.bias"], names["o"])


def linear_activation(
    g: Emitter,
    x: str,
    weight: npt.NDArray[np.float32],
    bias: npt.NDArray[np.float32],
    kind: str,
    name: str,
) -> str:
    """``act(x @ weight.T + bias)``; fused, the bias joins the activation's one pass.

    erf GELU becomes ``BiasGelu``, its tanh form ``FastGelu`` (the same formula, with the
    constants rounded to 6 digits); ReLU has no fused kernel and stays ``Add`` + ``Relu``.
    """
    if not g.fused or kind == "relu":
        return activation(g, linear(g, x, weight, bias, name), kind, name)
    w = g.tensor(f"{name}.weight", np.ascontiguousarray(weight.T))
    product = g.op("MatMul", [x, w], name)
    fused = "BiasGelu" if kind == "gelu" else "FastGelu"
    return g.op(fused, [product, g.tensor(f"{name}.bias", bias)], name, domain=FUSED_DOMAIN)


def attention_mask(g: Emitter) -> str:
    """The mask as this emitter's attention takes it, made once per graph.

    Exact: the additive (batch, 1, 1, tokens) mask. Fused: ``attention_mask`` as int32
    (batch, tokens), 1 for a token and 0 for padding, the raw mask ``Attention`` reads.
    """
    if not g.fused:
        return additive_mask(g)
    return g.op("Cast", ["attention_mask"], "mask", to=TensorProto.INT32)


def fused_attention(
    g: Emitter,
    x: str,
    mask: str,
    weights: dict[str, npt.NDArray[np.float32]],
    *,
    heads: int,
    names: dict[str, str],
) -> str:
    """Self-attention as one ``Attention`` op, then the output projection.

    The q, k and v weights are packed into one (hidden, 3·hidden) matrix, so the three
    projections are one GEMM; padding gets float32's lowest score, as in the exact graph.
    """
    hidden = weights["q.weight"].shape[0]
    if hidden % heads:
        msg = f"hidden size {hidden} is not a multiple of {heads} attention heads"
        raise ModelFormatError(msg)
    packed = np.concatenate([weights[f"{part}.weight"].T for part in "qkv"], axis=1)
    packed_bias = np.concatenate([weights[f"{part}.bias"] for part in "qkv"])
    stem = names["q"]
    attended = g.op(
        "Attention",
        [
            x,
            g.tensor(f"{stem}.packed_qkv.weight", np.ascontiguousarray(packed)),
            g.tensor(f"{stem}.packed_qkv.bias", packed_bias),
            mask,
        ],
        stem,
        domain=FUSED_DOMAIN,
        num_heads=heads,
        mask_filter_value=_MASKED,
    )
    return linear(g, attended, weights["o.weight"], weights["o.bias"], names["o"])


def encoder_layer(
    g: Emitter,
    x: str,
    mask: str,
    fetch: Callable[[str], npt.NDArray[np.float32]],
    names: dict[str, str],
    *,
    heads: int,
    eps: float,
    act: str,
) -> str:
    """One post-LN transformer layer (BERT's and DistilBERT's).

    ``x = LN(attention(x) + x); x = LN(down(act(up(x))) + x)``, the feed-forward inner width
    padded where its rows would alias in cache (:mod:`spladekit.model.stride`, the same
    numbers). *names* gives the checkpoint name of each part (``q k v o attention_norm up
    down output_norm``); *fetch* reads a tensor; *mask* is :func:`attention_mask`'s.
    """
    weights = {
        f"{part}.{kind}": fetch(f"{names[part]}.{kind}")
        for part in ("q", "k", "v", "o")
        for kind in ("weight", "bias")
    }
    attend = fused_attention if g.fused else self_attention
    attended = attend(g, x, mask, weights, heads=heads, names=names)
    norm = names["attention_norm"]
    residual = g.op("Add", [attended, x], norm)
    x = layer_norm(g, residual, fetch(f"{norm}.weight"), fetch(f"{norm}.bias"), eps, norm)
    up, down, norm = names["up"], names["down"], names["output_norm"]
    w_up, b_up, w_down = _feed_forward(fetch, up, down)
    inner = linear_activation(g, x, w_up, b_up, act, up)
    out = linear(g, inner, w_down, fetch(f"{down}.bias"), down)
    residual = g.op("Add", [out, x], norm)
    return layer_norm(g, residual, fetch(f"{norm}.weight"), fetch(f"{norm}.bias"), eps, norm)


def _feed_forward(
    fetch: Callable[[str], npt.NDArray[np.float32]], up: str, down: str
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """The up weight and bias and the down weight, widened where rows would alias (stride)."""
    return pad_width(fetch(f"{up}.weight"), fetch(f"{up}.bias"), fetch(f"{down}.weight"))
