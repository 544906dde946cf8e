"""Query latency per query path: the transformer vs an inference-free idf.json table.

    python benchmarks/query_paths.py [--queries 200]

Same BERT-base-sized synthetic document model for both encoders; the inference-free one has
OpenSearch's real ``idf.json`` (and its bert-base-uncased tokenizer) beside it, read from
``../shared/data/opensearch-idf`` through symlinks, as a Hub folder of such a model holds it.
Queries are distinct SciFact claims (no result is reused), timed one ``encode_query`` each.
Writes benchmarks/results/query_paths.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from build_model import CACHE, build_folder  # noqa: E402
from corpus import SCIFACT  # noqa: E402
from spladekit import SpladeEncoder  # noqa: E402

IDF = BENCH.parent.parent / "shared" / "data" / "opensearch-idf"
RESULTS = BENCH / "results"


def inference_free_folder(base: Path) -> Path:
    """The base model's files plus idf.json, linked (not copied) into a cache folder."""
    folder = CACHE / "splade-base-idf"
    folder.mkdir(parents=True, exist_ok=True)
    links = {
        "model.onnx": base / "model.onnx",
        "config.json": base / "config.json",
        "tokenizer.json": IDF / "tokenizer.json",
        "idf.json": IDF / "idf.json",
    }
    for name, target in links.items():
        link = folder / name
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(target.resolve())
    return folder


def claims(count: int) -> list[str]:
    path = SCIFACT / "queries.jsonl"
    if path.exists():
        with path.open() as lines:
            texts = [json.loads(line)["text"] for line in lines]
    else:
        texts = [f"claim number {i} about lunar missions and cell biology" for i in range(count)]
    return list(dict.fromkeys(texts))[:count]


def latencies_ms(encoder: SpladeEncoder, queries: list[str]) -> list[float]:
    encoder.encode_query("warm up the session and the tokenizer")
    times = []
    for query in queries:
        began = time.perf_counter()
        encoder.encode_query(query)
        times.append((time.perf_counter() - began) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    if not (IDF / "idf.json").exists():
        sys.exit(f"needs {IDF}/idf.json (../shared/data)")
    base = build_folder("base")
    queries = claims(args.queries)
    rows = {}
    for label, folder in (
        ("transformer", base),
        ("inference-free (idf.json)", inference_free_folder(base)),
    ):
        encoder = SpladeEncoder.from_pretrained(folder)
        times = sorted(latencies_ms(encoder, queries))
        rows[label] = {
            "query_mode": encoder.query_mode,
            "p50_ms": statistics.median(times),
            "p95_ms": times[int(0.95 * (len(times) - 1))],
            "queries": len(times),
        }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "query_paths.json").write_text(json.dumps(rows, indent=2))
    print("| query path | mode | p50 ms | p95 ms | queries |")
    print("|---|---|---:|---:|---:|")
    for label, row in rows.items():
        print(
            f"| {label} | {row['query_mode']} | {row['p50_ms']:.2f} | {row['p95_ms']:.2f} "
            f"| {row['queries']} |"
        )
    speedup = rows["transformer"]["p50_ms"] / rows["inference-free (idf.json)"]["p50_ms"]
    print(f"\ninference-free p50 is {speedup:.0f}x faster than the transformer path")


if __name__ == "__main__":
    main()
