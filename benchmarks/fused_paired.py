"""The exact graph against the fused ones (``optimize="fused"``), paired in one process.

    flock /work/bench.lock python benchmarks/fused_paired.py [--queries 300] [--repeats 2]

``run.py`` times each graph in its own process, and between processes the machine's speed
moves by more than fused kernels gain (one run read the fused graph's documents at 85 % of
the roofline and the exact one's at 89 %, the run before on the same kind of CPU 89 % and
88 %). Here the benchmark's BERT-base model — prepared exact (the default), prepared fused,
and fused built from the same weights as safetensors — is held in one process, the three
sessions taking turns query by query and batch by batch (the paired method of ``paired.py``),
each time compared with the exact graph's on the same input. Also the largest difference of
the fused graphs' pooled logits from the exact one's on those inputs. Writes
benchmarks/results/fused_paired.json.
"""

from __future__ import annotations

import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent / "src"))

from levers import session  # noqa: E402
from machine import cpu_flags, cpu_model  # noqa: E402
from paired import (  # noqa: E402
    arguments,
    fp32_graphs,
    max_differences,
    measure,
    pooled_runs,
    save,
    workload,
)


def main() -> None:
    args = arguments(__doc__.split("\n")[0], repeats=2)
    folder, queries, docs = workload(args)
    sessions = {name: session(path, spinning=False) for name, path in fp32_graphs(folder).items()}
    runs = pooled_runs(sessions)
    report = {
        "cpu": cpu_model(),
        "flags": cpu_flags(),
        "max abs difference of pooled logits from the exact graph": max_differences(
            runs, queries[:50] + docs
        ),
    }
    report.update(measure(runs, queries, docs, args.repeats))
    save(report, "fused_paired.json")


if __name__ == "__main__":
    main()
