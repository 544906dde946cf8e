"""q, k and v as one MatMul (spladekit.model.pack) keep their numbers bit for bit.

The export pass packs exactly the sibling projections it may (a product read elsewhere, a
graph output or a lone projection stay as they are) and its inverse gives the three back;
prepared exports and exact built graphs run packed and give the vectors of the unpacked
graph, bit for bit, at a query's and at a documents batch's rows.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from spladekit.model.build import build_model
from spladekit.model.pack import pack_projections, unpack_projections
from spladekit.model.prepare import prepare_model
from spladekit.pipeline.pool import masked_max
from spladekit.pipeline.run import POOLED_OUTPUT

from support.tiny_checkpoint import write_checkpoint

HIDDEN = 48


def _siblings(*, product_read_twice: bool = False, lone: bool = False) -> onnx.ModelProto:
    """x → three MatMul + bias (widths 48, 48, 16; one bias added on the left) → Neg each."""
    rng = np.random.default_rng(0)
    widths = [HIDDEN] if lone else [HIDDEN, HIDDEN, 16]
    inits, nodes, outputs = [], [], []
    for i, width in enumerate(widths):
        inits += [
            numpy_helper.from_array(
                rng.normal(0, 0.2, (HIDDEN, width)).astype(np.float32), f"w{i}"
            ),
            numpy_helper.from_array(rng.normal(0, 1, width).astype(np.float32), f"b{i}"),
        ]
        nodes.append(helper.make_node("MatMul", ["x", f"w{i}"], [f"mm{i}"]))
        bias_first = i == 1
        pair = [f"b{i}", f"mm{i}"] if bias_first else [f"mm{i}", f"b{i}"]
        nodes.append(helper.make_node("Add", pair, [f"y{i}"]))
        nodes.append(helper.make_node("Neg", [f"y{i}"], [f"out{i}"]))  # sums are not outputs
        outputs.append(helper.make_tensor_value_info(f"out{i}", TensorProto.FLOAT, None))
    if product_read_twice:
        nodes.append(helper.make_node("Relu", ["mm0"], ["r"]))
        outputs.append(helper.make_tensor_value_info("r", TensorProto.FLOAT, None))
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["b", "t", HIDDEN])
    model = helper.make_model(
        helper.make_graph(nodes, "siblings", [x], outputs, inits),
        opset_imports=[helper.make_opsetid("", 17)],
    )
    model.ir_version = 8
    return model


def _outputs(model: onnx.ModelProto, x: np.ndarray) -> list[np.ndarray]:
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return [np.asarray(a) for a in session.run(None, {"x": x})]


def _count(model: onnx.ModelProto, op_type: str) -> int:
    return sum(node.op_type == op_type for node in model.graph.node)


def test_siblings_become_one_matmul_and_compute_the_same_bits() -> None:
    original, packed = _siblings(), _siblings()
    assert pack_projections(packed) == 1
    assert _count(packed, "MatMul") == 1 and _count(packed, "Split") == 1
    assert {t.name for t in packed.graph.initializer}.isdisjoint({"w0", "w1", "w2", "b0"})
    rng = np.random.default_rng(1)
    for shape in [(1, 1), (1, 2), (1, 20), (3, 40), (2, 300)]:
        x = rng.normal(size=(*shape, HIDDEN)).astype(np.float32)
        for got, expected in zip(_outputs(packed, x), _outputs(original, x), strict=True):
            np.testing.assert_array_equal(got, expected)
    assert pack_projections(packed) == 0  # packed once


def test_unpacking_gives_the_three_projections_back() -> None:
    original, model = _siblings(), _siblings()
    pack_projections(model)
    assert unpack_projections(model) == 1
    assert _count(model, "MatMul") == 3 and _count(model, "Split") == 0
    x = np.random.default_rng(2).normal(size=(2, 9, HIDDEN)).astype(np.float32)
    for got, expected in zip(_outputs(model, x), _outputs(original, x), strict=True):
        np.testing.assert_array_equal(got, expected)
    assert unpack_projections(model) == 0


@pytest.mark.parametrize(
    "variant", [{"product_read_twice": True}, {"lone": True}], ids=["read-outside", "lone"]
)
def test_projections_it_may_not_pack_are_left_alone(variant: dict) -> None:  # type: ignore[type-arg]
    model = _siblings(**variant)
    before = model.SerializeToString()
    packed = pack_projections(model)
    if variant.get("product_read_twice"):  # the other two still pack
        assert packed == 1 and "mm0" in {o for n in model.graph.node for o in n.output}
    else:
        assert packed == 0 and model.SerializeToString() == before


def _feed(session: ort.InferenceSession, rows: int, tokens: int) -> dict[str, np.ndarray]:
    ids = np.random.default_rng(rows).integers(5, 200, size=(rows, tokens), dtype=np.int64)
    mask = np.ones_like(ids)
    mask[-1, tokens // 2 :] = 0  # a padded row
    feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
    names = {i.name for i in session.get_inputs()}
    return {k: v for k, v in feed.items() if k in names}


def _same_bits(packed: Path, unpacked: onnx.ModelProto) -> None:
    """*packed* and the in-memory *unpacked* graph pool the same bits (query and batch rows)."""
    first = ort.InferenceSession(str(packed), providers=["CPUExecutionProvider"])
    second = ort.InferenceSession(unpacked.SerializeToString(), providers=["CPUExecutionProvider"])
    for rows, tokens in [(1, 2), (1, 20), (4, 60)]:
        feed = _feed(first, rows, tokens)
        np.testing.assert_array_equal(
            first.run([POOLED_OUTPUT], feed)[0], second.run([POOLED_OUTPUT], feed)[0]
        )


def test_a_prepared_export_runs_packed_with_the_exports_bits(
    shared_data: Path, tmp_path: Path
) -> None:
    source = shared_data / "checkpoints" / "splade-tiny-onnx" / "model.onnx"
    if not source.is_file():
        pytest.skip(f"{source} not in ../shared/data")
    prepared = prepare_model(source, cache_dir=tmp_path)
    model = onnx.load(str(prepared))
    assert _count(model, "Split") == 2  # splade-tiny's two layers
    assert unpack_projections(model) == 2
    _same_bits(prepared, model)
    export = ort.InferenceSession(str(source), providers=["CPUExecutionProvider"])
    session = ort.InferenceSession(str(prepared), providers=["CPUExecutionProvider"])
    for rows, tokens in [(1, 20), (4, 60)]:
        feed = _feed(export, rows, tokens)
        logits = export.run(None, feed)[0]
        lengths = feed["attention_mask"].sum(axis=1)
        pooled = session.run([POOLED_OUTPUT], _feed(session, rows, tokens))[0]
        np.testing.assert_array_equal(pooled, masked_max(logits, lengths))


def test_an_exact_built_graph_runs_packed_with_the_unpacked_bits(tmp_path: Path) -> None:
    folder = write_checkpoint(tmp_path / "m")
    built = build_model(folder / "config.json", folder / "model.safetensors", cache_dir=tmp_path)
    model = onnx.load(str(built))
    layers = _count(model, "Split")
    assert layers >= 1
    assert unpack_projections(model) == layers
    _same_bits(built, model)
