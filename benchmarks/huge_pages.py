"""Packed weights on 2 MiB pages or on 4 KiB pages: what spladekit.pipeline.huge_pages gains.

    flock /work/bench.lock python benchmarks/huge_pages.py [--queries 300] [--repeats 2]

The benchmark's BERT-base model as spladekit runs it: the exact prepared graph (fp32), its
fused copy and the int8 copy (``spladekit.model.variant.INT8``). For each, one process holds
two sessions made by ``spladekit.pipeline.run.ort_session``, one with ``huge_pages=False``
and one with ``huge_pages="now"`` (moved before timing starts), and they take turns query by
query and batch by batch, the order flipping each time (the method and its reasons:
benchmarks/paired.py); each time is compared with the other session's on the same
input a moment apart, and the median of those ratios is reported, with the MiB on huge pages.
Idle threads do not spin (two spinning pools in one process take each other's cores).
Writes benchmarks/results/huge_pages.json.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent / "src"))

from levers import session  # noqa: E402
from machine import cpu_flags, cpu_model, huge_mib  # noqa: E402
from paired import arguments, measure, pooled_runs, save, workload  # noqa: E402
from spladekit.model.prepare import prepare_model  # noqa: E402


def main() -> None:
    args = arguments(__doc__.split("\n")[0], repeats=2)
    folder, queries, docs = workload(args)
    graphs = {
        "fp32 (exact)": prepare_model(folder / "model.onnx"),
        "fp32 fused": prepare_model(folder / "model.onnx", fused=True),
        "int8": prepare_model(folder / "model.onnx", quantize="int8"),
    }
    report: dict[str, Any] = {"cpu": cpu_model(), "flags": cpu_flags()}
    for name, path in graphs.items():
        plain = session(path, spinning=False, huge_pages=False)
        before = huge_mib()
        huge = session(path, spinning=False)  # its huge-page move done before it returns
        moved = huge_mib() - before
        runs = pooled_runs({"4 KiB pages": plain, "huge pages": huge})
        report[name] = {"huge_pages_mib": moved, **measure(runs, queries, docs, args.repeats)}
        print(name, json.dumps(report[name]), file=sys.stderr, flush=True)
        del plain, huge, runs
    save(report, "huge_pages.json")


if __name__ == "__main__":
    main()
