"""The one way spladekit reads and writes ONNX graphs, and the pooled head every graph ends in.

Both :mod:`~spladekit.model.prepare` (rewriting an export) and :mod:`~spladekit.model.build`
(emitting a graph from safetensors weights) end their graph with :func:`pooled_head` and write
it with a :class:`SideFile`, so a prepared and a built model have the same shape:

- inputs ``input_ids`` and ``attention_mask`` (int64, batch × tokens);
- output ``pooled_logits`` (float32, batch × vocab): the max over each row's real tokens of
  the masked-LM logits;
- weights in ``model.onnx.data`` beside the graph, at offsets aligned to 64 KiB so ONNX
  Runtime memory-maps them instead of copying them into the process.
"""

from __future__ import annotations

import logging
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
import onnx
from google.protobuf.message import DecodeError
from onnx import TensorProto, helper, numpy_helper

from spladekit.errors import ModelFormatError
from spladekit.pipeline.run import POOLED_OUTPUT

__all__ = [
    "DATA_FILE",
    "FUSED_DOMAIN",
    "VOCAB_BLOCKS",
    "SideFile",
    "TensorSink",
    "consumers",
    "load_graph",
    "names_read",
    "opset_of",
    "pooled_head",
    "pooled_max",
    "pooled_output",
    "save_graph",
    "write_model",
]

logger = logging.getLogger(__name__)

#: The operator domain of ONNX Runtime's fused kernels (opset 1): the builder's and the
#: transformer optimizer's.
FUSED_DOMAIN = "com.microsoft"
#: The side file that holds a written graph's weights.
DATA_FILE = "model.onnx.data"
#: Column blocks of the vocabulary projection (30522 / 8 ≈ 3.8k columns, ~30 MB per 2048 tokens).
VOCAB_BLOCKS = 8
_ALIGN = 1 << 16  # side-file offsets ONNX Runtime can memory-map on every OS
_INLINE_BYTES = 1024  # small constants stay in the graph (shape inference reads them)
#: What reading a damaged or foreign file raises inside onnx and protobuf.
_READ_ERRORS = (DecodeError, OSError, ValueError, onnx.checker.ValidationError)


def load_graph(path: Path, *, external_data: bool = True) -> onnx.ModelProto:
    """Read an ONNX file (and its external weights); a damaged file is a ModelFormatError."""
    try:
        model = onnx.load(str(path), load_external_data=external_data)
    except _READ_ERRORS as error:
        msg = f"cannot read ONNX model {path}: {type(error).__name__}: {error}"
        raise ModelFormatError(msg) from error
    if not model.graph.output:
        msg = f"{path} has a graph with no outputs: it is not a masked-LM export"
        raise ModelFormatError(msg)
    if external_data:
        _check_sizes(model, path)
    return model


def consumers(body: onnx.GraphProto) -> dict[str, list[onnx.NodeProto]]:
    """The nodes of *body* that read each tensor name, in graph order."""
    readers: dict[str, list[onnx.NodeProto]] = {}
    for node in body.node:
        for name in node.input:
            readers.setdefault(name, []).append(node)
    return readers


def names_read(nodes: list[onnx.NodeProto]) -> set[str]:
    """Names *nodes* read, those of their subgraphs included."""
    names: set[str] = set()
    for node in nodes:
        names.update(node.input)
        for attribute in node.attribute:
            for sub in [attribute.g, *attribute.graphs]:
                names |= names_read(list(sub.node))
    return names


#: Types whose raw bytes are not one numpy item per element (text, and packed sub-byte types).
_UNSIZED = {
    getattr(TensorProto, name)
    for name in (
        "STRING",
        "INT4",
        "UINT4",
        "INT2",
        "UINT2",
        "FLOAT4E2M1",
        "FLOAT6E2M3",
        "FLOAT6E3M2",
    )
    if hasattr(TensorProto, name)
}


