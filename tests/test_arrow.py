"""spladekit.arrow: the one Arrow layout of encoded vectors, both ways, through Parquet too."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from spladekit import SparseVector, SpladeEncoder
from spladekit.errors import InputError, InputTypeError, MissingDependencyError

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

from spladekit.arrow import (  # noqa: E402
    INDICES,
    VALUES,
    from_arrays,
    from_table,
    to_arrays,
    vector_fields,
    vector_schema,
    with_vectors,
)

INT32_MAX = 2**31 - 1


def random_vectors(count: int, seed: int = 0) -> list[SparseVector]:
    rng = np.random.default_rng(seed)
    vectors = []
    for _ in range(count):
        nnz = int(rng.integers(0, 40))
        ids = rng.choice(30522, size=nnz, replace=False)
        vectors.append(SparseVector(ids, rng.uniform(0.01, 3.0, size=nnz)))
    return vectors


def test_the_schema_is_list_int32_and_list_float32_after_the_callers_columns() -> None:
    index_field, value_field = vector_fields()
    assert (index_field.name, index_field.type) == ("indices", pa.list_(pa.int32()))
    assert (value_field.name, value_field.type) == ("values", pa.list_(pa.float32()))
    schema = vector_schema([pa.field("id", pa.string()), pa.field("values", pa.int8())])
    assert schema.names == ["id", "indices", "values"]
    assert schema.field("values").type == pa.list_(pa.float32())
    assert vector_schema().names == [INDICES, VALUES]


def test_round_trip_keeps_every_vector_bit_for_bit() -> None:
    vectors = random_vectors(300)
    vectors[5] = SparseVector.empty()
    vectors[-1] = SparseVector.empty()
    indices, values = to_arrays(vectors)
    assert indices.type == pa.list_(pa.int32()) and values.type == pa.list_(pa.float32())
    assert indices.null_count == values.null_count == 0
    assert indices.to_pylist()[7] == vectors[7].indices.tolist()
    assert indices.offsets.equals(values.offsets)
    back = from_arrays(indices, values)
    assert back == vectors
    assert all(v.indices.dtype == np.int64 and v.values.dtype == np.float32 for v in back)
    assert not back[0].indices.flags.writeable and not back[0].values.flags.writeable
    assert len(back[5]) == 0 and len(back[-1]) == 0


def test_an_empty_batch_gives_empty_arrays_of_the_right_type() -> None:
    indices, values = to_arrays([])
    assert len(indices) == len(values) == 0
    assert indices.type == pa.list_(pa.int32()) and values.type == pa.list_(pa.float32())
    assert from_arrays(indices, values) == []
    table = with_vectors(pa.table({"id": pa.array([], pa.int64())}), [])
    assert table.schema == vector_schema([pa.field("id", pa.int64())])
    assert from_table(table) == []


def test_only_empty_vectors() -> None:
    indices, values = to_arrays([SparseVector.empty()] * 3)
    assert indices.to_pylist() == [[], [], []]
    assert from_arrays(indices, values) == [SparseVector.empty()] * 3


def test_largest_int32_token_id_and_int64_row_ids_survive_parquet(tmp_path: Path) -> None:
    vectors = [SparseVector([0, INT32_MAX], [0.25, 8.0]), SparseVector([2**20], [1.5])]
    ids = pa.array([2**62, -(2**62)], pa.int64())
    table = with_vectors(pa.table({"id": ids, "text": ["a", "b"]}), vectors)
    pq.write_table(table, tmp_path / "v.parquet")
    read = pq.read_table(tmp_path / "v.parquet")
    assert read.schema == vector_schema([pa.field("id", pa.int64()), pa.field("text", pa.string())])
    assert read.column("id").to_pylist() == [2**62, -(2**62)]
    assert from_table(read) == vectors


def test_a_token_id_past_int32_is_refused_naming_the_vector() -> None:
    with pytest.raises(InputError, match=r"vectors\[1\] has token id 2147483648"):
        to_arrays([SparseVector([1], [1.0]), SparseVector([3, INT32_MAX + 1], [1.0, 1.0])])


def test_with_vectors_replaces_old_vector_columns_and_keeps_the_rest() -> None:
    old = with_vectors(pa.table({"id": [1, 2], "n": [3.0, 4.0]}), random_vectors(2, seed=1))
    new_vectors = random_vectors(2, seed=2)
    new = with_vectors(old, new_vectors)
    assert new.column_names == ["id", "n", "indices", "values"]
    assert from_table(new) == new_vectors
    assert new.column("n").to_pylist() == [3.0, 4.0]
    with pytest.raises(InputError, match="got 1 vectors for a table of 2 rows"):
        with_vectors(old, new_vectors[:1])
    with pytest.raises(InputTypeError, match="takes a list of SparseVector"):
        to_arrays(new_vectors[0])  # type: ignore[arg-type]
    with pytest.raises(InputTypeError, match=r"vectors\[1\] must be a SparseVector"):
        to_arrays([new_vectors[0], {1: 2.0}])  # type: ignore[list-item]


def test_chunked_columns_and_sliced_tables_read_back_in_row_order() -> None:
    vectors = random_vectors(50, seed=3)
    parts = [
        with_vectors(pa.table({"id": range(i, i + 10)}), vectors[i : i + 10])
        for i in range(0, 50, 10)
    ]
    table = pa.concat_tables(parts)
    assert table.column(INDICES).num_chunks == 5
    assert from_table(table) == vectors
    assert from_table(table.slice(7, 20)) == vectors[7:27]
    # Columns chunked differently from each other still line up row by row.
    values = table.column(VALUES).combine_chunks()
    assert from_arrays(table.column(INDICES), values) == vectors


def test_rows_written_by_others_are_checked_sorted_or_refused() -> None:
    unsorted = from_arrays(pa.array([[9, 2, 5]]), pa.array([[1.0, 2.0, 3.0]]))
    assert unsorted == [SparseVector([2, 5, 9], [2.0, 3.0, 1.0])]
    # float64 / int64 lists (another writer's choice) are converted.
    assert from_arrays(pa.array([[1, 2]], pa.list_(pa.int64())), pa.array([[0.5, 1.5]])) == [
        SparseVector([1, 2], [0.5, 1.5])
    ]
    with pytest.raises(InputError, match="row 1: indices must be unique"):
        from_arrays(pa.array([[1], [4, 4]]), pa.array([[1.0], [1.0, 2.0]]))
    with pytest.raises(InputError, match="row 0: values must be finite and greater than zero"):
        from_arrays(pa.array([[1, 2]]), pa.array([[1.0, 0.0]]))
    with pytest.raises(InputError, match="row 0: indices must be non-negative"):
        from_arrays(pa.array([[-1, 2]]), pa.array([[1.0, 1.0]]))
    with pytest.raises(InputError, match="row 1 has a different number of indices and values"):
        from_arrays(pa.array([[1], [2, 3]]), pa.array([[1.0], [1.0]]))
    with pytest.raises(InputError, match="1 null rows"):
        from_arrays(pa.array([[1], None]), pa.array([[1.0], [2.0]]))
    with pytest.raises(InputTypeError, match="must be a list array"):
        from_arrays(pa.array([1, 2]), pa.array([[1.0], [2.0]]))
    with pytest.raises(InputTypeError, match="must hold numbers"):
        from_arrays(pa.array([["a"]]), pa.array([[1.0]]))
    with pytest.raises(InputError, match="no 'values' column"):
        from_table(pa.table({"indices": pa.array([[1]])}))


def test_encoder_vectors_round_trip(encoder: SpladeEncoder) -> None:
    texts = ["the lunar rover landed", "", "india's moon mission", "   "]
    vectors = encoder.encode_documents(texts)
    assert from_table(with_vectors(pa.table({"text": texts}), vectors)) == vectors


def test_missing_pyarrow_names_the_parquet_extra() -> None:
    script = (
        "import sys\n"
        "sys.modules['pyarrow'] = None  # as if not installed\n"
        "from spladekit import SparseVector\n"
        "from spladekit.errors import MissingDependencyError\n"
        "import spladekit.arrow as arrow\n"
        "try:\n"
        "    arrow.to_arrays([SparseVector.empty()])\n"
        "except MissingDependencyError as error:\n"
        "    print(error)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    assert 'pip install "spladekit[parquet]"' in done.stdout, done.stdout + done.stderr
    assert issubclass(MissingDependencyError, ImportError)
