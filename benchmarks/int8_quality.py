"""int8 judged on ranking quality: nDCG@10 of each int8 configuration vs fp32, SciFact test.

    python benchmarks/int8_quality.py [--model DIR] [--data DIR]

The real trained ``splade-tiny`` (../shared/data/checkpoints), twice: its ONNX export
prepared, and its safetensors built (``results`` and ``built_results``). Each is scored in
exact fp32 (pooled in-graph), and its fused copy — what ``quantize="int8"`` quantizes
(:func:`spladekit.model.variant.is_fused`; only the built one gets ``Attention``, so
``QAttention`` in int8) — quantized four ways with ONNX Runtime's dynamic quantization: a
weight scale per output channel or per matrix, and the vocabulary head quantized or kept fp32.
Each copy is scored with :func:`spladekit.evaluate` on the SciFact test split (300 queries,
5,183 abstracts, exact scoring). Writes
benchmarks/results/int8_quality.json and prints a markdown table. Timings in it are not
benchmarks (other jobs share the machine); the quality figures are what it is for.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
SHARED = ROOT.parent / "shared" / "data"
RESULTS = BENCH / "results"
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(BENCH))

from machine import cpu_flags, cpu_model, has_vnni  # noqa: E402
from spladekit import SpladeEncoder, evaluate  # noqa: E402
from spladekit.model.build import build_model  # noqa: E402
from spladekit.model.prepare import prepare_model  # noqa: E402
from spladekit.model.quantize import quantize_graph  # noqa: E402
from spladekit.model.variant import INT8, Int8Config, is_fused  # noqa: E402

CONFIGS = [
    Int8Config(per_channel=True, head=True),
    Int8Config(per_channel=True, head=False),
    Int8Config(per_channel=False, head=True),
    Int8Config(per_channel=False, head=False),
]
TOKENIZER_FILES = (
    "tokenizer.json",
    "config.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
)


def model_folder(source: Path, graph: Path, folder: Path) -> Path:
    """A model folder: *graph* as model.onnx (and its side file), the source's tokenizer files."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in TOKENIZER_FILES:
        if (source / name).exists():
            os.symlink(source / name, folder / name)
    os.symlink(graph, folder / "model.onnx")
    os.symlink(graph.parent / "model.onnx.data", folder / "model.onnx.data")
    return folder


def score(folder: Path, data: Path) -> dict[str, Any]:
    # optimize=False: the folder's graph is already pooled (prepared or quantized) and runs as is.
    encoder = SpladeEncoder(str(folder), optimize=False, long_documents="truncate")
    result = evaluate(encoder, data)
    return {
        "nDCG@10": result["nDCG@10"],
        "MRR@10": result["MRR@10"],
        "Recall@100": result["Recall@100"],
        "documents_per_second": result.documents_per_second,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path, default=SHARED / "checkpoints" / "splade-tiny-onnx")
    parser.add_argument(
        "--weights", type=Path, default=SHARED / "checkpoints" / "splade-tiny", help="safetensors"
    )
    parser.add_argument("--data", type=Path, default=SHARED / "scifact")
    parser.add_argument("--out", type=Path, default=RESULTS / "int8_quality.json")
    args = parser.parse_args()
    fused = is_fused(True, "int8")  # the graph quantize="int8" starts from
    export = args.model / "model.onnx"
    config, weights = args.weights / "config.json", args.weights / "model.safetensors"
    graphs = {
        "results": (args.model, prepare_model(export), prepare_model(export, fused=fused)),
        "built_results": (
            args.weights,
            build_model(config, weights),
            build_model(config, weights, fused=fused),
        ),
    }
    report: dict[str, Any] = {
        "model": str(args.model),
        "weights": str(args.weights),
        "dataset": str(args.data),
        "split": "test",
        "default": INT8.key,
        "int8_of": "fused" if fused else "exact",
        # int8 kernels round differently with and without VNNI, so the figures are the CPU's.
        "cpu": cpu_model(),
        "flags": cpu_flags(),
        "vnni": has_vnni(),
    }
    with tempfile.TemporaryDirectory() as tmp:
        for key, (source, exact, start) in graphs.items():
            report[key] = rows(source, exact, start, args.data, Path(tmp) / key)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    print(f"{report['cpu']}: {report['flags']}\n")
    print(table(report))


def rows(
    source: Path, exact: Path, start: Path, data: Path, work: Path
) -> dict[str, dict[str, Any]]:
    """fp32 (*exact*) and each int8 configuration of *start*, scored; tokenizer from *source*."""
    scored = {"fp32": score(model_folder(source, exact, work / "fp32"), data)}
    print(work.name, "fp32", scored["fp32"], file=sys.stderr)
    for config in CONFIGS:
        quantized = work / f"graph-{config.key}"
        quantize_graph(start, quantized, config)
        row = score(model_folder(source, quantized / "model.onnx", work / config.key), data)
        row["delta_nDCG@10"] = row["nDCG@10"] - scored["fp32"]["nDCG@10"]
        scored[config.key] = row
        print(work.name, config.key, row, file=sys.stderr)
    return scored


def table(report: dict[str, Any]) -> str:
    lines = [
        "| splade-tiny, SciFact test | nDCG@10 | Δ nDCG@10 vs fp32 | MRR@10 | Recall@100 "
        "| built: nDCG@10 | Δ vs fp32 |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    built = report.get("built_results", {})
    for name, row in report["results"].items():
        label = name if name == "fp32" else f"int8 {name}"
        cells = [f"{row['nDCG@10']:.4f}", _delta(row), f"{row['MRR@10']:.4f}"]
        cells.append(f"{row['Recall@100']:.4f}")
        other = built.get(name)
        cells += [f"{other['nDCG@10']:.4f}", _delta(other)] if other else ["–", "–"]
        lines.append(f"| {label} | {' | '.join(cells)} |")
    return "\n".join(lines)


def _delta(row: dict[str, Any]) -> str:
    return f"{row['delta_nDCG@10']:+.4f}" if "delta_nDCG@10" in row else "–"


if __name__ == "__main__":
    main()
