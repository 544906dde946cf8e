"""WindowIndex: a document scores as its best window — what brute force over windows gives."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from spladekit import SparseVector
from spladekit.errors import InputError, InputTypeError
from spladekit.index import SparseIndex, WindowIndex

from support.vectors import BruteForce, assert_same_ranking, random_vectors


def grouped(seed: int, documents: int) -> list[list[SparseVector]]:
    """Documents of 0-4 windows each (an empty document has none)."""
    rng = np.random.default_rng(seed)
    counts = rng.integers(0, 5, size=documents)
    flat = iter(random_vectors(int(counts.sum()), 60, seed=seed))
    return [[next(flat) for _ in range(int(n))] for n in counts]


def best_window_top(
    ids: list[str], windows: list[list[SparseVector]], query: SparseVector, k: int
) -> list[tuple[str, float]]:
    """Brute force: every window's float64 dot product, the max per document, ties by order."""
    flat = [w for ws in windows for w in ws]
    owner = np.repeat(np.arange(len(windows)), [len(ws) for ws in windows])
    scores = np.zeros(len(windows))
    np.maximum.at(scores, owner, BruteForce(list(range(len(flat))), flat).scores(query))
    order = np.lexsort((np.arange(len(scores)), -scores))
    return [(ids[i], float(scores[i])) for i in order.tolist() if scores[i] > 0][:k]


def test_matches_brute_force_best_window() -> None:
    windows = grouped(1, 800)
    ids = [f"doc-{i}" for i in range(len(windows))]
    index = WindowIndex(ids, windows)
    assert len(index) == 800 and index.windows == sum(len(w) for w in windows)
    assert index.ids == ids
    swaps = 0
    for query in random_vectors(20, 30, seed=2):
        for k in (1, 10, 100):
            swaps += assert_same_ranking(
                index.search(query, k), best_window_top(ids, windows, query, k)
            )
    assert swaps == 0


def test_one_window_per_document_is_a_sparse_index() -> None:
    vectors = random_vectors(500, 50, seed=3)
    ids = list(range(500))
    plain = SparseIndex()
    plain.add(ids, vectors)
    windowed = WindowIndex(ids, [[v] for v in vectors])
    queries = random_vectors(10, 30, seed=4)
    assert windowed.search_many(queries, 25) == plain.search_many(queries, 25)  # bit for bit


def test_best_window_not_the_sum_of_windows() -> None:
    moon, rover = SparseVector([1], [2.0]), SparseVector([2], [2.0])
    index = WindowIndex(["split", "together"], [[moon, rover], [SparseVector([1, 2], [1.5, 1.5])]])
    # max-pooled, "split" would be {1: 2, 2: 2} and score 4; by its best window it scores 2
    assert index.search(SparseVector([1, 2], [1.0, 1.0]), k=2) == [
        ("together", 3.0),
        ("split", 2.0),
    ]


def test_ties_go_to_the_earlier_document_and_empty_ones_never_hit() -> None:
    same = SparseVector([4], [1.0])
    index = WindowIndex(
        ["a", "empty", "b", "c"], [[same], [], [SparseVector([9], [1.0]), same], [same]]
    )
    assert index.search(SparseVector([4], [2.0]), k=10) == [("a", 2.0), ("b", 2.0), ("c", 2.0)]
    assert index.search(SparseVector.empty()) == []
    nothing = WindowIndex([], [])
    assert len(nothing) == 0 and nothing.search(same) == [] and nothing.search_many([same]) == [[]]
    assert WindowIndex(["x"], [[]]).search(same) == []


def test_searches_run_in_threads() -> None:
    windows = grouped(5, 300)
    ids = [f"d{i}" for i in range(300)]
    index = WindowIndex(ids, windows)
    queries = random_vectors(12, 30, seed=6)
    expected = index.search_many(queries, 10)
    results: list[object] = [None] * 4

    def work(slot: int) -> None:
        results[slot] = index.search_many(queries, 10)

    threads = [threading.Thread(target=work, args=(slot,)) for slot in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(r == expected for r in results)


@pytest.mark.parametrize(
    ("ids", "windows", "error", "message"),
    [
        (
            ["a"],
            [SparseVector([1], [1.0])],
            InputTypeError,
            r"windows\[0\] must be a list of SparseVector",
        ),
        (["a"], [["x"]], InputTypeError, r"windows\[0\]\[0\] must be a SparseVector, got str"),
        (["a", "b"], [[]], InputError, "same length, got 2 ids and 1 documents"),
        (["a", "a"], [[], []], InputError, r"ids\[1\] = 'a' repeats ids\[0\]"),
        ("ab", [[], []], InputTypeError, "ids must be a list"),
        (["a"], "x", InputTypeError, "windows must be a list"),
    ],
)
def test_bad_input_is_named(ids: object, windows: object, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        WindowIndex(ids, windows)  # type: ignore[arg-type]


def test_bad_queries_are_named() -> None:
    index = WindowIndex(["a"], [[SparseVector([1], [1.0])]])
    with pytest.raises(InputError, match="k must be a positive integer"):
        index.search(SparseVector([1], [1.0]), k=0)
    with pytest.raises(InputTypeError, match="query must be a SparseVector"):
        index.search("moon")  # type: ignore[arg-type]
    with pytest.raises(InputTypeError, match=r"queries\[1\] must be a SparseVector"):
        index.search_many([SparseVector([1], [1.0]), None])  # type: ignore[list-item]
