"""SpladeSparseEmbeddingFunction against LlamaIndex's MilvusVectorStore on Milvus Lite."""

from __future__ import annotations

import asyncio
import importlib
import sys
import time
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("llama_index.vector_stores.milvus")

from llama_index.core import Settings, StorageContext, VectorStoreIndex  # noqa: E402
from llama_index.core.llms import MockLLM  # noqa: E402
from llama_index.core.schema import TextNode  # noqa: E402

from spladekit import SparseVector, SpladeEncoder  # noqa: E402
from spladekit.errors import InputError, MissingDependencyError  # noqa: E402
from spladekit.llama_index import SpladeSparseEmbedding  # noqa: E402

from support.checks import QUERY, assert_close, brute_force  # noqa: E402
from support.dense import HashingEmbedding  # noqa: E402
from support.documents import DOCUMENTS  # noqa: E402
from support.loop import ENCODE_SECONDS, slow, ticks_during  # noqa: E402

DIM = HashingEmbedding().dim


def milvus_store(path: Path, encoder: SpladeEncoder, **kwargs: Any) -> Any:
    """A MilvusVectorStore on a Milvus Lite file, or a skip saying why Lite cannot run here."""
    from llama_index.vector_stores.milvus import MilvusVectorStore

    from spladekit.llama_index import SpladeSparseEmbeddingFunction

    path.mkdir(parents=True, exist_ok=True)
    try:
        return MilvusVectorStore(
            uri=str(path / "milvus.db"),  # Milvus Lite: a local file
            dim=DIM,
            enable_sparse=True,
            sparse_embedding_function=SpladeSparseEmbeddingFunction(encoder=encoder),
            overwrite=True,
            **kwargs,
        )
    except Exception as exc:  # noqa: BLE001 - any failure to start Lite is a skip, with reason
        if "milvus" not in type(exc).__module__ and "Milvus" not in str(exc):
            raise
        pytest.skip(f"Milvus Lite does not run here: {exc}")


@pytest.fixture(autouse=True)
def offline_settings() -> None:
    Settings.llm = MockLLM(max_tokens=8)
    Settings.embed_model = HashingEmbedding()


def make_nodes() -> list[TextNode]:
    # Milvus keys rows by id; the position is kept in the id to compare with brute force.
    return [TextNode(text=text, id_=f"doc-{i}") for i, text in enumerate(DOCUMENTS)]


def test_function_shapes_and_paths(encoder: SpladeEncoder) -> None:
    from spladekit.llama_index import SpladeSparseEmbeddingFunction
    from spladekit.llama_index.milvus import SpladeSparseEmbeddingFunction as direct

    assert SpladeSparseEmbeddingFunction is direct
    fn = SpladeSparseEmbeddingFunction(encoder=SpladeSparseEmbedding(encoder=encoder))
    assert fn.encoder is encoder
    docs = fn.encode_documents(DOCUMENTS[:3])
    assert_close(docs, encoder.encode_documents(DOCUMENTS[:3]))
    [query] = fn.encode_queries([QUERY])
    assert SparseVector.from_dict(query) == encoder.encode_query(QUERY)
    assert all(type(k) is int and type(v) is float for d in [*docs, query] for k, v in d.items())
    assert asyncio.run(fn.async_encode_queries([QUERY])) == [query]
    assert_close(
        asyncio.run(fn.async_encode_documents(DOCUMENTS[:3])),
        encoder.encode_documents(DOCUMENTS[:3]),
    )
    with pytest.raises(InputError, match="encoder= together with max_length"):
        SpladeSparseEmbeddingFunction(encoder=encoder, max_length=8)
    with pytest.raises(InputError, match=r"documents\[1\] = ' ' has no SPLADE weight"):
        fn.encode_documents(["moon", " "])
    assert fn.encode_queries([" "]) == [{}]  # an empty query is fine: it matches nothing


def test_milvus_hybrid_and_sparse_queries(tmp_path: Path, encoder: SpladeEncoder) -> None:
    store = milvus_store(tmp_path, encoder)
    index = VectorStoreIndex(
        make_nodes(), storage_context=StorageContext.from_defaults(vector_store=store)
    )
    stored = store.client.query(
        store.collection_name, filter="", limit=100, output_fields=["id", "sparse_embedding"]
    )
    by_id = {row["id"]: row["sparse_embedding"] for row in stored}
    for i, expected in enumerate(encoder.encode_documents(DOCUMENTS)):
        got = by_id[f"doc-{i}"]
        assert_close([{int(k): float(v) for k, v in got.items()}], [expected])

    # Sparse-only mode is not queried here: LlamaIndex sends drop_ratio_search=0.2, which
    # Milvus Lite rejects. A hybrid query weighting only the sparse side ranks the same way.
    expected = brute_force(encoder, QUERY)
    sparse_only = milvus_store(
        tmp_path / "weighted",
        encoder,
        hybrid_ranker="WeightedRanker",
        hybrid_ranker_params={"weights": [0.0, 1.0]},  # [dense, sparse]
    )
    weighted = VectorStoreIndex(
        make_nodes(), storage_context=StorageContext.from_defaults(vector_store=sparse_only)
    ).as_retriever(vector_store_query_mode="hybrid", similarity_top_k=5)
    assert [h.node.node_id for h in weighted.retrieve(QUERY)] == [
        f"doc-{i}" for i, _ in expected[:5]
    ]

    hybrid = index.as_retriever(vector_store_query_mode="hybrid", similarity_top_k=3)
    hits = hybrid.retrieve(QUERY)
    assert len(hits) == 3
    assert f"doc-{expected[0][0]}" in {h.node.node_id for h in hits}  # RRF keeps sparse's best
    assert [h.node.node_id for h in asyncio.run(hybrid.aretrieve(QUERY))] == [
        h.node.node_id for h in hits
    ]


def test_milvus_async_hybrid_retrieve_does_not_block_the_loop(
    tmp_path: Path, encoder: SpladeEncoder, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = milvus_store(tmp_path, encoder)
    index = VectorStoreIndex(
        make_nodes(), storage_context=StorageContext.from_defaults(vector_store=store)
    )
    retriever = index.as_retriever(vector_store_query_mode="hybrid", similarity_top_k=3)
    window = slow(monkeypatch, encoder, "encode_queries", ENCODE_SECONDS)
    hits: list[Any] = []

    async def retrieve() -> None:
        hits.extend(await retriever.aretrieve(QUERY))

    started = time.perf_counter()
    inside, gap = ticks_during(retrieve, window)
    assert len(hits) == 3 and time.perf_counter() - started >= ENCODE_SECONDS
    assert inside >= 20, f"only {inside} ticks during a {ENCODE_SECONDS}s query encode"
    assert gap < ENCODE_SECONDS / 4, f"the loop stalled for {gap:.3f}s"


def test_missing_milvus_extra_names_the_pip_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "spladekit.llama_index.milvus", raising=False)
    for name in [m for m in sys.modules if m.startswith("llama_index.vector_stores.milvus")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "llama_index.vector_stores.milvus", None)
    with pytest.raises(MissingDependencyError, match=r'pip install "spladekit\[milvus\]"'):
        importlib.import_module("spladekit.llama_index.milvus")
