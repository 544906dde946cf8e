"""LangChain adapters: options, lazy imports, Qdrant (embedded), Pinecone's shape, real async."""

from __future__ import annotations

import asyncio
import inspect
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from spladekit import SparseVector, SpladeEncoder, wire
from spladekit.errors import InputError, MissingDependencyError

pytest.importorskip("langchain_core", reason="the langchain extra is not installed")

from langchain_core.embeddings import DeterministicFakeEmbedding  # noqa: E402

from spladekit import langchain as splade_lc  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))
from chandrayaan import DOCUMENTS  # noqa: E402

QUERIES = [
    "When did Chandrayaan-3 land on the Moon?",
    "lunar mission rover",
    "Which rocket launched the mission?",
]


def brute_force_ranking(encoder: SpladeEncoder, query: str) -> list[tuple[str, float]]:
    """Every document with a positive score, best first: what a sparse search must return."""
    q = encoder.encode_query(query)
    scores = [
        (d, q.dot(v)) for d, v in zip(DOCUMENTS, encoder.encode_documents(DOCUMENTS), strict=True)
    ]
    return sorted((s for s in scores if s[1] > 0), key=lambda s: -s[1])


# --- constructor options ---------------------------------------------------------------------


def test_options_mirror_from_pretrained() -> None:
    adapter = inspect.signature(splade_lc.SpladeAdapter.__init__).parameters
    loader = inspect.signature(SpladeEncoder.from_pretrained).parameters
    keyword = {
        name: p.default for name, p in loader.items() if p.kind is inspect.Parameter.KEYWORD_ONLY
    }
    ours = {n: p.default for n, p in adapter.items() if n not in ("self", "encoder", "batch_size")}
    model = ours.pop("model_name_or_path")
    assert model is None  # None means from_pretrained's default model
    assert ours == keyword


def test_encoder_is_shared_not_reloaded(encoder: SpladeEncoder, monkeypatch: Any) -> None:
    def no_loading(*args: object, **kwargs: object) -> None:
        raise AssertionError("from_pretrained must not run when encoder= is given")

    monkeypatch.setattr(SpladeEncoder, "from_pretrained", no_loading)
    qdrant = splade_lc.SpladeSparseEmbeddings(encoder=encoder)
    milvus = splade_lc.SpladeMilvusSparseEmbedding(encoder=encoder)
    pinecone = splade_lc.SpladePineconeEncoder(encoder=encoder)
    assert qdrant.encoder is encoder and milvus.encoder is encoder and pinecone.encoder is encoder


def test_loads_from_a_folder_with_options(tiny_model_dir: Path) -> None:
    sparse = splade_lc.SpladeSparseEmbeddings(tiny_model_dir, top_k=5, batch_size=4)
    assert sparse.encoder.top_k == 5
    assert all(len(v.indices) <= 5 for v in sparse.embed_documents(DOCUMENTS))


def test_unknown_option_is_rejected(tiny_model_dir: Path) -> None:
    with pytest.raises(TypeError, match="unexpected keyword argument 'maxlen'"):
        splade_lc.SpladeSparseEmbeddings(tiny_model_dir, maxlen=16)  # type: ignore[call-arg]


def test_encoder_and_load_options_together_are_rejected(encoder: SpladeEncoder) -> None:
    with pytest.raises(InputError, match="got encoder= together with top_k"):
        splade_lc.SpladePineconeEncoder(encoder=encoder, top_k=3)
    with pytest.raises(InputError, match="model_name_or_path"):
        splade_lc.SpladePineconeEncoder("some/model", encoder=encoder)


@pytest.mark.parametrize("bad", [0, -1, True, 2.5])
def test_batch_size_is_validated(encoder: SpladeEncoder, bad: object) -> None:
    with pytest.raises(InputError, match="batch_size must be a positive integer"):
        splade_lc.SpladeSparseEmbeddings(encoder=encoder, batch_size=bad)  # type: ignore[arg-type]


def test_encoder_given_as_the_model_is_pointed_to_encoder_keyword(encoder: SpladeEncoder) -> None:
    with pytest.raises(TypeError, match="as encoder="):
        splade_lc.SpladeSparseEmbeddings(encoder)  # type: ignore[arg-type]


def test_encoder_must_be_a_splade_encoder() -> None:
    with pytest.raises(TypeError, match="encoder must be a SpladeEncoder, got str"):
        splade_lc.SpladeSparseEmbeddings(encoder="prithivida/Splade_PP_en_v1")  # type: ignore[arg-type]


# --- lazy imports and the missing-extra message ----------------------------------------------


@pytest.mark.parametrize(
    ("name", "package", "command"),
    [
        ("SpladeSparseEmbeddings", "langchain_qdrant", 'pip install "spladekit[langchain,qdrant]"'),
        (
            "SpladeMilvusSparseEmbedding",
            "langchain_milvus",
            'pip install "spladekit[langchain,milvus]"',
        ),
    ],
)
def test_missing_store_package_names_pip_command(
    monkeypatch: Any, name: str, package: str, command: str
) -> None:
    # sys.modules[name] = None makes Python treat the package as not installed.
    monkeypatch.setitem(sys.modules, package, None)
    monkeypatch.delitem(sys.modules, f"spladekit._{package}", raising=False)
    with pytest.raises(MissingDependencyError) as caught:
        getattr(splade_lc, name)
    assert command in str(caught.value)
    assert isinstance(caught.value, ImportError)


