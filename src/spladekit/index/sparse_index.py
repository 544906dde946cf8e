"""SparseIndex: exact top-k search over SparseVectors, in process, with no vector database.

The index is a short list of :mod:`segments <spladekit.index.build>` covering the slots
(insertion order) one after another. ``add`` builds a segment of the new vectors and merges
the last segments while the one before is at most 4x larger, so a stream of small adds keeps
O(log n) segments and each document is rewritten O(log n) times. ``delete`` only marks
slots dead (masked at search); once a quarter of the slots are dead, everything is merged
again without them. ``save`` writes one merged segment (:mod:`spladekit.index.persist`).

Concurrency: any number of threads may search at once. ``add`` and ``delete`` need the index
to themselves: one that starts while a search (or a save, or another change) runs raises
:class:`~spladekit.errors.IndexBusyError`, and so does a search that starts while a change
runs; nothing is changed or returned half-done.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from spladekit.errors import IndexBusyError, IndexFormatError, InputError, InputTypeError
from spladekit.index import persist
from spladekit.index.build import Segment, build, empty_segment, merge
from spladekit.index.ids import Id, IdTable
from spladekit.index.score import accumulate, padded_size, top_k
from spladekit.vector import SparseVector

__all__ = ["SparseIndex"]

logger = logging.getLogger(__name__)

I64 = npt.NDArray[np.int64]

#: Merge the last two segments while the one before is at most this many times larger.
MERGE_FACTOR = 4
#: Compact (rewrite without deleted documents) once this share of the slots is dead.
DEAD_SHARE = 0.25


@dataclass(frozen=True)
class _State:
    """What a search reads: replaced whole by a change, never modified in place."""

    segments: tuple[Segment, ...]
    slots: int
    dead: I64  # sorted dead slots


class _Guard:
    """Many readers or one writer; the loser of a race raises instead of waiting."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._readers = 0
        self._writer: str | None = None

    @contextmanager
    def reading(self, call: str) -> Iterator[None]:
        with self._lock:
            if self._writer is not None:
                msg = f"{call} started while {self._writer} was changing this SparseIndex; retry it once the change is done"
                raise IndexBusyError(msg)
            self._readers += 1
        try:
            yield
        finally:
            with self._lock:
                self._readers -= 1

    @contextmanager
    def writing(self, call: str) -> Iterator[None]:
        with self._lock:
            if self._writer is not None:
                msg = f"{call} called while {self._writer} was changing this SparseIndex; changes must not overlap"
                raise IndexBusyError(msg)
            if self._readers:
                msg = f"{call} called while {self._readers} search(es) or save(s) were running on this SparseIndex; change it only when no search runs"
                raise IndexBusyError(msg)
            self._writer = call
        try:
            yield
        finally:
            with self._lock:
                self._writer = None


def _check_k(k: object) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        msg = f"k must be a positive integer (any size: k larger than the index returns every hit), got {k!r}"
        raise InputError(msg)
    return int(k)


def _check_vectors(vectors: object, what: str) -> list[SparseVector]:
    if isinstance(vectors, (SparseVector, str, bytes)) or not isinstance(vectors, Sequence):
        msg = f"{what} must be a list of SparseVector, got {type(vectors).__name__}"
        raise InputTypeError(msg)
    for position, vector in enumerate(vectors):
        if not isinstance(vector, SparseVector):
            msg = f"{what}[{position}] must be a SparseVector, got {type(vector).__name__}"
            raise InputTypeError(msg)
    return list(vectors)


def _check_query(query: object, what: str = "query") -> SparseVector:
    if not isinstance(query, SparseVector):
        msg = f"{what} must be a SparseVector (encode text with SpladeEncoder.encode_query), got {type(query).__name__}"
        raise InputTypeError(msg)
    return query


