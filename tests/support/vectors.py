"""Random SPLADE-like vectors and the brute-force ranking a SparseIndex must reproduce."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from spladekit import SparseVector

VOCAB = 30522


def random_vectors(
    count: int, nnz: int, *, seed: int, exponent: float = 1.0, vocab: int = VOCAB
) -> list[SparseVector]:
    """*count* vectors of ~*nnz* distinct Zipf-distributed term ids, log-normal weights."""
    rng = np.random.default_rng(seed)
    weights = 1.0 / np.arange(1, vocab + 1, dtype=np.float64) ** exponent
    weights /= weights.sum()
    term_of_rank = np.random.default_rng(7).permutation(vocab)
    sizes = rng.integers(max(0, nnz // 2), nnz + nnz // 2 + 1, size=count)
    cdf = np.cumsum(weights)
    ranks = np.minimum(np.searchsorted(cdf, rng.random(int(sizes.sum()))), vocab - 1)
    rows = np.repeat(np.arange(count), sizes)
    keys = np.sort(rows * vocab + ranks)
    keys = keys[np.concatenate([[True], keys[1:] != keys[:-1]])]
    rows, ranks = np.divmod(keys, vocab)  # distinct terms per row
    values = rng.lognormal(-0.5, 0.6, size=ranks.size).astype(np.float32)
    bounds = np.searchsorted(rows, np.arange(count + 1)).tolist()
    vectors = []
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):
        terms = term_of_rank[ranks[a:b]]
        order = np.argsort(terms)
        # Sorted, unique and positive by construction: skip the constructor's checks.
        vectors.append(SparseVector._trusted(terms[order], values[a:b][order]))
    return vectors


class BruteForce:
    """float64 dot products of a query with every document, from one CSR copy of them."""

    def __init__(self, ids: Sequence[Any], documents: Sequence[SparseVector]) -> None:
        self.ids = list(ids)
        sizes = [len(d) for d in documents]
        self.rows = np.repeat(np.arange(len(documents)), sizes)
        empty = np.empty(0, np.int64)
        self.indices = np.concatenate([d.indices for d in documents]) if documents else empty
        self.values = (
            np.concatenate([d.values for d in documents]).astype(np.float64)
            if documents
            else np.empty(0)
        )

    def scores(self, query: SparseVector) -> np.ndarray:
        top = int(self.indices.max(initial=-1)) + 1
        weights = np.zeros(top, dtype=np.float64)
        inside = query.indices < top
        weights[query.indices[inside]] = query.values[inside]
        contributions = self.values * weights[self.indices]
        return np.bincount(self.rows, weights=contributions, minlength=len(self.ids))

    def top(self, query: SparseVector, k: int) -> list[tuple[Any, float]]:
        """Best *k* positive scores, ties in list order: what SparseIndex.search must return."""
        scores = self.scores(query)
        order = np.lexsort((np.arange(len(scores)), -scores))
        return [(self.ids[i], float(scores[i])) for i in order.tolist() if scores[i] > 0][:k]


def brute_force_top(
    ids: Sequence[Any], documents: Sequence[SparseVector], query: SparseVector, k: int
) -> list[tuple[Any, float]]:
    """:meth:`BruteForce.top` for one query."""
    return BruteForce(ids, documents).top(query, k)


def assert_same_ranking(
    got: list[tuple[Any, float]], expected: list[tuple[Any, float]], rtol: float = 1e-6
) -> int:
    """Same ids in the same order, scores equal to float32 accumulation error.

    Two neighbours may trade places only when their true scores differ by less than that
    error (a near-tie float32 cannot order); returns how many did (the tests print it).
    """
    assert len(got) == len(expected), (len(got), len(expected))
    assert all(isinstance(score, float) for _, score in got)
    got_scores = np.array([s for _, s in got])
    want = np.array([s for _, s in expected])
    np.testing.assert_allclose(got_scores, want, rtol=rtol)
    assert np.all(np.diff(got_scores) <= 0)
    swaps = 0
    for (got_id, got_score), (want_id, want_score) in zip(got, expected, strict=True):
        if got_id != want_id:
            assert abs(got_score - want_score) <= rtol * want_score, (got, expected)
            swaps += 1
    return swaps
