"""WindowIndex: documents of several vectors (a long text's windows), each scored by its best.

Score-level aggregation ("MaxP"): every window is its own entry in the posting lists, and a
document's score for a query is the largest of its windows' dot products. Compared with
max-pooling the windows into one vector (``long_documents="window"``), the union of a long
document's terms cannot add up across windows, so long documents are not favoured for
being long. It is exact, built from the same pieces as :class:`~spladekit.SparseIndex`
(:mod:`~spladekit.index.build` segments, :mod:`~spladekit.index.score` accumulation and
top-k): one accumulation over all windows, then a segmented max per document
(``np.maximum.reduceat``, a document's windows being contiguous slots).

It is built once from all documents and never changes, so any number of threads may search
it at once. Documents are ranked by score, ties in insertion order.

Example:
    >>> from spladekit import SparseVector
    >>> index = WindowIndex(
    ...     ["long", "short"],
    ...     [[SparseVector([1], [1.0]), SparseVector([2], [3.0])], [SparseVector([1, 2], [2.0, 2.0])]],
    ... )
    >>> index.search(SparseVector([1, 2], [1.0, 1.0]), k=2)
    [('short', 4.0), ('long', 3.0)]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from spladekit.errors import InputError, InputTypeError
from spladekit.index.build import Segment, build
from spladekit.index.ids import Id, IdTable
from spladekit.index.score import accumulate, padded_size, top_k
from spladekit.index.sparse_index import _check_k, _check_query, _check_vectors
from spladekit.vector import SparseVector

__all__ = ["WindowIndex"]

I64 = npt.NDArray[np.int64]
F32 = npt.NDArray[np.float32]


def _check_windows(windows: object) -> list[list[SparseVector]]:
    if isinstance(windows, (SparseVector, str, bytes)) or not isinstance(windows, Sequence):
        msg = f"windows must be a list (one per document) of lists of SparseVector, got {type(windows).__name__}"
        raise InputTypeError(msg)
    return [_check_vectors(item, f"windows[{position}]") for position, item in enumerate(windows)]


class WindowIndex:
    """An exact index of documents made of windows; a document scores as its best window.

    *ids* name the documents (all str or all int, unique); ``windows[i]`` are the vectors of
    document ``ids[i]`` (``SpladeEncoder.encode_document_windows`` makes them). A document
    with no window (an empty text) is never a hit.
    """

    def __init__(self, ids: Sequence[Id], windows: Sequence[Sequence[SparseVector]]) -> None:
        checked = _check_windows(windows)
        if isinstance(ids, (str, bytes)) or not isinstance(ids, Sequence):
            msg = f"ids must be a list of str or int ids, got {type(ids).__name__}"
            raise InputTypeError(msg)
        if len(ids) != len(checked):
            msg = f"ids and windows must have the same length, got {len(ids)} ids and {len(checked)} documents"
            raise InputError(msg)
        self._ids = IdTable()
        self._ids.extend(self._ids.check_new(ids))
        counts = np.fromiter((len(w) for w in checked), dtype=np.int64, count=len(checked))
        flat = [vector for document in checked for vector in document]
        self._windows = len(flat)
        self._documents = len(checked)
        #: Documents with at least one window, and the slot of each one's first window.
        self._holders: I64 = np.flatnonzero(counts > 0)
        starts = np.zeros(len(checked), dtype=np.int64)
        np.cumsum(counts[:-1], out=starts[1:])
        self._starts: I64 = starts[self._holders]
        self._segments: tuple[Segment, ...] = (build(flat, base=0),) if flat else ()

    def __len__(self) -> int:
        """Documents in the index."""
        return self._documents

    @property
    def windows(self) -> int:
        """Window vectors in the index (entries of its posting lists)."""
        return self._windows

    @property
    def ids(self) -> list[Id]:
        """The document ids in insertion order."""
        return self._ids.live_ids()

    def __repr__(self) -> str:
        return f"WindowIndex(documents={self._documents}, windows={self._windows}, ids={self._ids.kind!r})"

    def search(self, query: SparseVector, k: int = 10) -> list[tuple[Id, float]]:
        """The *k* best documents for *query* by their best window: ``[(id, score), ...]``."""
        return self._search_one(_check_query(query), _check_k(k))

    def search_many(
        self, queries: Sequence[SparseVector], k: int = 10
    ) -> list[list[tuple[Id, float]]]:
        """:meth:`search` for each of *queries*, in order."""
        checked = _check_vectors(queries, "queries")
        top = _check_k(k)
        return [self._search_one(query, top) for query in checked]

    def _search_one(self, query: SparseVector, k: int) -> list[tuple[Id, float]]:
        if len(query) == 0 or self._windows == 0:
            return []
        scores = np.zeros(padded_size(self._windows), dtype=np.float32)
        accumulate(self._segments, query.indices, query.values, scores)
        best = np.zeros(padded_size(self._documents), dtype=np.float32)
        best[self._holders] = np.maximum.reduceat(scores[: self._windows], self._starts)
        slots, found = top_k(best, k)
        return list(zip(self._ids.at(slots.tolist()), found.tolist(), strict=True))
