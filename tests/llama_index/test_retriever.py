"""LlamaIndex SpladeRetriever: BM25Retriever's API on SPLADE, in QueryFusionRetriever and engines."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from spladekit import IndexFormatError, InputError, InputTypeError, SpladeEncoder

pytest.importorskip("llama_index.core")

from llama_index.core import Settings, VectorStoreIndex  # noqa: E402
from llama_index.core.llms import MockLLM  # noqa: E402
from llama_index.core.query_engine import RetrieverQueryEngine  # noqa: E402
from llama_index.core.retrievers import QueryFusionRetriever  # noqa: E402
from llama_index.core.schema import MetadataMode, NodeWithScore, TextNode  # noqa: E402
from llama_index.core.storage.docstore import SimpleDocumentStore  # noqa: E402

from spladekit.llama_index import SpladeRetriever  # noqa: E402

from support.checks import QUERIES, QUERY, brute_force_ranking  # noqa: E402
from support.dense import HashingEmbedding  # noqa: E402
from support.documents import DOCUMENTS  # noqa: E402
from support.loop import ENCODE_SECONDS, slow, ticks_during  # noqa: E402
from support.query_paths import (  # noqa: E402
    inference_free_folder,
    other_vocabulary_folder,
    two_encoder_folders,
)


@pytest.fixture(autouse=True)
def offline_settings() -> None:
    """Nothing may reach for OpenAI: a mock LLM and an offline dense embedding."""
    Settings.llm = MockLLM(max_tokens=8)
    Settings.embed_model = HashingEmbedding()


def make_nodes() -> list[TextNode]:
    return [
        TextNode(
            text=text,
            id_=f"node-{i}",
            metadata={"position": i},
            excluded_embed_metadata_keys=["position"],
        )
        for i, text in enumerate(DOCUMENTS)
    ]


@pytest.fixture()
def retriever(encoder: SpladeEncoder) -> SpladeRetriever:
    return SpladeRetriever.from_defaults(nodes=make_nodes(), encoder=encoder, similarity_top_k=3)


def _pairs(hits: list[NodeWithScore]) -> list[tuple[str, float]]:
    return [(hit.node.get_content(), hit.score) for hit in hits]  # type: ignore[misc]


@pytest.mark.parametrize("query", QUERIES)
def test_retrieve_returns_the_brute_force_top_k(
    retriever: SpladeRetriever, encoder: SpladeEncoder, query: str
) -> None:
    hits = retriever.retrieve(query)
    expected = brute_force_ranking(encoder, query)[:3]
    assert [t for t, _ in _pairs(hits)] == [t for t, _ in expected]
    assert [s for _, s in _pairs(hits)] == pytest.approx([s for _, s in expected], rel=1e-6)
    for hit in hits:
        assert type(hit.score) is float
        assert hit.node.node_id == f"node-{hit.node.metadata['position']}"


def test_from_an_index_or_a_docstore(encoder: SpladeEncoder) -> None:
    index = VectorStoreIndex(make_nodes(), embed_model=HashingEmbedding())
    from_index = SpladeRetriever.from_defaults(index=index, encoder=encoder, similarity_top_k=4)
    docstore = SimpleDocumentStore()
    docstore.add_documents(make_nodes())
    from_docstore = SpladeRetriever.from_defaults(
        docstore=docstore, encoder=encoder, similarity_top_k=4
    )
    from_nodes = SpladeRetriever.from_defaults(
        nodes=make_nodes(), encoder=encoder, similarity_top_k=4
    )
    for query in QUERIES:
        expected = _pairs(from_nodes.retrieve(query))
        assert _pairs(from_index.retrieve(query)) == expected
        assert _pairs(from_docstore.retrieve(query)) == expected
    with pytest.raises(
        InputError, match="exactly one of index=, nodes= or docstore=, got index, nodes"
    ):
        SpladeRetriever.from_defaults(index=index, nodes=make_nodes(), encoder=encoder)
    with pytest.raises(InputError, match="docstore holds no nodes"):
        SpladeRetriever.from_defaults(docstore=SimpleDocumentStore(), encoder=encoder)


def test_nodes_are_encoded_as_dense_embeddings_see_them(encoder: SpladeEncoder) -> None:
    node = TextNode(text="the rover", metadata={"topic": "lunar mission"})
    retriever = SpladeRetriever.from_defaults(nodes=[node], encoder=encoder)
    [vector] = encoder.encode_documents([node.get_content(metadata_mode=MetadataMode.EMBED)])
    assert "lunar mission" in node.get_content(metadata_mode=MetadataMode.EMBED)
    [hit] = retriever.retrieve("lunar mission")
    assert hit.score == pytest.approx(encoder.encode_query("lunar mission").dot(vector), rel=1e-6)


def test_insert_delete_and_top_k_larger_than_the_corpus(retriever: SpladeRetriever) -> None:
    retriever.similarity_top_k = 1000
    before = retriever.retrieve("lunar mission")
    assert 0 < len(before) <= len(DOCUMENTS)
    retriever.insert_nodes([TextNode(text="the lunar mission", id_="extra")])
    assert "extra" in [hit.node.node_id for hit in retriever.retrieve("lunar mission")]
    retriever.delete_nodes(["extra", "node-0"])
    assert [h.node.node_id for h in retriever.retrieve("lunar mission")] == [
        h.node.node_id for h in before if h.node.node_id != "node-0"
    ]
    with pytest.raises(InputError, match="already in the index"):
        retriever.insert_nodes([TextNode(text="x", id_="node-1")])
    assert retriever.retrieve("") == []


def test_in_a_query_fusion_retriever_with_a_dense_retriever(retriever: SpladeRetriever) -> None:
    dense = VectorStoreIndex(make_nodes(), embed_model=HashingEmbedding()).as_retriever(
        similarity_top_k=3
    )
    sparse_ids = [h.node.node_id for h in retriever.retrieve(QUERY)]
    dense_ids = [h.node.node_id for h in dense.retrieve(QUERY)]
    for use_async in (False, True):
        fusion = QueryFusionRetriever(
            [dense, retriever],
            llm=MockLLM(),
            mode="reciprocal_rerank",
            similarity_top_k=6,
            num_queries=1,  # no generated queries: the LLM is not called
            use_async=use_async,
        )
        # (A sync retrieve with use_async=True leaves LlamaIndex's own event loop unclosed.)
        fused = asyncio.run(fusion.aretrieve(QUERY)) if use_async else fusion.retrieve(QUERY)
        # Reciprocal rank fusion as LlamaIndex computes it: sum of 1 / (rank + 60).
        expected: dict[str, float] = {}
        for ranking in (dense_ids, sparse_ids):
            for rank, node_id in enumerate(ranking):
                expected[node_id] = expected.get(node_id, 0.0) + 1.0 / (rank + 60)
        assert {h.node.node_id: h.score for h in fused} == pytest.approx(expected)
        assert [h.score for h in fused] == sorted(expected.values(), reverse=True)
    relative = QueryFusionRetriever(
        [dense, retriever], llm=MockLLM(), mode="relative_score", retriever_weights=[0.0, 1.0],
        similarity_top_k=3, num_queries=1, use_async=False,
    )  # fmt: skip
    # All weight on SPLADE; min-max scaling puts its last hit at 0, level with dense-only nodes.
    assert [h.node.node_id for h in relative.retrieve(QUERY)][:2] == sparse_ids[:2]


def test_in_a_query_engine(retriever: SpladeRetriever) -> None:
    engine = RetrieverQueryEngine.from_args(retriever, llm=MockLLM(max_tokens=8))
    response = engine.query(QUERY)
    expected = [h.node.node_id for h in retriever.retrieve(QUERY)]
    assert [n.node.node_id for n in response.source_nodes] == expected
    assert isinstance(str(response), str)
    async_response = asyncio.run(engine.aquery(QUERY))
    assert [n.node.node_id for n in async_response.source_nodes] == expected


def test_aretrieve_matches_retrieve_and_leaves_the_loop_free(
    retriever: SpladeRetriever, encoder: SpladeEncoder, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = _pairs(retriever.retrieve(QUERY))
    assert _pairs(asyncio.run(retriever.aretrieve(QUERY))) == expected
    window = slow(monkeypatch, encoder, "encode_queries", ENCODE_SECONDS)

    async def search() -> None:
        assert _pairs(await retriever.aretrieve(QUERY)) == expected

    inside, gap = ticks_during(search, window)
    assert inside >= 20 and gap < ENCODE_SECONDS / 4


def test_persist_and_from_persist_dir(retriever: SpladeRetriever, tmp_path: Path) -> None:
    retriever.delete_nodes(["node-2"])
    retriever.persist(str(tmp_path / "saved"))
    assert sorted(p.name for p in (tmp_path / "saved").iterdir()) == [
        "index.spladeidx",
        "nodes.json",
        "retriever.json",
    ]
    for loaded in (
        SpladeRetriever.from_persist_dir(str(tmp_path / "saved"), encoder=retriever.encoder),
        SpladeRetriever.from_persist_dir(tmp_path / "saved", mmap=False),  # the saved model
    ):
        assert loaded.similarity_top_k == 3 and len(loaded.nodes) == len(DOCUMENTS) - 1
        for query in QUERIES:
            assert _pairs(loaded.retrieve(query)) == _pairs(retriever.retrieve(query))
            assert [h.node.metadata for h in loaded.retrieve(query)] == [
                h.node.metadata for h in retriever.retrieve(query)
            ]
    with pytest.raises(InputError, match="vocabulary"):
        SpladeRetriever.from_persist_dir(
            tmp_path / "saved", model=other_vocabulary_folder(tmp_path / "o")
        )
    rows = json.loads((tmp_path / "saved" / "nodes.json").read_text())
    (tmp_path / "saved" / "nodes.json").write_text(json.dumps(rows[::-1]))
    with pytest.raises(IndexFormatError, match="does not list the index's nodes"):
        SpladeRetriever.from_persist_dir(tmp_path / "saved", encoder=retriever.encoder)


@pytest.mark.parametrize("path", ["idf", "query_model"])
def test_the_query_path_of_the_model_is_used(tmp_path: Path, path: str) -> None:
    if path == "idf":
        encoder = SpladeEncoder(inference_free_folder(tmp_path / "model"))
    else:
        documents_dir, queries_dir = two_encoder_folders(tmp_path)
        encoder = SpladeEncoder(documents_dir, query_model=queries_dir)
    assert encoder.query_mode == path
    nodes = make_nodes()
    retriever = SpladeRetriever.from_defaults(nodes=nodes, encoder=encoder, similarity_top_k=5)
    vectors = encoder.encode_documents(
        [n.get_content(metadata_mode=MetadataMode.EMBED) for n in nodes]
    )
    for query in QUERIES:
        query_vector = encoder.encode_query(query)
        scores = [(n.node_id, query_vector.dot(v)) for n, v in zip(nodes, vectors, strict=True)]
        expected = sorted((s for s in scores if s[1] > 0), key=lambda s: -s[1])[:5]
        hits = retriever.retrieve(query)
        assert [h.node.node_id for h in hits] == [i for i, _ in expected]
        assert [h.score for h in hits] == pytest.approx([s for _, s in expected], rel=1e-6)


def test_bad_arguments_are_typed_errors(encoder: SpladeEncoder, tiny_model_dir: Path) -> None:
    with pytest.raises(InputError, match="similarity_top_k must be a positive integer, got 0"):
        SpladeRetriever.from_defaults(nodes=make_nodes(), encoder=encoder, similarity_top_k=0)
    with pytest.raises(InputTypeError, match=r"nodes\[1\] must be a LlamaIndex node, got str"):
        SpladeRetriever.from_defaults(nodes=[TextNode(text="a"), "b"], encoder=encoder)  # type: ignore[list-item]
    with pytest.raises(InputError, match="encoder= together with a model"):
        SpladeRetriever.from_defaults(nodes=make_nodes(), model=tiny_model_dir, encoder=encoder)
    with pytest.raises(TypeError, match="unknown option 'top_kk'"):
        SpladeRetriever.from_defaults(nodes=make_nodes(), model=tiny_model_dir, top_kk=3)  # type: ignore[call-arg]
    with pytest.raises(InputError, match="is not in the index"):
        SpladeRetriever.from_defaults(nodes=make_nodes(), encoder=encoder).delete_nodes(["nope"])
    loaded = SpladeRetriever.from_defaults(nodes=make_nodes(), model=tiny_model_dir, top_k=4)
    assert loaded.encoder.top_k == 4
