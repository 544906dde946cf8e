"""Exact scoring: term-at-a-time accumulation over posting lists, then a block-max top-k.

Scores are accumulated in float32, one query term at a time in ascending term order, for
every document the same way whatever segment or storage (posting list or dense row) holds
it, so equal vectors get bit-equal scores and ties are real ties. float32 is the precision
the weights are stored in; accumulating in float64 measured 2x slower for scores within
1e-6 (relative) of a float64 dot product, which the tests check.

Top-k avoids a full ``argpartition`` over all documents: the k-th largest of the per-block
maxima is a lower bound of the k-th largest score, so only documents at or above it (a few
dozen) are sorted — by score, then by slot, which is insertion order.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from spladekit.index.build import Segment

__all__ = ["BLOCK", "accumulate", "top_k"]

F32 = npt.NDArray[np.float32]
I64 = npt.NDArray[np.int64]

#: Scores per block of the top-k bound (the accumulator is padded to a multiple of it).
BLOCK = 1024
#: Posting lists up to this long are gathered with their neighbours into one np.add.at.
SHORT_LIST = 4096
#: Documents per block when adding dense rows (scores + scratch: 512 KiB, within L2).
ROW_BLOCK = 65_536
#: Candidates sorted directly; more are first narrowed with a partition.
_SORTED = 256


def padded_size(slots: int) -> int:
    """Accumulator length for *slots* scores: a whole number of blocks."""
    return -(-slots // BLOCK) * BLOCK


def _lookup(terms: I64, query: I64) -> I64:
    """Positions of *query* terms in *terms* (ascending), -1 where absent."""
    if terms.size == 0:
        return np.full(query.size, -1, dtype=np.int64)
    position = np.searchsorted(terms, query)
    clipped = np.minimum(position, terms.size - 1)
    return np.where(terms[clipped] == query, clipped, -1)


def _add_lists(
    view: F32, segment: Segment, spans: list[tuple[int, int]], weights: list[np.float32]
) -> None:
    """Add several short posting lists in one ``np.add.at`` (in order: same sums as one by one)."""
    docs = np.concatenate([segment.docs[a:b] for a, b in spans])
    values = np.concatenate([segment.values[a:b] for a, b in spans])
    lengths = [b - a for a, b in spans]
    values *= np.repeat(np.asarray(weights, dtype=np.float32), lengths)
    np.add.at(view, docs, values)


def _add_rows(view: F32, dense: F32, rows: list[int], weights: list[np.float32]) -> None:
    """Add several dense rows block by block, so each block of scores stays in cache.

    For every document the rows are still added one after another in term order.
    """
    scratch = np.empty(min(ROW_BLOCK, view.size), dtype=np.float32)
    for start in range(0, view.size, ROW_BLOCK):
        part = view[start : start + ROW_BLOCK]
        product = scratch[: part.size]
        for row, weight in zip(rows, weights, strict=True):
            np.multiply(dense[row, start : start + ROW_BLOCK], weight, out=product)
            np.add(part, product, out=part)


def accumulate(segments: Sequence[Segment], indices: I64, weights: F32, scores: F32) -> None:
    """Add the query's dot product with every document into *scores* (indexed by slot).

    Query terms are applied in ascending order, every document's sum formed in that order.
    Consecutive short posting lists are gathered into one ``np.add.at`` (the per-call
    overhead dominates them); consecutive dense rows are added a cache-sized block of
    documents at a time (memory traffic, not arithmetic, bounds them); a long list alone.
    """
    for segment in segments:
        if segment.count == 0:
            continue
        view = scores[segment.base : segment.base + segment.count]
        sparse = _lookup(segment.terms, indices)
        found = sparse >= 0
        starts = np.full(indices.size, -1, dtype=np.int64)
        ends = np.full(indices.size, -1, dtype=np.int64)
        starts[found] = segment.offsets[sparse[found]]
        ends[found] = segment.offsets[sparse[found] + 1]
        dense = _lookup(segment.dense_terms, indices).tolist()
        short: list[tuple[int, int]] = []
        rows: list[int] = []
        pending: list[np.float32] = []  # the weights of the run in *short* or *rows*
        for term, (start, end, row) in enumerate(
            zip(starts.tolist(), ends.tolist(), dense, strict=True)
        ):
            kind = "short" if 0 <= start and end - start <= SHORT_LIST else "long"
            kind = "row" if row >= 0 else kind if start >= 0 else "none"
            if kind == "none":
                continue
            if short and kind != "short":
                _add_lists(view, segment, short, pending)
                short, pending = [], []
            if rows and kind != "row":
                _add_rows(view, segment.dense, rows, pending)
                rows, pending = [], []
            if kind == "short":
                short.append((start, end))
            elif kind == "row":
                rows.append(row)
            else:
                products = segment.values[start:end] * weights[term]
                np.add.at(view, segment.docs[start:end], products)
                continue
            pending.append(weights[term])
        if short:
            _add_lists(view, segment, short, pending)
        if rows:
            _add_rows(view, segment.dense, rows, pending)


def top_k(scores: F32, k: int) -> tuple[I64, F32]:
    """The *k* best positive scores (fewer if fewer are positive): slots and scores, best first.

    Ties go to the lower slot. *scores* must be a whole number of :data:`BLOCK` long.
    """
    blocks = scores.size // BLOCK
    if k < blocks:
        maxima = scores.reshape(blocks, BLOCK).max(axis=1)
        bound = np.partition(maxima, blocks - k)[blocks - k]
        candidates = np.flatnonzero(scores >= bound) if bound > 0 else np.flatnonzero(scores > 0)
    else:
        candidates = np.flatnonzero(scores > 0)
    found = scores[candidates]
    if found.size > max(k, _SORTED):
        # Keep the k largest and everything tied with the k-th, then sort just those.
        kth = np.partition(found, found.size - k)[found.size - k]
        kept = found >= kth
        candidates, found = candidates[kept], found[kept]
    order = np.lexsort((candidates, -found))[:k]
    return candidates[order].astype(np.int64), found[order]
