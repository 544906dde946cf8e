"""Just enough of ONNX's protobuf wire format to rewrite a model's graph without the onnx package.

``prepare`` needs to read a model's nodes and initializer headers, add a few nodes, and move
weights to a side file. The ``onnx`` package would do that but is not a dependency, and it
loads every weight into memory; this reads the file field by field, seeking past weight bytes.
Field numbers are those of onnx/onnx.proto3.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

VARINT, I64, LEN, I32 = 0, 1, 2, 5

# ModelProto
MODEL_GRAPH, MODEL_OPSET = 7, 8
# GraphProto
GRAPH_NODE, GRAPH_INITIALIZER, GRAPH_INPUT, GRAPH_OUTPUT = 1, 5, 11, 12
# NodeProto
NODE_INPUT, NODE_OUTPUT, NODE_NAME, NODE_OP, NODE_ATTR, NODE_DOMAIN = 1, 2, 3, 4, 5, 7
# TensorProto
T_DIMS, T_TYPE, T_NAME, T_RAW, T_EXTERNAL, T_LOCATION = 1, 2, 8, 9, 13, 14
# AttributeProto
A_NAME, A_F, A_I, A_INTS, A_TYPE = 1, 2, 3, 8, 20
ATTR_FLOAT, ATTR_INT, ATTR_INTS = 1, 2, 7
FLOAT, INT64, BOOL = 1, 7, 9


def varint(value: int) -> bytes:
    """Encode a non-negative or negative (two's complement, 64-bit) varint."""
    value &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def key(number: int, wire: int) -> bytes:
    return varint((number << 3) | wire)


def length_field(number: int, payload: bytes) -> bytes:
    return key(number, LEN) + varint(len(payload)) + payload


def int_field(number: int, value: int) -> bytes:
    return key(number, VARINT) + varint(value)


def read_varint(buf: bytes | memoryview, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


@dataclass
class Field:
    """One field of a message: its number, wire type, and raw bytes (tag included)."""

    number: int
    wire: int
    raw: bytes
    value: int | bytes  # varint value, or payload for LEN fields


def parse(buf: bytes) -> list[Field]:
    """All fields of an in-memory message, in order."""
    fields: list[Field] = []
    pos = 0
    while pos < len(buf):
        start = pos
        tag, pos = read_varint(buf, pos)
        number, wire = tag >> 3, tag & 7
        value: int | bytes
        if wire == VARINT:
            value, pos = read_varint(buf, pos)
        elif wire == LEN:
            size, pos = read_varint(buf, pos)
            value = bytes(buf[pos : pos + size])
            pos += size
        elif wire == I64:
            value, pos = struct.unpack_from("<q", buf, pos)[0], pos + 8
        elif wire == I32:
            value, pos = struct.unpack_from("<i", buf, pos)[0], pos + 4
        else:
            msg = f"unsupported protobuf wire type {wire}"
            raise ValueError(msg)
        fields.append(Field(number, wire, bytes(buf[start:pos]), value))
    return fields


def _file_varint(file: BinaryIO) -> int:
    result = shift = 0
    while True:
        data = file.read(1)
        if not data:
            raise EOFError
        result |= (data[0] & 0x7F) << shift
        if not data[0] & 0x80:
            return result
        shift += 7


def scan(file: BinaryIO, start: int, end: int) -> Iterator[tuple[int, int, int, int, int]]:
    """Fields of a message on disk: (number, wire, field start, payload start, payload end).

    Payloads are not read, so a 500 MB weight costs one seek.
    """
    pos = start
    while pos < end:
        file.seek(pos)
        tag = _file_varint(file)
        number, wire = tag >> 3, tag & 7
        if wire == VARINT:
            _file_varint(file)
            payload = file.tell()
            stop = payload
        elif wire == LEN:
            size = _file_varint(file)
            payload = file.tell()
            stop = payload + size
        elif wire == I64:
            payload = file.tell()
            stop = payload + 8
        elif wire == I32:
            payload = file.tell()
            stop = payload + 4
        else:
            msg = f"unsupported protobuf wire type {wire} at byte {pos}"
            raise ValueError(msg)
        yield number, wire, pos, payload, stop
        pos = stop


def strings(fields: list[Field], number: int) -> list[str]:
    return [f.value.decode() for f in fields if f.number == number and isinstance(f.value, bytes)]


def first_int(fields: list[Field], number: int, default: int = 0) -> int:
    return next(
        (f.value for f in fields if f.number == number and isinstance(f.value, int)), default
    )


def packed_ints(fields: list[Field], number: int) -> list[int]:
    """Repeated int64 values, packed or not."""
    values: list[int] = []
    for f in fields:
        if f.number != number:
            continue
        if isinstance(f.value, int):
            values.append(f.value)
        else:
            pos = 0
            while pos < len(f.value):
                value, pos = read_varint(f.value, pos)
                values.append(value - (1 << 64) if value >= 1 << 63 else value)
    return values


@dataclass
class Node:
    """A NodeProto to emit."""

    op: str
    inputs: list[str]
    outputs: list[str]
    ints: dict[str, int] = field(default_factory=dict)
    int_lists: dict[str, list[int]] = field(default_factory=dict)

    def encode(self) -> bytes:
        out = b"".join(length_field(NODE_INPUT, n.encode()) for n in self.inputs)
        out += b"".join(length_field(NODE_OUTPUT, n.encode()) for n in self.outputs)
        out += length_field(NODE_NAME, self.outputs[0].encode())
        out += length_field(NODE_OP, self.op.encode())
        for name, value in self.ints.items():
            attr = length_field(A_NAME, name.encode()) + int_field(A_I, value)
            out += length_field(NODE_ATTR, attr + int_field(A_TYPE, ATTR_INT))
        for name, values in self.int_lists.items():
            attr = length_field(A_NAME, name.encode())
            attr += b"".join(int_field(A_INTS, v) for v in values)
            out += length_field(NODE_ATTR, attr + int_field(A_TYPE, ATTR_INTS))
        return out


def tensor(name: str, dims: list[int], data_type: int, raw: bytes) -> bytes:
    """An inline TensorProto."""
    out = b"".join(int_field(T_DIMS, d) for d in dims)
    out += int_field(T_TYPE, data_type) + length_field(T_NAME, name.encode())
    return out + length_field(T_RAW, raw)


def external_tensor(header: bytes, location: str, offset: int, length: int) -> bytes:
    """A TensorProto header (dims, type, name) pointing at bytes in a side file."""

    def entry(k: str, v: str) -> bytes:
        return length_field(T_EXTERNAL, length_field(1, k.encode()) + length_field(2, v.encode()))

    out = header + entry("location", location) + entry("offset", str(offset))
    return out + entry("length", str(length)) + int_field(T_LOCATION, 1)


def value_info(name: str, elem_type: int, dims: list[int | str]) -> bytes:
    """A ValueInfoProto: a graph output's name, element type and shape."""
    shape = b"".join(
        length_field(1, int_field(1, d) if isinstance(d, int) else length_field(2, d.encode()))
        for d in dims
    )
    tensor_type = int_field(1, elem_type) + length_field(2, shape)
    return length_field(1, name.encode()) + length_field(2, length_field(1, tensor_type))


@dataclass
class Tensor:
    """An initializer: its header fields and where its bytes are."""

    name: str
    dims: list[int]
    data_type: int
    header: bytes  # every field but the data
    inline: bytes | None  # the whole TensorProto when its data is not raw bytes
    data: tuple[Path, int, int] | None  # (file, offset, length) of raw bytes
    transposed: bool = False  # the bytes are the (dims[1], dims[0]) matrix


def read(file: BinaryIO, start: int, stop: int) -> bytes:
    file.seek(start)
    return file.read(stop - start)


def read_tensor(file: BinaryIO, path: Path, start: int, stop: int) -> Tensor:
    header: list[bytes] = []
    fields: list[Field] = []
    data: tuple[Path, int, int] | None = None
    external: dict[str, str] = {}
    for number, _, begin, payload, end in scan(file, start, stop):
        if number == T_RAW:
            data = (path, payload, end - payload)
            continue
        raw = read(file, begin, end)
        if number == T_EXTERNAL:
            entry = parse(parse(raw)[0].value)  # type: ignore[arg-type]
            external[strings(entry, 1)[0]] = strings(entry, 2)[0]
            continue
        if number == T_LOCATION:
            continue
        header.append(raw)
        fields += parse(raw)
    if external:
        location = path.parent / external["location"]
        offset = int(external.get("offset", "0"))
        length = int(external.get("length", str(location.stat().st_size - offset)))
        data = (location, offset, length)
    joined = b"".join(header)
    inline = None if data is not None else read(file, start, stop)
    return Tensor(
        name=strings(fields, T_NAME)[0],
        dims=packed_ints(fields, T_DIMS),
        data_type=first_int(fields, T_TYPE),
        header=joined,
        inline=inline,
        data=data,
    )


def rank(info: bytes) -> int | None:
    """Rank of a ValueInfoProto's tensor type, None when it states no shape."""
    for f in parse(info):
        if f.number == 2 and isinstance(f.value, bytes):  # TypeProto
            for tensor_type in parse(f.value):
                if tensor_type.number == 1 and isinstance(tensor_type.value, bytes):
                    for part in parse(tensor_type.value):
                        if part.number == 2 and isinstance(part.value, bytes):
                            return sum(d.number == 1 for d in parse(part.value))
    return None


def write_tensors(
    file: BinaryIO,
    tensors: list[Tensor],
    data_path: Path,
    *,
    align: int = 1 << 16,
    inline: int = 1024,
) -> list[bytes]:
    """Initializer fields; raw bytes of *inline* or more go to *data_path*, *align*-ed.

    Aligned offsets let ONNX Runtime memory-map the side file; small constants stay in the
    graph, where shape inference reads them.
    """
    fields: list[bytes] = []
    with data_path.open("wb") as data:
        for item in tensors:
            payload = tensor_bytes(file, item)
            if payload is None or len(payload[1]) < inline:
                proto = (
                    item.inline
                    if payload is None
                    else tensor(item.name, item.dims, item.data_type, payload[1])
                )
                fields.append(length_field(GRAPH_INITIALIZER, proto or b""))
                continue
            header, raw = payload
            offset = -data.tell() % align + data.tell()
            data.seek(offset)
            data.write(raw)
            proto = external_tensor(header, data_path.name, offset, len(raw))
            fields.append(length_field(GRAPH_INITIALIZER, proto))
    return fields


def tensor_bytes(file: BinaryIO, item: Tensor) -> tuple[bytes, bytes] | None:
    """(header, raw data) of a tensor, or None when its data is not raw bytes."""
    if item.data is not None:
        path, offset, length = item.data
        if path == Path(file.name):
            return item.header, read(file, offset, offset + length)
        with path.open("rb") as other:
            return item.header, read(other, offset, offset + length)
    if item.inline is not None and not item.header:  # a tensor made here
        fields = parse(item.inline)
        raw = next(f.value for f in fields if f.number == T_RAW)
        header = b"".join(f.raw for f in fields if f.number != T_RAW)
        return header, raw  # type: ignore[return-value]
    return None
