"""The bulk-encoding examples run as written on the tiny model: Ray → Parquet → Qdrant / Milvus."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from spladekit import SpladeEncoder

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

from spladekit.arrow import from_table, with_vectors  # noqa: E402

from support.documents import DOCUMENTS  # noqa: E402

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
QUERY = "When did Chandrayaan-3 land on the Moon?"
# Ray Data's DataContext warns about its own deprecated fields (see pyproject's filterwarnings).
WARNINGS = ["-W", "error", "-W", "ignore::DeprecationWarning:ray.data.context"]


def run_example(name: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, *WARNINGS, str(EXAMPLES / name), *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def document_ids() -> list[str]:
    # Digit ids become Qdrant int ids, others a UUID: both kinds, plus an empty document.
    return [str(4000 + i) if i % 2 else f"doc-{i}" for i in range(len(DOCUMENTS) + 1)]


@pytest.fixture(scope="module")
def parquet_folder(tmp_path_factory: pytest.TempPathFactory, encoder: SpladeEncoder) -> Path:
    """What spladekit.ray writes: two Parquet files of id, text, indices, values."""
    texts = [*DOCUMENTS, ""]
    table = with_vectors(
        pa.table({"_id": document_ids(), "text": texts}), encoder.encode_documents(texts)
    )
    folder = tmp_path_factory.mktemp("encoded")
    pq.write_table(table.slice(0, 7), folder / "part-0.parquet")
    pq.write_table(table.slice(7), folder / "part-1.parquet")
    return folder


def best_document(encoder: SpladeEncoder) -> tuple[str, float]:
    query = encoder.encode_query(QUERY)
    scores = [query.dot(v) for v in encoder.encode_documents(DOCUMENTS)]
    best = int(np.argmax(scores))
    return document_ids()[best], scores[best]


def first_hit(out: str) -> tuple[str, float]:
    match = re.search(rf"query: {re.escape(QUERY)}\n\s+(\S+)\s+(\S+)\s", out)
    assert match, out
    return match.group(2), float(match.group(1))


def test_parquet_to_qdrant(
    parquet_folder: Path, tiny_model_dir: Path, encoder: SpladeEncoder
) -> None:
    pytest.importorskip("qdrant_client", reason="the qdrant extra is not installed")
    out = run_example(
        "parquet_to_qdrant.py",
        "--parquet", str(parquet_folder),
        "--model", str(tiny_model_dir),
        "--batch-size", "5",
        "--query", QUERY,
    )  # fmt: skip
    assert f"upserted {len(DOCUMENTS) + 1} points into 'splade'" in out
    want_id, want_score = best_document(encoder)
    got_id, got_score = first_hit(out)
    assert got_id == want_id
    assert got_score == pytest.approx(want_score, rel=1e-4)


def test_parquet_to_milvus_lite(
    parquet_folder: Path, tiny_model_dir: Path, encoder: SpladeEncoder, tmp_path: Path
) -> None:
    pytest.importorskip("pymilvus", reason="the milvus extra is not installed")
    if sys.platform == "win32":
        pytest.skip("Milvus Lite does not run on Windows")
    pytest.importorskip("milvus_lite", reason="Milvus Lite is not installed")
    out = run_example(
        "parquet_to_milvus.py",
        "--parquet", str(parquet_folder),
        "--milvus", str(tmp_path / "milvus.db"),
        "--model", str(tiny_model_dir),
        "--batch-size", "5",
        "--query", QUERY,
    )  # fmt: skip
    assert f"inserted {len(DOCUMENTS)} entities into 'splade'; skipped 1 empty vectors" in out
    want_id, want_score = best_document(encoder)
    got_id, got_score = first_hit(out)
    assert got_id == want_id
    assert got_score == pytest.approx(want_score, rel=1e-4)


def test_ray_example_encodes_a_beir_corpus_then_qdrant_reads_it(
    tmp_path: Path, tiny_model_dir: Path, encoder: SpladeEncoder
) -> None:
    pytest.importorskip("ray.data", reason="the ray extra is not installed")
    corpus = tmp_path / "corpus.jsonl"
    docs = [
        {"_id": f"d{i}", "title": "Chandrayaan-3" if i % 3 else "", "text": text}
        for i, text in enumerate(DOCUMENTS * 4)
    ]
    corpus.write_text("".join(json.dumps(d) + "\n" for d in docs))
    out_dir = tmp_path / "vectors"
    out = run_example(
        "ray_encode_parquet.py",
        "--model", str(tiny_model_dir),
        "--input", str(corpus),
        "--output", str(out_dir),
        "--num-cpus", "2",
        "--actors", "1",
        "--batch-size", "16",
    )  # fmt: skip
    assert re.search(rf"encoded {len(docs)} documents in [\d.]+ s into ", out), out
    table = pq.read_table(out_dir)
    assert table.column_names == ["_id", "text", "indices", "values"]
    got = dict(zip(table.column("_id").to_pylist(), from_table(table), strict=True))
    texts = [f"{d['title']} {d['text']}".strip() for d in docs]
    assert dict(
        zip(table.column("_id").to_pylist(), table.column("text").to_pylist(), strict=True)
    ) == {d["_id"]: t for d, t in zip(docs, texts, strict=True)}
    for doc, want in zip(docs, encoder.encode_documents(texts), strict=True):
        have = got[doc["_id"]]
        assert have.indices.tolist() == want.indices.tolist()
        assert np.abs(have.values - want.values).max(initial=0.0) <= 1e-5  # batch-composition noise

    pytest.importorskip("qdrant_client", reason="the qdrant extra is not installed")
    stored = run_example("parquet_to_qdrant.py", "--parquet", str(out_dir), "--id-column", "_id")
    assert f"upserted {len(docs)} points" in stored
