"""Built graphs against sentence-transformers (torch): the parity table for the shared checkpoints.

For each checkpoint in ../shared/data/checkpoints with a reference.jsonl (made by
sentence-transformers 6.2 with torch, SpladePooling("max"), max_seq_length 512), spladekit
builds the graph from model.safetensors and encodes the same 203 documents and 50 queries
(``long_documents="truncate"``, as the reference truncates at 512 tokens). Reported per kind:
texts whose index set differs (entries below 1e-4 in the reference not counted) and the max
|Δvalue| over all entries. Then splade-tiny built from weights against its ONNX export.

    python benchmarks/checkpoint_parity.py
"""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path

BENCH = Path(__file__).resolve().parent
CHECKPOINTS = BENCH.parent.parent / "shared" / "data" / "checkpoints"
FLOOR = 1e-4


def compare(got: list[dict[int, float]], expected: list[dict[int, float]]) -> tuple[int, float]:
    mismatched, worst = 0, 0.0
    for mine, reference in zip(got, expected, strict=True):
        missing = {i for i, v in reference.items() if v >= FLOOR} - mine.keys()
        extra = {i for i, v in mine.items() if v >= FLOOR} - reference.keys()
        mismatched += bool(missing or extra)
        for index in mine.keys() | reference.keys():
            worst = max(worst, abs(mine.get(index, 0.0) - reference.get(index, 0.0)))
    return mismatched, worst


def encode(model: Path, texts: list[str], kind: str, **options: object) -> list[dict[int, float]]:
    from spladekit import SpladeEncoder

    encoder = SpladeEncoder(model, long_documents="truncate", **options)  # type: ignore[arg-type]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the truncation notice
        vectors = (
            encoder.encode_documents(texts) if kind == "document" else encoder.encode_queries(texts)
        )
    return [v.to_dict() for v in vectors]


def main() -> None:
    if not CHECKPOINTS.is_dir():
        sys.exit(f"no shared checkpoints at {CHECKPOINTS}")
    print("| checkpoint | kind | texts | index-set mismatches | max abs delta |")
    print("|---|---|---|---|---|")
    for folder in sorted(p for p in CHECKPOINTS.iterdir() if (p / "reference.jsonl").is_file()):
        rows = [json.loads(line) for line in (folder / "reference.jsonl").read_text().splitlines()]
        for kind in ("document", "query"):
            picked = [r for r in rows if r["kind"] == kind]
            expected = [dict(zip(r["indices"], r["values"], strict=True)) for r in picked]
            got = encode(folder, [r["text"] for r in picked], kind, format="safetensors")
            mismatched, worst = compare(got, expected)
            print(
                f"| {folder.name} | {'documents' if kind == 'document' else 'queries'} | {len(picked)} | {mismatched} | {worst:.2e} |"
            )
    tiny, export = CHECKPOINTS / "splade-tiny", CHECKPOINTS / "splade-tiny-onnx"
    rows = [json.loads(line) for line in (tiny / "reference.jsonl").read_text().splitlines()]
    for kind in ("document", "query"):
        texts = [r["text"] for r in rows if r["kind"] == kind]
        built = encode(tiny, texts, kind, format="safetensors")
        prepared = encode(export, texts, kind)
        mismatched, worst = compare(built, prepared)
        print(
            f"| splade-tiny built vs splade-tiny-onnx prepared | {'documents' if kind == 'document' else 'queries'} | {len(texts)} | {mismatched} | {worst:.2e} |"
        )


if __name__ == "__main__":
    main()
