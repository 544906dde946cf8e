"""Pack: projections that read one tensor (a layer's q, k and v) run as one MatMul, then Split.

An export writes self-attention's three projections as three ``MatMul`` + bias ``Add`` on the
same input. Side by side in one weight matrix (hidden × 3·hidden) they are one GEMM: one
parallel section of ONNX Runtime's thread pool instead of three, and wider panels for MLAS.
On the BERT-base benchmark model (AMD EPYC with AVX-512 VNNI, 2 threads, the two graphs
taking turns query by query in one process: ``benchmarks/packed_qkv.py``) one query takes
0.98x the time, prepared export and built graph alike; a documents batch 1.00x (its GEMMs
are large either way).

The numbers stay the same bit for bit: MLAS computes each output element over the inner
axis in the same fixed blocks whatever the number of columns (ONNX Runtime pre-packs a
constant weight), the bias is added element by element as before, and ``Split`` only moves
values (tests/model/test_pack.py compares the graphs). The fused graphs do this already
(``Attention`` takes the q, k and v weights packed); the transformer optimizer that makes
them from an export recognises only the unpacked pattern, so :mod:`spladekit.model.fuse`
first undoes the packing (:func:`unpack_projections`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import onnx
from onnx import helper, numpy_helper

from spladekit.model import graph

__all__ = ["pack_projections", "unpack_projections"]

_Array = npt.NDArray[np.float32]
_STANDARD = ("", "ai.onnx")
_SUBGRAPHS = (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS)


@dataclass(frozen=True)
class _Projection:
    """``out = Add(MatMul(x, weight), bias)``: the two nodes and their weights' names."""

    matmul: onnx.NodeProto
    add: onnx.NodeProto
    weight: str
    bias: str


def pack_projections(model: onnx.ModelProto) -> int:
    """Pack each set of sibling projections of *model* in place; returns how many sets.

    Siblings: ``MatMul(x, W[k, n_i])`` on the same *x*, each product read only by an ``Add``
    of a (n_i,) bias, float32 constants, no product or sum a graph output (an export's
    ``logits`` stays for :mod:`~spladekit.model.rewrite` to find). Needs opset 13 or newer
    (``Split`` sizes as an input), which preparing requires anyway.
    """
    body = model.graph
    if any(a.type in _SUBGRAPHS for node in body.node for a in node.attribute):
        return 0  # a subgraph could read a product; BERT-like exports have none
    tensors = {t.name: t for t in body.initializer}
    groups: dict[tuple[str, int], list[_Projection]] = {}
    for projection in _projections(body, tensors):
        rows = tensors[projection.weight].dims[0]
        groups.setdefault((projection.matmul.input[0], rows), []).append(projection)
    packed = [group for group in groups.values() if len(group) > 1]
    # Nodes are keyed by their first output: unique in a graph, and stable where protobuf
    # wrappers are not.
    replacing = {group[0].matmul.output[0]: group for group in packed}
    removed = {n.output[0] for group in packed for p in group for n in (p.matmul, p.add)}
    nodes: list[onnx.NodeProto] = []
    for node in body.node:
        key = node.output[0] if node.output else ""
        group = replacing.get(key)
        if group is not None:  # where the first sibling was: x exists, no sum is read yet
            nodes.extend(_packed_nodes(group, tensors, body))
        if key not in removed:
            nodes.append(node)
    if packed:
        del body.node[:]
        body.node.extend(nodes)
        _drop_unused(body)
    return len(packed)


def unpack_projections(model: onnx.ModelProto) -> int:
    """Undo :func:`pack_projections` in *model* in place; returns how many sets were split."""
    body = model.graph
    tensors = {t.name: t for t in body.initializer}
    producers = {out: node for node in body.node for out in node.output}
    readers = {name: len(nodes) for name, nodes in graph.consumers(body).items()}
    found = [_packed_parts(node, producers, tensors, readers) for node in body.node]
    removed = {n.output[0] for parts in found if parts for n in parts[:2]}
    nodes: list[onnx.NodeProto] = []
    for node, parts in zip(body.node, found, strict=True):
        if parts is None:
            if not node.output or node.output[0] not in removed:
                nodes.append(node)
            continue
        matmul, _, weight, bias, sizes = parts
        start = 0
        for out, size in zip(node.output, sizes, strict=True):
            stem = f"{out}/unpacked"
            body.initializer.extend(
                [
                    numpy_helper.from_array(weight[:, start : start + size].copy(), f"{stem}.w"),
                    numpy_helper.from_array(bias[start : start + size].copy(), f"{stem}.b"),
                ]
            )
            nodes.append(helper.make_node("MatMul", [matmul.input[0], f"{stem}.w"], [stem]))
            nodes.append(helper.make_node("Add", [stem, f"{stem}.b"], [out]))
            start += size
    unpacked = sum(parts is not None for parts in found)
    if unpacked:
        del body.node[:]
        body.node.extend(nodes)
        _drop_unused(body)
    return unpacked


