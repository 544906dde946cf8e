"""Bad input to SparseIndex: typed errors that name the problem and its position."""

from __future__ import annotations

import pytest

from spladekit import InputError, InputTypeError, SparseIndex, SparseVector

V = SparseVector([1, 2], [1.0, 0.5])


@pytest.fixture()
def index() -> SparseIndex:
    built = SparseIndex()
    built.add(["a", "b"], [V, V])
    return built


def test_ids_and_vectors_of_different_lengths() -> None:
    with pytest.raises(InputError, match="got 2 ids and 1 vectors"):
        SparseIndex().add(["a", "b"], [V])


def test_a_repeated_id_names_both_positions() -> None:
    with pytest.raises(InputError, match=r"ids\[2\] = 'a' repeats ids\[0\]"):
        SparseIndex().add(["a", "b", "a"], [V, V, V])


def test_an_id_already_in_the_index(index: SparseIndex) -> None:
    with pytest.raises(
        InputError, match=r"ids\[1\] = 'b' is already in the index; delete it first"
    ):
        index.add(["c", "b"], [V, V])
    assert len(index) == 2 and "c" not in index  # all or nothing


@pytest.mark.parametrize(
    ("bad", "match"),
    [
        ([V, {1: 2.0}], r"vectors\[1\] must be a SparseVector, got dict"),
        ([V, None], r"vectors\[1\] must be a SparseVector, got NoneType"),
        (V, "vectors must be a list of SparseVector, got SparseVector"),
    ],
)
def test_items_that_are_not_sparse_vectors(bad: object, match: str) -> None:
    with pytest.raises(InputTypeError, match=match):
        SparseIndex().add(["a", "b"], bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("ids", "match"),
    [
        (["a", 2.5], r"ids\[1\] must be a str or an int, got float 2.5"),
        ([True, 1], r"ids\[0\] must be a str or an int, got bool"),
        (["a", 3], r"ids\[1\] is int \(3\) but this index holds str ids"),
        ("ab", "ids must be a list of str or int ids, got str"),
        ([2**70, 1], r"ids\[0\] = 1180591620717411303424 does not fit in int64"),
    ],
)
def test_ids_of_the_wrong_kind(ids: object, match: str) -> None:
    with pytest.raises(InputError, match=match):
        SparseIndex().add(ids, [V, V])  # type: ignore[arg-type]


def test_str_ids_cannot_join_an_int_index() -> None:
    index = SparseIndex()
    index.add([1], [V])
    with pytest.raises(
        InputTypeError, match=r"ids\[0\] is str \('1'\) but this index holds int ids"
    ):
        index.add(["1"], [V])


@pytest.mark.parametrize("k", [0, -1, True, 2.0, None])
def test_k_must_be_a_positive_integer(index: SparseIndex, k: object) -> None:
    with pytest.raises(InputError, match="k must be a positive integer"):
        index.search(V, k)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="k must be a positive integer"):
        index.search_many([V], k)  # type: ignore[arg-type]


def test_queries_must_be_sparse_vectors(index: SparseIndex) -> None:
    with pytest.raises(InputTypeError, match="query must be a SparseVector .*encode_query"):
        index.search("moon")  # type: ignore[arg-type]
    with pytest.raises(InputTypeError, match=r"queries\[1\] must be a SparseVector, got list"):
        index.search_many([V, [1, 2]])  # type: ignore[list-item]


def test_delete_of_an_unknown_id_names_it_and_deletes_nothing(index: SparseIndex) -> None:
    with pytest.raises(InputError, match=r"ids\[1\] = 'zz' is not in the index"):
        index.delete(["a", "zz"])
    assert len(index) == 2 and "a" in index
    with pytest.raises(InputTypeError, match="ids must be a list"):
        index.delete("a")
    index.delete(["a", "a"])  # a repeat within one call is one deletion
    assert index.ids == ["b"]


def test_adding_nothing_changes_nothing(index: SparseIndex) -> None:
    segments = index._state.segments
    index.add([], [])
    assert index._state.segments is segments and len(index) == 2