def test_missing_langchain_core_names_pip_command(monkeypatch: Any) -> None:
    monkeypatch.setitem(sys.modules, "langchain_core", None)
    monkeypatch.delitem(sys.modules, "spladekit.langchain")
    with pytest.raises(ImportError, match=r'pip install "spladekit\[langchain\]"'):
        import spladekit.langchain  # noqa: F401


def test_unknown_attribute_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="SpladeNothing"):
        splade_lc.SpladeNothing  # noqa: B018


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
        sparse_embedding=splade_lc.SpladeSparseEmbeddings(encoder=encoder),
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

    sparse = splade_lc.SpladeSparseEmbeddings(encoder=encoder)
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


# --- Pinecone: the encoder's contract with PineconeHybridSearchRetriever ----------------------


class InProcessHybridIndex:
    """Just enough of a Pinecone index to run the retriever: Pinecone itself is a hosted
    service, so this checks the encoder's contract with the retriever, not Pinecone."""

    def __init__(self) -> None:
        self.rows: dict[str, dict[str, Any]] = {}

    def upsert(self, vectors: list[dict[str, Any]], namespace: str | None = None) -> None:
        for row in vectors:
            self.rows[row["id"]] = row

    def query(
        self,
        vector: list[float],
        sparse_vector: dict[str, list[Any]],
        top_k: int,
        include_metadata: bool,
        namespace: str | None = None,
    ) -> dict[str, Any]:
        query = SparseVector(sparse_vector["indices"], sparse_vector["values"])
        scored = []
        for row in self.rows.values():
            sparse = SparseVector(row["sparse_values"]["indices"], row["sparse_values"]["values"])
            score = float(np.dot(vector, row["values"])) + query.dot(sparse)
            scored.append({"id": row["id"], "score": score, "metadata": dict(row["metadata"])})
        scored.sort(key=lambda m: -m["score"])
        return {"matches": scored[:top_k]}


def test_pinecone_encoder_shapes_and_fresh_dicts(encoder: SpladeEncoder) -> None:
    pinecone = splade_lc.SpladePineconeEncoder(encoder=encoder)
    one = pinecone.encode_queries(QUERIES[0])
    assert set(one) == {"indices", "values"}
    assert SparseVector(one["indices"], one["values"]) == encoder.encode_query(QUERIES[0])
    one["values"] = [0.0]  # the retriever rescales in place; the next call must not see it
    assert pinecone.encode_queries(QUERIES[0])["values"] != [0.0]
    many = pinecone.encode_documents(DOCUMENTS[:3])
    assert isinstance(many, list) and len(many) == 3
    assert many[2] == wire.to_pinecone(encoder.encode_documents(DOCUMENTS[:3])[2])
    single = pinecone.encode_documents(DOCUMENTS[0])  # a str gives one dict, not a list
    assert single == wire.to_pinecone(encoder.encode_documents([DOCUMENTS[0]])[0])
    assert pinecone.encode_documents([""]) == [{"indices": [], "values": []}]


# langchain-community warns on import that it is being sunset; the retriever still lives there.
@pytest.mark.filterwarnings("ignore:`langchain-community` is being sunset:DeprecationWarning")
def test_pinecone_hybrid_retriever_uses_the_encoder(encoder: SpladeEncoder) -> None:
    pytest.importorskip("pinecone_text", reason="the retriever's validator imports pinecone-text")
    from langchain_community.retrievers import PineconeHybridSearchRetriever

    index = InProcessHybridIndex()
    retriever = PineconeHybridSearchRetriever(
        embeddings=DeterministicFakeEmbedding(size=16),
        sparse_encoder=splade_lc.SpladePineconeEncoder(encoder=encoder),
        index=index,
        top_k=4,
        alpha=0.0,  # sparse only, so the ranking can be checked by brute force
    )
    retriever.add_texts(DOCUMENTS)
    by_text = {row["metadata"]["context"]: row["sparse_values"] for row in index.rows.values()}
    for text, vector in zip(DOCUMENTS, encoder.encode_documents(DOCUMENTS), strict=True):
        assert SparseVector(by_text[text]["indices"], by_text[text]["values"]) == vector
    for query in QUERIES:
        docs = retriever.invoke(query)
        assert [d.page_content for d in docs] == [
            t for t, _ in brute_force_ranking(encoder, query)
        ][:4]


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
    adapter = splade_lc.SpladeSparseEmbeddings(encoder=encoder)
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
    sparse = splade_lc.SpladeSparseEmbeddings(encoder=encoder)
    milvus = splade_lc.SpladeMilvusSparseEmbedding(encoder=encoder)
    assert asyncio.run(sparse.aembed_query(QUERIES[0])) == sparse.embed_query(QUERIES[0])
    assert asyncio.run(milvus.aembed_query(QUERIES[0])) == milvus.embed_query(QUERIES[0])
    texts = DOCUMENTS[:5]
    assert asyncio.run(sparse.aembed_documents(texts)) == sparse.embed_documents(texts)
    assert asyncio.run(milvus.aembed_documents(texts)) == milvus.embed_documents(texts)
