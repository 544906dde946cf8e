"""What int8 can gain on this CPU: ONNX Runtime's int8 vs fp32 MatMul at BERT-base shapes.

    flock /work/bench.lock python benchmarks/int8_kernels.py

One MatMul per shape a BERT-base layer and the pooled head run (768→768, 768→3072, 3072→768,
and one 768→3815 vocabulary block), fp32 and dynamically quantized (per channel and per
tensor, as ``quantize="int8"`` makes them), at a single query's rows (20 tokens) and a
documents batch's (1,020). The three take turns, each keeps its best median of three rounds.
Without VNNI, ONNX Runtime's AVX2 int8 kernels do about 1.6x the fp32 work per second (with
VNNI and AMX, 3-8x), which bounds what int8 can do for a query whose time is all MatMul. Writes
benchmarks/results/int8_kernels.json and prints a markdown table.
"""

from __future__ import annotations

import json
import logging
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from machine import cpu_flags, cpu_model, has_vnni  # noqa: E402
from worker import matmul_model  # noqa: E402

RESULTS = BENCH / "results"
SHAPES = [(768, 768), (768, 3072), (3072, 768), (768, 3815)]
ROWS = [20, 1020]


def main() -> None:
    import onnxruntime as ort
    from onnxruntime.quantization import QuantType, quantize_dynamic

    logging.getLogger().setLevel(logging.ERROR)  # its "consider pre-processing" advice
    rng = np.random.default_rng(0)
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for k, n in SHAPES:
            fp32 = matmul_model(k, n)  # the roofline probe's graph
            paths = {"fp32": fp32}
            for per_channel in (True, False):
                name = "int8 per-channel" if per_channel else "int8 per-tensor"
                paths[name] = Path(tmp) / f"{fp32.stem}-{per_channel}.onnx"
                quantize_dynamic(
                    fp32, paths[name], per_channel=per_channel, weight_type=QuantType.QInt8
                )
            options = ort.SessionOptions()
            options.intra_op_num_threads = 2
            sessions = {
                name: ort.InferenceSession(str(p), options, providers=["CPUExecutionProvider"])
                for name, p in paths.items()
            }
            for m in ROWS:
                x = rng.normal(size=(m, k)).astype(np.float32)
                repeats = 200 if m < 100 else 15
                best: dict[str, float] = {}
                for session in sessions.values():
                    session.run(None, {"x": x})
                for _ in range(3):
                    for name, session in sessions.items():
                        times = []
                        for _ in range(repeats):
                            begin = time.perf_counter()
                            session.run(None, {"x": x})
                            times.append(time.perf_counter() - begin)
                        best[name] = min(best.get(name, np.inf), float(np.median(times)))
                results[f"{m}x{k}x{n}"] = {
                    f"{name} GOP/s": 2 * m * k * n / seconds / 1e9 for name, seconds in best.items()
                }
    report = {
        "cpu": cpu_model(),
        "flags": cpu_flags(),
        "vnni": has_vnni(),
        "results": results,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "int8_kernels.json").write_text(json.dumps(report, indent=2))
    print(f"{report['cpu']}: {report['flags']}, VNNI: {'yes' if report['vnni'] else 'no'}\n")
    print("| rows x in x out | fp32 GOP/s | int8 per-channel | int8 per-tensor | int8 / fp32 |")
    print("| --- | --- | --- | --- | --- |")
    for shape, row in results.items():
        fp, pc, pt = (row[f"{n} GOP/s"] for n in ("fp32", "int8 per-channel", "int8 per-tensor"))
        print(f"| {shape} | {fp:.0f} | {pc:.0f} | {pt:.0f} | {pc / fp:.2f}x |")


if __name__ == "__main__":
    main()
