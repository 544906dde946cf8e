"""q, k and v as one MatMul or as three: what spladekit.model.pack gains, paired in one process.

    flock /work/bench.lock python benchmarks/packed_qkv.py [--queries 300] [--repeats 2]

The benchmark's BERT-base model in its exact fp32 graphs: the prepared export and the graph
built from the same weights as safetensors (``base_checkpoint.py``). Each runs packed, as
spladekit writes it, and unpacked (``spladekit.model.pack.unpack_projections`` of the same
file: three MatMul + Add per layer, the graph before this lever), the two sessions taking
turns query by query and batch by batch, the order flipping each time (the method and its
reasons: benchmarks/paired.py); idle threads do not spin, and both sessions stay on
4 KiB pages (a huge-page move in a process holding two models is partial: huge_pages.py).
The vectors of the two are compared bit for bit. Writes benchmarks/results/packed_qkv.json.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent / "src"))

from base_checkpoint import build_checkpoint  # noqa: E402
from levers import session  # noqa: E402
from machine import cpu_flags, cpu_model  # noqa: E402
from paired import arguments, measure, pooled_runs, same_vectors, save, workload  # noqa: E402
from spladekit.model import graph  # noqa: E402
from spladekit.model.build import build_model  # noqa: E402
from spladekit.model.pack import unpack_projections  # noqa: E402
from spladekit.model.prepare import prepare_model  # noqa: E402


def unpacked_copy(packed: Path, folder: Path) -> tuple[Path, int]:
    """*packed* with its projections split back into three, written to *folder*."""
    model = graph.load_graph(packed)
    sets = unpack_projections(model)
    graph.write_model(model, folder)
    return folder / "model.onnx", sets


def main() -> None:
    args = arguments(__doc__.split("\n")[0], repeats=2)
    folder, queries, docs = workload(args)
    weights = build_checkpoint("base")
    graphs = {
        "prepared export (exact)": prepare_model(folder / "model.onnx"),
        "built from safetensors (exact)": build_model(
            weights / "config.json", weights / "model.safetensors"
        ),
    }
    report: dict[str, Any] = {"cpu": cpu_model(), "flags": cpu_flags()}
    for name, packed_path in graphs.items():
        with tempfile.TemporaryDirectory(dir=BENCH / ".cache") as tmp:
            plain_path, sets = unpacked_copy(packed_path, Path(tmp))
            plain = session(plain_path, spinning=False, huge_pages=False)
            packed = session(packed_path, spinning=False, huge_pages=False)
            runs = pooled_runs({"three MatMuls": plain, "one packed MatMul": packed})
            same = same_vectors(runs, queries[:50] + docs)
            report[name] = {
                "packed_sets": sets,
                "bit_identical (50 queries, all batches)": same,
                **measure(runs, queries, docs, args.repeats),
            }
            print(name, json.dumps(report[name]), file=sys.stderr, flush=True)
            del plain, packed, runs
    save(report, "packed_qkv.json")


if __name__ == "__main__":
    main()
