"""Prepare: rewrite an exported ONNX SPLADE model once into a graph that pools inside, cached.

A SPLADE export ends in ``logits = MatMul(hidden, W) + bias`` of shape (batch, tokens, 30522):
~250 MB per 2048 tokens that ONNX Runtime writes, biases, and hands to numpy only to be
max-pooled. The prepared graph pools inside the model instead:

- padding rows of ``hidden`` are replaced by the row's first token, so a plain max over tokens
  is the masked max (a duplicate of a real token cannot change a max);
- the vocabulary projection runs in column blocks of ``W``, each max-pooled as soon as it is
  made, so the (tokens, vocab) intermediate never exists whole and each block stays in cache;
- the bias is added after the max: ``max_t(x_t + b) == max_t(x_t) + b`` exactly, as float
  rounding is monotone, so that add touches (batch, vocab) instead of (batch, tokens, vocab).

The output ``pooled_logits`` (batch, vocab) equals ``masked_max(logits)`` of the original.
Weights move to a side file (``model.onnx.data``) that ONNX Runtime memory-maps, so loading
does not hold a second copy of them. ``quantize="int8"`` then applies ONNX Runtime's dynamic
int8 quantization (needs the ``onnx`` package: ``pip install "spladekit[int8]"``).

Prepared models live in ``$SPLADEKIT_CACHE`` (default ``~/.cache/spladekit/prepared``), keyed
by the source file's path, size, modification time and a fingerprint of its bytes, so a
changed model is prepared again. The rewrite reads the file field by field with the small
protobuf codec in ``_onnx_wire`` — no ``onnx`` package needed for fp32.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from spladekit.errors import ModelFormatError, require
from spladekit.model import _onnx_wire as w
from spladekit.model.cache import cache_root
from spladekit.options import Quantize
from spladekit.pipeline.run import POOLED_OUTPUT

__all__ = ["prepare_model"]

logger = logging.getLogger(__name__)

#: Bump when the rewrite changes, so every cache entry is prepared again.
PREPARE_VERSION = 1
#: Column blocks of the vocabulary projection (30522 / 8 ≈ 3.8k columns, ~30 MB per 2048 tokens).
VOCAB_BLOCKS = 8
_ALIGN = 1 << 16  # side-file offsets ONNX Runtime can memory-map on every OS
_INLINE_BYTES = 1024  # small constants stay in the graph (shape inference reads them)
_DATA = "model.onnx.data"


def _fingerprint(source: Path, quantize: Quantize | None) -> str:
    real = source.resolve()
    stat = real.stat()
    digest = hashlib.sha256(
        f"{PREPARE_VERSION}|{real}|{stat.st_size}|{stat.st_mtime_ns}|{quantize}".encode()
    )
    with real.open("rb") as file:
        digest.update(file.read(1 << 16))
        file.seek(max(0, stat.st_size - (1 << 16)))
        digest.update(file.read())
    for side in sorted(source.parent.glob(f"{source.name}?data")):  # model.onnx_data / .data
        side_stat = side.resolve().stat()
        digest.update(f"|{side.name}|{side_stat.st_size}|{side_stat.st_mtime_ns}".encode())
    return digest.hexdigest()[:20]


def prepare_model(
    source: str | os.PathLike[str],
    *,
    quantize: Quantize | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
) -> Path:
    """The prepared copy of *source* (pooled in-graph, weights memory-mappable), made once.

    Raises ModelFormatError when the file is not an ONNX model this rewrite understands,
    MissingDependencyError when ``quantize="int8"`` lacks the ``onnx`` package.
    """
    if quantize not in (None, "int8"):
        msg = f"quantize must be None or 'int8', got {quantize!r}"
        raise ModelFormatError(msg)
    source = Path(source)
    root = Path(cache_dir) if cache_dir is not None else cache_root() / "prepared"
    target = root / _fingerprint(source, quantize)
    if (target / "model.onnx").exists():
        return target / "model.onnx"
    if quantize == "int8":
        require("onnx", "int8")
        fp32 = prepare_model(source, cache_dir=root)
    root.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".preparing-", dir=root))
    try:
        if quantize == "int8":
            _quantize(fp32, work)
        else:
            _rewrite(source, work / "model.onnx")
        logger.info("prepared %s (quantize=%s) into %s", source, quantize, target)
        work.chmod(0o755)  # mkdtemp makes it private; the cache may be shared
        try:
            work.rename(target)
        except OSError:  # another process finished first: keep theirs
            if not (target / "model.onnx").exists():
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target / "model.onnx"


def _quantize(fp32: Path, work: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    staged = work / "int8-inline.onnx"
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
    _rewrite(staged, work / "model.onnx")
    staged.unlink()


def _rewrite(source: Path, target: Path) -> None:
    """Write *target*: the pooled graph, weights in a side file beside it."""
    with source.open("rb") as file:
        size = source.stat().st_size
        model_fields: list[bytes] = []
        graph: tuple[int, int] | None = None
        opset = 0
        for number, _, begin, payload, end in w.scan(file, 0, size):
            if number == w.MODEL_GRAPH:
                graph = (payload, end)
                continue
            raw = w.read(file, begin, end)
            model_fields.append(raw)
            if number == w.MODEL_OPSET:
                entry = w.parse(w.parse(raw)[0].value)  # type: ignore[arg-type]
                if not w.strings(entry, 1) or w.strings(entry, 1) == [""]:
                    opset = w.first_int(entry, 2)
        if graph is None:
            msg = f"{source} has no graph: is it an ONNX model?"
            raise ModelFormatError(msg)
        if opset < 13:
            msg = f"{source} uses ONNX opset {opset}; preparing needs opset 13 or newer"
            raise ModelFormatError(msg)
        nodes: list[list[w.Field]] = []
        node_raw: list[bytes] = []
        tensors: list[w.Tensor] = []
        outputs: list[bytes] = []
        other: list[bytes] = []
        for number, _, begin, payload, end in w.scan(file, *graph):
            if number == w.GRAPH_NODE:
                node_raw.append(w.read(file, begin, end))
                nodes.append(w.parse(w.read(file, payload, end)))
            elif number == w.GRAPH_INITIALIZER:
                tensors.append(w.read_tensor(file, source, payload, end))
            elif number == w.GRAPH_OUTPUT:
                outputs.append(w.read(file, payload, end))
            else:
                other.append(w.read(file, begin, end))
        output_names = [w.strings(w.parse(o), 1)[0] for o in outputs]
        input_names = {
            name
            for raw in other
            for f in w.parse(raw)
            if f.number == w.GRAPH_INPUT and isinstance(f.value, bytes)
            for name in w.strings(w.parse(f.value), 1)
        }
        if not {"input_ids", "attention_mask"} <= input_names:
            msg = f"{source} takes {sorted(input_names)}, not input_ids and attention_mask"
            raise ModelFormatError(msg)
        if POOLED_OUTPUT in output_names:  # already prepared (the int8 pass): only move weights
            new_nodes: list[w.Node] = []
            new_tensors: list[w.Tensor] = []
            keep = list(range(len(nodes)))
            out_info = outputs[output_names.index(POOLED_OUTPUT)]
        else:
            logits = "logits" if "logits" in output_names else output_names[0]
            rank = w.rank(outputs[output_names.index(logits)])
            if rank != 3:
                msg = f"{source}: output {logits!r} has rank {rank}, not (batch, tokens, vocab)"
                raise ModelFormatError(msg)
            new_nodes, new_tensors, keep, vocab = _pool_head(nodes, tensors, logits, opset)
            out_info = w.value_info(
                POOLED_OUTPUT, w.FLOAT, ["batch", vocab if vocab > 0 else "vocab"]
            )
        tensors = _drop_unused(tensors, nodes, keep, new_nodes, other)
        body = [node_raw[i] for i in keep] + [
            w.length_field(w.GRAPH_NODE, n.encode()) for n in new_nodes
        ]
        body += other
        body += w.write_tensors(
            file, tensors + new_tensors, target.parent / _DATA, align=_ALIGN, inline=_INLINE_BYTES
        )
        body.append(w.length_field(w.GRAPH_OUTPUT, out_info))
    model = b"".join(model_fields) + w.length_field(w.MODEL_GRAPH, b"".join(body))
    target.write_bytes(model)


def _drop_unused(
    tensors: list[w.Tensor],
    nodes: list[list[w.Field]],
    keep: list[int],
    new_nodes: list[w.Node],
    other: list[bytes],
) -> list[w.Tensor]:
    """Drop initializers only the removed nodes read (the unsplit decoder weight)."""
    removed = {
        n for i in range(len(nodes)) if i not in keep for n in w.strings(nodes[i], w.NODE_INPUT)
    }
    used = {n for i in keep for n in w.strings(nodes[i], w.NODE_INPUT)}
    used |= {n for node in new_nodes for n in node.inputs}
    for raw in other:
        for f in w.parse(raw):
            if f.number == w.GRAPH_INPUT and isinstance(f.value, bytes):
                used |= set(w.strings(w.parse(f.value), 1))
    return [t for t in tensors if t.name not in removed or t.name in used]


def _pool_head(
    nodes: list[list[w.Field]], tensors: list[w.Tensor], logits: str, opset: int
) -> tuple[list[w.Node], list[w.Tensor], list[int], int]:
    """New nodes that max-pool *logits* over tokens, and which old nodes stay."""
    producers = {out: i for i, n in enumerate(nodes) for out in w.strings(n, w.NODE_OUTPUT)}
    by_name = {t.name: t for t in tensors}
    new: list[w.Node] = []
    consts: list[w.Tensor] = []

    def const(name: str, values: list[int]) -> str:
        raw = np.asarray(values, dtype=np.int64).tobytes()
        consts.append(
            w.Tensor(
                name, [len(values)], w.INT64, b"", w.tensor(name, [len(values)], w.INT64, raw), None
            )
        )
        return name

    def reduce_max(x: str, out: str) -> w.Node:
        if opset >= 18:
            return w.Node(
                "ReduceMax", [x, const("spladekit/axis1", [1])], [out], ints={"keepdims": 0}
            )
        return w.Node("ReduceMax", [x], [out], ints={"keepdims": 0}, int_lists={"axes": [1]})

    new.append(
        w.Node("Unsqueeze", ["attention_mask", const("spladekit/last", [-1])], ["spladekit/mask3"])
    )
    new.append(w.Node("Cast", ["spladekit/mask3"], ["spladekit/keep"], ints={"to": w.BOOL}))
    keep = list(range(len(nodes)))
    head = _find_head(nodes, producers, by_name, logits)
    if head is None:  # unknown head: pool the full logits, masked
        logger.info("no MatMul+bias head found; pooling the full logits in-graph")
        neg = np.array([np.finfo(np.float32).min], dtype=np.float32).tobytes()
        consts.append(
            w.Tensor(
                "spladekit/neg", [], w.FLOAT, b"", w.tensor("spladekit/neg", [], w.FLOAT, neg), None
            )
        )
        new.append(
            w.Node("Where", ["spladekit/keep", logits, "spladekit/neg"], ["spladekit/masked"])
        )
        new.append(reduce_max("spladekit/masked", POOLED_OUTPUT))
        vocab = -1
        return new, consts, keep, vocab
    add_index, matmul_index, hidden, weight, bias = head
    keep = [i for i in keep if i not in (add_index, matmul_index)]
    new.append(
        w.Node(
            "Slice",
            [
                hidden,
                const("spladekit/zero", [0]),
                const("spladekit/one", [1]),
                const("spladekit/axes1", [1]),
            ],
            ["spladekit/first"],
        )
    )
    new.append(w.Node("Where", ["spladekit/keep", hidden, "spladekit/first"], ["spladekit/hidden"]))
    blocks = _split_columns(weight, VOCAB_BLOCKS)
    pooled = []
    for i, block in enumerate(blocks):
        consts.append(block)
        new.append(w.Node("MatMul", ["spladekit/hidden", block.name], [f"spladekit/logits{i}"]))
        new.append(reduce_max(f"spladekit/logits{i}", f"spladekit/pooled{i}"))
        pooled.append(f"spladekit/pooled{i}")
    new.append(w.Node("Concat", pooled, ["spladekit/pooled"], ints={"axis": 1}))
    new.append(w.Node("Add", ["spladekit/pooled", bias.name], [POOLED_OUTPUT]))
    return new, consts, keep, weight.dims[1]


def _find_head(
    nodes: list[list[w.Field]], producers: dict[str, int], by_name: dict[str, w.Tensor], logits: str
) -> tuple[int, int, str, w.Tensor, w.Tensor] | None:
    """``logits = Add(MatMul(hidden, W[h, V]), b[V])`` → (add, matmul, hidden, W, b)."""
    add_index = producers.get(logits)
    if add_index is None or w.strings(nodes[add_index], w.NODE_OP) != ["Add"]:
        return None
    inputs = w.strings(nodes[add_index], w.NODE_INPUT)
    for product, bias_name in (inputs, inputs[::-1]):
        bias = by_name.get(bias_name)
        matmul_index = producers.get(product)
        if bias is None or matmul_index is None or len(bias.dims) != 1:
            continue
        matmul = nodes[matmul_index]
        if w.strings(matmul, w.NODE_OP) != ["MatMul"] or w.strings(matmul, w.NODE_DOMAIN) not in (
            [],
            [""],
        ):
            continue
        hidden, weight_name = w.strings(matmul, w.NODE_INPUT)
        weight = by_name.get(weight_name) or _transposed(nodes, producers, by_name, weight_name)
        consumers = sum(product in w.strings(n, w.NODE_INPUT) for n in nodes)
        if (
            weight is not None
            and weight.data is not None
            and weight.data_type == w.FLOAT
            and len(weight.dims) == 2
            and weight.dims[1] == bias.dims[0]
            and consumers == 1
        ):
            return add_index, matmul_index, hidden, weight, bias
    return None


def _transposed(
    nodes: list[list[w.Field]], producers: dict[str, int], by_name: dict[str, w.Tensor], name: str
) -> w.Tensor | None:
    """``Transpose(E[V, h])`` (a decoder tied to the word embeddings) as a virtual W[h, V]."""
    index = producers.get(name)
    if index is None or w.strings(nodes[index], w.NODE_OP) != ["Transpose"]:
        return None
    source = by_name.get(w.strings(nodes[index], w.NODE_INPUT)[0])
    perms = [
        w.packed_ints(w.parse(f.value), w.A_INTS)
        for f in nodes[index]
        if f.number == w.NODE_ATTR and isinstance(f.value, bytes)
    ]
    if source is None or len(source.dims) != 2 or any(p not in ([], [1, 0]) for p in perms):
        return None
    return dataclasses.replace(source, dims=source.dims[::-1], transposed=True)


def _split_columns(weight: w.Tensor, blocks: int) -> list[w.Tensor]:
    """Column blocks of a (hidden, vocab) float32 weight, as new tensors with inline bytes."""
    if weight.data is None:
        msg = f"{weight.name} has no raw data to split"
        raise ModelFormatError(msg)
    path, offset, length = weight.data
    hidden, vocab = weight.dims
    with path.open("rb") as file:
        file.seek(offset)
        raw = np.frombuffer(file.read(length), dtype=np.float32)
    matrix = raw.reshape(vocab, hidden).T if weight.transposed else raw.reshape(hidden, vocab)
    out = []
    for i, columns in enumerate(np.array_split(np.arange(vocab), blocks)):
        part = np.ascontiguousarray(matrix[:, columns[0] : columns[-1] + 1])
        name = f"spladekit/decoder{i}"
        out.append(
            w.Tensor(
                name,
                list(part.shape),
                w.FLOAT,
                b"",
                w.tensor(name, list(part.shape), w.FLOAT, part.tobytes()),
                None,
            )
        )
    return out
