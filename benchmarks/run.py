"""spladekit vs fastembed on the same local SPLADE model, side by side: ``python benchmarks/run.py``.

Builds the models it needs (benchmarks/build_model.py), sets up fastembed in its own venv
(benchmarks/.venv-fastembed, pinned) when missing, then runs every measurement in a fresh
process, alternating the tools: document throughput at one batch size, single-query latency
on distinct queries, peak RSS, share of the measured MatMul roofline, and output agreement.
Prints a markdown table and writes benchmarks/results/latest.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import venv
from pathlib import Path
from typing import Any

import numpy as np

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))

from base_checkpoint import build_checkpoint  # noqa: E402
from build_model import build_folder  # noqa: E402
from corpus import SCIFACT, load_corpus  # noqa: E402
from machine import cpu_flag_set, cpu_model  # noqa: E402

FASTEMBED_VERSION = "0.9.1"
FASTEMBED_VENV = BENCH / ".venv-fastembed"
RESULTS = BENCH / "results"
FP32 = "spladekit fp32"
FUSED = "spladekit fp32 fused"
BUILT_FUSED = "spladekit fp32 fused, built"
INT8 = "spladekit int8"
UNPREPARED = "spladekit fp32 unprepared"


def fastembed_python() -> Path:
    """The fastembed venv's interpreter, created and pinned on first use."""
    python = FASTEMBED_VENV / "bin" / "python"
    if not python.exists():
        print(f"setting up {FASTEMBED_VENV} (fastembed=={FASTEMBED_VERSION}) ...", file=sys.stderr)
        venv.create(FASTEMBED_VENV, with_pip=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", f"fastembed=={FASTEMBED_VERSION}"],
            check=True,
        )
    return python


def run_job(python: Path | str, job: dict[str, Any], log: list[dict[str, Any]]) -> dict[str, Any]:
    """Run one job in a fresh interpreter and return its JSON result."""
    began = time.perf_counter()
    env = {**os.environ, "SPLADEKIT_CACHE": str(BENCH / ".cache" / "spladekit")}
    # This checkout's spladekit, whatever the interpreter has installed (fastembed never reads it).
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH")]))
    done = subprocess.run(
        [str(python), str(BENCH / "worker.py"), json.dumps(job)],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    if done.returncode != 0:
        result: dict[str, Any] = {"error": done.stderr.strip().splitlines()[-1:] or ["failed"]}
    else:
        result = json.loads(done.stdout.strip().splitlines()[-1])
    wall = time.perf_counter() - began
    label = job.get("label", job["kind"])
    print(f"  {label:<28} {wall:6.1f}s  {json.dumps(result)[:150]}", file=sys.stderr)
    log.append({"job": {k: v for k, v in job.items() if k != "doc_ids"}, "result": result})
    return result


def load_vectors(path: Path) -> list[tuple[np.ndarray, np.ndarray]]:
    data = np.load(path)
    ends = np.cumsum(data["sizes"])
    starts = ends - data["sizes"]
    return [(data["indices"][a:b], data["values"][a:b]) for a, b in zip(starts, ends, strict=True)]


def agreement(a: Path, b: Path) -> dict[str, Any]:
    """Identical index sets, max |Δvalue| on those, and index-set Jaccard over all texts."""
    left, right = load_vectors(a), load_vectors(b)
    same = [np.array_equal(x[0], y[0]) for x, y in zip(left, right, strict=True)]
    deltas = [
        float(np.abs(x[1] - y[1]).max(initial=0.0))
        for (x, y, s) in zip(left, right, same, strict=True)
        if s
    ]
    jaccard = [
        len(np.intersect1d(x[0], y[0])) / max(1, len(np.union1d(x[0], y[0])))
        for x, y in zip(left, right, strict=True)
    ]
    common = []
    for x, y in zip(left, right, strict=True):
        _, ix, iy = np.intersect1d(x[0], y[0], return_indices=True)
        common.append(float(np.abs(x[1][ix] - y[1][iy]).max(initial=0.0)))
    return {
        "texts": len(left),
        "identical_index_sets": int(sum(same)),
        "max_abs_delta": max(deltas, default=float("nan")),
        "mean_jaccard": float(np.mean(jaccard)),
        "max_abs_delta_common": max(common, default=0.0),
    }


def to_dense_scores(
    queries: list[tuple[np.ndarray, np.ndarray]], docs: list[tuple[np.ndarray, np.ndarray]]
) -> np.ndarray:
    vocab = 1 + max(int(v[0].max(initial=0)) for v in queries + docs)
    d = np.zeros((len(docs), vocab), dtype=np.float32)
    for row, (i, v) in enumerate(docs):
        d[row, i] = v
    scores = np.zeros((len(queries), len(docs)), dtype=np.float32)
    for row, (i, v) in enumerate(queries):
        scores[row] = d[:, i] @ v
    return scores


def top10_overlap(q_a: Path, d_a: Path, q_b: Path, d_b: Path) -> float:
    a = to_dense_scores(load_vectors(q_a), load_vectors(d_a))
    b = to_dense_scores(load_vectors(q_b), load_vectors(d_b))
    k = min(10, a.shape[1])
    top_a = np.argsort(-a, axis=1, kind="stable")[:, :k]
    top_b = np.argsort(-b, axis=1, kind="stable")[:, :k]
    return float(
        np.mean(
            [len(set(x) & set(y)) / k for x, y in zip(top_a.tolist(), top_b.tolist(), strict=True)]
        )
    )


def model_flops(config: dict[str, Any], lengths: np.ndarray) -> float:
    """Multiply-add FLOPs of one forward pass per text (real tokens only, no padding)."""
    h, ffn, layers = config["hidden_size"], config["intermediate_size"], config["num_hidden_layers"]
    vocab = config["vocab_size"]
    per_token = layers * 2 * (4 * h * h + 2 * h * ffn) + 2 * (h * h + h * vocab)
    attention = layers * 4 * h * lengths.astype(np.float64) ** 2
    return float(np.sum(per_token * lengths + attention))


def token_lengths(model: Path, texts: list[str]) -> np.ndarray:
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(model / "tokenizer.json"))
    return np.array([len(e.ids) for e in tokenizer.encode_batch(texts)], dtype=np.int64)


