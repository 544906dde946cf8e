"""The async adapters run the encoder off the event loop: a ticking coroutine keeps ticking."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

pytest.importorskip("llama_index.core")

from spladekit import SpladeEncoder  # noqa: E402
from spladekit.llama_index import SpladeSparseEmbedding  # noqa: E402
from test_llama_index import DOCUMENTS, QUERY  # noqa: E402


def slow(monkeypatch: pytest.MonkeyPatch, obj: Any, method: str, seconds: float) -> list[float]:
    """Make a real encode take at least *seconds* (repeating it); record when it ran."""
    real = getattr(obj, method)
    window: list[float] = []

    def slowed(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        out = real(*args, **kwargs)
        while time.perf_counter() - start < seconds:
            out = real(*args, **kwargs)
        window.extend([start, time.perf_counter()])
        return out

    monkeypatch.setattr(obj, method, slowed)
    return window


def ticks_during(work: Callable[[], Awaitable[Any]], window: list[float]) -> tuple[int, float]:
    """Run *work* beside a coroutine ticking every 2 ms: (ticks inside the encode, max gap)."""

    async def run() -> list[float]:
        ticks: list[float] = []
        done = asyncio.Event()

        async def ticker() -> None:
            while not done.is_set():
                ticks.append(time.perf_counter())
                await asyncio.sleep(0.002)

        task = asyncio.create_task(ticker())
        await asyncio.sleep(0.02)
        await work()
        await asyncio.sleep(0.02)
        done.set()
        await task
        return ticks

    ticks = asyncio.run(run())
    start, end = min(window), max(window)
    print(f"\n{len(ticks)} ticks in all; encode window {end - start:.3f}s", end=": ")
    around = [t for t in ticks if t < start][-1:] + [t for t in ticks if start <= t <= end]
    around += [t for t in ticks if t > end][:1]
    gaps = [b - a for a, b in zip(around, around[1:], strict=False)]
    inside = sum(start <= t <= end for t in ticks)
    print(f"{inside} ticks during it, max gap {max(gaps) * 1000:.1f} ms")  # shown with -s
    return inside, max(gaps)


ENCODE_SECONDS = 0.6


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
