"""int8 weight scales per channel or per tensor: which makes queries and documents faster.

    flock /work/bench.lock python benchmarks/int8_granularity.py [--queries 300] [--repeats 3]

The benchmark's BERT-base model, its fused graph quantized both ways (the vocabulary head
too, as :data:`spladekit.model.variant.INT8` does). The machines here change speed by up to
~30 % from second to second (other tenants), more than the difference looked for, so one
process holds both sessions and they take turns query by query (and batch by batch): the
paired method of ``paired.py``. Idle threads do not spin there, which makes both slower by
the same wake-ups, so the ratio still says which kernels are faster. Writes benchmarks/results/int8_granularity.json.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent / "src"))

from levers import session  # noqa: E402
from machine import cpu_flags, cpu_model  # noqa: E402
from paired import arguments, measure, pooled_runs, save, workload  # noqa: E402
from spladekit.model.prepare import prepare_model  # noqa: E402
from spladekit.model.quantize import quantize_graph  # noqa: E402
from spladekit.model.variant import Int8Config  # noqa: E402

CONFIGS = {
    "per-channel": Int8Config(per_channel=True, head=True),
    "per-tensor": Int8Config(per_channel=False, head=True),
}


def main() -> None:
    args = arguments(__doc__.split("\n")[0], repeats=3)
    folder, queries, docs = workload(args)
    fused = prepare_model(folder / "model.onnx", fused=True)
    with tempfile.TemporaryDirectory() as tmp:
        sessions = {}
        for name, config in CONFIGS.items():
            quantize_graph(fused, Path(tmp) / name, config)
            sessions[name] = session(Path(tmp) / name / "model.onnx", spinning=False)
        runs = pooled_runs(sessions)
        report = {"cpu": cpu_model(), "flags": cpu_flags()}
        report.update(measure(runs, queries, docs, args.repeats))
    save(report, "int8_granularity.json")


if __name__ == "__main__":
    main()