def _projections(body: onnx.GraphProto, tensors: dict[str, onnx.TensorProto]) -> list[_Projection]:
    """Every ``Add(MatMul(x, W), b)`` of *body* that :func:`pack_projections` may pack."""
    consumers = graph.consumers(body)
    outputs = {o.name for o in body.output}
    found = []
    for node in body.node:
        if node.op_type != "MatMul" or node.domain not in _STANDARD or len(node.input) != 2:
            continue
        weight = tensors.get(node.input[1])
        readers = consumers.get(node.output[0], [])
        if not _is_float(weight, rank=2) or len(readers) != 1 or node.output[0] in outputs:
            continue
        add = readers[0]
        if add.op_type != "Add" or add.domain not in _STANDARD or add.output[0] in outputs:
            continue
        bias_name = add.input[1] if add.input[0] == node.output[0] else add.input[0]
        bias = tensors.get(bias_name)
        if bias_name == node.output[0] or not _is_float(bias, rank=1):
            continue
        assert weight is not None and bias is not None  # checked by _is_float
        if bias.dims[0] == weight.dims[1]:
            found.append(_Projection(node, add, weight.name, bias.name))
    return found


def _is_float(tensor: onnx.TensorProto | None, *, rank: int) -> bool:
    return (
        tensor is not None
        and tensor.data_type == onnx.TensorProto.FLOAT
        and len(tensor.dims) == rank
    )


def _packed_nodes(
    group: list[_Projection], tensors: dict[str, onnx.TensorProto], body: onnx.GraphProto
) -> list[onnx.NodeProto]:
    """MatMul + Add + Split of *group*'s weights side by side, giving each sibling's sum."""
    stem = f"{group[0].weight}/packed"
    weights = [numpy_helper.to_array(tensors[p.weight]) for p in group]
    biases = [numpy_helper.to_array(tensors[p.bias]) for p in group]
    sizes = np.array([w.shape[1] for w in weights], dtype=np.int64)
    for name, array in (
        (f"{stem}.weight", np.concatenate(weights, axis=1)),
        (f"{stem}.bias", np.concatenate(biases)),
        (f"{stem}.sizes", sizes),
    ):
        body.initializer.append(numpy_helper.from_array(array, name))
    x = group[0].matmul.input[0]
    return [
        helper.make_node("MatMul", [x, f"{stem}.weight"], [f"{stem}/mm"], name=f"{stem}/mm"),
        helper.make_node(
            "Add", [f"{stem}/mm", f"{stem}.bias"], [f"{stem}/add"], name=f"{stem}/add"
        ),
        helper.make_node(
            "Split",
            [f"{stem}/add", f"{stem}.sizes"],
            [p.add.output[0] for p in group],
            name=f"{stem}/split",
            axis=-1,
        ),
    ]


def _packed_parts(
    split: onnx.NodeProto,
    producers: dict[str, onnx.NodeProto],
    tensors: dict[str, onnx.TensorProto],
    readers: dict[str, int],
) -> tuple[onnx.NodeProto, onnx.NodeProto, _Array, _Array, list[int]] | None:
    """(matmul, add, weight, bias, sizes) when *split* ends a packed projection, else None.

    Packed: ``Split(Add(MatMul(x, W), b), sizes)`` on the last axis, constants, the product
    and the sum read by nothing else.
    """
    axes = [a.i for a in split.attribute if a.name == "axis"]
    if split.op_type != "Split" or split.domain not in _STANDARD or axes != [-1]:
        return None
    if len(split.input) != 2 or split.input[1] not in tensors:
        return None
    add = producers.get(split.input[0])
    if add is None or add.op_type != "Add" or add.input[1] not in tensors:
        return None
    matmul = producers.get(add.input[0])
    if matmul is None or matmul.op_type != "MatMul" or matmul.input[1] not in tensors:
        return None
    if readers.get(add.output[0]) != 1 or readers.get(matmul.output[0]) != 1:
        return None
    weight = numpy_helper.to_array(tensors[matmul.input[1]])
    bias = numpy_helper.to_array(tensors[add.input[1]])
    sizes = [int(s) for s in numpy_helper.to_array(tensors[split.input[1]])]
    if weight.ndim != 2 or bias.shape != (weight.shape[1],) or sum(sizes) != weight.shape[1]:
        return None
    return matmul, add, weight, bias, sizes


def _drop_unused(body: onnx.GraphProto) -> None:
    """Delete initializers no node reads any more (in place, by index: no copies of weights)."""
    read = graph.names_read(list(body.node)) | {i.name for i in body.input}
    for index in reversed(range(len(body.initializer))):
        if body.initializer[index].name not in read:
            del body.initializer[index]
