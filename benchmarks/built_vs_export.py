"""The graph built from safetensors beside the ONNX export of the same weights, on BERT-base.

Both models hold build_model.py's random BERT-base weights: benchmarks/.cache/splade-base (the
export, which spladekit prepares) and benchmarks/.cache/splade-base-safetensors (the same
tensors as a BertForMaskedLM checkpoint, base_checkpoint.py, which spladekit builds from).

Every measurement is a benchmarks/worker.py job in a fresh process (the two models interleaved
for --rounds rounds, best of each taken, on a machine other people share): documents/s,
single-query p50, peak RSS (model load included). The first round also saves the vectors, and
the two models' vectors are compared: index-set mismatches (entries below 1e-4 aside) and max
|Δvalue|. This process itself loads no model, so no job inherits its memory high-water mark
(Linux keeps ru_maxrss across exec).

    python benchmarks/built_vs_export.py [--docs 160] [--queries 100] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from base_checkpoint import build_checkpoint  # noqa: E402
from build_model import build_folder  # noqa: E402
from checkpoint_parity import compare  # noqa: E402
from run import load_vectors, pick_docs, run_job  # noqa: E402

RESULTS = BENCH / "results"


def cpu() -> dict[str, Any]:
    """The CPU model and the SIMD flags that decide ONNX Runtime's kernels."""
    try:
        text = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return {"machine": platform.machine()}
    fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
    flags = fields.get("Flags", "").split()
    wanted = ("avx", "avx2", "fma", "f16c", "avx512f", "avx512_vnni", "avx_vnni", "amx_tile")
    return {
        "model": fields.get("Model name", "").strip(),
        "cpus": fields.get("CPU(s)", "").strip(),
        "simd": [f for f in wanted if f in flags],
    }


def agreement(built: Path, export: Path) -> dict[str, Any]:
    """Index-set mismatches and max |Δvalue| between two saved vector files."""
    vectors = [
        [dict(zip(i.tolist(), v.tolist(), strict=True)) for i, v in load_vectors(path)]
        for path in (built, export)
    ]
    mismatched, worst = compare(vectors[0], vectors[1])
    return {"texts": len(vectors[0]), "index_set_mismatches": mismatched, "max_abs_delta": worst}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=160)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()

    export, built = build_folder("base"), build_checkpoint("base")
    log: list[dict[str, Any]] = []
    doc_ids = pick_docs(args.docs)
    models = {"export (prepared)": export, "built from safetensors": built}
    for label, folder in models.items():  # fill the caches: no timed job prepares or builds
        run_job(
            sys.executable,
            {
                "kind": "spladekit",
                "model": str(folder),
                "mode": "docs",
                "doc_ids": doc_ids[:4],
                "batch_size": 4,
                "label": f"warm {label}",
            },
            log,
        )
    work = BENCH / ".cache" / "built_vs_export"
    work.mkdir(parents=True, exist_ok=True)
    best: dict[str, dict[str, float]] = {label: {} for label in models}
    for round_ in range(args.rounds):
        order = list(models.items()) if round_ % 2 == 0 else list(models.items())[::-1]
        for label, folder in order:
            base = {"kind": "spladekit", "model": str(folder), "label": f"{label} r{round_}"}
            saved = {"save": str(work / f"{folder.name}-{{}}.npz")} if round_ == 0 else {}
            docs = run_job(
                sys.executable,
                {**base, "mode": "docs", "doc_ids": doc_ids, "batch_size": args.batch_size}
                | {k: v.format("docs") for k, v in saved.items()},
                log,
            )
            query = run_job(
                sys.executable,
                {**base, "mode": "queries", "queries": args.queries}
                | {k: v.format("queries") for k, v in saved.items()},
                log,
            )
            entry = best[label]
            entry["docs_per_s"] = max(entry.get("docs_per_s", 0.0), docs["docs_per_s"])
            entry["query_p50_ms"] = min(entry.get("query_p50_ms", float("inf")), query["p50_ms"])
            entry["docs_peak_rss_mb"] = min(
                entry.get("docs_peak_rss_mb", float("inf")), docs["peak_rss_mb"]
            )
            entry["query_peak_rss_mb"] = min(
                entry.get("query_peak_rss_mb", float("inf")), query["peak_rss_mb"]
            )
            entry["load_s"] = min(entry.get("load_s", float("inf")), docs["load_s"])
    agree = {
        kind: agreement(work / f"{built.name}-{kind}.npz", work / f"{export.name}-{kind}.npz")
        for kind in ("docs", "queries")
    }
    report = {
        "cpu": cpu(),
        "docs": len(doc_ids),
        "queries": args.queries,
        "rounds": args.rounds,
        "batch_size": args.batch_size,
        "agreement": agree,
        "best": best,
        "log": log,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "built_vs_export.json").write_text(json.dumps(report, indent=2))
    print(f"CPU: {report['cpu']}")
    for kind, row in agree.items():
        print(f"agreement, {kind}: {row}")
    print(
        f"\n{len(doc_ids)} documents (batch {args.batch_size}), {args.queries} single queries, best of {args.rounds} rounds"
    )
    print(
        "| model | documents/s | query p50 (ms) | peak RSS docs (MB) | peak RSS queries (MB) | load (s) |"
    )
    print("|---|---|---|---|---|---|")
    for label, entry in best.items():
        print(
            f"| {label} | {entry['docs_per_s']:.2f} | {entry['query_p50_ms']:.1f} | "
            f"{entry['docs_peak_rss_mb']:.0f} | {entry['query_peak_rss_mb']:.0f} | {entry['load_s']:.2f} |"
        )


if __name__ == "__main__":
    main()
