"""spladekit.ray on a real local Ray (2 CPUs): exact vectors, columns kept, errors named.

One Ray instance serves the module (starting it costs ~10 s on 2 cores); each test that runs a
dataset pays for its actors to start and load the model.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from spladekit import SparseVector, SpladeEncoder
from spladekit.errors import InputError, InputTypeError
from spladekit.pipeline.tokenize import TruncationWarning

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
ray = pytest.importorskip("ray")
pytest.importorskip("ray.data")

from spladekit.arrow import from_table, vector_schema  # noqa: E402
from spladekit.ray import SpladeBatchEncoder, encode_dataset  # noqa: E402

from support.documents import DOCUMENTS  # noqa: E402

SCIFACT_DOCUMENTS = 2000


def start_ray(attempts: int = 3) -> None:
    """Start a local Ray; a node that misses Ray's fixed 30 s registration window gets retried.

    On a loaded 2-core machine a restart right after ``ray.shutdown`` once timed out that way
    (CI, 2026-12-04: "The current node timed out during startup").
    """
    for attempt in range(attempts):
        try:
            ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
            break
        except Exception:  # Ray raises a bare Exception for a node that did not come up
            ray.shutdown()
            if attempt == attempts - 1:
                raise
            time.sleep(5)
    ray.data.DataContext.get_current().enable_progress_bars = False


@pytest.fixture(scope="module")
def local_ray() -> Iterator[Any]:
    """A real single-node Ray with 2 CPUs, shut down after the module."""
    start_ray()
    try:
        yield ray
    finally:
        ray.shutdown()


def all_cpus_free(timeout: float = 30.0) -> None:
    """Wait until no actor holds a CPU; restart Ray if one outlives *timeout*.

    A Ray Data pool whose job failed (the bad-row tests) may keep its actor a while, and an
    actor that needs both CPUs would then wait for it forever.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ray.available_resources().get("CPU", 0) >= 2:
            return
        time.sleep(0.5)
    ray.shutdown()
    start_ray()


def generated_rows(count: int, seed: int = 0) -> list[dict[str, Any]]:
    """Rows of mixed length from the Chandrayaan words, with an int64 id and other columns."""
    rng = random.Random(seed)
    words = " ".join(DOCUMENTS).split()
    rows = []
    for i in range(count):
        text = " ".join(rng.choices(words, k=rng.randint(1, 80)))
        if i % 37 == 0:
            text = ""  # an empty text: an empty vector
        elif i % 41 == 0:
            text = "   \n"
        rows.append({"id": 10**12 + i, "text": text, "score": i / 7, "tag": f"t{i % 5}"})
    return rows


def by_id(table: Any, id_column: str) -> dict[Any, SparseVector]:
    return dict(zip(table.column(id_column).to_pylist(), from_table(table), strict=True))


def assert_within_float32_noise(
    got: dict[Any, SparseVector], expected: dict[Any, SparseVector]
) -> None:
    """Same ids, same token ids, weights within 1e-5: ONNX Runtime's sums round differently
    when a text shares a padded batch with other texts (the encoder alone does the same)."""
    assert got.keys() == expected.keys()
    for key, want in expected.items():
        have = got[key]
        assert have.indices.tolist() == want.indices.tolist(), key
        assert np.abs(have.values - want.values).max(initial=0.0) <= 1e-5, key


