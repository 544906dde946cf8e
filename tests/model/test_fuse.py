"""optimize="fused": ONNX Runtime's fused kernels, within 1e-4 of the exact graph.

On the real splade-tiny (its ONNX export through the transformer optimizer, and the graph
built from its safetensors with fused ops emitted directly) and on the random-weight parity
checkpoints: every vector within 1e-4 of the exact graph's, with the same index sets (entries
of at least 1e-4). Also: a failing optimizer leaves the exact graph (with a warning), and an
``optimize`` that is no level is a typed error naming it.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import onnx
import pytest

from spladekit import SparseVector, SpladeEncoder
from spladekit.errors import InputError, InputTypeError
from spladekit.model import fuse
from spladekit.model.build import build_model
from spladekit.model.fuse import TOLERANCE, fused_ops, split_unsqueezes
from spladekit.model.prepare import prepare_model

from support.parity import compare

TEXTS = [
    "Chandrayaan-3 landed on the Moon's surface on 23rd August 2023.",
    "the moon",
    "Vitamin D deficiency is associated with an increased risk of tuberculosis. " * 5,
    "0-dimensional biomaterials show inductive properties.",
]


def vectors(encoder: SpladeEncoder) -> tuple[list[SparseVector], list[SparseVector]]:
    return encoder.encode_documents(TEXTS), [encoder.encode_query(t) for t in TEXTS]


def assert_close(fused: SpladeEncoder, exact: SpladeEncoder) -> None:
    for got, expected in zip(vectors(fused), vectors(exact), strict=True):
        mismatched, worst = compare(got, [v.to_dict() for v in expected])
        assert mismatched == 0
        assert worst <= TOLERANCE


def running_graph(encoder: SpladeEncoder) -> onnx.ModelProto:
    return onnx.load(str(encoder._documents.session.path), load_external_data=False)


def op_types(encoder: SpladeEncoder) -> set[str]:
    return {node.op_type for node in running_graph(encoder).graph.node}


def graph_ops(encoder: SpladeEncoder) -> dict[str, int]:
    return fused_ops(running_graph(encoder))


@pytest.mark.parametrize(
    "name", ["splade-tiny-onnx", "splade-tiny", "bert-random", "distilbert-random"]
)
def test_fused_vectors_are_within_tolerance_of_the_exact_graph(
    shared_data: Path, name: str
) -> None:
    folder = shared_data / "checkpoints" / name
    exact = SpladeEncoder(folder, long_documents="truncate")
    fused = SpladeEncoder(folder, long_documents="truncate", optimize="fused")
    ops = graph_ops(fused)
    assert ops["BiasGelu"] > 0
    # Left out as slower than Add + Add + LayerNormalization (spladekit.pipeline.run).
    assert "SkipLayerNormalization" not in op_types(fused)
    assert not any(graph_ops(exact).values())
    if name != "splade-tiny-onnx":  # built graphs emit Attention; the optimizer may not match it
        assert ops["Attention"] == 2
    assert_close(fused, exact)


def test_a_failing_optimizer_leaves_the_exact_graph(
    shared_data: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(model: onnx.ModelProto) -> onnx.ModelProto:
        raise RuntimeError("pattern trouble")

    monkeypatch.setattr(fuse, "_optimize", broken)
    source = shared_data / "checkpoints" / "splade-tiny-onnx" / "model.onnx"
    with caplog.at_level(logging.WARNING, logger="spladekit.model.fuse"):
        path = prepare_model(source, fused=True, cache_dir=tmp_path)
    assert "pattern trouble" in caplog.text
    assert not any(fused_ops(onnx.load(str(path), load_external_data=False)).values())


def test_a_fused_graph_beyond_tolerance_is_not_kept(
    shared_data: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(fuse, "_difference", lambda exact, fused: 1.0)
    source = shared_data / "checkpoints" / "splade-tiny-onnx" / "model.onnx"
    with caplog.at_level(logging.WARNING, logger="spladekit.model.fuse"):
        path = prepare_model(source, fused=True, cache_dir=tmp_path)
    assert "keeping exact" in caplog.text
    assert not any(fused_ops(onnx.load(str(path), load_external_data=False)).values())
    exact = prepare_model(source, cache_dir=tmp_path)
    assert (path.parent / "model.onnx.data").read_bytes() == (
        exact.parent / "model.onnx.data"
    ).read_bytes()


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ("fast", InputError),
        ("FUSED", InputError),
        (1, InputTypeError),
        (None, InputTypeError),
        (2.0, InputTypeError),
    ],
)
def test_an_optimize_that_is_no_level_is_a_typed_error(
    tiny_model_dir: Path, value: object, error: type[Exception]
) -> None:
    with pytest.raises(error, match=r"optimize must be True, False or 'fused'"):
        SpladeEncoder(tiny_model_dir, optimize=value)  # type: ignore[arg-type]


def test_fused_on_a_graph_with_nothing_to_fuse_runs_the_exact_one(tiny_model_dir: Path) -> None:
    exact = SpladeEncoder(tiny_model_dir)
    fused = SpladeEncoder(tiny_model_dir, optimize="fused")
    for got, expected in zip(vectors(fused), vectors(exact), strict=True):
        for a, b in zip(got, expected, strict=True):
            assert np.array_equal(a.indices, b.indices)
            assert np.array_equal(a.values, b.values)


def test_the_optimizer_fuses_attention_behind_a_one_step_unsqueeze_mask(
    shared_data: Path, tmp_path: Path
) -> None:
    """An exact built graph writes the mask as one Unsqueeze (axes [1, 2]), as many exports do."""
    folder = shared_data / "checkpoints" / "splade-tiny"
    exact = build_model(folder / "config.json", folder / "model.safetensors", cache_dir=tmp_path)
    assert split_unsqueezes(onnx.load(str(exact), load_external_data=False)) == 1
    fuse.fuse_graph(exact, tmp_path / "fused")
    ops = fused_ops(onnx.load(str(tmp_path / "fused" / "model.onnx"), load_external_data=False))
    assert ops["Attention"] == 2
    assert ops["BiasGelu"] == 3  # two layers and the MLM head's transform