def pick_docs(count: int) -> list[int]:
    """Evenly spaced corpus positions: the corpus' own mix of lengths."""
    total = len(load_corpus())
    return np.linspace(0, total - 1, num=min(count, total)).round().astype(int).tolist()


def safe(name: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=96, help="corpus subsample size")
    parser.add_argument("--queries", type=int, default=100, help="distinct single queries timed")
    parser.add_argument("--rounds", type=int, default=2, help="best documents/s of N rounds")
    parser.add_argument("--query-rounds", type=int, default=2, help="best p50 of N rounds")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--size", choices=["base", "tiny"], default="base")
    parser.add_argument("--no-fastembed", action="store_true", help="spladekit only")
    parser.add_argument("--no-int8", action="store_true", help="skip the int8 variant")
    parser.add_argument(
        "--ablation", action="store_true", help="also spladekit with optimize=False (unprepared)"
    )
    parser.add_argument("--out", type=Path, default=None, help="JSON path (default results/)")
    parser.add_argument(
        "--smoke", action="store_true", help="tiny model, 16 documents, 5 queries (~1 minute)"
    )
    args = parser.parse_args()
    if args.smoke:
        args.size, args.docs, args.queries, args.query_rounds, args.rounds = "tiny", 16, 5, 1, 1
        args.ablation = False
    if args.out is None:
        args.out = BENCH / ".cache" / "smoke.json" if args.smoke else RESULTS / "latest.json"

    model = build_folder(args.size)
    weights = build_checkpoint(args.size)  # the same weights as safetensors
    tiny = build_folder("tiny")
    config = json.loads((model / "config.json").read_text())
    doc_ids = pick_docs(args.docs)
    texts = [load_corpus()[i] for i in doc_ids]
    lengths = token_lengths(model, texts)
    clipped = np.minimum(lengths, 512)
    flops = model_flops(config, clipped)
    fe_python = None if args.no_fastembed else fastembed_python()
    own = sys.executable
    work = BENCH / ".cache" / "run"
    work.mkdir(parents=True, exist_ok=True)
    log: list[dict[str, Any]] = []
    base = {"model": str(model), "doc_ids": doc_ids, "batch_size": args.batch_size}
    built = {"model": str(weights), "format": "safetensors"}
    # name -> (interpreter, job fields): every column of the table, fastembed first.
    variants: dict[str, tuple[Path | str, dict[str, Any]]] = {}
    if fe_python:
        variants["fastembed"] = (fe_python, {"kind": "fastembed"})
    variants[FP32] = (own, {"kind": "spladekit"})
    variants[FUSED] = (own, {"kind": "spladekit", "options": {"optimize": "fused"}})
    variants[BUILT_FUSED] = (
        own,
        {
            "kind": "spladekit",
            "model": built["model"],
            "options": {"optimize": "fused", "format": "safetensors"},
        },
    )
    if not args.no_int8:
        variants[INT8] = (own, {"kind": "spladekit", "options": {"quantize": "int8"}})
    docs_only: dict[str, tuple[Path | str, dict[str, Any]]] = {}
    if args.ablation:  # what preparing the model buys: the same encoder without it
        docs_only[UNPREPARED] = (own, {"kind": "spladekit", "options": {"optimize": False}})

    print(f"{len(texts)} documents, {args.queries} queries, model {model}", file=sys.stderr)
    prepared = {}
    for name, (python, extra) in variants.items():  # made once and cached: not in the timings
        if name != "fastembed":
            job = {**base, **extra, "kind": "prepare", "label": f"prepare {name}"}
            prepared[name] = run_job(python, job, log)
    roof = run_job(own, {"kind": "roofline"}, log)
    docs: dict[str, dict[str, Any]] = {}
    for round_ in range(args.rounds):  # tools alternate; each keeps its best round
        for name, (python, extra) in {**variants, **docs_only}.items():
            job = {
                **base,
                **extra,
                "mode": "docs",
                "label": f"{name} docs #{round_ + 1}",
                "save": str(work / f"{safe(name)}-docs.npz"),
            }
            result = run_job(python, job, log)
            if name not in docs or result.get("docs_per_s", 0) > docs[name].get("docs_per_s", 0):
                docs[name] = result
    queries: dict[str, dict[str, Any]] = {}
    q_plan = {"bare-onnx": (own, {"kind": "bare"}), **variants}
    for round_ in range(args.query_rounds):  # tools alternate; each keeps its best round
        for name, (python, extra) in q_plan.items():
            job = {
                **base,
                **extra,
                "mode": "queries",
                "queries": args.queries,
                "label": f"{name} queries #{round_ + 1}",
                "save": str(work / f"{safe(name)}-queries.npz"),
            }
            result = run_job(python, job, log)
            if name not in queries or result.get("p50_ms", 1e9) < queries[name].get("p50_ms", 1e9):
                queries[name] = result
    threads: dict[str, dict[str, Any]] = {}
    for name in (FP32, FUSED, BUILT_FUSED, INT8):  # one thread (two: the columns above)
        if name in variants:
            python, extra = variants[name]
            options = {**extra.get("options", {}), "threads": 1}
            job = {
                **base,
                **extra,
                "options": options,
                "mode": "docs",
                "label": f"{name} docs 1 thread",
            }
            threads[name] = run_job(python, job, log)
    big = {}
    for name in (FP32, BUILT_FUSED, INT8):
        if name in variants:
            job = {
                **base,
                **variants[name][1],
                "mode": "docs",
                "batch_size": 256,
                "label": f"{name} docs b256",
            }
            big[name] = run_job(own, job, log)
    overhead = run_job(
        own,
        {
            **base,
            "model": str(tiny),
            "kind": "overhead",
            "mode": "docs",
            "label": "spladekit tiny overhead",
        },
        log,
    )
    roof2 = run_job(own, {"kind": "roofline"}, log)
    roofline = max(roof.get("gflops", 0.0), roof2.get("gflops", 0.0))

    report: dict[str, Any] = {
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": {"cpus": _cpus(), "cpu": cpu_model(), "flags": cpu_flags()},
        "load_average": os.getloadavg(),
        "corpus": "scifact" if (SCIFACT / "corpus.jsonl").exists() else "fallback",
        "documents": len(texts),
        "corpus_size": len(load_corpus()),
        "median_tokens": float(np.median(lengths)),
        "over_512": int(np.sum(lengths > 512)),
        "batch_size": args.batch_size,
        "roofline_gflops": roofline,
        "useful_gflop": flops / 1e9,
        "docs": docs,
        "queries": queries,
        "threads_1": threads,
        "b256": big,
        "prepare_once": prepared,
        "tiny_overhead": overhead,
        "int8_quality": int8_quality(),
        "fastembed_version": FASTEMBED_VERSION if fe_python else None,
        "fastembed_b256_logits_gb": _fastembed_big_estimate(lengths, 256),
        "jobs": log,
    }
    for result in [*docs.values(), *threads.values()]:
        if "seconds" in result:
            result["roofline_pct"] = 100 * flops / result["seconds"] / 1e9 / roofline
    report["agreement"] = {}
    for name in variants:
        if name == "fastembed" or not fe_python:
            continue
        pair = {}
        for mode in ("docs", "queries"):
            ours, theirs = work / f"{safe(name)}-{mode}.npz", work / f"fastembed-{mode}.npz"
            if ours.exists() and theirs.exists():
                pair[mode] = agreement(theirs, ours)
        report["agreement"][name] = pair
    if INT8 in variants and (work / f"{safe(INT8)}-docs.npz").exists():
        agree = agreement(work / f"{safe(FP32)}-docs.npz", work / f"{safe(INT8)}-docs.npz")
        agree["top10_overlap"] = top10_overlap(
            work / f"{safe(FP32)}-queries.npz",
            work / f"{safe(FP32)}-docs.npz",
            work / f"{safe(INT8)}-queries.npz",
            work / f"{safe(INT8)}-docs.npz",
        )
        report["agreement_int8"] = agree
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    print(table(report))
    print(f"\nwritten to {args.out}", file=sys.stderr)


