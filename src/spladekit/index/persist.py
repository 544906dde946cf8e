"""The saved form of a SparseIndex: one file, a small JSON header, then raw numpy arrays.

Layout (all integers little-endian), version 1::

    offset  size  what
    0       8     magic b"SPLADEIX"
    8       4     format version (uint32): 1
    12      4     CRC-32 of the header bytes (uint32)
    16      8     header length in bytes (uint64)
    24      n     header: UTF-8 JSON (below)
    ...           each array's raw bytes (C order) at a 64-byte aligned offset

The header holds ``format`` ("spladekit.SparseIndex"), ``version``, ``documents`` (the
count), ``id_kind`` ("str" or "int"), ``file_bytes`` (the whole file's size) and ``arrays``:
``{name: {"dtype": "<i8", "shape": [...], "offset": int, "nbytes": int, "crc32": [int, ...]}}``
(``crc32``: one CRC-32 per 16 MiB block of the array's bytes, so blocks verify in parallel)
for ``terms``, ``offsets``, ``docs``, ``values``, ``dense_terms``, ``dense`` and either
``ids`` (int64) or ``id_offsets`` + ``id_bytes`` (UTF-8). No pickle: reading a file never
runs code. A file shorter or longer than ``file_bytes``, a header or array whose CRC-32 does
not match, or arrays that do not fit together raise :class:`~spladekit.errors.IndexFormatError`.
"""

from __future__ import annotations

import json
import mmap
import os
import struct
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from spladekit.errors import IndexFormatError

__all__ = ["FORMAT", "MAGIC", "VERSION", "read", "write"]

MAGIC = b"SPLADEIX"
VERSION = 1
FORMAT = "spladekit.SparseIndex"
_PREFIX = struct.Struct("<8sIIQ")
_ALIGN = 64
_CRC_BLOCK = 1 << 24  # bytes per CRC-32 (zlib releases the GIL: blocks check in parallel)

#: Arrays every file holds, and the dtypes each may have.
_DTYPES: dict[str, tuple[str, ...]] = {
    "terms": ("<i8",),
    "offsets": ("<i8",),
    "docs": ("<i4", "<i8"),
    "values": ("<f4",),
    "dense_terms": ("<i8",),
    "dense": ("<f4",),
    "ids": ("<i8",),
    "id_offsets": ("<i8",),
    "id_bytes": ("|u1",),
}


def _bytes(array: npt.NDArray[Any]) -> memoryview:
    flat: Any = np.ascontiguousarray(array).reshape(-1).view(np.uint8)
    return memoryview(flat)


def _block_crcs(arrays: dict[str, npt.NDArray[Any]]) -> dict[str, list[int]]:
    """Each array's CRC-32s, one per :data:`_CRC_BLOCK` bytes, computed on all CPUs."""
    views = {name: _bytes(array) for name, array in arrays.items()}
    tasks = [
        (name, start) for name, view in views.items() for start in range(0, len(view), _CRC_BLOCK)
    ]
    with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
        crcs = list(pool.map(lambda t: zlib.crc32(views[t[0]][t[1] : t[1] + _CRC_BLOCK]), tasks))
    found: dict[str, list[int]] = {name: [] for name in arrays}
    for (name, _), crc in zip(tasks, crcs, strict=True):
        found[name].append(crc)
    return found


