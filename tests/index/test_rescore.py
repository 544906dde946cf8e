"""Dense rows summed by BLAS, then candidates rescored: results bit-equal to the plain path."""

from __future__ import annotations

import numpy as np
import pytest

from spladekit import SparseIndex, SparseVector
from spladekit.index import build, score

from support.vectors import BruteForce, assert_same_ranking, random_vectors

DENSE_FROM = 1000  # segments this large keep their commonest terms as dense rows here


def _pair(
    monkeypatch: pytest.MonkeyPatch, ids: list[int], documents: list[SparseVector]
) -> tuple[SparseIndex, SparseIndex]:
    """The same documents with dense rows (searched by the BLAS path) and without."""
    monkeypatch.setattr(build, "MIN_DENSE_DOCUMENTS", DENSE_FROM)
    dense = SparseIndex()
    dense.add(ids, documents)
    monkeypatch.setattr(build, "MIN_DENSE_DOCUMENTS", 10**9)
    plain = SparseIndex()
    plain.add(ids, documents)
    assert dense._state.segments[0].dense_terms.size > 1
    assert plain._state.segments[0].dense_terms.size == 0
    return dense, plain


@pytest.fixture(scope="module")
def documents() -> list[SparseVector]:
    found = random_vectors(3000, 60, seed=5, exponent=1.1)
    # Exact duplicates spread over the slots: ties at every cut, broken by insertion order.
    return found + found[:40] + found[:40]


@pytest.fixture(scope="module")
def queries() -> list[SparseVector]:
    return [*random_vectors(12, 30, seed=6, exponent=1.1), SparseVector([1], [1.0])]


def test_blas_sums_are_close_and_ranked_exactly(
    monkeypatch: pytest.MonkeyPatch, documents: list[SparseVector], queries: list[SparseVector]
) -> None:
    ids = list(range(len(documents)))
    dense, plain = _pair(monkeypatch, ids, documents)
    segment = dense._state.segments[0]
    brute = BruteForce(ids, documents)
    used = 0
    for query in queries:
        blas_scores = np.zeros(score.padded_size(segment.count), np.float32)
        used += score.accumulate([segment], query.indices, query.values, blas_scores, blas=True)
        exact = score.exact_scores([segment], query.indices, query.values, np.arange(len(ids)))
        np.testing.assert_allclose(blas_scores[: len(ids)], exact, rtol=1e-5)
        for k in (1, 10, 41, 5000):  # 5000 > hits of most queries: every hit
            got = dense.search(query, k)
            assert got == plain.search(query, k)  # ids, order and scores bit for bit
            assert_same_ranking(got, brute.top(query, k))
    assert used >= len(queries) // 2


def test_exact_scores_equal_the_plain_sums(
    monkeypatch: pytest.MonkeyPatch, documents: list[SparseVector], queries: list[SparseVector]
) -> None:
    ids = list(range(len(documents)))
    dense, _ = _pair(monkeypatch, ids, documents)
    segment = dense._state.segments[0]
    for query in queries:
        plain = np.zeros(score.padded_size(segment.count), np.float32)
        assert not score.accumulate([segment], query.indices, query.values, plain)
        slots = np.arange(0, len(ids), 7)
        exact = score.exact_scores([segment], query.indices, query.values, slots)
        assert np.array_equal(exact, plain[slots])


def test_deleted_documents_and_several_segments(
    monkeypatch: pytest.MonkeyPatch, documents: list[SparseVector], queries: list[SparseVector]
) -> None:
    monkeypatch.setattr(build, "MIN_DENSE_DOCUMENTS", DENSE_FROM)
    index = SparseIndex()
    index.add(list(range(3000)), documents[:3000])
    index.add(list(range(3000, 3080)), documents[3000:])  # a small segment: no dense rows
    assert len(index._state.segments) == 2
    gone = list(range(0, 3080, 9))
    index.delete(gone)
    kept = [i for i in range(3080) if i % 9]
    brute = BruteForce(kept, [documents[i] for i in kept])
    for query in queries:
        for k in (1, 10, 10**6):
            got = index.search(query, k)
            assert not set(gone) & {i for i, _ in got}
            assert_same_ranking(got, brute.top(query, k))


def test_mass_ties_fall_back_to_the_plain_sum(monkeypatch: pytest.MonkeyPatch) -> None:
    documents = [SparseVector([1, 2, 3], [0.5, 0.25, 2.0])] * 1500 + [
        SparseVector([1, 2], [0.5, 0.25])
    ] * 10
    ids = list(range(len(documents)))
    dense, plain = _pair(monkeypatch, ids, documents)
    monkeypatch.setattr(score, "RESCORE_LIMIT", 100)  # 1500 tied candidates: too many
    query = SparseVector([1, 2, 3], [1.0, 3.0, 0.5])
    segments = dense._state.segments
    scores = np.zeros(score.padded_size(len(ids)), np.float32)
    assert score.accumulate(segments, query.indices, query.values, scores, blas=True)
    assert score.rescored_top_k(segments, query.indices, query.values, scores, 3) is None
    for k in (3, 1505, 10**6):
        got = dense.search(query, k)
        assert got == plain.search(query, k)
        assert got[:3] == [(0, 2.25), (1, 2.25), (2, 2.25)]
    assert dense.search(SparseVector.empty(), 5) == []
    assert dense.search(SparseVector([10**9], [1.0]), 5) == []