def test_tiny_model_vectors_match_the_encoder_and_other_columns_survive_parquet(
    local_ray: Any, tiny_model_dir: Path, encoder: SpladeEncoder, tmp_path: Path
) -> None:
    rows = generated_rows(400)
    ds = ray.data.from_items(rows, override_num_blocks=8)
    encoded = encode_dataset(ds, tiny_model_dir, id_column="id", actors=2, batch_size=32)
    table = encoded.materialize().to_arrow_refs()
    out = pa.concat_tables(ray.get(table))
    assert out.num_rows == len(rows)
    assert out.schema.field("indices").type == pa.list_(pa.int32())
    assert out.schema.field("values").type == pa.list_(pa.float32())
    assert out.column_names[-2:] == ["indices", "values"]

    expected = dict(
        zip(
            (r["id"] for r in rows),
            encoder.encode_documents([r["text"] for r in rows]),
            strict=True,
        )
    )
    got = by_id(out, "id")
    # Ray forms its own batches of 32 across blocks of 50 rows, so padding differs from one
    # encode_documents call over all texts: equal up to float32 rounding (bit for bit when the
    # batches are the same: the SciFact test below).
    assert_within_float32_noise(got, expected)
    assert sum(len(v) == 0 for v in got.values()) >= 11  # the empty and blank texts
    kept = {r["id"]: r for r in out.select(["id", "text", "score", "tag"]).to_pylist()}
    assert kept == {r["id"]: r for r in rows}

    ray.data.from_arrow(out).write_parquet(str(tmp_path / "out"))
    read = pq.read_table(tmp_path / "out")
    fields = [out.schema.field(name) for name in ("id", "text", "score", "tag")]
    assert read.schema.remove_metadata() == vector_schema(fields)
    assert by_id(read, "id") == got  # Parquet keeps them bit for bit


def scifact_rows(shared_data: Path, count: int) -> list[dict[str, Any]]:
    rows = []
    with (shared_data / "scifact" / "corpus.jsonl").open(encoding="utf-8") as lines:
        for line in lines:
            doc = json.loads(line)
            rows.append(
                {"_id": doc["_id"], "title": doc["title"], "text": f"{doc['title']} {doc['text']}"}
            )
            if len(rows) == count:
                break
    return rows


def test_scifact_through_an_actor_pool_gives_the_encoders_vectors_bit_for_bit(
    local_ray: Any, shared_data: Path, tmp_path: Path
) -> None:
    model = shared_data / "checkpoints" / "splade-tiny-onnx"
    rows = scifact_rows(shared_data, SCIFACT_DOCUMENTS)
    ds = ray.data.from_items(rows, override_num_blocks=16).materialize()
    blocks = [ray.get(ref) for ref in ds.to_arrow_refs()]
    encoded = ds.map_batches(
        SpladeBatchEncoder,
        compute=ray.data.ActorPoolStrategy(size=2),
        num_cpus=1,  # so each actor's encoder runs 1 thread
        batch_size=None,  # one block, one batch: the same batches as the reference below
        batch_format="pyarrow",
        fn_constructor_kwargs={"model": str(model), "id_column": "_id"},
    )
    encoded.write_parquet(str(tmp_path / "scifact"))
    read = pq.read_table(tmp_path / "scifact")
    assert read.num_rows == SCIFACT_DOCUMENTS
    fields = [pa.field(name, pa.string()) for name in ("_id", "title", "text")]
    assert read.schema.remove_metadata() == vector_schema(fields)

    plain = SpladeEncoder(model, threads=2)
    expected = {}
    # Some abstracts pass 512 tokens: both sides truncate them (the default policy), and here,
    # outside Ray, the encoder's warning says so.
    with pytest.warns(TruncationWarning):
        for block in blocks:
            vectors = plain.encode_documents(block.column("text").to_pylist())
            expected.update(zip(block.column("_id").to_pylist(), vectors, strict=True))
    assert len(expected) == SCIFACT_DOCUMENTS
    assert by_id(read, "_id") == expected  # every vector, bit for bit, joined back by id
    assert {r["_id"]: r["title"] for r in read.select(["_id", "title"]).to_pylist()} == {
        r["_id"]: r["title"] for r in rows
    }


def bad_rows() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = [{"id": f"doc-{i}", "text": f"the moon {i}"} for i in range(40)]
    rows[17]["text"] = None
    return rows


