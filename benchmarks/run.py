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
import platform
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

from build_model import build_folder  # noqa: E402
from corpus import SCIFACT, load_corpus  # noqa: E402

FASTEMBED_VERSION = "0.9.1"
FASTEMBED_VENV = BENCH / ".venv-fastembed"
RESULTS = BENCH / "results"


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=160, help="corpus subsample size")
    parser.add_argument("--queries", type=int, default=100, help="distinct single queries timed")
    parser.add_argument("--rounds", type=int, default=2, help="best documents/s of N rounds")
    parser.add_argument("--query-rounds", type=int, default=2, help="best p50 of N rounds")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--size", choices=["base", "tiny"], default="base")
    parser.add_argument("--no-fastembed", action="store_true", help="spladekit only")
    parser.add_argument("--no-int8", action="store_true", help="skip the int8 variant")
    parser.add_argument(
        "--no-ablation", action="store_true", help="skip spladekit with optimize=False"
    )
    parser.add_argument("--out", type=Path, default=None, help="JSON path (default results/)")
    parser.add_argument(
        "--smoke", action="store_true", help="tiny model, 16 documents, 5 queries (~1 minute)"
    )
    args = parser.parse_args()
    if args.smoke:
        args.size, args.docs, args.queries, args.query_rounds, args.rounds = "tiny", 16, 5, 1, 1
        args.no_ablation = True
    if args.out is None:
        args.out = BENCH / ".cache" / "smoke.json" if args.smoke else RESULTS / "latest.json"

    model = build_folder(args.size)
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
    int8 = {"options": {"quantize": "int8"}}

    print(f"{len(texts)} documents, {args.queries} queries, model {model}", file=sys.stderr)
    prepared = {
        "fp32": run_job(
            own, {"kind": "prepare", "model": str(model), "label": "prepare fp32"}, log
        ),
        "tiny": run_job(own, {"kind": "prepare", "model": str(tiny), "label": "prepare tiny"}, log),
    }
    if not args.no_int8:
        job = {"kind": "prepare", "model": str(model), "quantize": "int8", "label": "prepare int8"}
        prepared["int8"] = run_job(own, job, log)
    roof = run_job(own, {"kind": "roofline"}, log)
    docs: dict[str, dict[str, Any]] = {}
    plan: list[tuple[str, Any, dict[str, Any]]] = []
    if fe_python:
        plan.append(("fastembed", fe_python, {"kind": "fastembed"}))
    plan.append(("spladekit", own, {"kind": "spladekit"}))
    if not args.no_int8:
        plan.append(("spladekit-int8", own, {"kind": "spladekit", **int8}))
    doc_plan = list(plan)
    if not args.no_ablation:  # what preparing the model buys: the same encoder without it
        doc_plan.append(
            ("spladekit (unprepared)", own, {"kind": "spladekit", "options": {"optimize": False}})
        )
    for round_ in range(args.rounds):  # tools alternate; each keeps its best round
        for name, python, extra in doc_plan:
            job = {
                **base,
                **extra,
                "mode": "docs",
                "label": f"{name} docs #{round_ + 1}",
                "save": str(work / f"{name.replace(' ', '-')}-docs.npz"),
            }
            result = run_job(python, job, log)
            if name not in docs or result.get("docs_per_s", 0) > docs[name].get("docs_per_s", 0):
                docs[name] = result
    queries: dict[str, dict[str, Any]] = {}
    q_plan = [("bare-onnx", own, {"kind": "bare"}), *plan]
    for round_ in range(args.query_rounds):  # tools alternate; each keeps its best round
        for name, python, extra in q_plan:
            job = {
                **base,
                **extra,
                "mode": "queries",
                "queries": args.queries,
                "label": f"{name} queries #{round_ + 1}",
                "save": str(work / f"{name}-queries.npz"),
            }
            result = run_job(python, job, log)
            if name not in queries or result.get("p50_ms", 1e9) < queries[name].get("p50_ms", 1e9):
                queries[name] = result
    big = run_job(
        own,
        {
            **base,
            "kind": "spladekit",
            "mode": "docs",
            "batch_size": 256,
            "label": "spladekit docs b256",
        },
        log,
    )
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
        "machine": {"cpus": _cpus(), "cpu": _cpu_name()},
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
        "spladekit_b256": big,
        "prepare_once": prepared,
        "tiny_overhead": overhead,
        "fastembed_version": FASTEMBED_VERSION if fe_python else None,
        "fastembed_b256_logits_gb": _fastembed_big_estimate(lengths, 256),
        "jobs": log,
    }
    for result in docs.values():
        if "seconds" in result:
            result["roofline_pct"] = 100 * flops / result["seconds"] / 1e9 / roofline
    if fe_python and (work / "fastembed-docs.npz").exists():
        report["agreement_fastembed"] = agreement(
            work / "fastembed-docs.npz", work / "spladekit-docs.npz"
        )
        report["agreement_fastembed_queries"] = agreement(
            work / "fastembed-queries.npz", work / "spladekit-queries.npz"
        )
    if not args.no_int8 and (work / "spladekit-int8-docs.npz").exists():
        agree = agreement(work / "spladekit-docs.npz", work / "spladekit-int8-docs.npz")
        agree["top10_overlap"] = top10_overlap(
            work / "spladekit-queries.npz",
            work / "spladekit-docs.npz",
            work / "spladekit-int8-queries.npz",
            work / "spladekit-int8-docs.npz",
        )
        report["agreement_int8"] = agree
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    print(table(report))
    print(f"\nwritten to {args.out}", file=sys.stderr)


