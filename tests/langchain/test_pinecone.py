"""LangChain's Pinecone retriever: SpladePineconeEncoder's shapes and its contract with the retriever."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from spladekit import SparseVector, SpladeEncoder
from spladekit._adapters import shapes

pytest.importorskip("langchain_core", reason="the langchain extra is not installed")

from langchain_core.embeddings import DeterministicFakeEmbedding  # noqa: E402

from spladekit import langchain as splade_lc  # noqa: E402

from support.checks import QUERIES, brute_force_ranking  # noqa: E402
from support.documents import DOCUMENTS  # noqa: E402

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
    assert many[2] == shapes.to_pinecone(encoder.encode_documents(DOCUMENTS[:3])[2])
    single = pinecone.encode_documents(DOCUMENTS[0])  # a str gives one dict, not a list
    assert single == shapes.to_pinecone(encoder.encode_documents([DOCUMENTS[0]])[0])
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
