"""SpladeMilvusSparseEmbedding against the real langchain-milvus store on Milvus Lite."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from spladekit import SparseVector, SpladeEncoder
from spladekit.errors import InputError

pytest.importorskip("langchain_milvus", reason="the milvus extra is not installed")
if sys.platform == "win32":
    pytest.skip("Milvus Lite does not run on Windows", allow_module_level=True)
pytest.importorskip("milvus_lite", reason="Milvus Lite is not installed")

from langchain_core.embeddings import DeterministicFakeEmbedding  # noqa: E402
from langchain_milvus import Milvus  # noqa: E402
from langchain_milvus.utils.sparse import BaseSparseEmbedding  # noqa: E402
from pymilvus import Function, FunctionType, connections  # noqa: E402

from spladekit.langchain import SpladeMilvusSparseEmbedding  # noqa: E402

from support.documents import DOCUMENTS  # noqa: E402

# langchain-milvus 0.3.3 still builds pymilvus' ORM Collection, which pymilvus 2.6 flags.
pytestmark = pytest.mark.filterwarnings("ignore:.*ORM-style PyMilvus API:FutureWarning")

QUERIES = ["When did Chandrayaan-3 land on the Moon?", "lunar mission rover"]
SPARSE_INDEX = {
    "index_type": "SPARSE_INVERTED_INDEX",
    "metric_type": "IP",
    "params": {"inverted_index_algo": "DAAT_MAXSCORE"},
}
SPARSE_SEARCH = {"metric_type": "IP", "params": {"drop_ratio_search": 0.0}}
DENSE_INDEX = {"index_type": "FLAT", "metric_type": "L2"}
DENSE_SEARCH = {"metric_type": "L2", "params": {}}


def rerank(params: dict[str, Any]) -> Function:
    return Function(
        name="rerank", input_field_names=[], function_type=FunctionType.RERANK, params=params
    )


@pytest.fixture
def store(tmp_path: Path, encoder: SpladeEncoder) -> Iterator[Milvus]:
    uri = str(tmp_path / "milvus.db")
    milvus = Milvus(
        embedding_function=[
            DeterministicFakeEmbedding(size=16),
            SpladeMilvusSparseEmbedding(encoder=encoder),
        ],
        vector_field=["dense", "sparse"],
        index_params=[DENSE_INDEX, SPARSE_INDEX],
        search_params=[DENSE_SEARCH, SPARSE_SEARCH],
        connection_args={"uri": uri},
        auto_id=True,
    )
    # langchain-milvus 0.3.3 opens pymilvus' ORM Collection under the MilvusClient's alias,
    # which pymilvus >= 2.6.10 no longer registers (langchain-milvus issue #130): register it.
    connections.connect(alias=milvus.alias, uri=uri)
    yield milvus
    connections.disconnect(milvus.alias)
    milvus.client.close()


def brute_force(encoder: SpladeEncoder, query: str) -> list[tuple[str, float]]:
    q = encoder.encode_query(query)
    docs = encoder.encode_documents(DOCUMENTS)
    scores = [(d, q.dot(v)) for d, v in zip(DOCUMENTS, docs, strict=True)]
    return sorted((s for s in scores if s[1] > 0), key=lambda s: -s[1])


def test_is_the_milvus_interface(encoder: SpladeEncoder) -> None:
    sparse = SpladeMilvusSparseEmbedding(encoder=encoder)
    assert isinstance(sparse, BaseSparseEmbedding)  # the store dispatches on this isinstance
    row = sparse.embed_query(QUERIES[0])
    assert all(type(k) is int and type(v) is float for k, v in row.items())
    assert SparseVector.from_dict(row) == encoder.encode_query(QUERIES[0])


def test_milvus_lite_hybrid_search(store: Milvus, encoder: SpladeEncoder) -> None:
    store.add_texts(DOCUMENTS)

    rows = store.client.query(
        store.collection_name, filter="", output_fields=["text", "sparse"], limit=100
    )
    stored = {row["text"]: row["sparse"] for row in rows}
    assert sorted(stored) == sorted(DOCUMENTS)
    for text, vector in zip(DOCUMENTS, encoder.encode_documents(DOCUMENTS), strict=True):
        assert sorted(stored[text]) == vector.indices.tolist()
        values = np.asarray([stored[text][i] for i in sorted(stored[text])], dtype=np.float32)
        np.testing.assert_array_equal(values, vector.values)

    n = len(DOCUMENTS)
    for query in QUERIES:
        hits = store.similarity_search(query, k=3, fetch_k=n, reranker=rerank({"reranker": "rrf"}))
        assert len(hits) == 3 and all(h.page_content in DOCUMENTS for h in hits)
        # Weights (dense 0, sparse 1): the hybrid search ranks by the sparse inner product alone.
        sparse_only = rerank({"reranker": "weighted", "weights": [0.0, 1.0], "norm_score": False})
        scored = store.similarity_search_with_score(query, k=n, fetch_k=n, reranker=sparse_only)
        expected = brute_force(encoder, query)
        assert [d.page_content for d, _ in scored] == [t for t, _ in expected]
        np.testing.assert_allclose([s for _, s in scored], [s for _, s in expected], rtol=1e-4)


def test_empty_document_is_a_clear_error_and_empty_query_matches_nothing(
    store: Milvus, encoder: SpladeEncoder
) -> None:
    store.add_texts(DOCUMENTS[:3])
    with pytest.raises(InputError, match=r"texts\[1\] = '   ' has no SPLADE weight"):
        store.add_texts([DOCUMENTS[3], "   "])
    assert SpladeMilvusSparseEmbedding(encoder=encoder).embed_query("") == {}
    sparse_only = rerank({"reranker": "weighted", "weights": [0.0, 1.0], "norm_score": False})
    scored = store.similarity_search_with_score("", k=3, fetch_k=3, reranker=sparse_only)
    assert all(score == 0.0 for _, score in scored)