def _cpus() -> int:
    sys.path.insert(0, str(ROOT / "src"))
    from spladekit.pipeline.run import available_cpus

    return available_cpus()


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _fastembed_big_estimate(lengths: np.ndarray, batch: int) -> float:
    """GB fastembed's float32 (batch, longest, 30522) logits take at its default batch of 256.

    It also holds log1p(relu(·)) and the masked product of that array at the same time.
    """
    longest = [min(512, int(lengths[i : i + batch].max())) for i in range(0, len(lengths), batch)]
    return max(batch * n * 30522 * 4 for n in longest) / 1e9


def table(r: dict[str, Any]) -> str:
    fe, sk = r["docs"].get("fastembed", {}), r["docs"].get("spladekit", {})
    q = r["queries"]
    bare = q.get("bare-onnx", {}).get("p50_ms")

    def ratio(a: float | None, b: float | None) -> str:
        return f"{a / b:.2f}×" if a and b else "–"

    rows = [
        "| | " + " | ".join(r["docs"]) + " |",
        "|---|" + "---|" * len(r["docs"]),
    ]

    def row(label: str, cells: list[str]) -> None:
        rows.append(f"| {label} | " + " | ".join(cells) + " |")

    names = list(r["docs"])
    row(
        f"documents/s (batch {r['batch_size']})",
        [f"{r['docs'][n].get('docs_per_s', 0):.2f}" for n in names],
    )
    row(
        "% of fp32 MatMul roofline", [f"{r['docs'][n].get('roofline_pct', 0):.0f} %" for n in names]
    )
    row(
        "peak RSS, documents (GB)",
        [f"{r['docs'][n].get('peak_rss_mb', 0) / 1024:.2f}" for n in names],
    )
    row(
        "query p50 / p95 (ms)",
        [
            f"{q[n]['p50_ms']:.1f} / {q[n]['p95_ms']:.1f}" if "p50_ms" in q.get(n, {}) else "–"
            for n in names
        ],
    )
    row(
        "peak RSS, queries (GB)",
        [f"{q[n]['peak_rss_mb'] / 1024:.2f}" if n in q else "–" for n in names],
    )
    lines = [
        f"{r['documents']} {'SciFact' if r['corpus'] == 'scifact' else 'fallback-corpus'} documents "
        f"(every {r['corpus_size'] // max(1, r['documents'])}th; median "
        f"{r['median_tokens']:.0f} tokens, {r['over_512']} over 512, truncated by both tools), "
        f"{r['machine']['cpus']} CPUs, MatMul roofline {r['roofline_gflops']:.0f} GFLOP/s, "
        f"{r['when']}",
        "",
        *rows,
        "",
        f"- spladekit / fastembed documents/s: {ratio(sk.get('docs_per_s'), fe.get('docs_per_s'))}"
        f" (int8: {ratio(r['docs'].get('spladekit-int8', {}).get('docs_per_s'), fe.get('docs_per_s'))};"
        f" int8 / fp32: {ratio(r['docs'].get('spladekit-int8', {}).get('docs_per_s'), sk.get('docs_per_s'))})",
        f"- bare ONNX Runtime forward of one query: p50 {bare or 0:.1f} ms; spladekit p50 / bare: "
        f"{ratio(q.get('spladekit', {}).get('p50_ms'), bare)}; int8 p50 / fastembed p50: "
        f"{ratio(q.get('spladekit-int8', {}).get('p50_ms'), q.get('fastembed', {}).get('p50_ms'))}",
        f"- spladekit at batch_size=256: {r['spladekit_b256'].get('docs_per_s', 0):.2f} docs/s, "
        f"peak RSS {r['spladekit_b256'].get('peak_rss_mb', 0) / 1024:.2f} GB; fastembed's default "
        f"batch 256 needs ≥ {3 * r['fastembed_b256_logits_gb']:.0f} GB on this subsample "
        f"(3 live copies of a {r['fastembed_b256_logits_gb']:.1f} GB logits array): does not fit 24 GB",
        f"- prepared once and cached (not in the timings): fp32 "
        f"{r['prepare_once']['fp32'].get('seconds', 0):.1f} s"
        + (
            f", int8 {r['prepare_once']['int8'].get('seconds', 0):.1f} s "
            f"(peak RSS {r['prepare_once']['int8'].get('peak_rss_mb', 0) / 1024:.1f} GB, once)"
            if "int8" in r["prepare_once"]
            else ""
        ),
        f"- tiny model: per-document overhead outside ONNX Runtime "
        f"{r['tiny_overhead'].get('overhead_pct', float('nan')):.1f} % of encode time",
    ]
    if "agreement_fastembed" in r:
        a = r["agreement_fastembed"]
        lines.append(
            f"- vs fastembed: identical index sets {a['identical_index_sets']}/{a['texts']} documents, "
            f"max |Δvalue| {a['max_abs_delta']:.1e}; queries "
            f"{r['agreement_fastembed_queries']['identical_index_sets']}/{r['agreement_fastembed_queries']['texts']}, "
            f"max |Δ| {r['agreement_fastembed_queries']['max_abs_delta']:.1e}"
        )
    if "agreement_int8" in r:
        a = r["agreement_int8"]
        lines.append(
            f"- int8 vs fp32 (random weights): index-set Jaccard {a['mean_jaccard']:.3f}, max |Δvalue| on "
            f"shared indices {a['max_abs_delta_common']:.3f}, top-10 overlap of SciFact test queries "
            f"over the subsample {a['top10_overlap']:.2f}"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
