"""SpladeSparseEmbedding: LlamaIndex's BaseSparseEmbedding, sync and async, batch by batch."""

from __future__ import annotations

import asyncio

import pytest

pytest.importorskip("llama_index.core")

from spladekit import SpladeEncoder  # noqa: E402
from spladekit.llama_index import SpladeSparseEmbedding  # noqa: E402

from support.checks import QUERY, assert_close, count_calls  # noqa: E402
from support.documents import DOCUMENTS  # noqa: E402


def test_embeddings_are_plain_dicts_equal_to_the_encoder(encoder: SpladeEncoder) -> None:
    sparse = SpladeSparseEmbedding(encoder=encoder)
    docs = sparse.get_text_embedding_batch(DOCUMENTS)
    expected = encoder.encode_documents(DOCUMENTS)
    assert_close(docs, expected)
    assert_close([sparse.get_text_embedding(DOCUMENTS[3])], [expected[3]])
    query = sparse.get_query_embedding(QUERY)
    assert query == encoder.encode_query(QUERY).to_dict()
    for vector in [*docs, query]:
        assert all(type(k) is int and type(v) is float for k, v in vector.items())
    assert asyncio.run(sparse.aget_query_embedding(QUERY)) == query
    assert_close([asyncio.run(sparse.aget_text_embedding(DOCUMENTS[3]))], [expected[3]])
    assert SpladeSparseEmbedding.class_name() == "SpladeSparseEmbedding"
    assert sparse.model_name == encoder.name


def test_batch_is_one_encoder_call_per_embed_batch(
    encoder: SpladeEncoder, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = encoder.encode_documents(DOCUMENTS[:7])
    sizes = count_calls(monkeypatch, encoder, "encode_documents")
    sparse = SpladeSparseEmbedding(encoder=encoder, embed_batch_size=3)
    assert_close(sparse.get_text_embedding_batch(DOCUMENTS[:7]), expected)
    assert sizes == [3, 3, 1]
    sizes.clear()
    assert_close(asyncio.run(sparse.aget_text_embedding_batch(DOCUMENTS[:7])), expected)
    assert sorted(sizes) == [1, 3, 3]