def test_a_row_without_text_fails_naming_its_id(local_ray: Any, tiny_model_dir: Path) -> None:
    ds = ray.data.from_items(bad_rows(), override_num_blocks=2)
    with pytest.raises(Exception) as caught:  # noqa: PT011 - Ray's wrapper type; the text is what counts
        encode_dataset(ds, tiny_model_dir, id_column="id", actors=1, batch_size=8).materialize()
    shown = str(caught.value)  # what the user reads under the traceback
    assert (
        "spladekit.errors.InputTypeError: row id='doc-17' has no text: 'text' is None (null)"
        in shown
    )
    assert "an empty str gives an empty vector" in shown


def test_ray_can_hand_back_the_spladekit_error_itself(local_ray: Any, tiny_model_dir: Path) -> None:
    context = ray.data.DataContext.get_current()
    context.raise_original_map_exception = True
    try:
        ds = ray.data.from_items(bad_rows(), override_num_blocks=2)
        with pytest.raises(InputTypeError, match=r"row id='doc-17' has no text"):
            encode_dataset(ds, tiny_model_dir, id_column="id", actors=1).materialize()
    finally:
        context.raise_original_map_exception = False


def test_actor_threads_follow_its_cpus(local_ray: Any, tiny_model_dir: Path) -> None:
    all_cpus_free()
    actor_class = ray.remote(SpladeBatchEncoder)
    two = actor_class.options(num_cpus=2).remote(str(tiny_model_dir))
    call = two.__ray_call__.remote(lambda self: self.encoder._documents.session.threads)
    threads = ray.get(call, timeout=120)
    assert threads == 2
    ray.kill(two)
    one = actor_class.options(num_cpus=1).remote(str(tiny_model_dir), threads=2)
    call = one.__ray_call__.remote(lambda self: self.encoder._documents.session.threads)
    threads = ray.get(call, timeout=120)
    assert threads == 2  # an explicit threads= wins
    ray.kill(one)


# --- the class on its own, no Ray needed -------------------------------------------------------


def test_batches_without_ray(tiny_model_dir: Path, encoder: SpladeEncoder) -> None:
    udf = SpladeBatchEncoder(tiny_model_dir, id_column="id")
    texts = ["the lunar rover", "", "india moon mission"]
    expected = encoder.encode_documents(texts)
    table = pa.table({"id": [1, 2, 3], "text": texts})
    assert from_table(udf(table)) == expected
    assert from_table(udf(table.slice(0, 0))) == []
    pandas = pytest.importorskip("pandas")
    assert from_table(udf(pandas.DataFrame({"id": [1, 2, 3], "text": texts}))) == expected
    import numpy as np

    numpy_batch = {"id": np.array([1, 2, 3]), "text": np.array(texts, dtype=object)}
    assert from_table(udf(numpy_batch)) == expected
    large = pa.table({"id": [1, 2, 3], "text": pa.array(texts, pa.large_string())})
    assert from_table(udf(large)) == expected
    dictionary = pa.table({"id": [1, 2, 3], "text": pa.array(texts).dictionary_encode()})
    assert from_table(udf(dictionary)) == expected


