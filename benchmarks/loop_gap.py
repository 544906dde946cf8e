"""How long the event loop stalls while the async adapters encode 2,000 texts.

A coroutine ticks every 2 ms beside LangChain's ``aembed_documents`` and LlamaIndex's
``aget_text_embedding_batch``; the largest gap between ticks is the longest stall.

    python benchmarks/loop_gap.py [--model PATH] [--texts 2000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from corpus import load_corpus  # noqa: E402

DEFAULT_MODEL = BENCH.parent.parent / "shared" / "data" / "checkpoints" / "splade-tiny-onnx"


async def _gaps(work: Callable[[], Awaitable[Any]]) -> tuple[float, int, float]:
    ticks: list[float] = []
    done = asyncio.Event()

    async def ticker() -> None:
        while not done.is_set():
            ticks.append(time.perf_counter())
            await asyncio.sleep(0.002)

    task = asyncio.create_task(ticker())
    await asyncio.sleep(0.05)
    start = time.perf_counter()
    await work()
    end = time.perf_counter()
    done.set()
    await task
    inside = [t for t in ticks if start <= t <= end]
    window = [start, *inside, end]
    gap = max(b - a for a, b in zip(window, window[1:], strict=False))
    return end - start, len(inside), gap


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--texts", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    from spladekit import SpladeEncoder
    from spladekit.langchain import SpladeQdrantSparseEmbeddings
    from spladekit.llama_index import SpladeSparseEmbedding

    texts = (load_corpus() * 2)[: args.texts]
    encoder = SpladeEncoder(args.model)
    langchain = SpladeQdrantSparseEmbeddings(encoder=encoder)
    llama = SpladeSparseEmbedding(encoder=encoder)
    runs: dict[str, list[tuple[float, int, float]]] = {"langchain": [], "llama_index": []}
    for _ in range(args.rounds):  # interleaved: the machine may be shared
        runs["langchain"].append(asyncio.run(_gaps(lambda: langchain.aembed_documents(texts))))
        runs["llama_index"].append(
            asyncio.run(_gaps(lambda: llama.aget_text_embedding_batch(texts)))
        )
    report = {
        name: {
            "encode_s": round(statistics.median(r[0] for r in rows), 3),
            "ticks_during": [r[1] for r in rows],
            "max_gap_ms": [round(r[2] * 1000, 1) for r in rows],
        }
        for name, rows in runs.items()
    }
    print(json.dumps({"model": str(args.model), "texts": len(texts), **report}, indent=1))


if __name__ == "__main__":
    main()