def int8_quality() -> dict[str, Any] | None:
    """benchmarks/int8_quality.py's last result (SciFact test, real splade-tiny), when run."""
    path = RESULTS / "int8_quality.json"
    return json.loads(path.read_text()) if path.exists() else None


def cpu_flags() -> str:
    """The SIMD flags int8 and fp32 speed depend on (AVX2, AVX-512, VNNI), as the CPU has them."""
    flags = cpu_flag_set()
    if flags is None:
        return "unknown"
    wanted = ["avx2", "fma", "avx512f", "avx512_vnni", "avx_vnni", "amx_int8"]
    have = [f for f in wanted if f in flags]
    missing = [f for f in wanted if f not in flags]
    return " ".join(have) + (f" (no {', '.join(missing)})" if missing else "")


def _cpus() -> int:
    sys.path.insert(0, str(ROOT / "src"))
    from spladekit.pipeline.run import available_cpus

    return available_cpus()


def _fastembed_big_estimate(lengths: np.ndarray, batch: int) -> float:
    """GB fastembed's float32 (batch, longest, 30522) logits take at its default batch of 256.

    It also holds log1p(relu(·)) and the masked product of that array at the same time.
    """
    longest = [min(512, int(lengths[i : i + batch].max())) for i in range(0, len(lengths), batch)]
    return max(batch * n * 30522 * 4 for n in longest) / 1e9


