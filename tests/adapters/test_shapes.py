"""SparseVector → each store's shape: plain Python ints and floats, JSON-safe."""

from __future__ import annotations

import json

from spladekit import SparseVector
from spladekit._adapters import shapes


def _is_plain(values: list[object], kind: type) -> bool:
    return all(type(x) is kind for x in values)


def test_wire_functions_return_plain_python_types() -> None:
    a = SparseVector([5, 1], [0.5, 1.5])
    b = SparseVector([2], [2.0])

    indices, values = shapes.to_lists(a)
    assert (indices, values) == ([1, 5], [1.5, 0.5])
    assert type(indices) is list and _is_plain(indices, int) and _is_plain(values, float)

    d = shapes.to_dict(a)
    assert d == {1: 1.5, 5: 0.5}
    assert _is_plain(list(d), int) and _is_plain(list(d.values()), float)

    assert shapes.to_dicts([a, b]) == [{1: 1.5, 5: 0.5}, {2: 2.0}]
    assert shapes.to_dicts([]) == []

    pine = shapes.to_pinecone(a)
    assert pine == {"indices": [1, 5], "values": [1.5, 0.5]}
    assert _is_plain(pine["indices"], int) and _is_plain(pine["values"], float)

    cols = shapes.to_columns([a, b])
    assert cols == ([[1, 5], [2]], [[1.5, 0.5], [2.0]])
    assert all(_is_plain(row, int) for row in cols[0])
    assert all(_is_plain(row, float) for row in cols[1])
    assert shapes.to_columns([]) == ([], [])
    json.dumps([shapes.to_lists(a), pine, cols])


def test_empty_vector_shapes() -> None:
    empty = SparseVector.empty()
    assert shapes.to_lists(empty) == ([], [])
    assert shapes.to_dict(empty) == {}
