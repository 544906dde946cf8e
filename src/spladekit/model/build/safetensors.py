"""Read safetensors checkpoints with numpy alone: the header, then tensors memory-mapped.

The format is an 8-byte little-endian header length, a JSON header naming each tensor's dtype,
shape and byte range, then the bytes. Nothing is executed and nothing is copied until a tensor
is asked for (unlike ``pytorch_model.bin``, a pickle, which spladekit never loads). A sharded
checkpoint (``model.safetensors.index.json`` with its ``weight_map``) reads as one.
"""

from __future__ import annotations

import json
import logging
import struct
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from spladekit.errors import ModelFormatError
from spladekit.files import read_json

__all__ = ["INDEX_FILE", "WEIGHTS_FILE", "Checkpoint", "checkpoint_files"]

logger = logging.getLogger(__name__)

WEIGHTS_FILE = "model.safetensors"
INDEX_FILE = "model.safetensors.index.json"
_MAX_HEADER = 100 * 1024 * 1024  # the format's own limit on the JSON header
_DTYPES: dict[str, np.dtype[Any]] = {
    "F64": np.dtype("<f8"),
    "F32": np.dtype("<f4"),
    "F16": np.dtype("<f2"),
    "BF16": np.dtype("<u2"),  # read as bits, widened to float32 below
    "I64": np.dtype("<i8"),
    "I32": np.dtype("<i4"),
    "I16": np.dtype("<i2"),
    "I8": np.dtype("i1"),
    "U8": np.dtype("u1"),
    "BOOL": np.dtype("?"),
}


class _Tensor:
    """Where one tensor's bytes are: a file, its dtype name, shape and byte range."""

    def __init__(self, path: Path, dtype: str, shape: list[int], begin: int, end: int) -> None:
        self.path, self.dtype, self.shape, self.begin, self.end = path, dtype, shape, begin, end


def _read_header(path: Path) -> tuple[dict[str, Any], int]:
    """The JSON header of one file and where its data starts; damage is a ModelFormatError."""
    try:
        size = path.stat().st_size
        with path.open("rb") as file:
            prefix = file.read(8)
            if len(prefix) < 8:
                msg = f"{path} is {size} bytes, too short for a safetensors header"
                raise ModelFormatError(msg)
            (length,) = struct.unpack("<Q", prefix)
            if length > min(_MAX_HEADER, size - 8):
                msg = (
                    f"{path}: the safetensors header claims {length} bytes but the file has "
                    f"{size - 8} after its length field (truncated or not safetensors)"
                )
                raise ModelFormatError(msg)
            header = json.loads(file.read(length))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        msg = f"cannot read the safetensors header of {path}: {type(error).__name__}: {error}"
        raise ModelFormatError(msg) from error
    if not isinstance(header, dict):
        msg = f"{path}: the safetensors header is not a JSON object"
        raise ModelFormatError(msg)
    return header, 8 + length


def _entries(path: Path) -> dict[str, _Tensor]:
    header, start = _read_header(path)
    data_size = path.stat().st_size - start
    entries: dict[str, _Tensor] = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        try:
            dtype, shape, (begin, end) = info["dtype"], list(info["shape"]), info["data_offsets"]
            valid = (
                dtype in _DTYPES
                and all(isinstance(d, int) and d >= 0 for d in shape)
                and isinstance(begin, int)
                and isinstance(end, int)
                and 0 <= begin <= end
                and end - begin == int(np.prod(shape)) * _DTYPES[dtype].itemsize
            )
        except (KeyError, TypeError, ValueError) as error:
            msg = f"{path}: tensor {name!r} has a malformed header entry {info!r}"
            raise ModelFormatError(msg) from error
        if not valid:
            msg = f"{path}: tensor {name!r} has an unsupported or inconsistent entry {info!r}"
            raise ModelFormatError(msg)
        if end > data_size:
            msg = (
                f"{path} is truncated: tensor {name!r} ends at byte {start + end} of a "
                f"{start + data_size}-byte file"
            )
            raise ModelFormatError(msg)
        entries[name] = _Tensor(path, dtype, shape, start + begin, start + end)
    return entries


def checkpoint_files(path: Path) -> list[Path]:
    """The weight files of a checkpoint: *path* itself, or the shards its index names."""
    if path.name != INDEX_FILE:
        return [path]
    index = read_json(path, "shard index")
    try:
        shards = sorted(set(index["weight_map"].values()))
    except (KeyError, TypeError, AttributeError) as error:
        msg = f"cannot read the shard index {path}: {type(error).__name__}: {error}"
        raise ModelFormatError(msg) from error
    files = [path.parent / str(shard) for shard in shards]
    missing = [f.name for f in files if not f.is_file()]
    if missing:
        msg = f"{path} names shards that are not there: {', '.join(missing)}"
        raise ModelFormatError(msg)
    return files


class Checkpoint:
    """The tensors of a safetensors checkpoint (one file, or the shards an index names)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.files = checkpoint_files(path)
        self._tensors: dict[str, _Tensor] = {}
        for file in self.files:
            self._tensors.update(_entries(file))
        self._maps: dict[Path, np.memmap[Any, np.dtype[np.uint8]]] = {}

    @property
    def names(self) -> set[str]:
        """Every tensor name."""
        return set(self._tensors)

    def __contains__(self, name: object) -> bool:
        return name in self._tensors

    def shape(self, name: str) -> tuple[int, ...]:
        """A tensor's shape, read from the header alone."""
        return tuple(self._tensors[name].shape)

    def float32(self, name: str) -> npt.NDArray[np.float32]:
        """Tensor *name* as float32: a read-only view of the mapped file when stored as F32."""
        entry = self._tensors.get(name)
        if entry is None:
            msg = f"{self.path} has no tensor {name!r}"
            raise ModelFormatError(msg)
        mapped = self._maps.get(entry.path)
        if mapped is None:
            mapped = self._maps[entry.path] = np.memmap(entry.path, dtype=np.uint8, mode="r")
        raw = mapped[entry.begin : entry.end].view(_DTYPES[entry.dtype]).reshape(entry.shape)
        if entry.dtype == "F32":
            return np.asarray(raw)
        if entry.dtype == "BF16":  # the high half of a float32
            return (raw.astype(np.uint32) << 16).view(np.float32)
        return raw.astype(np.float32)
