"""What padding the feed-forward width does (spladekit.model.stride), side by side in one run.

    flock /work/bench.lock python benchmarks/strides.py [--rounds 3] [--queries 40]

Two parts. The down projection alone: ONNX Runtime MatMul 3072 → 768 against the same
product padded to 3072 + PAD inner units (and the up projection 768 → 3072 against 768 →
3088), at a query's rows (20) and a documents batch's (1,020); GFLOP/s count the real work
only. Then the whole BERT-base benchmark model, prepared with and without the padding (each in
its own cache folder), fp32 and int8: documents/s on the benchmark's 96 SciFact documents,
p50 of single queries, the rounds alternating, each keeping its best; and whether the padded
vectors equal the unpadded ones bit for bit. Writes benchmarks/results/strides.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent / "src"))

from build_model import build_folder  # noqa: E402
from corpus import load_corpus, sample_queries  # noqa: E402
from machine import cpu_flags, cpu_model  # noqa: E402
from run import model_flops, pick_docs, token_lengths  # noqa: E402
from spladekit.options import Quantize  # noqa: E402
from worker import _roofline, matmul_model  # noqa: E402

RESULTS = BENCH / "results"


def _padded_matmul(k: int, n: int, *, pad_k: int, pad_n: int, folder: Path) -> Path:
    """The (k, n) probe graph with *pad_k* zero rows and *pad_n* zero columns more."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(matmul_model(k, n)))
    weight = numpy_helper.to_array(model.graph.initializer[0])
    padded = np.pad(weight, ((0, pad_k), (0, pad_n)))
    model.graph.initializer[0].CopyFrom(numpy_helper.from_array(padded, "w"))
    for info, width in ((model.graph.input[0], k + pad_k), (model.graph.output[0], n + pad_n)):
        info.type.tensor_type.shape.dim[1].dim_value = width
    path = folder / f"matmul-{k + pad_k}x{n + pad_n}.onnx"
    onnx.save(model, str(path))
    return path


def matmuls(rounds: int) -> dict[str, dict[str, float]]:
    """GFLOP/s (real work) of each projection, plain and padded, best median of *rounds*."""
    import onnxruntime as ort

    from spladekit.model.stride import PAD

    results: dict[str, dict[str, float]] = {}
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        for k, n, pads in [(3072, 768, (PAD, 0)), (768, 3072, (0, PAD))]:
            graphs = {
                "plain": matmul_model(k, n),
                "padded": _padded_matmul(k, n, pad_k=pads[0], pad_n=pads[1], folder=Path(tmp)),
            }
            sessions = {
                name: ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
                for name, path in graphs.items()
            }
            for m in (20, 1020):
                inputs = {
                    "plain": rng.normal(size=(m, k)).astype(np.float32),
                    "padded": rng.normal(size=(m, k + pads[0])).astype(np.float32),
                }
                best: dict[str, float] = {}
                repeats = 200 if m < 100 else 15
                for _ in range(rounds):
                    for name, session in sessions.items():
                        session.run(None, {"x": inputs[name]})
                        times = []
                        for _ in range(repeats):
                            begin = time.perf_counter()
                            session.run(None, {"x": inputs[name]})
                            times.append(time.perf_counter() - begin)
                        best[name] = min(best.get(name, np.inf), float(np.median(times)))
                results[f"{m}x{k}x{n}"] = {
                    name: 2 * m * k * n / seconds / 1e9 for name, seconds in best.items()
                }
                print(f"  {m}x{k}x{n}: {results[f'{m}x{k}x{n}']}", file=sys.stderr)
    return results


def _encoder(model: Path, cache: Path, *, padded: bool, quantize: Quantize | None) -> Any:
    """An encoder on *model* prepared in *cache*, with or without the padding."""
    import os

    from spladekit import SpladeEncoder
    from spladekit.model import stride

    saved, os.environ["SPLADEKIT_CACHE"] = os.environ.get("SPLADEKIT_CACHE"), str(cache)
    pad = stride.PAD
    stride.PAD = pad if padded else 0
    try:
        return SpladeEncoder.from_pretrained(model, quantize=quantize)
    finally:
        stride.PAD = pad
        if saved is None:
            del os.environ["SPLADEKIT_CACHE"]
        else:
            os.environ["SPLADEKIT_CACHE"] = saved


