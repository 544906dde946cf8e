"""Single-query latency, lever by lever: what each ONNX Runtime setting does to one fp32 query.

    flock /work/bench.lock python benchmarks/levers.py [--queries 40] [--rounds 3]

Every configuration runs the same distinct SciFact claims (one ``run`` each, batch of one, ids
already tokenized so only ONNX Runtime is timed), the configurations alternating round by
round, each keeping its best p50 (other load only ever slows a round). Graphs: the benchmark's
BERT-base export as exported (ONNX Runtime's defaults: the "bare forward"), its prepared copy
(spladekit's default, the reference row), the prepared copy on fused kernels, and the graphs
built from the same weights as safetensors (exact, fused). Session levers, each alone on the
prepared graph: no CPU memory arena, memory pattern on, no spinning of idle threads, output
bound to a preallocated buffer (IOBinding), one intra-op thread, and the packed weights left on
4 KiB pages (spladekit moves them onto 2 MiB pages, :mod:`spladekit.pipeline.huge_pages`; here
that move is done before timing, and each row reports the MiB it moved). Writes
benchmarks/results/levers.json and prints a markdown table.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent / "src"))

from base_checkpoint import build_checkpoint  # noqa: E402
from build_model import build_folder  # noqa: E402
from corpus import sample_queries  # noqa: E402
from machine import huge_mib  # noqa: E402
from spladekit.pipeline.run import ort_session  # noqa: E402

RESULTS = BENCH / "results"


def session(path: Path, *, spladekit: bool = True, **levers: Any) -> Any:
    """An ONNX Runtime session on *path*: spladekit's settings (or ORT's defaults), then *levers*."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    if spladekit:  # as spladekit.pipeline.run.MaskedLMSession sets them
        options.intra_op_num_threads = levers.get("threads", 2)
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.enable_mem_pattern = levers.get("mem_pattern", False)
        options.enable_cpu_mem_arena = levers.get("arena", True)
        if not levers.get("spinning", True):
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        if levers.get("profile"):  # ONNX Runtime's profiler, its JSON named from this prefix
            options.enable_profiling = True
            options.profile_file_prefix = str(levers["profile"])
    if spladekit:  # the huge-page move done before timing: steady state
        huge = "now" if levers.get("huge_pages", True) else False
        return ort_session(path, options, ["CPUExecutionProvider"], huge_pages=huge)
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


Runner = tuple[Callable[[np.ndarray], None], int]


def runner(path: Path, *, bind: bool = False, **levers: Any) -> Runner:
    """One query's forward on a fresh session (``run`` or, with *bind*, ``run_with_iobinding``),
    and the MiB of huge pages making the session added."""
    import onnxruntime as ort

    before = huge_mib()
    s = session(path, **levers)
    moved = huge_mib() - before
    names = {i.name for i in s.get_inputs()}
    output = s.get_outputs()[0].name

    def feed(ids: np.ndarray) -> dict[str, np.ndarray]:
        f = {"input_ids": ids, "attention_mask": np.ones_like(ids)}
        if "token_type_ids" in names:
            f["token_type_ids"] = np.zeros_like(ids)
        return f

    if not bind:
        return (lambda ids: s.run([output], feed(ids))), moved
    vocab = s.get_outputs()[0].shape[-1]
    out = ort.OrtValue.ortvalue_from_numpy(np.empty((1, vocab), dtype=np.float32))
    binding = s.io_binding()

    def bound(ids: np.ndarray) -> None:
        for name, array in feed(ids).items():
            binding.bind_cpu_input(name, array)
        binding.bind_ortvalue_output(output, out)
        s.run_with_iobinding(binding)

    return bound, moved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--queries", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=RESULTS / "levers.json")
    args = parser.parse_args()
    from tokenizers import Tokenizer

    from spladekit.model.build import build_model
    from spladekit.model.prepare import prepare_model

    export = build_folder("base") / "model.onnx"
    weights = build_checkpoint("base")
    prepared = prepare_model(export)
    fused = prepare_model(export, fused=True)
    built = build_model(weights / "config.json", weights / "model.safetensors")
    built_fused = build_model(weights / "config.json", weights / "model.safetensors", fused=True)
    configs: dict[str, Callable[[], Runner]] = {
        "bare forward (export, ORT defaults)": lambda: runner(export, spladekit=False),
        "prepared (spladekit default)": lambda: runner(prepared),
        "prepared, no CPU memory arena": lambda: runner(prepared, arena=False),
        "prepared, memory pattern on": lambda: runner(prepared, mem_pattern=True),
        "prepared, no spinning": lambda: runner(prepared, spinning=False),
        "prepared, IOBinding, preallocated output": lambda: runner(prepared, bind=True),
        "prepared, 1 thread": lambda: runner(prepared, threads=1),
        "prepared, 4 KiB pages (no huge-page move)": lambda: runner(prepared, huge_pages=False),
        "prepared + fused (transformer optimizer)": lambda: runner(fused),
        "built from safetensors": lambda: runner(built),
        "built from safetensors, fused": lambda: runner(built_fused),
    }
    tokenizer = Tokenizer.from_file(str(export.parent / "tokenizer.json"))
    texts = sample_queries(args.queries + 3)
    ids = [np.array([tokenizer.encode(t).ids], dtype=np.int64) for t in texts]
    best: dict[str, dict[str, float]] = {}
    p50s: dict[str, list[float]] = {}
    huge: dict[str, list[int]] = {}
    for _ in range(args.rounds):
        for name, make in configs.items():
            run, moved = make()
            for warm in ids[:3]:
                run(warm)
            times = []
            for query in ids[3:]:
                begin = time.perf_counter()
                run(query)
                times.append(1000 * (time.perf_counter() - begin))
            del run
            p50, p95 = statistics.median(times), float(np.percentile(times, 95))
            p50s.setdefault(name, []).append(p50)
            huge.setdefault(name, []).append(moved)
            if name not in best or p50 < best[name]["p50_ms"]:
                best[name] = {"p50_ms": p50, "p95_ms": p95}
            line = f"  {name:<44} p50 {p50:6.2f} ms  p95 {p95:6.2f} ms  {moved} MiB huge"
            print(line, file=sys.stderr)
    # Against the bare forward of the same round (seconds apart), then the median over rounds:
    # the machine's speed drifts between rounds more than most levers move a query.
    bare = p50s["bare forward (export, ORT defaults)"]
    for name, row in best.items():
        row["round_ratios"] = [a / b for a, b in zip(p50s[name], bare, strict=True)]
        row["ratio_to_bare"] = statistics.median(row["round_ratios"])
        row["huge_pages_mib"] = huge[name]  # per round

    report = {"queries": args.queries, "rounds": args.rounds, "results": best}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    print(
        "| one fp32 query, BERT-base shape | best p50 (ms) | its p95 (ms) "
        "| p50 / bare forward, median of rounds | per round | MiB moved to huge pages |"
    )
    print("| --- | --- | --- | --- | --- | --- |")
    for name, row in best.items():
        rounds = " ".join(f"{x:.2f}" for x in row["round_ratios"])
        mib = " ".join(str(x) for x in row["huge_pages_mib"])
        print(
            f"| {name} | {row['p50_ms']:.1f} | {row['p95_ms']:.1f} "
            f"| {row['ratio_to_bare']:.2f}× | {rounds} | {mib} |"
        )


if __name__ == "__main__":
    main()
