"""Measure whether an async call keeps the event loop free: a coroutine ticking every 2 ms."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

#: How long a slowed encode takes in the loop tests.
ENCODE_SECONDS = 0.6


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