def models(rounds: int, queries: int) -> dict[str, dict[str, Any]]:
    """Documents/s, query p50 and bit-identity of the padded against the plain model."""
    model = build_folder("base")
    doc_ids = pick_docs(96)
    texts = [load_corpus()[i] for i in doc_ids]
    config = json.loads((model / "config.json").read_text())
    flops = model_flops(config, np.minimum(token_lengths(model, texts), 512))
    claims = sample_queries(queries + 3)
    results: dict[str, dict[str, Any]] = {}
    variants: list[tuple[str, Quantize | None]] = [("fp32", None), ("int8", "int8")]
    with tempfile.TemporaryDirectory() as tmp:
        encoders = {
            f"{precision} {'padded' if padded else 'plain'}": _encoder(
                model, Path(tmp) / str(padded), padded=padded, quantize=quantize
            )
            for precision, quantize in variants
            for padded in (False, True)
        }
        vectors: dict[str, list[Any]] = {}
        for name, encoder in encoders.items():
            vectors[name] = encoder.encode_documents(texts, batch_size=32)
            for claim in claims[:3]:
                encoder.encode_queries([claim])
        for name in encoders:
            results[name] = {"docs_per_s": 0.0, "roofline_pct": 0.0, "query_p50_ms": np.inf}
        for index in range(rounds):
            roofline = _roofline({"repeats": 6})["gflops"]
            order = list(encoders) if index % 2 == 0 else list(encoders)[::-1]
            for name in order:
                encoder, row = encoders[name], results[name]
                began = time.perf_counter()
                encoder.encode_documents(texts, batch_size=32)
                seconds = time.perf_counter() - began
                row["docs_per_s"] = max(row["docs_per_s"], len(texts) / seconds)
                row["roofline_pct"] = max(
                    row["roofline_pct"], 100 * flops / seconds / 1e9 / roofline
                )
                times = []
                for claim in claims[3:]:
                    began = time.perf_counter()
                    encoder.encode_queries([claim])
                    times.append(time.perf_counter() - began)
                row["query_p50_ms"] = min(row["query_p50_ms"], 1e3 * statistics.median(times))
                print(f"  round {index} {name}: {row}", file=sys.stderr)
        for precision in ("fp32", "int8"):
            plain, padded = vectors[f"{precision} plain"], vectors[f"{precision} padded"]
            results[f"{precision} padded"]["bit_identical"] = all(
                np.array_equal(a.indices, b.indices) and np.array_equal(a.values, b.values)
                for a, b in zip(plain, padded, strict=True)
            )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--queries", type=int, default=40)
    args = parser.parse_args()
    warnings.simplefilter("ignore")  # truncation of long documents, as in the benchmark
    report: dict[str, Any] = {
        "cpu": cpu_model(),
        "flags": cpu_flags(),
        "matmul_gflops": matmuls(args.rounds),
        "models": models(args.rounds, args.queries),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "strides.json").write_text(json.dumps(report, indent=2))
    print(f"{report['cpu']}: {report['flags']}\n")
    print("| MatMul rows x in x out | plain GFLOP/s | padded GFLOP/s | padded / plain |")
    print("| --- | --- | --- | --- |")
    for shape, row in report["matmul_gflops"].items():
        print(
            f"| {shape} | {row['plain']:.0f} | {row['padded']:.0f} | "
            f"{row['padded'] / row['plain']:.2f}x |"
        )
    print("\n| model | documents/s | % of roofline | query p50 ms | bit-identical to plain |")
    print("| --- | --- | --- | --- | --- |")
    for name, row in report["models"].items():
        same = {True: "yes", False: "NO"}.get(row.get("bit_identical"), "")
        print(
            f"| {name} | {row['docs_per_s']:.2f} | {row['roofline_pct']:.0f} | "
            f"{row['query_p50_ms']:.1f} | {same} |"
        )


if __name__ == "__main__":
    main()
