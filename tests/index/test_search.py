"""SparseIndex.search returns what brute-force scoring returns: ids, order, scores, ties."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from spladekit import SparseIndex, SparseVector, SpladeEncoder
from spladekit.index import build, score, sparse_index
from spladekit.pipeline.tokenize import TruncationWarning

from support.checks import QUERIES
from support.documents import DOCUMENTS
from support.vectors import BruteForce, assert_same_ranking, brute_force_top, random_vectors


@pytest.fixture(scope="module")
def corpus() -> list[SparseVector]:
    return random_vectors(3000, 120, seed=1)


@pytest.fixture(scope="module")
def queries() -> list[SparseVector]:
    return random_vectors(25, 30, seed=2)


def test_top_k_matches_brute_force(corpus: list[SparseVector], queries: list[SparseVector]) -> None:
    ids = [f"doc-{i}" for i in range(len(corpus))]
    index = SparseIndex()
    index.add(ids, corpus)
    brute = BruteForce(ids, corpus)
    swaps = 0
    for k in (1, 10, 100):
        for query in queries:
            swaps += assert_same_ranking(index.search(query, k), brute.top(query, k))
    print(f"near-tie swaps: {swaps}")
    assert swaps == 0


@pytest.mark.parametrize("row_block", [score.ROW_BLOCK, 1000])
def test_dense_rows_score_like_posting_lists(
    monkeypatch: pytest.MonkeyPatch, row_block: int
) -> None:
    # A segment this large keeps its commonest terms as dense rows; scores must not change.
    documents = random_vectors(build.MIN_DENSE_DOCUMENTS + 500, 60, seed=3, exponent=1.1)
    queries = random_vectors(6, 30, seed=4, exponent=1.1)
    ids = list(range(len(documents)))
    index = SparseIndex()
    index.add(ids, documents)
    segment = index._state.segments[0]
    assert segment.dense_terms.size > 0 and segment.docs.size > 0
    monkeypatch.setattr(score, "ROW_BLOCK", row_block)
    monkeypatch.setattr(build, "MIN_DENSE_DOCUMENTS", 10**9)
    sparse_only = SparseIndex()
    sparse_only.add(ids, documents)
    assert sparse_only._state.segments[0].dense_terms.size == 0
    brute = BruteForce(ids, documents)
    for query in queries:
        got = index.search(query, 20)
        assert got == sparse_only.search(query, 20)  # bit for bit
        assert_same_ranking(got, brute.top(query, 20))


def test_ties_follow_insertion_order() -> None:
    twin = SparseVector([3, 8], [1.5, 0.25])
    index = SparseIndex()
    index.add(["c", "a", "b"], [twin, SparseVector([3], [0.1]), twin])
    index.add(["z"], [twin])
    assert index.search(SparseVector([3, 8], [1.0, 1.0]), k=10) == [
        ("c", 1.75),
        ("b", 1.75),
        ("z", 1.75),
        ("a", pytest.approx(0.1)),
    ]
    assert [i for i, _ in index.search(SparseVector([3, 8], [1.0, 1.0]), k=2)] == ["c", "b"]


def test_ties_at_the_cut_keep_the_earliest() -> None:
    # 5000 identical documents: the block-max bound admits them all; the cut takes the first k.
    index = SparseIndex()
    index.add(list(range(5000)), [SparseVector([1], [2.0])] * 5000)
    assert index.search(SparseVector([1], [1.0]), k=7) == [(i, 2.0) for i in range(7)]


def test_empty_query_and_disjoint_query_find_nothing(corpus: list[SparseVector]) -> None:
    index = SparseIndex()
    index.add(list(range(len(corpus))), corpus)
    assert index.search(SparseVector.empty(), k=5) == []
    assert index.search(SparseVector([10**12], [1.0]), k=5) == []
    assert SparseIndex().search(SparseVector([1], [1.0])) == []


def test_k_larger_than_the_index_returns_every_hit(corpus: list[SparseVector]) -> None:
    ids = list(range(200))
    index = SparseIndex()
    index.add(ids, corpus[:200])
    query = corpus[500]
    expected = brute_force_top(ids, corpus[:200], query, 10**9)
    got = index.search(query, k=10**9)
    assert 0 < len(got) <= 200
    assert_same_ranking(got, expected)


def test_deleted_documents_are_never_returned(
    corpus: list[SparseVector], queries: list[SparseVector]
) -> None:
    ids = [f"d{i}" for i in range(1000)]
    index = SparseIndex()
    index.add(ids, corpus[:1000])
    gone = set(ids[::7])
    index.delete(sorted(gone))
    assert len(index) == 1000 - len(gone)
    assert index._state.dead.size == len(gone)  # marked, not compacted yet (< 25 %)
    kept = [i for i in range(1000) if ids[i] not in gone]
    for query in queries[:10]:
        expected = brute_force_top([ids[i] for i in kept], [corpus[i] for i in kept], query, 50)
        assert_same_ranking(index.search(query, 50), expected)
    # Past a quarter dead, the index rewrites itself without them: same answers.
    more = [ids[i] for i in kept[:300]]
    index.delete(more)
    assert index._state.dead.size == 0 and len(index._state.segments) == 1
    kept = [i for i in kept[300:]]
    for query in queries[:10]:
        expected = brute_force_top([ids[i] for i in kept], [corpus[i] for i in kept], query, 50)
        assert_same_ranking(index.search(query, 50), expected)
    assert index.ids == [ids[i] for i in kept]


def test_a_deleted_id_can_be_added_again_and_ranks_as_newest() -> None:
    index = SparseIndex()
    index.add(["a", "b"], [SparseVector([1], [1.0]), SparseVector([1], [1.0])])
    index.delete(["a"])
    assert "a" not in index and "b" in index
    index.add(["a"], [SparseVector([1], [1.0])])
    assert index.search(SparseVector([1], [1.0])) == [("b", 1.0), ("a", 1.0)]
    assert index.ids == ["b", "a"]


def test_many_small_adds_equal_one_bulk_add(
    corpus: list[SparseVector], queries: list[SparseVector]
) -> None:
    ids = list(range(1500))
    bulk = SparseIndex()
    bulk.add(ids, corpus[:1500])
    piecewise = SparseIndex()
    sizes = [1000, 1, 2, 5, 40, 1, 300, 3, 7, 100, 41]
    start = 0
    for size in sizes:
        piecewise.add(ids[start : start + size], corpus[start : start + size])
        start += size
    assert start == 1500
    segments = piecewise._state.segments
    assert 1 < len(segments) <= 8
    counts = [s.count for s in segments]
    assert all(a > sparse_index.MERGE_FACTOR * b for a, b in zip(counts, counts[1:], strict=False))
    for query in queries:
        assert piecewise.search(query, 30) == bulk.search(query, 30)  # bit for bit


def test_search_many_equals_search(corpus: list[SparseVector], queries: list[SparseVector]) -> None:
    index = SparseIndex()
    index.add(list(range(len(corpus))), corpus)
    index.delete([0, 5, 9])
    batch = [*queries, SparseVector.empty(), queries[0]]
    assert index.search_many(batch, k=12) == [index.search(q, k=12) for q in batch]
    assert index.search_many([], k=3) == []


def test_int_and_str_ids_round_trip() -> None:
    index = SparseIndex()
    index.add([10, -4, np.int64(7)], [SparseVector([1], [1.0])] * 3)  # type: ignore[list-item]
    hits = index.search(SparseVector([1], [1.0]))
    assert hits == [(10, 1.0), (-4, 1.0), (7, 1.0)]
    assert all(type(i) is int for i, _ in hits)
    assert 7 in index and np.int64(10) in index and "7" not in index


def test_real_encodes_match_brute_force(encoder: SpladeEncoder) -> None:
    vectors = encoder.encode_documents(DOCUMENTS)
    ids = [f"chandrayaan-{i}" for i in range(len(DOCUMENTS))]
    index = SparseIndex()
    index.add(ids, vectors)
    for text in QUERIES:
        query = encoder.encode_query(text)
        expected = brute_force_top(ids, vectors, query, 5)
        assert_same_ranking(index.search(query, 5), expected)
        # The score is the vectors' own dot product.
        for hit, found in index.search(query, 5):
            assert found == pytest.approx(query.dot(vectors[ids.index(hit)]), rel=1e-6)


def test_real_splade_tiny_on_scifact_matches_brute_force(shared_data: Path) -> None:
    model = shared_data / "checkpoints" / "splade-tiny-onnx"
    corpus = shared_data / "scifact" / "corpus.jsonl"
    if not model.is_dir() or not corpus.is_file():
        pytest.skip("splade-tiny-onnx or SciFact not in ../shared/data")
    encoder = SpladeEncoder(model)
    with corpus.open() as lines:
        rows = [json.loads(line) for _, line in zip(range(24), lines, strict=False)]
    texts = [f"{r['title']} {r['text']}" for r in rows]
    ids = [r["_id"] for r in rows]
    with pytest.warns(TruncationWarning):  # one abstract is longer than 512 tokens
        vectors = encoder.encode_documents(texts)
    index = SparseIndex()
    index.add(ids, vectors)
    claims = [r["title"] for r in rows[:6]] + ["vitamin D and bone density", "aspirin"]
    for claim in claims:
        query = encoder.encode_query(claim)
        assert_same_ranking(index.search(query, 10), brute_force_top(ids, vectors, query, 10))
