"""LangChain on an embedded Qdrant: SpladeQdrantSparseEmbeddings in QdrantVectorStore, and async."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import numpy as np
import pytest

from spladekit import SparseVector, SpladeEncoder

pytest.importorskip("langchain_core", reason="the langchain extra is not installed")

from langchain_core.embeddings import DeterministicFakeEmbedding  # noqa: E402

from spladekit import langchain as splade_lc  # noqa: E402

from support.checks import QUERIES, brute_force_ranking  # noqa: E402
from support.documents import DOCUMENTS  # noqa: E402

# --- Qdrant: QdrantVectorStore over an embedded QdrantClient(":memory:") -----------------------


def _qdrant_store(encoder: SpladeEncoder, mode: str, texts: list[str]) -> Any:
    """A QdrantVectorStore over a fresh embedded QdrantClient(":memory:")."""
    from langchain_qdrant import QdrantVectorStore, RetrievalMode
    from qdrant_client import QdrantClient, models

    client = QdrantClient(":memory:")
    hybrid = mode == "hybrid"
    client.create_collection(
        "chandrayaan",
        vectors_config=(
            {"": models.VectorParams(size=16, distance=models.Distance.COSINE)} if hybrid else {}
        ),
        sparse_vectors_config={QdrantVectorStore.SPARSE_VECTOR_NAME: models.SparseVectorParams()},
    )
    store = QdrantVectorStore(
        client,
        "chandrayaan",
        embedding=DeterministicFakeEmbedding(size=16) if hybrid else None,
        sparse_embedding=splade_lc.SpladeQdrantSparseEmbeddings(encoder=encoder),
        retrieval_mode=RetrievalMode.HYBRID if hybrid else RetrievalMode.SPARSE,
    )
    store.add_texts(texts)
    return store


def _stored_sparse(store: Any) -> dict[str, tuple[list[int], list[float]]]:
    points, _ = store.client.scroll(store.collection_name, with_vectors=True, limit=100)
    return {
        p.payload["page_content"]: (
            p.vector[store.sparse_vector_name].indices,
            p.vector[store.sparse_vector_name].values,
        )
        for p in points
    }


def test_qdrant_sparse_embeddings_is_the_store_interface(encoder: SpladeEncoder) -> None:
    from langchain_qdrant import SparseEmbeddings
    from langchain_qdrant import SparseVector as QdrantSparseVector

    sparse = splade_lc.SpladeQdrantSparseEmbeddings(encoder=encoder)
    assert isinstance(sparse, SparseEmbeddings)
    [doc] = sparse.embed_documents([DOCUMENTS[0]])
    query = sparse.embed_query(QUERIES[0])
    assert isinstance(doc, QdrantSparseVector) and isinstance(query, QdrantSparseVector)
    assert all(type(i) is int for i in doc.indices) and all(type(v) is float for v in doc.values)
    assert SparseVector(query.indices, query.values) == encoder.encode_query(QUERIES[0])


@pytest.mark.parametrize("mode", ["hybrid", "sparse"])
def test_qdrant_stores_the_encoders_vectors(encoder: SpladeEncoder, mode: str) -> None:
    store = _qdrant_store(encoder, mode, DOCUMENTS)
    stored = _stored_sparse(store)
    assert sorted(stored) == sorted(DOCUMENTS)
    for text, vector in zip(DOCUMENTS, encoder.encode_documents(DOCUMENTS), strict=True):
        indices, values = stored[text]
        assert indices == vector.indices.tolist()
        np.testing.assert_array_equal(np.asarray(values, dtype=np.float32), vector.values)


@pytest.mark.parametrize("query", QUERIES)
def test_qdrant_sparse_ranking_equals_brute_force(encoder: SpladeEncoder, query: str) -> None:
    store = _qdrant_store(encoder, "sparse", DOCUMENTS)
    hits = store.similarity_search_with_score(query, k=len(DOCUMENTS))
    expected = brute_force_ranking(encoder, query)
    assert [d.page_content for d, _ in hits] == [text for text, _ in expected]
    np.testing.assert_allclose([s for _, s in hits], [s for _, s in expected], rtol=1e-5)


def test_qdrant_hybrid_search_with_both_fusions(encoder: SpladeEncoder) -> None:
    from qdrant_client import models

    store = _qdrant_store(encoder, "hybrid", DOCUMENTS)
    for fusion in (models.Fusion.RRF, models.Fusion.DBSF):
        hits = store.similarity_search(
            QUERIES[0], k=3, hybrid_fusion=models.FusionQuery(fusion=fusion)
        )
        assert len(hits) == 3 and all(h.page_content in DOCUMENTS for h in hits)


def test_qdrant_accepts_empty_texts_as_empty_vectors(encoder: SpladeEncoder) -> None:
    store = _qdrant_store(encoder, "sparse", ["", DOCUMENTS[0]])
    assert _stored_sparse(store)[""] == ([], [])
    assert [d.page_content for d in store.similarity_search(QUERIES[1], k=5)] == [DOCUMENTS[0]]
    assert store.similarity_search("", k=5) == []  # an empty query matches nothing


# --- async: the encode runs in a worker thread, the event loop keeps ticking -------------------


async def _encode_while_ticking(
    embed: Any, texts: list[str]
) -> tuple[list[Any], list[float], float, float]:
    ticks: list[float] = []
    done = asyncio.Event()

    async def ticker() -> None:
        while not done.is_set():
            ticks.append(time.perf_counter())
            await asyncio.sleep(0.002)

    task = asyncio.create_task(ticker())
    await asyncio.sleep(0.01)
    start = time.perf_counter()
    result = await embed(texts)
    end = time.perf_counter()
    done.set()
    await task
    return result, ticks, start, end


def test_aembed_documents_does_not_block_the_event_loop(encoder: SpladeEncoder) -> None:
    adapter = splade_lc.SpladeQdrantSparseEmbeddings(encoder=encoder)
    # Long enough (~2 s on the tiny model, 2 cores) that a blocked loop fails clearly.
    texts = [f"{DOCUMENTS[i % 12]} {DOCUMENTS[(i * 5) % 12]} {i}" for i in range(15000)]
    result, ticks, start, end = asyncio.run(_encode_while_ticking(adapter.aembed_documents, texts))
    assert len(result) == len(texts)
    duration = end - start
    during = [t for t in ticks if start < t < end]
    window = [start, *during, end]
    max_gap = max(b - a for a, b in zip(window, window[1:], strict=False))
    print(
        f"aembed_documents: encode {duration:.3f}s, {len(during)} ticks during it, max gap {max_gap * 1000:.1f} ms"
    )
    # A blocked loop ticks zero times during the encode and its one gap is the whole encode.
    assert len(during) >= 10
    assert max_gap < duration / 4


def test_aembed_query_matches_embed_query(encoder: SpladeEncoder) -> None:
    sparse = splade_lc.SpladeQdrantSparseEmbeddings(encoder=encoder)
    milvus = splade_lc.SpladeMilvusSparseEmbedding(encoder=encoder)
    assert asyncio.run(sparse.aembed_query(QUERIES[0])) == sparse.embed_query(QUERIES[0])
    assert asyncio.run(milvus.aembed_query(QUERIES[0])) == milvus.embed_query(QUERIES[0])
    texts = DOCUMENTS[:5]
    assert asyncio.run(sparse.aembed_documents(texts)) == sparse.embed_documents(texts)
    assert asyncio.run(milvus.aembed_documents(texts)) == milvus.embed_documents(texts)
