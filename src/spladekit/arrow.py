"""The one Arrow layout of encoded vectors, shared by ``spladekit encode`` and :mod:`spladekit.ray`.

A row's sparse vector is two columns beside the caller's own (an id, the text, anything else):
``indices`` ``list<int32>`` (sorted unique token ids) and ``values`` ``list<float32>`` (their
weights), the shape Qdrant's ``SparseVector(indices, values)`` and Milvus' sparse rows take, and
one Parquet files keep compact. Vectors become Arrow arrays through one offsets array and two flat
numpy arrays, never a Python list per row; reading back checks every row in bulk.

pyarrow is optional (``pip install "spladekit[parquet]"``) and imported only when these
functions run.

Example:
    >>> import pyarrow as pa  # doctest: +SKIP
    >>> table = with_vectors(pa.table({"id": [1, 2]}), [SparseVector([7, 3], [0.5, 1.0]), SparseVector.empty()])  # doctest: +SKIP
    >>> table.schema == vector_schema([pa.field("id", pa.int64())])  # doctest: +SKIP
    True
    >>> from_table(table)  # doctest: +SKIP
    [SparseVector(nnz=2, {3: 1, 7: 0.5}), SparseVector(nnz=0, {})]
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from spladekit.errors import InputError, InputTypeError, require
from spladekit.vector import SparseVector

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = [
    "INDICES",
    "VALUES",
    "from_arrays",
    "from_table",
    "to_arrays",
    "vector_fields",
    "vector_schema",
    "with_vectors",
]

#: Column of the sorted unique token ids, ``list<int32>``.
INDICES = "indices"
#: Column of the weights at those ids, ``list<float32>``.
VALUES = "values"

#: The largest token id (and the most weights in one array) int32 holds.
_INT32_MAX = int(np.iinfo(np.int32).max)


def _pyarrow() -> Any:
    """pyarrow, or MissingDependencyError naming the extra that brings it."""
    require("pyarrow", "parquet")
    import pyarrow

    return pyarrow


def vector_fields() -> tuple[pa.Field, pa.Field]:
    """The ``indices`` and ``values`` fields, in that order."""
    pa = _pyarrow()
    return (pa.field(INDICES, pa.list_(pa.int32())), pa.field(VALUES, pa.list_(pa.float32())))


def vector_schema(columns: pa.Schema | Iterable[pa.Field] = ()) -> pa.Schema:
    """The schema of encoded rows: the caller's *columns* (an id, the text, ...) then the vector.

    A column already named ``indices`` or ``values`` is replaced by the vector's field.
    """
    pa = _pyarrow()
    vector = vector_fields()
    kept = [field for field in columns if field.name not in (INDICES, VALUES)]
    return pa.schema([*kept, *vector])


def to_arrays(vectors: Sequence[SparseVector]) -> tuple[pa.ListArray, pa.ListArray]:
    """``(indices, values)`` list arrays, one row per vector, sharing one offsets buffer.

    An empty vector is an empty list (never null). Token ids must fit int32 (every BERT-family
    vocabulary does); so must the batch's total number of weights.
    """
    pa = _pyarrow()
    if isinstance(vectors, SparseVector) or not isinstance(vectors, Sequence):
        msg = f"to_arrays takes a list of SparseVector, got {type(vectors).__name__}"
        raise InputTypeError(msg)
    for position, vector in enumerate(vectors):
        if not isinstance(vector, SparseVector):
            msg = f"vectors[{position}] must be a SparseVector, got {type(vector).__name__}"
            raise InputTypeError(msg)
    lengths = np.fromiter((len(v) for v in vectors), dtype=np.int64, count=len(vectors))
    offsets = np.zeros(len(vectors) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    total = int(offsets[-1])
    if total > _INT32_MAX:
        msg = f"{total} weights do not fit one Arrow list array (at most {_INT32_MAX}); write fewer rows per batch"
        raise InputError(msg)
    if total:
        indices = np.concatenate([v.indices for v in vectors])
        values = np.concatenate([v.values for v in vectors])
    else:
        indices = np.empty(0, dtype=np.int64)
        values = np.empty(0, dtype=np.float32)
    if indices.size and int(indices.max()) > _INT32_MAX:
        row = int(np.searchsorted(offsets, int(np.argmax(indices)), side="right")) - 1
        msg = f"vectors[{row}] has token id {int(indices.max())}, more than int32 holds ({_INT32_MAX})"
        raise InputError(msg)
    arrow_offsets = pa.array(offsets.astype(np.int32), type=pa.int32())
    return (
        pa.ListArray.from_arrays(arrow_offsets, pa.array(indices.astype(np.int32), pa.int32())),
        pa.ListArray.from_arrays(arrow_offsets, pa.array(values, pa.float32())),
    )


def with_vectors(table: pa.Table, vectors: Sequence[SparseVector]) -> pa.Table:
    """*table* with the ``indices`` and ``values`` columns of *vectors* (one per row) last.

    Existing ``indices`` / ``values`` columns are replaced, so re-encoding a written table with
    another model gives that model's vectors, not two sets.
    """
    pa = _pyarrow()
    if not isinstance(table, pa.Table):
        msg = f"with_vectors takes a pyarrow.Table, got {type(table).__name__}"
        raise InputTypeError(msg)
    if len(vectors) != table.num_rows:
        msg = f"got {len(vectors)} vectors for a table of {table.num_rows} rows; give one per row"
        raise InputError(msg)
    indices, values = to_arrays(vectors)
    kept = [name for name in table.column_names if name not in (INDICES, VALUES)]
    table = table.select(kept)
    index_field, value_field = vector_fields()
    return table.append_column(index_field, indices).append_column(value_field, values)


def from_table(table: pa.Table) -> list[SparseVector]:
    """The vector of each row of a table written as :func:`vector_schema` says, in row order."""
    pa = _pyarrow()
    if not isinstance(table, pa.Table):
        msg = f"from_table takes a pyarrow.Table, got {type(table).__name__}"
        raise InputTypeError(msg)
    missing = [name for name in (INDICES, VALUES) if name not in table.column_names]
    if missing:
        msg = f"the table has no {' or '.join(map(repr, missing))} column; its columns are {table.column_names}"
        raise InputError(msg)
    return from_arrays(table.column(INDICES), table.column(VALUES))


def from_arrays(
    indices: pa.Array | pa.ChunkedArray, values: pa.Array | pa.ChunkedArray
) -> list[SparseVector]:
    """One vector per row of two list arrays (or chunked columns), in row order.

    Rows are checked in bulk (ids non-negative, weights finite and > 0, ids ascending); a row
    that is not ascending goes through :class:`SparseVector`, which sorts it or names its fault.
    """
    pa = _pyarrow()
    index_chunks = _chunks(pa, indices, INDICES)
    value_chunks = _chunks(pa, values, VALUES)
    if sum(len(c) for c in index_chunks) != sum(len(c) for c in value_chunks):
        msg = "indices and values must have one row each per vector, got different row counts"
        raise InputError(msg)
    if len(index_chunks) != len(value_chunks) or any(
        len(a) != len(b) for a, b in zip(index_chunks, value_chunks, strict=False)
    ):  # chunked differently: line the rows up once (a copy, rare: we write them together)
        index_chunks = [pa.concat_arrays(index_chunks)] if index_chunks else []
        value_chunks = [pa.concat_arrays(value_chunks)] if value_chunks else []
    vectors: list[SparseVector] = []
    for index_chunk, value_chunk in zip(index_chunks, value_chunks, strict=True):
        vectors += _from_chunk(index_chunk, value_chunk, first_row=len(vectors))
    return vectors


def _chunks(pa: Any, column: object, name: str) -> list[Any]:
    """The list arrays of a column, refusing anything but (large) lists without nulls."""
    chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
    for chunk in chunks:
        if not isinstance(chunk, (pa.ListArray, pa.LargeListArray)):
            msg = f"{name} must be a list array (list<int32> / list<float32>), got {type(chunk).__name__}"
            raise InputTypeError(msg)
        if chunk.null_count:
            msg = f"{name} has {chunk.null_count} null rows; every row needs a list (empty for an empty vector)"
            raise InputError(msg)
    return list(chunks)


def _from_chunk(index_chunk: Any, value_chunk: Any, *, first_row: int) -> list[SparseVector]:
    index_offsets = index_chunk.offsets.to_numpy().astype(np.int64)
    value_offsets = value_chunk.offsets.to_numpy().astype(np.int64)
    lengths = np.diff(index_offsets)
    uneven = np.flatnonzero(lengths != np.diff(value_offsets))
    if uneven.size:
        msg = f"row {first_row + int(uneven[0])} has a different number of indices and values"
        raise InputError(msg)
    flat_indices = _flat(index_chunk, index_offsets, np.int64, INDICES)
    flat_values = _flat(value_chunk, value_offsets, np.float32, VALUES)
    local = index_offsets - index_offsets[0]
    bad = _bad_rows(flat_indices, flat_values, local)
    vectors: list[SparseVector] = []
    for row, (lo, hi) in enumerate(zip(local[:-1].tolist(), local[1:].tolist(), strict=True)):
        if bad[row]:  # sorted here, or refused with the rule it breaks
            try:
                vectors.append(SparseVector(flat_indices[lo:hi], flat_values[lo:hi]))
            except InputError as error:
                msg = f"row {first_row + row}: {error}"
                raise InputError(msg) from error
        else:
            vectors.append(SparseVector._trusted(flat_indices[lo:hi], flat_values[lo:hi]))
    return vectors


def _flat(
    chunk: Any, offsets: npt.NDArray[np.int64], dtype: type[np.generic], name: str
) -> npt.NDArray[Any]:
    """The list items of every row of *chunk*, as one read-only numpy array of *dtype*."""
    start, stop = int(offsets[0]), int(offsets[-1])
    child = chunk.values.slice(start, stop - start)
    if child.null_count:
        msg = f"{name} must not hold nulls inside a row"
        raise InputError(msg)
    array = np.asarray(child.to_numpy(zero_copy_only=False))
    wanted = np.integer if dtype is np.int64 else np.number
    if array.size and not np.issubdtype(array.dtype, wanted):
        msg = f"{name} must hold numbers (list<int32> / list<float32>), got {array.dtype}"
        raise InputTypeError(msg)
    converted = array.astype(dtype, copy=array.dtype != dtype)
    converted.flags.writeable = False
    return converted


def _bad_rows(
    indices: npt.NDArray[np.int64], values: npt.NDArray[np.float32], offsets: npt.NDArray[np.int64]
) -> npt.NDArray[np.bool_]:
    """Rows that break a SparseVector rule, found with whole-array operations."""
    rows = offsets.size - 1
    bad = np.zeros(rows, dtype=bool)
    if indices.size == 0:
        return bad
    row_of = np.repeat(np.arange(rows), np.diff(offsets))
    wrong = (indices < 0) | ~np.isfinite(values) | (values <= 0)
    bad[row_of[wrong]] = True
    # Not strictly ascending inside a row: a step back (or a repeat) between neighbours of one row.
    steps = np.flatnonzero(np.diff(indices) <= 0)
    same_row = row_of[steps] == row_of[steps + 1]
    bad[row_of[steps[same_row]]] = True
    return bad
