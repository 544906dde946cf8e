"""Where a document batch's time goes: ONNX Runtime's profiler, kernel time summed by op type.

    flock /work/bench.lock python benchmarks/profile_docs.py [--docs 96] [--repeats 2]

The fp32 documents goal (≥ 90 % of the MatMul roofline) is short when the ops around the
MatMuls take more than ~10 % of the time, so this says which ones do. The benchmark's
BERT-base model as spladekit runs it — prepared exact (the default), prepared fused, and fused
built from the same weights as safetensors — each in a session with ONNX Runtime's profiler on
(``levers.session``), running the benchmark's documents in spladekit's batches
(``paired.workload``: ≤ 32 rows within the default token budget) 1 + *repeats* times. Per op
type: kernel time and its share; for the MatMuls (weights: a 2-D right-hand side; attention:
the score and context products) also GFLOP/s, from the shapes the profiler records. Also the
share of padded tokens. Writes benchmarks/results/profile_docs.json and prints a markdown table.
"""

from __future__ import annotations

import json
import math
import sys
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent / "src"))

from levers import session  # noqa: E402
from machine import cpu_flags, cpu_model  # noqa: E402
from paired import Feed, arguments, fp32_graphs, save, taken, workload  # noqa: E402
from spladekit.pipeline.run import POOLED_OUTPUT  # noqa: E402

#: Op types whose FLOPs follow from their shapes: 2 × (output elements) × (inner dimension).
MATMULS = ("MatMul", "FusedMatMul", "Gemm")


def _shapes(types: list[dict[str, list[int]]]) -> list[list[int]]:
    return [next(iter(t.values())) for t in types]


def kernel_times(trace: Path) -> dict[str, dict[str, float]]:
    """Per op type (MatMuls split into weights and attention): seconds and, where known, GFLOP."""
    sums: dict[str, dict[str, float]] = defaultdict(lambda: {"s": 0.0, "gflop": 0.0})
    for event in json.loads(trace.read_text()):
        if event.get("cat") != "Node" or not event["name"].endswith("_kernel_time"):
            continue
        op = event["args"]["op_name"]
        key, gflop = op, 0.0
        if op in MATMULS:
            # A weight prepacked at load is gone from the recorded inputs: one input left.
            a, *b = _shapes(event["args"]["input_type_shape"])
            (out,) = _shapes(event["args"]["output_type_shape"])
            weights = not b or len(b[0]) == 2
            key = f"{op} (weights)" if weights else f"{op} (attention)"
            gflop = 2 * math.prod(out) * a[-1] / 1e9
        sums[key]["s"] += event["dur"] / 1e6
        sums[key]["gflop"] += gflop
    return dict(sums)


def profile(model: Path, docs: list[Feed], repeats: int, prefix: Path) -> dict[str, Any]:
    """1 + *repeats* passes over *docs*, all profiled (the first also grows the arena; ONNX
    Runtime's profiler cannot start later in a session): the op-type table, per pass."""
    s = session(model, profile=prefix)
    docs = taken(s, docs)
    for feed in docs * (1 + repeats):
        s.run([POOLED_OUTPUT], feed)
    sums = kernel_times(Path(s.end_profiling()))
    total = sum(v["s"] for v in sums.values())
    ops = {
        op: {
            "share": v["s"] / total,
            "seconds per pass": v["s"] / (1 + repeats),
            **({"GFLOP/s": v["gflop"] / v["s"]} if v["gflop"] else {}),
        }
        for op, v in sorted(sums.items(), key=lambda item: -item[1]["s"])
    }
    return {"kernel seconds per pass": total / (1 + repeats), "ops": ops}


def main() -> None:
    args = arguments(__doc__.split("\n")[0], repeats=2)
    folder, _, docs = workload(args)
    models = fp32_graphs(folder)
    real = sum(int(feed["attention_mask"].sum()) for feed in docs)
    padded = sum(feed["attention_mask"].size for feed in docs)
    report: dict[str, Any] = {
        "cpu": cpu_model(),
        "flags": cpu_flags(),
        "documents": args.docs,
        "batches": len(docs),
        "padded share of tokens": 1 - real / padded,
        "graphs": {},
    }
    with tempfile.TemporaryDirectory() as tmp:
        for i, (name, model) in enumerate(models.items()):
            report["graphs"][name] = profile(model, docs, args.repeats, Path(tmp) / str(i))
            print(f"  profiled {name}", file=sys.stderr)
    save(report, "profile_docs.json")
    names = list(report["graphs"])
    print("\n| op type | " + " | ".join(f"{n}: share, GFLOP/s" for n in names) + " |")
    print("| --- |" + " --- |" * len(names))
    order = list(report["graphs"][names[-1]]["ops"])
    for graph in names:
        order += [op for op in report["graphs"][graph]["ops"] if op not in order]
    for op in order:  # the ops at ≥ 1 % of some graph's time (the JSON has them all)
        rows = [report["graphs"][graph]["ops"].get(op) for graph in names]
        if max(row["share"] if row else 0.0 for row in rows) < 0.01:
            continue
        cells = [
            f"{100 * row['share']:.1f} %" + (f", {row['GFLOP/s']:.0f}" if "GFLOP/s" in row else "")
            if row
            else "–"
            for row in rows
        ]
        print(f"| {op} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