class SparseIndex:
    """An exact inverted index of SparseVectors under str or int ids.

    Scores are dot products (accumulated in float32); hits are the documents sharing at least
    one term with the query, best first, ties in insertion order. One kind of id per index.

    Example:
        >>> from spladekit import SparseIndex, SparseVector
        >>> index = SparseIndex()
        >>> index.add(["moon", "mars"], [SparseVector([1, 5], [1.0, 2.0]), SparseVector([5], [0.5])])
        >>> index.search(SparseVector([5], [2.0]), k=2)
        [('moon', 4.0), ('mars', 1.0)]
    """

    def __init__(self) -> None:
        self._ids = IdTable()
        self._state = _State((), 0, np.empty(0, dtype=np.int64))
        self._guard = _Guard()

    # --- reading ---------------------------------------------------------------------------

    def __len__(self) -> int:
        """Documents in the index (deleted ones not counted)."""
        return self._state.slots - len(self._state.dead)

    def __contains__(self, value: object) -> bool:
        with self._guard.reading("in"):
            return self._ids.slot(value) is not None  # type: ignore[arg-type]

    @property
    def ids(self) -> list[Id]:
        """The ids in insertion order."""
        with self._guard.reading("ids"):
            return self._ids.live_ids()

    @property
    def nbytes(self) -> int:
        """Bytes of the posting arrays (ids not counted)."""
        return sum(s.nbytes for s in self._state.segments) + self._state.dead.nbytes

    def __repr__(self) -> str:
        state = self._state
        return (
            f"SparseIndex(documents={len(self)}, segments={len(state.segments)}, "
            f"ids={self._ids.kind!r}, nbytes={self.nbytes})"
        )

    def search(self, query: SparseVector, k: int = 10) -> list[tuple[Id, float]]:
        """The *k* best documents for *query*: ``[(id, score), ...]``, best first.

        Only documents sharing a term with the query are hits, so an empty query finds
        nothing and *k* larger than the index returns every hit.
        """
        checked, top = _check_query(query), _check_k(k)
        with self._guard.reading("search"):
            state = self._state
            scores = np.zeros(padded_size(state.slots), dtype=np.float32)
            return self._search_one(state, checked, top, scores)

    def search_many(
        self, queries: Sequence[SparseVector], k: int = 10
    ) -> list[list[tuple[Id, float]]]:
        """:meth:`search` for each of *queries*, in order (one buffer reused across them)."""
        checked = _check_vectors(queries, "queries")
        top = _check_k(k)
        with self._guard.reading("search_many"):
            state = self._state
            scores = np.zeros(padded_size(state.slots), dtype=np.float32)
            results = []
            for query in checked:
                results.append(self._search_one(state, query, top, scores))
                scores.fill(0.0)
            return results

    def _search_one(
        self, state: _State, query: SparseVector, k: int, scores: npt.NDArray[np.float32]
    ) -> list[tuple[Id, float]]:
        if len(query) == 0 or not state.segments:
            return []
        accumulate(state.segments, query.indices, query.values, scores)
        if state.dead.size:
            scores[state.dead] = 0.0
        slots, found = top_k(scores, k)
        return list(zip(self._ids.at(slots.tolist()), found.tolist(), strict=True))

    # --- changing --------------------------------------------------------------------------

    def add(self, ids: Sequence[Id], vectors: Sequence[SparseVector]) -> None:
        """Add documents: ``ids[i]`` names ``vectors[i]``. All or nothing.

        Ids must be new (delete one first to replace it), unique, and all str or all int.
        """
        checked = _check_vectors(vectors, "vectors")
        if isinstance(ids, (str, bytes)) or not isinstance(ids, Sequence):
            msg = f"ids must be a list of str or int ids, got {type(ids).__name__}"
            raise InputTypeError(msg)
        if len(ids) != len(checked):
            msg = f"ids and vectors must have the same length, got {len(ids)} ids and {len(checked)} vectors"
            raise InputError(msg)
        with self._guard.writing("add"):
            new_ids = self._ids.check_new(ids)
            if not new_ids:
                return
            state = self._state
            segments = [*state.segments, build(checked, base=state.slots)]
            while len(segments) > 1 and segments[-2].count <= MERGE_FACTOR * segments[-1].count:
                segments[-2:] = [merge(segments[-2:])]
            self._state = _State(tuple(segments), state.slots + len(checked), state.dead)
            self._ids.extend(new_ids)
            logger.debug("added %d documents: %r", len(checked), self)

    def delete(self, ids: Sequence[Id]) -> None:
        """Remove documents by id. All or nothing: an id not in the index is an error."""
        with self._guard.writing("delete"):
            slots = self._ids.check_known(ids)
            if not slots:
                return
            state = self._state
            dead = np.union1d(state.dead, np.asarray(slots, dtype=np.int64))
            self._ids.forget(slots)
            self._state = _State(state.segments, state.slots, dead)
            if len(dead) >= DEAD_SHARE * state.slots:
                self._compact()

    def _compact(self) -> None:
        state = self._state
        keep = np.ones(state.slots, dtype=np.bool_)
        keep[state.dead] = False
        segment = merge(state.segments, keep) if state.segments else empty_segment(0)
        self._state = _State((segment,), segment.count, np.empty(0, dtype=np.int64))
        self._ids.compact(keep)
        logger.debug("compacted: %r", self)

    # --- saving ----------------------------------------------------------------------------

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the index to one file at *path* (replaced atomically; format: ``persist``).

        Searches may run meanwhile; deleted documents are left out of the file.
        """
        with self._guard.reading("save"):
            state = self._state
            keep: npt.NDArray[np.bool_] | None = None
            if state.dead.size:
                keep = np.ones(state.slots, dtype=np.bool_)
                keep[state.dead] = False
            if len(state.segments) == 1 and keep is None:
                segment = state.segments[0]
            elif state.segments:
                segment = merge(state.segments, keep)
            else:
                segment = empty_segment(0)
            arrays: dict[str, Any] = {
                "terms": segment.terms,
                "offsets": segment.offsets,
                "docs": segment.docs,
                "values": segment.values,
                "dense_terms": segment.dense_terms,
                "dense": segment.dense,
                **self._ids.to_arrays(keep),
            }
            meta = {
                "documents": segment.count,
                "id_kind": self._ids.kind if segment.count else None,
            }
            size = persist.write(path, meta, arrays)
        logger.info("saved %d documents to %s (%d bytes)", segment.count, path, size)

    @classmethod
    def load(
        cls, path: str | os.PathLike[str], *, mmap: bool = True, verify: bool = True
    ) -> SparseIndex:
        """Open an index written by :meth:`save`.

        *mmap* maps the arrays read-only instead of reading them (pages load on first use,
        and processes opening the same file share them). *verify* checks every array's
        CRC-32 (one read of the file); without it only the header, the file's size and the
        small arrays' structure are checked, for files you trust. A damaged, truncated or
        altered file raises :class:`~spladekit.errors.IndexFormatError`.
        """
        header, arrays = persist.read(path, mmap_arrays=mmap, verify=verify)
        index = cls()
        segment, ids = _checked_parts(path, header, arrays, thorough=verify)
        index._state = _State((segment,), segment.count, np.empty(0, dtype=np.int64))
        index._ids = ids
        return index


def _checked_parts(
    path: str | os.PathLike[str],
    header: dict[str, Any],
    arrays: dict[str, npt.NDArray[Any]],
    *,
    thorough: bool,
) -> tuple[Segment, IdTable]:
    """The segment and id table of a loaded file, after checking the arrays fit together."""

    def fail(problem: str) -> IndexFormatError:
        return IndexFormatError(f"{path} is not a usable spladekit index: {problem}")

    count = header.get("documents")
    kind = header.get("id_kind")
    id_names = ["ids"] if kind == "int" else ["id_offsets", "id_bytes"]
    needed = {"terms", "offsets", "docs", "values", "dense_terms", "dense", *id_names}
    if kind is None and count == 0:  # an empty index takes its id kind from its first add
        return empty_segment(0), IdTable()
    if not isinstance(count, int) or count < 0 or kind not in ("str", "int"):
        problem = f"the header gives documents={count!r}, id_kind={kind!r}"
        raise fail(problem)
    if set(arrays) != needed:
        problem = f"it holds arrays {sorted(arrays)}, expected {sorted(needed)}"
        raise fail(problem)
    terms, offsets, docs, values = (arrays[n] for n in ("terms", "offsets", "docs", "values"))
    dense_terms, dense = arrays["dense_terms"], arrays["dense"]
    checks = [
        (offsets.shape == (terms.size + 1,), "offsets and terms do not match"),
        (docs.shape == values.shape and docs.ndim == 1, "docs and values do not match"),
        (
            bool(offsets.size) and offsets[0] == 0 and offsets[-1] == docs.size,
            "offsets do not cover the postings",
        ),
        (bool(np.all(np.diff(offsets) > 0)), "a term has no postings, or offsets go backwards"),
        (
            bool(np.all(np.diff(terms) > 0)) and bool(np.all(np.diff(dense_terms) > 0)),
            "terms are not ascending",
        ),
        (dense.shape == (dense_terms.size, count), "the dense rows do not match the documents"),
        (np.intersect1d(terms, dense_terms).size == 0, "a term is both sparse and dense"),
        (terms.size == 0 or terms[0] >= 0, "a term id is negative"),
    ]
    if kind == "int":
        checks.append((arrays["ids"].shape == (count,), "ids and documents do not match"))
    else:
        id_offsets = arrays["id_offsets"]
        checks += [
            (id_offsets.shape == (count + 1,), "ids and documents do not match"),
            (
                bool(id_offsets.size)
                and id_offsets[0] == 0
                and id_offsets[-1] == arrays["id_bytes"].size,
                "id offsets do not cover the id bytes",
            ),
            (bool(np.all(np.diff(id_offsets) >= 0)), "id offsets go backwards"),
        ]
    if thorough and docs.size:
        checks += [
            (
                int(docs.min()) >= 0 and int(docs.max()) < count,
                "a posting names a document out of range",
            ),
            (
                bool(np.all(values > 0)) and bool(np.all(np.isfinite(values))),
                "a weight is not a positive number",
            ),
        ]
    for ok, problem in checks:
        if not ok:
            raise fail(problem)
    segment = Segment(0, count, terms, offsets, docs, values, dense_terms, dense)
    return segment, IdTable.from_arrays(kind, arrays)
