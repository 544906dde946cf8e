"""LangChain SpladeRetriever: BM25Retriever's API on SPLADE, in EnsembleRetriever and LCEL chains."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from spladekit import IndexFormatError, InputError, InputTypeError, SparseVector, SpladeEncoder

pytest.importorskip("langchain_core", reason="the langchain extra is not installed")

from langchain_core.documents import Document  # noqa: E402
from langchain_core.embeddings import DeterministicFakeEmbedding  # noqa: E402
from langchain_core.language_models import FakeListLLM  # noqa: E402
from langchain_core.output_parsers import StrOutputParser  # noqa: E402
from langchain_core.prompts import PromptTemplate  # noqa: E402
from langchain_core.runnables import RunnableLambda, RunnablePassthrough  # noqa: E402
from langchain_core.vectorstores import InMemoryVectorStore  # noqa: E402

from spladekit.langchain import SpladeRetriever  # noqa: E402

from support.checks import QUERIES, QUERY, brute_force_ranking  # noqa: E402
from support.documents import DOCUMENTS  # noqa: E402
from support.loop import ENCODE_SECONDS, slow, ticks_during  # noqa: E402
from support.query_paths import (  # noqa: E402
    inference_free_folder,
    other_vocabulary_folder,
    two_encoder_folders,
)

METADATAS = [{"position": i, "source": f"seed-{i % 3}"} for i in range(len(DOCUMENTS))]


@pytest.fixture()
def retriever(encoder: SpladeEncoder) -> SpladeRetriever:
    ids = [f"c{i}" for i in range(len(DOCUMENTS))]
    return SpladeRetriever.from_texts(DOCUMENTS, METADATAS, ids, encoder=encoder, k=3)


def _scored(documents: list[Document]) -> list[tuple[str, float]]:
    return [(d.page_content, d.metadata["score"]) for d in documents]


@pytest.mark.parametrize("query", QUERIES)
def test_invoke_returns_the_brute_force_top_k(
    retriever: SpladeRetriever, encoder: SpladeEncoder, query: str
) -> None:
    found = retriever.invoke(query)
    expected = brute_force_ranking(encoder, query)[:3]
    assert [t for t, _ in _scored(found)] == [t for t, _ in expected]
    assert [s for _, s in _scored(found)] == pytest.approx([s for _, s in expected], rel=1e-6)
    for document in found:
        assert type(document.metadata["score"]) is float
        position = document.metadata["position"]
        assert document.page_content == DOCUMENTS[position] and document.id == f"c{position}"
        assert document.metadata["source"] == f"seed-{position % 3}"


def test_hits_are_copies_and_score_key_is_configurable(encoder: SpladeEncoder) -> None:
    retriever = SpladeRetriever.from_texts(DOCUMENTS, METADATAS, encoder=encoder, score_key=None)
    first = retriever.invoke(QUERY)[0]
    assert "score" not in first.metadata
    first.metadata["position"] = -1
    assert retriever.invoke(QUERY)[0].metadata["position"] != -1
    retriever.score_key = "splade"
    assert isinstance(retriever.invoke(QUERY)[0].metadata["splade"], float)


def test_from_documents_keeps_ids_and_adds_uuids(encoder: SpladeEncoder) -> None:
    documents = [
        Document(page_content=DOCUMENTS[0], id="kept"),
        Document(page_content=DOCUMENTS[6], metadata={"a": 1}),
    ]
    retriever = SpladeRetriever.from_documents(documents, encoder=encoder, k=10)
    assert len(retriever) == 2 and retriever.index.ids[0] == "kept"
    generated = retriever.index.ids[1]
    assert isinstance(generated, str) and len(generated) == 36  # a uuid4
    hits = retriever.invoke("landed on the moon surface")
    assert {d.id for d in hits} <= {"kept", generated}


def test_add_delete_and_k_larger_than_the_corpus(retriever: SpladeRetriever) -> None:
    retriever.k = 100
    before = retriever.invoke("lunar mission")
    assert 0 < len(before) <= len(DOCUMENTS)
    new_ids = retriever.add_documents([Document(page_content="the lunar mission")])
    assert new_ids[0] in [d.id for d in retriever.invoke("lunar mission")]
    retriever.delete(new_ids + ["c0"])
    after = retriever.invoke("lunar mission")
    assert [d.id for d in after] == [d.id for d in before if d.id != "c0"]
    with pytest.raises(InputError, match="already in the index"):
        retriever.add_texts(["again"], ids=["c1"])
    with pytest.raises(InputError, match="is not in the index"):
        retriever.delete(["c0"])


def test_an_empty_query_finds_nothing(retriever: SpladeRetriever) -> None:
    assert retriever.invoke("") == []


def test_ensemble_with_a_dense_retriever(encoder: SpladeEncoder) -> None:
    from langchain_classic.retrievers import EnsembleRetriever

    splade = SpladeRetriever.from_texts(DOCUMENTS, METADATAS, encoder=encoder, k=4)
    dense = InMemoryVectorStore.from_texts(
        DOCUMENTS, DeterministicFakeEmbedding(size=32), metadatas=METADATAS
    ).as_retriever(search_kwargs={"k": 4})
    hybrid = EnsembleRetriever(retrievers=[dense, splade], weights=[0.5, 0.5])
    fused = hybrid.invoke(QUERY)
    sparse_hits = [d.page_content for d in splade.invoke(QUERY)]
    dense_hits = [d.page_content for d in dense.invoke(QUERY)]
    assert sparse_hits[0] in [d.page_content for d in fused]
    assert {d.page_content for d in fused} == set(sparse_hits) | set(dense_hits)
    # All weight on SPLADE: the fusion keeps SPLADE's order.
    sparse_only = EnsembleRetriever(retrievers=[dense, splade], weights=[0.0, 1.0])
    assert [d.page_content for d in sparse_only.invoke(QUERY)][:4] == sparse_hits
    assert asyncio.run(hybrid.ainvoke(QUERY)) == fused


def test_in_an_lcel_chain(retriever: SpladeRetriever) -> None:
    prompt = PromptTemplate.from_template("Context:\n{context}\n\nQuestion: {question}")
    seen: list[str] = []

    def record(value: Any) -> Any:
        seen.append(value.to_string())
        return value

    chain = (
        {
            "context": retriever
            | RunnableLambda(lambda docs: "\n".join(d.page_content for d in docs)),
            "question": RunnablePassthrough(),
        }
        | prompt
        | RunnableLambda(record)
        | FakeListLLM(responses=["On 23rd August 2023."])
        | StrOutputParser()
    )
    assert chain.invoke(QUERY) == "On 23rd August 2023."
    top = retriever.invoke(QUERY)[0].page_content
    assert top in seen[0] and QUERY in seen[0]
    assert chain.batch([QUERY, QUERIES[1]]) == ["On 23rd August 2023."] * 2


def test_ainvoke_matches_invoke_and_leaves_the_loop_free(
    retriever: SpladeRetriever, encoder: SpladeEncoder, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = retriever.invoke(QUERY)
    assert asyncio.run(retriever.ainvoke(QUERY)) == expected
    window = slow(monkeypatch, encoder, "encode_queries", ENCODE_SECONDS)

    async def search() -> None:
        assert await retriever.ainvoke(QUERY) == expected

    inside, gap = ticks_during(search, window)
    assert inside >= 20 and gap < ENCODE_SECONDS / 4


def test_save_local_and_load_local(
    retriever: SpladeRetriever, tmp_path: Path, tiny_model_dir: Path
) -> None:
    retriever.delete(["c3"])
    retriever.save_local(tmp_path / "saved")
    assert sorted(p.name for p in (tmp_path / "saved").iterdir()) == [
        "documents.json",
        "index.spladeidx",
        "retriever.json",
    ]
    for loaded in (
        SpladeRetriever.load_local(tmp_path / "saved", encoder=retriever.encoder),
        SpladeRetriever.load_local(tmp_path / "saved", mmap=False),  # the saved model's name
        SpladeRetriever.load_local(tmp_path / "saved", model=tiny_model_dir, threads=1),
    ):
        assert loaded.k == 3 and len(loaded) == len(DOCUMENTS) - 1
        for query in QUERIES:
            assert loaded.invoke(query) == retriever.invoke(query)
    loaded.add_texts(["a new lunar text"])  # a loaded (mapped) index still takes documents
    loaded.k = 100
    assert "a new lunar text" in [d.page_content for d in loaded.invoke("a new lunar text")]


def test_load_local_refuses_another_vocabulary_and_broken_folders(
    retriever: SpladeRetriever, tmp_path: Path
) -> None:
    folder = tmp_path / "saved"
    retriever.save_local(folder)
    with pytest.raises(InputError, match="vocabulary"):
        SpladeRetriever.load_local(folder, model=other_vocabulary_folder(tmp_path / "other"))
    rows = json.loads((folder / "documents.json").read_text())
    (folder / "documents.json").write_text(json.dumps(rows[1:]))
    with pytest.raises(IndexFormatError, match="does not list the index's documents"):
        SpladeRetriever.load_local(folder, encoder=retriever.encoder)
    with pytest.raises(IndexFormatError, match="no saved retriever"):
        SpladeRetriever.load_local(tmp_path / "nothing", encoder=retriever.encoder)


def test_metadata_that_is_not_json_is_refused_on_save(
    encoder: SpladeEncoder, tmp_path: Path
) -> None:
    retriever = SpladeRetriever.from_texts(["a"], [{"when": object()}], ["x"], encoder=encoder)
    with pytest.raises(
        InputTypeError, match="the metadata of document 'x' cannot be saved as JSON"
    ):
        retriever.save_local(tmp_path / "saved")


@pytest.mark.parametrize("path", ["idf", "query_model"])
def test_the_query_path_of_the_model_is_used(tmp_path: Path, path: str) -> None:
    if path == "idf":
        encoder = SpladeEncoder(inference_free_folder(tmp_path / "model"))
    else:
        documents_dir, queries_dir = two_encoder_folders(tmp_path)
        encoder = SpladeEncoder(documents_dir, query_model=queries_dir)
    assert encoder.query_mode == path
    retriever = SpladeRetriever.from_texts(DOCUMENTS, encoder=encoder, k=5)
    vectors = dict(zip(DOCUMENTS, encoder.encode_documents(DOCUMENTS), strict=True))
    for query in QUERIES:
        query_vector = encoder.encode_query(query)
        assert query_vector != encoder.encode_documents([query])[0]
        for hit in retriever.invoke(query):
            assert hit.metadata["score"] == pytest.approx(
                query_vector.dot(vectors[hit.page_content]), rel=1e-6
            )
        expected = sorted(
            ((t, query_vector.dot(v)) for t, v in vectors.items() if query_vector.dot(v) > 0),
            key=lambda pair: -pair[1],
        )[:5]
        assert [d.page_content for d in retriever.invoke(query)] == [t for t, _ in expected]


def test_bad_arguments_are_typed_errors(encoder: SpladeEncoder, tiny_model_dir: Path) -> None:
    with pytest.raises(InputError, match="k must be a positive integer, got 0"):
        SpladeRetriever.from_texts(DOCUMENTS, encoder=encoder, k=0)
    with pytest.raises(InputError, match="got 2 texts, 1 metadatas and 2 ids"):
        SpladeRetriever.from_texts(["a", "b"], [{}], encoder=encoder)
    with pytest.raises(
        InputTypeError, match=r"documents\[1\] must be a langchain Document, got str"
    ):
        SpladeRetriever.from_documents([Document(page_content="a"), "b"], encoder=encoder)  # type: ignore[list-item]
    with pytest.raises(InputTypeError, match="single str"):
        SpladeRetriever.from_texts("moon", encoder=encoder)
    with pytest.raises(InputError, match="encoder= together with a model"):
        SpladeRetriever(tiny_model_dir, encoder=encoder)
    with pytest.raises(TypeError, match="unknown option 'top_kk'"):
        SpladeRetriever(tiny_model_dir, top_kk=3)  # type: ignore[call-arg]
    with pytest.raises(InputTypeError, match="the query must be a str"):
        SpladeRetriever(encoder=encoder).invoke(SparseVector([1], [1.0]))  # type: ignore[arg-type]


def test_options_load_the_model_like_the_encoder(tiny_model_dir: Path) -> None:
    retriever = SpladeRetriever.from_texts(DOCUMENTS, model=tiny_model_dir, top_k=4, k=2)
    assert retriever.encoder.top_k == 4
    assert all(len(v) <= 4 for v in retriever.encoder.encode_documents(DOCUMENTS))
    assert len(retriever.invoke(QUERY)) == 2