def _check_sizes(model: onnx.ModelProto, path: Path) -> None:
    """Every raw initializer holds as many bytes as its shape and type say."""
    for tensor in model.graph.initializer:
        if not tensor.HasField("raw_data") or tensor.data_type in _UNSIZED:
            continue
        try:
            itemsize = helper.tensor_dtype_to_np_dtype(tensor.data_type).itemsize
        except KeyError:  # a type numpy has no dtype for: ONNX Runtime will judge it
            continue
        want = int(np.prod(tensor.dims, dtype=np.int64)) * itemsize
        if len(tensor.raw_data) != want:
            msg = (
                f"{path}: tensor {tensor.name!r} of shape {list(tensor.dims)} holds "
                f"{len(tensor.raw_data)} bytes, not {want}: the file is damaged"
            )
            raise ModelFormatError(msg)


def opset_of(model: onnx.ModelProto) -> int:
    """The default-domain opset a model imports (0 when it imports none)."""
    return next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 0)


class TensorSink(Protocol):
    """Where new initializers go: ``add`` stores *array* under *name* and returns the name."""

    def add(self, name: str, array: npt.NDArray[Any]) -> str:
        """Store one tensor."""
        ...


class SideFile:
    """Initializers of a graph being written: small ones inline, large ones in the side file.

    Large tensors are written the moment they are added, at aligned offsets, so a graph built
    tensor by tensor never holds its weights in memory.
    """

    def __init__(self, folder: Path, *, name: str = DATA_FILE) -> None:
        self.path = folder / name
        self.initializers: list[TensorProto] = []
        self._file = self.path.open("wb")

    def add(self, name: str, array: npt.NDArray[Any]) -> str:
        """Add *array* as initializer *name*; its bytes go to the side file when large."""
        data = np.asarray(array, order="C")  # (ascontiguousarray would make scalars 1-D)
        if data.dtype.byteorder == ">":  # ONNX raw data is little-endian
            data = data.astype(data.dtype.newbyteorder("<"))
        if data.nbytes < _INLINE_BYTES:
            self.initializers.append(numpy_helper.from_array(data, name))
            return name
        tensor = TensorProto(
            name=name,
            dims=data.shape,
            data_type=helper.np_dtype_to_tensor_dtype(data.dtype),
        )
        self._external(tensor, data.data.cast("B"))
        self.initializers.append(tensor)
        return name

    def adopt(self, tensor: TensorProto) -> None:
        """Take an existing initializer, moving its bytes to the side file when large."""
        if tensor.data_type == TensorProto.STRING:
            self.initializers.append(tensor)
            return
        if not tensor.HasField("raw_data"):  # values in typed fields (float_data, ...)
            array = numpy_helper.to_array(tensor)
            if array.nbytes < _INLINE_BYTES:
                self.initializers.append(tensor)
                return
            tensor.CopyFrom(numpy_helper.from_array(array, tensor.name))
        if len(tensor.raw_data) < _INLINE_BYTES:
            self.initializers.append(tensor)
            return
        raw = tensor.raw_data
        tensor.ClearField("raw_data")
        self._external(tensor, raw)
        self.initializers.append(tensor)

    def _external(self, tensor: TensorProto, data: bytes | memoryview) -> None:
        offset = -self._file.tell() % _ALIGN + self._file.tell()
        self._file.seek(offset)
        self._file.write(data)
        del tensor.external_data[:]
        tensor.data_location = TensorProto.EXTERNAL
        for key, value in (("location", self.path.name), ("offset", offset), ("length", len(data))):
            entry = tensor.external_data.add()
            entry.key, entry.value = key, str(value)

    def close(self) -> None:
        """Flush and close the side file."""
        self._file.close()

    def __enter__(self) -> SideFile:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def write_model(model: onnx.ModelProto, folder: Path) -> None:
    """Write *model* whole as ``folder/model.onnx``, every initializer moved to the side file."""
    with SideFile(folder) as tensors:
        for tensor in model.graph.initializer:
            tensors.adopt(tensor)
        save_graph(model, folder / "model.onnx", tensors)


def save_graph(model: onnx.ModelProto, target: Path, tensors: SideFile) -> None:
    """Write *model* to *target* with *tensors* as its initializers (the side file beside it)."""
    tensors.close()
    kept = []
    for tensor in tensors.initializers:  # copies: the originals may live in this very field
        copy = TensorProto()
        copy.CopyFrom(tensor)
        kept.append(copy)
    del model.graph.initializer[:]
    model.graph.initializer.extend(kept)
    target.write_bytes(model.SerializeToString())


