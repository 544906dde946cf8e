"""The async adapters run the encoder off the event loop: a ticking coroutine keeps ticking."""

from __future__ import annotations

import pytest

pytest.importorskip("llama_index.core")

from spladekit import SpladeEncoder  # noqa: E402
from spladekit.llama_index import SpladeSparseEmbedding  # noqa: E402

from support.checks import QUERY  # noqa: E402
from support.documents import DOCUMENTS  # noqa: E402
from support.loop import ENCODE_SECONDS, slow, ticks_during  # noqa: E402


def test_async_batch_does_not_block_the_loop(
    encoder: SpladeEncoder, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = slow(monkeypatch, encoder, "encode_documents", ENCODE_SECONDS)
    sparse = SpladeSparseEmbedding(encoder=encoder, embed_batch_size=64)

    async def embed() -> None:
        await sparse.aget_text_embedding_batch(DOCUMENTS * 5)

    inside, gap = ticks_during(embed, window)
    assert inside >= 20, f"only {inside} ticks during a {ENCODE_SECONDS}s encode"
    assert gap < ENCODE_SECONDS / 4, f"the loop stalled for {gap:.3f}s"

    # The same measurement fails when the encode runs on the loop (the fastembed adapter).
    window.clear()

    async def blocking() -> None:
        sparse.get_text_embedding_batch(DOCUMENTS)

    inside, gap = ticks_during(blocking, window)
    assert inside == 0 and gap >= ENCODE_SECONDS


def test_async_query_does_not_block_the_loop(
    encoder: SpladeEncoder, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = slow(monkeypatch, encoder, "encode_queries", ENCODE_SECONDS)
    sparse = SpladeSparseEmbedding(encoder=encoder)

    async def embed() -> None:
        await sparse.aget_query_embedding(QUERY)

    inside, gap = ticks_during(embed, window)
    assert inside >= 20 and gap < ENCODE_SECONDS / 4
