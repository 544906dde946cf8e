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

import numpy as np

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent / "src"))

from levers import session  # noqa: E402
from machine import cpu_flags, cpu_model  # noqa: E402
from paired import Feed, Run, arguments, fp32_graphs, measure, save, workload  # noqa: E402
from spladekit.pipeline.run import POOLED_OUTPUT  # noqa: E402


def pooled_run(path: Path) -> Run:
    """A session on *path* (idle threads not spinning) as one feed → its pooled logits, given
    only the inputs it takes (a built graph has no token_type_ids)."""
    s = session(path, spinning=False)
    names = {i.name for i in s.get_inputs()}
    return lambda feed: s.run([POOLED_OUTPUT], {k: v for k, v in feed.items() if k in names})[0]


def largest_difference(runs: dict[str, Run], feeds: list[Feed]) -> dict[str, float]:
    """Per graph after the first: the max |Δ| of its pooled logits from the first's on *feeds*."""
    first, *others = runs
    return {
        name: max(float(np.abs(runs[name](f) - runs[first](f)).max()) for f in feeds)
        for name in others
    }


def main() -> None:
    args = arguments(__doc__.split("\n")[0], repeats=2)
    folder, queries, docs = workload(args)
    runs = {name: pooled_run(path) for name, path in fp32_graphs(folder).items()}
    report = {
        "cpu": cpu_model(),
        "flags": cpu_flags(),
        "max abs difference of pooled logits from the exact graph": largest_difference(
            runs, queries[:50] + docs
        ),
    }
    report.update(measure(runs, queries, docs, args.repeats))
    save(report, "fused_paired.json")


if __name__ == "__main__":
    main()
