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
from compare import agreement, top10_overlap  # noqa: E402
from corpus import SCIFACT, load_corpus  # noqa: E402
from machine import cpu_flags, cpu_model  # noqa: E402
from report import table  # noqa: E402

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
    parser.add_argument(
        "--query-rounds", type=int, default=4, help="best p50 of N rounds; ratios per round"
    )
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
    for stale in work.glob("*.npz"):  # an earlier run's vectors are never compared with these
        stale.unlink()
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
                "probe": True,  # a MatMul roofline just before and after: the same minute's
                "label": f"{name} docs #{round_ + 1}",
                "save": str(work / f"{safe(name)}-docs.npz"),
            }
            result = run_job(python, job, log)
            if name not in docs or result.get("docs_per_s", 0) > docs[name].get("docs_per_s", 0):
                docs[name] = result
    queries: dict[str, dict[str, Any]] = {}
    rounds_q: dict[str, list[dict[str, Any]]] = {}
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
            rounds_q.setdefault(name, []).append(result)
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
    probes = [e["result"].get("probe_gflops", 0.0) for e in log]  # the docs jobs' own
    roofline = max(roof.get("gflops", 0.0), roof2.get("gflops", 0.0), *probes)

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
        "roofline_probes": [g for g in [roof.get("gflops"), roof2.get("gflops"), *probes] if g],
        "useful_gflop": flops / 1e9,
        "docs": docs,
        "queries": queries,
        "query_ratios": query_ratios(rounds_q),
        "threads_1": threads,
        "b256": big,
        "prepare_once": prepared,
        "tiny_overhead": overhead,
        "int8_quality": int8_quality(),
        "fastembed_version": FASTEMBED_VERSION if fe_python else None,
        "fastembed_b256_logits_gb": _fastembed_big_estimate(lengths, 256),
        "jobs": log,
    }
    for result in docs.values():
        if "seconds" in result:  # against its own minute's roofline (the run's best when none)
            rate = flops / result["seconds"] / 1e9
            result["roofline_pct"] = 100 * rate / result.get("probe_gflops", roofline)
            result["roofline_pct_best"] = 100 * rate / roofline
            if result.get("sustained_gflops"):
                result["roofline_pct_sustained"] = 100 * rate / result["sustained_gflops"]
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


def query_ratios(rounds: dict[str, list[dict[str, Any]]]) -> dict[str, dict[str, float]]:
    """Each tool's query p50 over the bare forward's and fastembed's, per round, then the median.

    The machine's speed drifts by a quarter between minutes; within one round the tools run
    seconds apart, so a ratio taken there is steadier than one between best rounds. (Taking
    turns query by query inside one process was tried: holding several models at once made
    every tool ~1.6x slower, so the tools keep their own processes.)
    """
    ratios: dict[str, dict[str, float]] = {}
    for name, results in rounds.items():
        for ref in ("bare-onnx", "fastembed"):
            per_round = [
                mine["p50_ms"] / theirs["p50_ms"]
                for mine, theirs in zip(results, rounds.get(ref, []), strict=False)
                if "p50_ms" in mine and "p50_ms" in theirs
            ]
            if per_round:
                ratios.setdefault(name, {})[ref] = float(np.median(per_round))
                ratios[name][f"{ref}_rounds"] = len(per_round)
    return ratios


def int8_quality() -> dict[str, Any] | None:
    """benchmarks/int8_quality.py's last result (SciFact test, real splade-tiny), when run."""
    path = RESULTS / "int8_quality.json"
    return json.loads(path.read_text()) if path.exists() else None


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


if __name__ == "__main__":
    main()