def table(r: dict[str, Any]) -> str:
    """The report as markdown: one column per variant, the bare forward beside the queries."""
    docs, q, agree = r["docs"], r["queries"], r.get("agreement", {})
    names = [*docs, "bare-onnx"]
    bare = q.get("bare-onnx", {}).get("p50_ms")
    fe_q = q.get("fastembed", {}).get("p50_ms")

    def cell(table: dict[str, Any], name: str, fmt: Any) -> str:
        row = table.get(name)
        try:
            return fmt(row) if row and "error" not in row else "–"
        except (KeyError, TypeError, ZeroDivisionError):
            return "–"

    def agreement_cell(name: str, mode: str) -> str:
        a = agree.get(name, {}).get(mode)
        if not a:
            return "–"
        if a["identical_index_sets"] == a["texts"]:
            return f"{a['texts']}/{a['texts']}, {a['max_abs_delta']:.1e}"
        return (
            f"{a['identical_index_sets']}/{a['texts']} (Jaccard {a['mean_jaccard']:.3f}), "
            f"{a['max_abs_delta_common']:.1e} on shared"
        )

    heads = {"bare-onnx": "bare ONNX Runtime forward"}
    rows = [
        "| | " + " | ".join(heads.get(n, n) for n in names) + " |",
        "|---|" + "---|" * len(names),
    ]

    def row(label: str, cells: list[str]) -> None:
        rows.append(f"| {label} | " + " | ".join(cells) + " |")

    row(
        f"documents/s (batch {r['batch_size']}, 2 threads)",
        [cell(docs, n, lambda x: f"{x['docs_per_s']:.2f}") for n in names],
    )
    row(
        "documents/s, 1 thread",
        [cell(r["threads_1"], n, lambda x: f"{x['docs_per_s']:.2f}") for n in names],
    )
    row(
        "% of fp32 MatMul roofline (2 threads)",
        [cell(docs, n, lambda x: f"{x['roofline_pct']:.0f} %") for n in names],
    )
    row(
        "peak RSS, documents, batch 32 (GB)",
        [cell(docs, n, lambda x: f"{x['peak_rss_mb'] / 1024:.2f}") for n in names],
    )
    row(
        "peak RSS, documents, batch 256 (GB)",
        [cell(r["b256"], n, lambda x: f"{x['peak_rss_mb'] / 1024:.2f}") for n in names],
    )
    row(
        "query p50 / p95 (ms)",
        [cell(q, n, lambda x: f"{x['p50_ms']:.1f} / {x['p95_ms']:.1f}") for n in names],
    )
    row(
        "query p50 / bare forward",
        [cell(q, n, lambda x: f"{x['p50_ms'] / bare:.2f}×") for n in names],
    )
    row(
        "query p50 / fastembed's",
        [cell(q, n, lambda x: f"{x['p50_ms'] / fe_q:.2f}×") for n in names],
    )
    row(
        "peak RSS, queries (GB)",
        [cell(q, n, lambda x: f"{x['peak_rss_mb'] / 1024:.2f}") for n in names],
    )
    row(
        "vs fastembed, documents: same index sets, max abs Δ",
        [agreement_cell(n, "docs") for n in names],
    )
    row(
        "vs fastembed, queries: same index sets, max abs Δ",
        [agreement_cell(n, "queries") for n in names],
    )
    load = ", ".join(f"{x:.1f}" for x in r.get("load_average", []))
    lines = [
        f"{r['documents']} {'SciFact' if r['corpus'] == 'scifact' else 'fallback-corpus'} documents "
        f"(every {r['corpus_size'] // max(1, r['documents'])}th; median "
        f"{r['median_tokens']:.0f} tokens, {r['over_512']} over 512, truncated by both tools), "
        f"{r['machine']['cpus']} CPUs ({r['machine']['cpu']}; {r['machine'].get('flags', '?')}), "
        f"MatMul roofline {r['roofline_gflops']:.0f} GFLOP/s, load average at the end {load}, "
        f"{r['when']}",
        "",
        *rows,
        "",
    ]
    if "agreement_int8" in r:
        a = r["agreement_int8"]
        lines.append(
            f"- int8 vs fp32 (random BERT-base weights): index-set Jaccard {a['mean_jaccard']:.3f}, max |Δvalue| on "
            f"shared indices {a['max_abs_delta_common']:.3f}, top-10 overlap of SciFact test queries "
            f"over the subsample {a['top10_overlap']:.2f}"
        )
    quality = r.get("int8_quality")
    if quality:
        res = quality["results"]
        chosen = res.get(quality["default"], {})
        lines.append(
            f"- int8 ranking quality (benchmarks/int8_quality.py, real splade-tiny, SciFact test): "
            f"nDCG@10 fp32 {res['fp32']['nDCG@10']:.4f}, int8 ({quality['default']}, the default) "
            f"{chosen.get('nDCG@10', float('nan')):.4f}: Δ {chosen.get('delta_nDCG@10', float('nan')):+.4f}"
        )
    prep = ", ".join(
        f"{name} {p.get('seconds', 0):.1f} s"
        for name, p in r["prepare_once"].items()
        if "seconds" in p
    )
    lines += [
        f"- prepared or built once and cached (not in the timings; the first load): {prep}",
        f"- tiny model: per-document overhead outside ONNX Runtime "
        f"{r['tiny_overhead'].get('overhead_pct', float('nan')):.1f} % of encode time",
        f"- fastembed's default batch 256 needs ≥ {3 * r['fastembed_b256_logits_gb']:.0f} GB on this "
        f"subsample (3 live copies of a {r['fastembed_b256_logits_gb']:.1f} GB logits array)",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
