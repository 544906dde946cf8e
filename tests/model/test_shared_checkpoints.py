"""Parity with sentence-transformers (torch) on the shared checkpoints in ../shared/data.

``reference.jsonl`` holds the vectors sentence-transformers gives (SpladePooling("max"),
max_seq_length 512) for 203 documents and 50 queries. The built graph must give the same
index sets (entries below 1e-4 in the reference aside) and values within 1e-4. Skipped when
../shared is absent; ``benchmarks/checkpoint_parity.py`` prints the same figures as a table.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable
from pathlib import Path

import pytest

from spladekit import SparseVector, SpladeEncoder

from support.parity import compare

CHECKPOINTS = ["splade-tiny", "distilbert-random", "bert-random"]


def references(folder: Path, kind: str) -> tuple[list[str], list[dict[int, float]]]:
    rows = [json.loads(line) for line in (folder / "reference.jsonl").read_text().splitlines()]
    picked = [r for r in rows if r["kind"] == kind]
    assert picked, f"no {kind} rows in {folder}"
    return [r["text"] for r in picked], [
        dict(zip(r["indices"], r["values"], strict=True)) for r in picked
    ]


@pytest.fixture(scope="module")
def vectors(shared_data: Path) -> Callable[[str, str], list[SparseVector]]:
    """(checkpoint folder name, kind) → its vectors, each encoder loaded and run once."""
    encoders: dict[str, SpladeEncoder] = {}
    done: dict[tuple[str, str], list[SparseVector]] = {}

    def get(name: str, kind: str) -> list[SparseVector]:
        folder = shared_data / "checkpoints" / name
        if not folder.is_dir():
            pytest.skip(f"{folder} not in ../shared/data")
        if (name, kind) not in done:
            if name not in encoders:
                encoders[name] = SpladeEncoder(folder, long_documents="truncate")
            encoder = encoders[name]
            texts, _ = references(
                shared_data / "checkpoints" / "splade-tiny" if name.endswith("-onnx") else folder,
                kind,
            )
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # the truncation notice
                run = encoder.encode_documents if kind == "document" else encoder.encode_queries
                done[name, kind] = run(texts)
        return done[name, kind]

    return get


@pytest.mark.parametrize("kind", ["document", "query"])
@pytest.mark.parametrize("name", CHECKPOINTS)
def test_built_graph_matches_sentence_transformers(
    shared_data: Path, vectors: Callable[[str, str], list[SparseVector]], name: str, kind: str
) -> None:
    _, expected = references(shared_data / "checkpoints" / name, kind)
    mismatched, worst = compare(vectors(name, kind), expected)
    assert mismatched == 0
    assert worst <= 1e-4


def test_the_shared_checkpoints_are_built_not_exported(shared_data: Path) -> None:
    for name in CHECKPOINTS:
        folder = shared_data / "checkpoints" / name
        if not folder.is_dir():
            pytest.skip(f"{folder} not in ../shared/data")
        assert not list(folder.glob("*.onnx")) and (folder / "model.safetensors").is_file()


@pytest.mark.parametrize("kind", ["document", "query"])
def test_splade_tiny_built_matches_its_export(
    vectors: Callable[[str, str], list[SparseVector]], kind: str
) -> None:
    built, prepared = vectors("splade-tiny", kind), vectors("splade-tiny-onnx", kind)
    mismatched, worst = compare(built, [v.to_dict() for v in prepared])
    assert mismatched == 0
    assert worst <= 1e-4