def test_threads_and_the_gpu_hint_follow_the_resources_ray_assigned(
    tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import spladekit.ray as spladekit_ray

    monkeypatch.setattr(spladekit_ray, "_actor_resources", lambda: {"CPU": 3.0, "GPU": 1.0})
    with caplog.at_level("WARNING", logger="spladekit.ray"):
        udf = SpladeBatchEncoder(tiny_model_dir)
    assert udf.encoder._documents.session.threads == 3
    assert "holds 1.0 GPU(s) but runs on the CPU" in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING", logger="spladekit.ray"):
        SpladeBatchEncoder(tiny_model_dir, providers=["CPUExecutionProvider"], threads=1)
    assert caplog.text == ""  # providers given: the caller chose


def test_bad_batches_name_the_row_or_the_column(tiny_model_dir: Path) -> None:
    udf = SpladeBatchEncoder(tiny_model_dir, id_column="id")
    with pytest.raises(
        InputTypeError,
        match=r"row id=2 has no text: 'text' is None \(null\) \(1 more in this batch\)",
    ):
        udf(pa.table({"id": [1, 2, 3], "text": ["a", None, None]}))
    with pytest.raises(
        InputTypeError, match="row id=1: the text column 'text' must hold str, got Arrow type int64"
    ):
        udf(pa.table({"id": [1], "text": [5]}))
    with pytest.raises(InputTypeError, match=r"got Arrow type binary \(decode bytes first\)"):
        udf(pa.table({"id": [1], "text": [b"moon"]}))
    with pytest.raises(
        InputError,
        match=r"text_column 'text' is not a column of the dataset; its columns are \['id', 'body'\]",
    ):
        udf(pa.table({"id": [1], "body": ["moon"]}))
    with pytest.raises(InputError, match="id_column 'id' is not a column"):
        udf(pa.table({"doc": [1], "text": ["moon"]}))
    anonymous = SpladeBatchEncoder(tiny_model_dir)
    with pytest.raises(
        InputTypeError,
        match=r"row 1 of a batch of 2 \(pass id_column= to name rows by id\) has no text",
    ):
        anonymous(pa.table({"text": ["a", None]}))
    with pytest.raises(InputTypeError, match="takes a pyarrow.Table batch"):
        anonymous(["a", "b"])


def test_arguments_are_checked_before_anything_runs(tiny_model_dir: Path) -> None:
    ds = ray.data.from_items([{"text": "moon"}])  # lazy: nothing starts until consumed
    with pytest.raises(
        TypeError, match=r"encode_dataset got an unknown option 'top_kk' \(did you mean 'top_k'\?\)"
    ):
        encode_dataset(ds, tiny_model_dir, top_kk=3)  # type: ignore[call-arg]
    with pytest.raises(InputTypeError, match="pass threads_per_actor= instead of threads="):
        encode_dataset(ds, tiny_model_dir, threads=2)
    with pytest.raises(InputError, match="actors must be a positive integer or None, got 0"):
        encode_dataset(ds, tiny_model_dir, actors=0)
    with pytest.raises(InputError, match="num_gpus must be a number > 0 or None, got -1"):
        encode_dataset(ds, tiny_model_dir, num_gpus=-1)
    with pytest.raises(InputError, match="id_column cannot be 'indices'"):
        encode_dataset(ds, tiny_model_dir, id_column="indices")
    with pytest.raises(InputTypeError, match="text_column must be a column name"):
        SpladeBatchEncoder(tiny_model_dir, text_column="")
    with pytest.raises(InputError, match="top_k must be a positive integer or None, got 0"):
        SpladeBatchEncoder(tiny_model_dir, top_k=0)


def run_python(script: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120
    )
    return done.stdout


def test_importing_spladekit_ray_imports_neither_ray_nor_pyarrow() -> None:
    modules = json.loads(
        run_python(
            "import json, sys, spladekit, spladekit.ray, spladekit.arrow\n"
            "from spladekit.ray import SpladeBatchEncoder, encode_dataset\n"
            "print(json.dumps(sorted(sys.modules)))\n"
        )
    )
    assert "spladekit.ray" in modules
    assert [m for m in modules if m.split(".")[0] in ("ray", "pyarrow")] == []


def test_missing_ray_names_the_install_command() -> None:
    out = run_python(
        "import sys\n"
        "sys.modules['ray'] = None  # as if not installed\n"
        "from spladekit.errors import MissingDependencyError\n"
        "from spladekit.ray import encode_dataset\n"
        "try:\n"
        "    encode_dataset(object(), 'model')\n"
        "except MissingDependencyError as error:\n"
        "    print(type(error).__name__, error)\n"
    )
    assert (
        "MissingDependencyError 'ray' is not installed; it comes with the 'ray' extra: pip install \"spladekit[ray]\""
        in out
    )
