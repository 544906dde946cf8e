"""Exact scoring: term-at-a-time accumulation over posting lists, then a block-max top-k.

Scores are accumulated in float32, one query term at a time in ascending term order, for
every document the same way whatever segment or storage (posting list or dense row) holds
it, so equal vectors get bit-equal scores and ties are real ties. float32 is the precision
the weights are stored in; accumulating in float64 measured 2x slower for scores within
1e-6 (relative) of a float64 dot product, which the tests check.

With ``blas=True`` (what searches use) a run of dense rows is instead added a block of
documents at a time as one float32 matrix-vector product (BLAS: fused multiply-adds in its
own order), so those scores are within a relative (terms + 1) x 2**-24 of the documented
sum, not equal to it. :func:`rescored_top_k` then recomputes, the documented way, every
score within twice the margin that bound requires of the k-th (a few more than k documents)
and ranks by those: the hits, their order, ties and scores are those of the plain path.

Top-k avoids a full ``argpartition`` over all documents: the k-th largest of the per-block
maxima is a lower bound of the k-th largest score, so only documents at or above it (a few
dozen) are sorted — by score, then by slot, which is insertion order.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from spladekit.index.build import Segment

__all__ = ["BLOCK", "accumulate", "rescored_top_k", "top_k"]

F32 = npt.NDArray[np.float32]
I64 = npt.NDArray[np.int64]

#: Scores per block of the top-k bound (the accumulator is padded to a multiple of it).
BLOCK = 1024
#: Posting lists up to this long are gathered with their neighbours into one np.add.at.
SHORT_LIST = 4096
#: Documents per block when adding dense rows (scores + scratch: 512 KiB, within L2).
ROW_BLOCK = 65_536
#: Weights per block of a BLAS matrix-vector product (the rows gathered: 256 KiB, in L2).
BLAS_CELLS = 65_536
#: Candidates sorted directly; more are first narrowed with a partition.
_SORTED = 256
#: Most candidates :func:`rescored_top_k` recomputes; past it the caller redoes the plain sum.
RESCORE_LIMIT = 65_536


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


def _add_rows(
    view: F32, dense: F32, rows: list[int], weights: list[np.float32], blas: bool = False
) -> None:
    """Add several dense rows block by block, so each block of scores stays in cache.

    For every document the rows are still added one after another in term order, unless
    *blas*: then each block is one matrix-vector product (its own summation order).
    """
    if blas and len(rows) > 1:
        vector = np.asarray(weights, dtype=np.float32)
        contiguous = rows == list(range(rows[0], rows[0] + len(rows)))
        step = max(BLOCK, BLAS_CELLS // len(rows))
        for start in range(0, view.size, step):
            end = min(view.size, start + step)
            block = (
                dense[rows[0] : rows[-1] + 1, start:end] if contiguous else dense[rows, start:end]
            )
            view[start:end] += vector @ block
        return
    scratch = np.empty(min(ROW_BLOCK, view.size), dtype=np.float32)
    for start in range(0, view.size, ROW_BLOCK):
        part = view[start : start + ROW_BLOCK]
        product = scratch[: part.size]
        for row, weight in zip(rows, weights, strict=True):
            np.multiply(dense[row, start : start + ROW_BLOCK], weight, out=product)
            np.add(part, product, out=part)


def accumulate(
    segments: Sequence[Segment], indices: I64, weights: F32, scores: F32, blas: bool = False
) -> bool:
    """Add the query's dot product with every document into *scores* (indexed by slot).

    Returns whether dense rows were added with BLAS (*blas* and a run of several rows), so
    that the scores are within a bound of the documented sum (see :func:`rescored_top_k`).

    Query terms are applied in ascending order, every document's sum formed in that order.
    Consecutive short posting lists are gathered into one ``np.add.at`` (the per-call
    overhead dominates them); consecutive dense rows are added a cache-sized block of
    documents at a time (memory traffic, not arithmetic, bounds them); a long list alone.
    """
    approximate = False

    def add_rows(view: F32, segment: Segment, rows: list[int], pending: list[np.float32]) -> None:
        nonlocal approximate
        approximate = approximate or (blas and len(rows) > 1)
        _add_rows(view, segment.dense, rows, pending, blas)

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
                add_rows(view, segment, rows, pending)
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
            add_rows(view, segment, rows, pending)
    return approximate


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


def exact_scores(segments: Sequence[Segment], indices: I64, weights: F32, slots: I64) -> F32:
    """The documented scores of *slots* (ascending): float32, query terms in ascending order.

    Bit-equal to what the plain :func:`accumulate` gives those slots: each term adds its
    float32 product (a term the document lacks adds 0, which changes no sum).
    """
    out = np.zeros(slots.size, dtype=np.float32)
    for segment in segments:
        lo, hi = np.searchsorted(slots, [segment.base, segment.base + segment.count]).tolist()
        if lo == hi:
            continue
        local = slots[lo:hi] - segment.base
        part = np.zeros(local.size, dtype=np.float32)
        sparse = _lookup(segment.terms, indices).tolist()
        dense = _lookup(segment.dense_terms, indices).tolist()
        for term, (position, row) in enumerate(zip(sparse, dense, strict=True)):
            if row >= 0:
                found = segment.dense[row, local]
            elif position >= 0:
                start, end = segment.offsets[position : position + 2].tolist()
                docs = segment.docs[start:end]
                at = np.minimum(np.searchsorted(docs, local), docs.size - 1)
                found = np.where(docs[at] == local, segment.values[start:end][at], np.float32(0))
            else:
                continue
            part += found * weights[term]
        out[lo:hi] = part
    return out


def rescored_top_k(
    segments: Sequence[Segment], indices: I64, weights: F32, scores: F32, k: int
) -> tuple[I64, F32] | None:
    """:func:`top_k` of the documented scores, given *scores* from ``accumulate(blas=True)``.

    Every score, either way, is within a relative ``e = (terms + 1) * 2**-24`` of the exact
    dot product (all weights are positive). If k documents have approximate scores >= s, the
    k-th documented score is >= s (1 - 2e); a document at or above it has an approximate
    score >= s (1 - 4e). Those candidates (a margin of twice that) are recomputed with
    :func:`exact_scores` and ranked by score, then slot. Returns None when there are more
    than :data:`RESCORE_LIMIT` candidates (mass ties): the caller then sums the plain way.
    """
    slots, found = top_k(scores, k)
    if found.size == k:
        margin = 8.0 * (indices.size + 1) * 2.0**-24
        threshold = np.float32(float(found[-1]) * (1.0 - margin))
        candidates = np.flatnonzero(scores >= threshold)
    else:  # fewer than k hits: all of them
        candidates = np.sort(slots)
    if candidates.size > RESCORE_LIMIT:
        return None
    exact = exact_scores(segments, indices, weights, candidates)
    hits = exact > 0
    candidates, exact = candidates[hits], exact[hits]
    order = np.lexsort((candidates, -exact))[:k]
    return candidates[order].astype(np.int64), exact[order]
