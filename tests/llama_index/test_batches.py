"""LlamaIndex batches texts itself: the adapter checks the caller's whole list first."""

from __future__ import annotations

import asyncio

import pytest

pytest.importorskip("llama_index.core")

from spladekit import InputError, InputTypeError, SpladeEncoder  # noqa: E402
from spladekit.llama_index import SpladeSparseEmbedding  # noqa: E402

from support.documents import DOCUMENTS  # noqa: E402


@pytest.fixture
def sparse(encoder: SpladeEncoder) -> SpladeSparseEmbedding:
    return SpladeSparseEmbedding(encoder=encoder, embed_batch_size=5)


@pytest.mark.parametrize("call", ["sync", "async"])
def test_a_bare_str_is_refused_not_embedded_per_character(
    sparse: SpladeSparseEmbedding, call: str
) -> None:
    with pytest.raises(InputTypeError, match="got a single str"):
        if call == "sync":
            sparse.get_text_embedding_batch("hello")  # type: ignore[arg-type]
        else:
            asyncio.run(sparse.aget_text_embedding_batch("hello"))  # type: ignore[arg-type]


@pytest.mark.parametrize("call", ["sync", "async"])
@pytest.mark.parametrize(
    ("bad", "error", "message"),
    [
        (None, InputTypeError, r"texts\[12\] must be a str, got NoneType"),
        (b"moon", InputTypeError, r"texts\[12\] must be a str, got bytes"),
        ("lunar \udcff", InputError, r"texts\[12\] = .* not valid Unicode"),
    ],
)
def test_a_bad_item_past_the_first_batch_is_named_by_its_position_in_the_list(
    sparse: SpladeSparseEmbedding, call: str, bad: object, error: type, message: str
) -> None:
    texts: list[object] = list(DOCUMENTS) + ["moon"] * 3
    texts[12] = bad
    with pytest.raises(error, match=message):
        if call == "sync":
            sparse.get_text_embedding_batch(texts)  # type: ignore[arg-type]
        else:
            asyncio.run(sparse.aget_text_embedding_batch(texts))  # type: ignore[arg-type]


def test_valid_batches_still_match_the_encoder(
    sparse: SpladeSparseEmbedding, encoder: SpladeEncoder
) -> None:
    want = [v.to_dict() for v in encoder.encode_documents(DOCUMENTS)]
    got = sparse.get_text_embedding_batch(DOCUMENTS)
    assert [set(g) for g in got] == [set(w) for w in want]
    assert [set(g) for g in asyncio.run(sparse.aget_text_embedding_batch(DOCUMENTS))] == [
        set(w) for w in want
    ]
