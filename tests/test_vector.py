"""SparseVector: validation, immutability, conversions, dot product."""

from __future__ import annotations

import copy
import json
import pickle

import numpy as np
import pytest

from spladekit import SparseVector
from spladekit.errors import InputError, InputTypeError, SpladeError


def test_unsorted_input_is_sorted_with_values_kept_aligned() -> None:
    v = SparseVector([9, 2, 5], [0.9, 0.2, 0.5])
    assert v.indices.tolist() == [2, 5, 9]
    assert v.values.tolist() == pytest.approx([0.2, 0.5, 0.9])
    assert v.indices.dtype == np.int64
    assert v.values.dtype == np.float32
    assert len(v) == 3


def test_numpy_inputs_of_other_dtypes_are_converted() -> None:
    v = SparseVector(np.array([4, 1], dtype=np.int32), np.array([1.5, 2.5], dtype=np.float64))
    assert v.indices.dtype == np.int64 and v.values.dtype == np.float32
    assert v.to_dict() == {1: 2.5, 4: 1.5}


@pytest.mark.parametrize(
    ("indices", "values", "words"),
    [
        ([1, 1], [0.5, 0.6], "unique"),
        ([-1, 2], [0.5, 0.6], "non-negative"),
        ([1, 2], [0.0, 0.6], "greater than zero"),
        ([1, 2], [-0.1, 0.6], "greater than zero"),
        ([1, 2], [float("nan"), 0.6], "finite"),
        ([1, 2], [float("inf"), 0.6], "finite"),
        ([1, 2], [0.5], "equal length"),
        ([[1, 2]], [[0.5, 0.6]], "1-D"),
        ([1.5, 2.0], [0.5, 0.6], "integers"),
        ([True, False], [0.5, 0.6], "integers"),
        (["1"], [0.5], "integers"),
        ([1], [1e300], "finite"),  # overflows float32: rejected, not warned about
        ([1, [2]], [0.5, 0.6], "sequences of numbers"),
        ([1], [1 + 2j], "sequences of numbers"),
        (np.array([2**63 + 5], dtype=np.uint64), [0.5], "fit in int64"),
        (None, None, "1-D"),
    ],
)
def test_invalid_vectors_are_rejected_with_the_rule(
    indices: list[object], values: list[object], words: str
) -> None:
    with pytest.raises(InputError, match=words) as info:
        SparseVector(indices, values)  # type: ignore[arg-type]
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, SpladeError)


def test_wrong_types_to_methods_are_input_type_errors() -> None:
    v = SparseVector([1], [1.0])
    with pytest.raises(InputTypeError, match="dot takes a SparseVector, got dict"):
        v.dot({1: 1.0})  # type: ignore[arg-type]
    with pytest.raises(InputTypeError, match="from_dict takes a mapping .* got list"):
        SparseVector.from_dict([1, 2])  # type: ignore[arg-type]


def test_constructor_copies_its_inputs() -> None:
    indices = np.array([3, 1], dtype=np.int64)
    values = np.array([0.3, 0.1], dtype=np.float32)
    v = SparseVector(indices, values)
    indices[0] = 99
    values[0] = 42.0
    assert v.to_dict() == pytest.approx({1: 0.1, 3: 0.3})
    assert indices.flags.writeable  # the caller's arrays are not frozen behind their back


def test_vector_is_immutable() -> None:
    v = SparseVector([1, 2], [0.5, 0.25])
    with pytest.raises(ValueError, match="read-only"):
        v.values[0] = 3.0
    with pytest.raises(ValueError, match="read-only"):
        v.indices[0] = 7
    with pytest.raises(AttributeError):
        v.indices = np.array([5])  # type: ignore[misc]
    with pytest.raises(AttributeError):
        v.extra = 1  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="WRITEABLE"):
        v.values.flags.writeable = True  # a view of a frozen copy cannot be thawed


