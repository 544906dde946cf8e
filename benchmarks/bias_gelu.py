"""int8 with ``BiasGelu`` or with ``Add`` + ``Gelu`` (the bias folded into the int8 MatMul).

    flock /work/bench.lock python benchmarks/bias_gelu.py [--queries 300] [--repeats 2]

The benchmark's BERT-base model, its fused graph quantized as ``quantize="int8"`` does
(:data:`spladekit.model.variant.INT8`), once as ONNX Runtime's quantizer leaves it and once
with each ``BiasGelu`` split (:func:`spladekit.model.quantize.split_bias_gelu`, what spladekit
writes). Both sessions in one process taking turns query by query and batch by batch (the
paired method of ``paired.py``); the vectors of 50 queries and of every batch are compared
bit for bit. Writes benchmarks/results/bias_gelu.json.
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
from paired import arguments, measure, pooled_runs, same_vectors, save, workload  # noqa: E402
from spladekit.model import graph  # noqa: E402
from spladekit.model.prepare import prepare_model  # noqa: E402
from spladekit.model.quantize import quantized_model, split_bias_gelu  # noqa: E402


def main() -> None:
    args = arguments(__doc__.split("\n")[0], repeats=2)
    folder, queries, docs = workload(args)
    fused = prepare_model(folder / "model.onnx", fused=True)
    with tempfile.TemporaryDirectory() as tmp:
        sessions = {}
        for name, split in (("BiasGelu", False), ("Add + Gelu", True)):
            model = quantized_model(fused, Path(tmp) / name)
            if split:
                split_bias_gelu(model)
            graph.write_model(model, Path(tmp) / name)
            sessions[name] = session(Path(tmp) / name / "model.onnx", spinning=False)
        runs = pooled_runs(sessions)
        same = same_vectors(runs, queries[:50] + docs)
        report = {"cpu": cpu_model(), "flags": cpu_flags(), "bit-identical vectors": same}
        report.update(measure(runs, queries, docs, args.repeats))
    save(report, "bias_gelu.json")


if __name__ == "__main__":
    main()