def _aligned(offset: int) -> int:
    return -(-offset // _ALIGN) * _ALIGN


def write(path: str | os.PathLike[str], meta: dict[str, Any], arrays: dict[str, Any]) -> int:
    """Write *arrays* and *meta* to *path* atomically (a temporary file, then a rename).

    Returns the file's size in bytes.
    """
    target = Path(path)
    contiguous = {name: np.ascontiguousarray(a) for name, a in arrays.items()}
    crcs = _block_crcs(contiguous)
    described: dict[str, dict[str, Any]] = {}
    header = b""
    # Array offsets depend on the header's length, which depends on the offsets: repeat until
    # the length settles (once or twice: offsets are 64-byte aligned).
    while True:
        offset = _aligned(_PREFIX.size + len(header))
        described = {}
        for name, array in contiguous.items():
            described[name] = {
                "dtype": array.dtype.str,
                "shape": list(array.shape),
                "offset": offset,
                "nbytes": int(array.nbytes),
                "crc32": crcs[name],
            }
            offset = _aligned(offset + array.nbytes)
        document = {"format": FORMAT, "version": VERSION, **meta, "file_bytes": offset}
        document["arrays"] = described
        encoded = json.dumps(document, separators=(",", ":")).encode("utf-8")
        settled = len(encoded) == len(header)
        header = encoded
        if settled:
            break
    size = int(json.loads(header)["file_bytes"])
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        with temporary.open("wb") as out:
            out.write(_PREFIX.pack(MAGIC, VERSION, zlib.crc32(header), len(header)))
            out.write(header)
            for name, array in contiguous.items():
                out.write(b"\0" * (described[name]["offset"] - out.tell()))
                out.write(_bytes(array))
            out.write(b"\0" * (size - out.tell()))
            out.flush()
            os.fsync(out.fileno())
        temporary.replace(target)
    finally:
        temporary.unlink(missing_ok=True)
    return size


def _fail(path: Path, problem: str) -> IndexFormatError:
    return IndexFormatError(f"{path} is not a usable spladekit index: {problem}")


def _header(path: Path, handle: Any, size: int) -> dict[str, Any]:
    prefix = handle.read(_PREFIX.size)
    if len(prefix) < _PREFIX.size:
        raise _fail(path, f"the file has {size} bytes, fewer than its {_PREFIX.size}-byte prefix")
    magic, version, crc, length = _PREFIX.unpack(prefix)
    if magic != MAGIC:
        raise _fail(path, f"it does not start with {MAGIC!r} (got {magic!r})")
    if version > VERSION:
        raise _fail(
            path,
            f"format version {version} is newer than this spladekit reads ({VERSION}); upgrade spladekit",
        )
    if version < 1 or length > size - _PREFIX.size:
        raise _fail(path, f"the header claims {length} bytes but the file has {size} (truncated?)")
    raw = handle.read(length)
    if zlib.crc32(raw) != crc:
        raise _fail(path, "the header's CRC-32 does not match (the file was altered or damaged)")
    try:
        header: dict[str, Any] = json.loads(raw)
    except ValueError as error:  # pragma: no cover - a matching CRC over invalid JSON
        raise _fail(path, f"the header is not JSON: {error}") from error
    if header.get("format") != FORMAT or header.get("version") != version:
        raise _fail(
            path,
            f"the header names format {header.get('format')!r} version {header.get('version')!r}",
        )
    if header.get("file_bytes") != size:
        raise _fail(
            path,
            f"it has {size} bytes but was written with {header.get('file_bytes')} (truncated or appended to)",
        )
    return header


def _check_entry(
    path: Path, name: str, entry: Any, size: int
) -> tuple[np.dtype[Any], tuple[int, ...]]:
    try:
        dtype = np.dtype(entry["dtype"])
        shape = tuple(int(n) for n in entry["shape"])
        offset, nbytes = int(entry["offset"]), int(entry["nbytes"])
    except (KeyError, TypeError, ValueError) as error:
        raise _fail(path, f"array {name!r} is described wrongly: {error}") from error
    if name not in _DTYPES or dtype.str not in _DTYPES[name]:
        raise _fail(
            path, f"array {name!r} has dtype {dtype.str}, expected one of {_DTYPES.get(name)}"
        )
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if nbytes != expected or offset % _ALIGN or offset < 0 or offset + nbytes > size:
        raise _fail(path, f"array {name!r} ({nbytes} bytes at {offset}) does not fit the file")
    return dtype, shape


def read(
    path: str | os.PathLike[str], *, mmap_arrays: bool, verify: bool
) -> tuple[dict[str, Any], dict[str, npt.NDArray[Any]]]:
    """The header and the arrays of the index file at *path*, read-only.

    With *mmap_arrays* the arrays are views of one read-only memory map (pages load on first
    touch); otherwise they are read into memory. *verify* checks every array's CRC-32 too,
    which reads the whole file once.
    """
    source = Path(path)
    if not source.is_file():
        msg = f"no spladekit index at {source}: not a file"
        raise IndexFormatError(msg)
    size = source.stat().st_size
    with source.open("rb") as handle:
        header = _header(source, handle, size)
        entries = header.get("arrays")
        if not isinstance(entries, dict):
            raise _fail(source, "the header lists no arrays")
        shapes = {name: _check_entry(source, name, entry, size) for name, entry in entries.items()}
        arrays: dict[str, npt.NDArray[Any]] = {}
        mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) if mmap_arrays else None
        for name, (dtype, shape) in shapes.items():
            entry = entries[name]
            count = int(np.prod(shape, dtype=np.int64))
            if count == 0:
                array = np.empty(shape, dtype=dtype)
            elif mapped is not None:
                array = np.frombuffer(mapped, dtype=dtype, count=count, offset=entry["offset"])
            else:
                handle.seek(entry["offset"])
                array = np.fromfile(handle, dtype=dtype, count=count)
            array = array.reshape(shape)
            array.flags.writeable = False
            arrays[name] = array
    if verify:
        for name, crcs in _block_crcs(arrays).items():
            if crcs != entries[name].get("crc32"):
                raise _fail(
                    source,
                    f"array {name!r} does not match its CRC-32 (the file was altered or damaged)",
                )
    return header, arrays
