"""SparseVector: the one value type every encoder returns and every adapter converts."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from spladekit.errors import InputError, InputTypeError

__all__ = ["SparseVector"]

IndexArray = npt.NDArray[np.int64]
ValueArray = npt.NDArray[np.float32]


def _frozen(array: npt.NDArray[Any]) -> npt.NDArray[Any]:
    # A read-only view of a read-only array: an owner could flip ``writeable`` back on, a view
    # of a frozen base cannot, so the vector (and its hash) really stays fixed.
    array.flags.writeable = False
    view: npt.NDArray[Any] = array.view()
    view.flags.writeable = False
    return view


class SparseVector:
    """An immutable sparse vector over a vocabulary.

    ``indices`` are sorted, unique, non-negative int64 token ids; ``values`` are the float32
    weights at those ids, all greater than zero. Both arrays are read-only.

    Example:
        >>> v = SparseVector([3, 7], [0.5, 1.25])
        >>> v.to_dict()
        {3: 0.5, 7: 1.25}
        >>> v.dot(SparseVector([7], [2.0]))
        2.5
    """

    __slots__ = ("_indices", "_values")

    _indices: IndexArray
    _values: ValueArray

    def __init__(self, indices: npt.ArrayLike, values: npt.ArrayLike) -> None:
        try:
            idx = np.asarray(indices)
            with np.errstate(over="ignore"):  # too large for float32 becomes inf: rejected below
                val = np.asarray(values, dtype=np.float32)
        except (TypeError, ValueError) as error:  # ragged lists, complex or non-numbers
            msg = f"indices and values must be 1-D sequences of numbers: {error}"
            raise InputError(msg) from error
        if idx.ndim != 1 or val.ndim != 1 or idx.shape != val.shape:
            msg = (
                "indices and values must be 1-D and of equal length, "
                f"got shapes {idx.shape} and {val.shape}"
            )
            raise InputError(msg)
        if idx.size and not np.issubdtype(idx.dtype, np.integer):
            msg = f"indices must be integers, got dtype {idx.dtype}"
            raise InputError(msg)
        if idx.size and int(idx.min()) < 0:
            msg = f"indices must be non-negative, got {int(idx.min())}"
            raise InputError(msg)
        if idx.size and int(idx.max()) > np.iinfo(np.int64).max:
            msg = f"indices must fit in int64, got {int(idx.max())}"
            raise InputError(msg)
        idx = idx.astype(np.int64, copy=True)
        val = val.copy()
        if not np.all(np.isfinite(val)) or np.any(val <= 0):
            msg = "values must be finite and greater than zero"
            raise InputError(msg)
        order = np.argsort(idx, kind="stable")
        idx, val = idx[order], val[order]
        if idx.size > 1 and np.any(idx[1:] == idx[:-1]):
            msg = "indices must be unique"
            raise InputError(msg)
        self._indices = _frozen(idx)
        self._values = _frozen(val)

    @classmethod
    def _trusted(cls, indices: IndexArray, values: ValueArray) -> SparseVector:
        """Wrap arrays the encoder already made sorted, unique and positive (no copies)."""
        vector = cls.__new__(cls)
        vector._indices = _frozen(indices)
        vector._values = _frozen(values)
        return vector

    @classmethod
    def empty(cls) -> SparseVector:
        """The vector of an empty text: no dimensions at all."""
        return cls._trusted(np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32))

    @classmethod
    def from_dict(cls, mapping: Mapping[int, float] | Mapping[str, float]) -> SparseVector:
        """Build a vector from ``{token_id: weight}`` (the LlamaIndex / Milvus shape).

        Keys may be ints or decimal strings, so ``from_dict(json.loads(json.dumps(v.to_dict())))``
        gives ``v`` back.
        """
        if not isinstance(mapping, Mapping):
            msg = f"from_dict takes a mapping of token id to weight, got {type(mapping).__name__}"
            raise InputTypeError(msg)
        indices: list[int] = []
        for key in mapping:
            if isinstance(key, str) and key.strip().isdigit():
                indices.append(int(key))
            elif isinstance(key, int) and not isinstance(key, bool):
                indices.append(key)
            else:
                msg = f"from_dict keys must be token ids (ints or digit strings), got {key!r}"
                raise InputTypeError(msg)
        return cls(indices, list(mapping.values()))

    def to_json(self) -> str:
        """``{"indices": [...], "values": [...]}`` as JSON; :meth:`from_json` reads it back exactly."""
        return json.dumps({"indices": self._indices.tolist(), "values": self._values.tolist()})

    @classmethod
    def from_json(cls, text: str | bytes) -> SparseVector:
        """Read :meth:`to_json`'s output, or a JSON ``{token_id: weight}`` object."""
        try:
            data = json.loads(text)
        except (TypeError, ValueError) as error:
            msg = f"from_json takes a JSON object, could not parse it: {error}"
            raise InputError(msg) from error
        if isinstance(data, dict) and set(data) == {"indices", "values"}:
            return cls(data["indices"], data["values"])
        if isinstance(data, dict):
            return cls.from_dict(data)
        msg = f'from_json takes {{"indices": [...], "values": [...]}} or {{id: weight}}, got {type(data).__name__}'
        raise InputTypeError(msg)

    @property
    def indices(self) -> IndexArray:
        """Sorted unique token ids (read-only int64 array)."""
        return self._indices

    @property
    def values(self) -> ValueArray:
        """Weights aligned with :attr:`indices` (read-only float32 array)."""
        return self._values

    def to_dict(self) -> dict[int, float]:
        """``{token_id: weight}`` with plain Python ints and floats."""
        return dict(zip(self._indices.tolist(), self._values.tolist(), strict=True))

    def dot(self, other: SparseVector) -> float:
        """Dot product with another sparse vector (the SPLADE relevance score)."""
        if not isinstance(other, SparseVector):
            msg = f"dot takes a SparseVector, got {type(other).__name__}"
            raise InputTypeError(msg)
        common, mine, theirs = np.intersect1d(
            self._indices, other._indices, assume_unique=True, return_indices=True
        )
        if common.size == 0:
            return 0.0
        return float(
            np.dot(self._values[mine].astype(np.float64), other._values[theirs].astype(np.float64))
        )

    def __len__(self) -> int:
        return int(self._indices.size)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SparseVector):
            return NotImplemented
        return bool(
            np.array_equal(self._indices, other._indices)
            and np.array_equal(self._values, other._values)
        )

    def __hash__(self) -> int:
        return hash((self._indices.tobytes(), self._values.tobytes()))

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{i}: {v:.4g}"
            for i, v in zip(self._indices[:6].tolist(), self._values[:6].tolist(), strict=True)
        )
        more = ", ..." if len(self) > 6 else ""
        return f"SparseVector(nnz={len(self)}, {{{shown}{more}}})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (SparseVector, (self._indices, self._values))