def test_empty_vector() -> None:
    empty = SparseVector.empty()
    assert len(empty) == 0
    assert empty.to_dict() == {}
    assert empty == SparseVector([], [])
    assert empty.dot(SparseVector([1], [1.0])) == 0.0


def test_to_dict_and_from_dict_round_trip_with_plain_types() -> None:
    v = SparseVector([7, 3], [1.25, 0.5])
    d = v.to_dict()
    assert d == {3: 0.5, 7: 1.25}
    assert all(type(k) is int and type(x) is float for k, x in d.items())
    assert SparseVector.from_dict(d) == v
    json.dumps(d)  # plain types serialise


def test_dot_matches_dense_numpy() -> None:
    rng = np.random.default_rng(7)
    vocab = 300
    dense_a = np.where(rng.random(vocab) < 0.2, rng.random(vocab) + 0.01, 0.0).astype(np.float32)
    dense_b = np.where(rng.random(vocab) < 0.2, rng.random(vocab) + 0.01, 0.0).astype(np.float32)
    a = SparseVector(np.flatnonzero(dense_a), dense_a[dense_a > 0])
    b = SparseVector(np.flatnonzero(dense_b), dense_b[dense_b > 0])
    expected = float(np.dot(dense_a.astype(np.float64), dense_b.astype(np.float64)))
    assert a.dot(b) == pytest.approx(expected, rel=1e-12)
    assert b.dot(a) == pytest.approx(expected, rel=1e-12)
    assert type(a.dot(b)) is float
    assert a.dot(SparseVector([vocab + 5], [1.0])) == 0.0


def test_equality_and_hash() -> None:
    a = SparseVector([1, 2], [0.5, 0.25])
    b = SparseVector([2, 1], [0.25, 0.5])
    c = SparseVector([1, 2], [0.5, 0.26])
    d = SparseVector([1, 3], [0.5, 0.25])
    assert a == b and hash(a) == hash(b)
    assert a != c and a != d
    assert len({a, b, c, d}) == 3
    assert a != {1: 0.5, 2: 0.25}  # not equal to other types (NotImplemented, not an error)


def test_pickle_and_copy_round_trip() -> None:
    v = SparseVector([4, 8, 15], [0.1, 0.2, 0.3])
    for clone in (pickle.loads(pickle.dumps(v)), copy.deepcopy(v), copy.copy(v)):
        assert clone == v
        assert not clone.values.flags.writeable and not clone.indices.flags.writeable


def test_repr_shows_size_and_first_entries() -> None:
    v = SparseVector(list(range(10)), [1.0] * 10)
    assert repr(v).startswith("SparseVector(nnz=10, {0: 1, 1: 1")
    assert repr(v).endswith(", ...})")


def test_dict_and_json_round_trips_are_exact() -> None:
    import json

    vector = SparseVector([30521, 7, 1012], [0.1, 1.2345678, 3.3e-5])
    assert SparseVector.from_dict(json.loads(json.dumps(vector.to_dict()))) == vector
    assert SparseVector.from_json(vector.to_json()) == vector
    assert SparseVector.from_json(json.dumps(vector.to_dict())) == vector
    assert SparseVector.from_json(SparseVector.empty().to_json()) == SparseVector.empty()


@pytest.mark.parametrize("bad", [{"x": 1.0}, {"1.5": 1.0}, {True: 1.0}, {None: 1.0}])
def test_from_dict_refuses_keys_that_are_not_token_ids(bad: dict) -> None:  # type: ignore[type-arg]
    with pytest.raises(InputTypeError, match="keys must be token ids"):
        SparseVector.from_dict(bad)


@pytest.mark.parametrize("bad", ["not json", "[1, 2]", '{"indices": [1], "values": ["a"]}'])
def test_from_json_refuses_what_is_not_a_vector(bad: str) -> None:
    with pytest.raises(InputError):
        SparseVector.from_json(bad)
