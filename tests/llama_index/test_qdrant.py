"""LlamaIndex's QdrantVectorStore over an embedded Qdrant, with spladekit's sparse functions."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

pytest.importorskip("llama_index.core")
pytest.importorskip("llama_index.vector_stores.qdrant")

from llama_index.core import Settings, StorageContext, VectorStoreIndex  # noqa: E402
from llama_index.core.llms import MockLLM  # noqa: E402
from llama_index.core.schema import TextNode  # noqa: E402
from llama_index.vector_stores.qdrant import QdrantVectorStore  # noqa: E402
from llama_index.vector_stores.qdrant.utils import relative_score_fusion  # noqa: E402
from qdrant_client import QdrantClient  # noqa: E402

from spladekit import InputTypeError, SparseVector, SpladeEncoder  # noqa: E402
from spladekit.llama_index import (  # noqa: E402
    SpladeSparseEmbedding,
    hybrid_fusion,
    qdrant_sparse_functions,
)

from support.checks import QUERY, assert_close, brute_force, count_calls, position  # noqa: E402
from support.dense import HashingEmbedding  # noqa: E402
from support.documents import DOCUMENTS  # noqa: E402


@pytest.fixture(autouse=True)
def offline_settings() -> None:
    """Nothing may reach for OpenAI: a mock LLM and an offline dense embedding."""
    Settings.llm = MockLLM(max_tokens=8)
    Settings.embed_model = HashingEmbedding()


def make_nodes() -> list[TextNode]:
    return [
        TextNode(text=text, id_=f"00000000-0000-0000-0000-{i:012d}")
        for i, text in enumerate(DOCUMENTS)
    ]


def qdrant_index(sparse: SpladeSparseEmbedding) -> tuple[VectorStoreIndex, QdrantVectorStore]:
    doc_fn, query_fn = qdrant_sparse_functions(sparse)
    store = QdrantVectorStore(
        "docs",
        client=QdrantClient(":memory:"),
        enable_hybrid=True,
        sparse_doc_fn=doc_fn,
        sparse_query_fn=query_fn,
        hybrid_fusion_fn=hybrid_fusion,
        index_doc_id=False,  # payload indexes only warn in local mode
    )
    index = VectorStoreIndex(
        make_nodes(), storage_context=StorageContext.from_defaults(vector_store=store)
    )
    return index, store


def test_qdrant_functions_use_document_and_query_paths(
    encoder: SpladeEncoder, monkeypatch: pytest.MonkeyPatch
) -> None:
    doc_sizes = count_calls(monkeypatch, encoder, "encode_documents")
    query_sizes = count_calls(monkeypatch, encoder, "encode_queries")
    doc_fn, query_fn = qdrant_sparse_functions(encoder)
    indices, values = doc_fn(DOCUMENTS[:2])
    assert (doc_sizes, query_sizes) == ([2], [])
    assert_close(
        [SparseVector(i, v) for i, v in zip(indices, values, strict=True)],
        encoder.encode_documents(DOCUMENTS[:2]),
    )
    doc_sizes.clear()
    [q_indices], [q_values] = query_fn([QUERY])
    assert (doc_sizes, query_sizes) == ([], [1])
    assert SparseVector(q_indices, q_values) == encoder.encode_query(QUERY)
    assert all(type(i) is int for i in q_indices) and all(type(v) is float for v in q_values)


def test_functions_take_an_embedding_or_an_encoder_only(encoder: SpladeEncoder) -> None:
    doc_fn, _ = qdrant_sparse_functions(SpladeSparseEmbedding(encoder=encoder, embed_batch_size=4))
    assert doc_fn(["moon"])[0][0] == encoder.encode_documents(["moon"])[0].indices.tolist()
    with pytest.raises(InputTypeError, match="expected a SpladeEncoder or SpladeSparseEmbedding"):
        qdrant_sparse_functions("model")  # type: ignore[arg-type]


# --- QdrantVectorStore -------------------------------------------------------------------


def test_qdrant_stores_the_encoders_vectors(encoder: SpladeEncoder) -> None:
    _, store = qdrant_index(SpladeSparseEmbedding(encoder=encoder))
    ids = [node.node_id for node in make_nodes()]
    points = store.client.retrieve("docs", ids=ids, with_vectors=True)
    stored = {p.id: p.vector[store.sparse_vector_name] for p in points}
    for node_id, expected in zip(ids, encoder.encode_documents(DOCUMENTS), strict=True):
        got = stored[node_id]
        assert_close([SparseVector(got.indices, got.values)], [expected])


def test_qdrant_sparse_mode_ranks_by_dot_product(encoder: SpladeEncoder) -> None:
    index, _ = qdrant_index(SpladeSparseEmbedding(encoder=encoder))
    expected = brute_force(encoder, QUERY)
    retriever = index.as_retriever(
        vector_store_query_mode="sparse", similarity_top_k=12, sparse_top_k=12
    )
    hits = retriever.retrieve(QUERY)
    assert [position(h.node.node_id) for h in hits] == [i for i, _ in expected]
    assert [h.score for h in hits] == pytest.approx([s for _, s in expected], rel=1e-5)


@pytest.mark.parametrize(("top_k", "sparse_top_k"), [(3, 5), (1, 1), (5, 1), (1, 12)])
def test_qdrant_hybrid_scores_stay_in_unit_interval(
    encoder: SpladeEncoder, top_k: int, sparse_top_k: int
) -> None:
    index, store = qdrant_index(SpladeSparseEmbedding(encoder=encoder))
    retriever = index.as_retriever(
        vector_store_query_mode="hybrid",
        similarity_top_k=top_k,
        sparse_top_k=sparse_top_k,
        alpha=0.5,
    )
    hits = retriever.retrieve(QUERY)
    assert hits
    assert all(0.0 <= h.score <= 1.0 for h in hits)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    # LlamaIndex's default keeps raw dot products when a list has one hit; ours does not.
    store.set_query_functions(*qdrant_sparse_functions(encoder), relative_score_fusion)
    if sparse_top_k == 1:  # the tiny model's dot products are ~80
        assert max(h.score for h in retriever.retrieve(QUERY)) > 1.0


def test_qdrant_hybrid_alpha_extremes(encoder: SpladeEncoder) -> None:
    index, _ = qdrant_index(SpladeSparseEmbedding(encoder=encoder))
    sparse_order = [i for i, _ in brute_force(encoder, QUERY)]

    def ranked(alpha: float, mode: str = "hybrid") -> list[int]:
        retriever = index.as_retriever(
            vector_store_query_mode=mode, similarity_top_k=4, sparse_top_k=4, alpha=alpha
        )
        return [position(h.node.node_id) for h in retriever.retrieve(QUERY)]

    assert ranked(0.0)[:3] == sparse_order[:3]  # alpha 0: sparse only (its top 4 score > 0)
    assert ranked(1.0)[:3] == ranked(1.0, "default")[:3]  # alpha 1: dense only


def test_qdrant_async_retrieve_matches_sync(encoder: SpladeEncoder) -> None:
    from qdrant_client import AsyncQdrantClient

    sparse = SpladeSparseEmbedding(encoder=encoder)
    index, _ = qdrant_index(sparse)
    options: dict[str, Any] = {
        "vector_store_query_mode": "hybrid",
        "similarity_top_k": 3,
        "sparse_top_k": 5,
        "alpha": 0.5,
    }
    sync_hits = index.as_retriever(**options).retrieve(QUERY)

    async def run() -> list[Any]:
        doc_fn, query_fn = qdrant_sparse_functions(sparse)
        store = QdrantVectorStore(
            "docs",
            aclient=AsyncQdrantClient(":memory:"),
            enable_hybrid=True,
            sparse_doc_fn=doc_fn,
            sparse_query_fn=query_fn,
            hybrid_fusion_fn=hybrid_fusion,
            index_doc_id=False,
        )
        aindex = VectorStoreIndex(
            [], storage_context=StorageContext.from_defaults(vector_store=store), use_async=True
        )
        await aindex.ainsert_nodes(make_nodes())
        return await aindex.as_retriever(**options).aretrieve(QUERY)

    async_hits = asyncio.run(run())
    assert [h.node.node_id for h in async_hits] == [h.node.node_id for h in sync_hits]
    assert [h.score for h in async_hits] == pytest.approx([h.score for h in sync_hits])