class _Head:
    """Node and constant helpers shared by the two pooled endings."""

    def __init__(self, opset: int, tensors: TensorSink) -> None:
        self.opset = opset
        self.tensors = tensors
        self.nodes: list[onnx.NodeProto] = []
        self._constants: set[str] = set()

    def node(self, op: str, inputs: list[str], output: str, **attrs: Any) -> str:
        self.nodes.append(helper.make_node(op, inputs, [output], name=output, **attrs))
        return output

    def ints(self, name: str, values: list[int]) -> str:
        if name not in self._constants:  # each constant once, however often it is read
            self._constants.add(name)
            self.tensors.add(name, np.asarray(values, dtype=np.int64))
        return name

    def reduce_max(self, x: str, out: str) -> str:
        if self.opset >= 18:  # axes became an input in opset 18
            return self.node("ReduceMax", [x, self.ints("spladekit/axis1", [1])], out, keepdims=0)
        return self.node("ReduceMax", [x], out, keepdims=0, axes=[1])

    def keep(self) -> str:
        """``attention_mask`` as a (batch, tokens, 1) boolean."""
        mask3 = self.node(
            "Unsqueeze", ["attention_mask", self.ints("spladekit/last", [-1])], "spladekit/mask3"
        )
        return self.node("Cast", [mask3], "spladekit/keep", to=TensorProto.BOOL)


def pooled_head(
    hidden: str,
    weight: npt.NDArray[np.float32],
    bias: str,
    *,
    opset: int,
    tensors: TensorSink,
) -> list[onnx.NodeProto]:
    """Nodes computing ``pooled_logits = max over real tokens of (hidden @ weight + bias)``.

    *hidden* is the (batch, tokens, h) input of the vocabulary projection, *weight* its
    (h, vocab) matrix (a transposed view of a tied embedding is fine), *bias* the name of its
    (vocab,) initializer. Padding rows of *hidden* become the row's first token (a duplicate
    of a real token cannot change a max), the projection runs in :data:`VOCAB_BLOCKS` column
    blocks each max-pooled at once, and the bias is added after the max (float rounding is
    monotone, so ``max(x + b) == max(x) + b`` exactly).
    """
    head = _Head(opset, tensors)
    keep = head.keep()
    first = head.node(
        "Slice",
        [
            hidden,
            head.ints("spladekit/zero", [0]),
            head.ints("spladekit/one", [1]),
            head.ints("spladekit/axes1", [1]),
        ],
        "spladekit/first",
    )
    rows = head.node("Where", [keep, hidden, first], "spladekit/hidden")
    pooled = []
    vocab = weight.shape[1]
    for i, columns in enumerate(np.array_split(np.arange(vocab), VOCAB_BLOCKS)):
        block = tensors.add(f"spladekit/decoder{i}", weight[:, columns[0] : columns[-1] + 1])
        logits = head.node("MatMul", [rows, block], f"spladekit/logits{i}")
        pooled.append(head.reduce_max(logits, f"spladekit/pooled{i}"))
    joined = head.node("Concat", pooled, "spladekit/pooled", axis=1)
    head.node("Add", [joined, bias], POOLED_OUTPUT)
    return head.nodes


def pooled_max(logits: str, *, opset: int, tensors: TensorSink) -> list[onnx.NodeProto]:
    """Nodes max-pooling full (batch, tokens, vocab) *logits* over real tokens.

    The fallback for a head :func:`pooled_head` cannot split.
    """
    head = _Head(opset, tensors)
    keep = head.keep()
    lowest = tensors.add("spladekit/neg", np.array(np.finfo(np.float32).min, dtype=np.float32))
    masked = head.node("Where", [keep, logits, lowest], "spladekit/masked")
    head.reduce_max(masked, POOLED_OUTPUT)
    return head.nodes


def pooled_output(vocab: int | None) -> onnx.ValueInfoProto:
    """The graph output both endings produce."""
    return helper.make_tensor_value_info(
        POOLED_OUTPUT, TensorProto.FLOAT, ["batch", vocab if vocab else "vocab"]
    )
