"""Feed-forward layers widened to a non-aliasing stride keep their numbers bit for bit.

The export pass (:func:`pad_feed_forward`) pads exactly the layers it can follow to a zero
padded activation, and leaves any other graph as it was; prepared exports and built graphs
with a 1024-wide inner layer (a 4 KiB row) come out padded and give the same vectors as
unpadded, bit for bit.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from spladekit.model import stride
from spladekit.model.build import build_model
from spladekit.model.load import runnable_graph
from spladekit.model.stride import PAD, pad_feed_forward, pad_width, padded_width
from spladekit.pipeline.pool import masked_max
from spladekit.pipeline.run import POOLED_OUTPUT, MaskedLMSession

from support.tiny_checkpoint import HIDDEN as BERT_HIDDEN
from support.tiny_checkpoint import bert_weights, write_checkpoint
from support.tiny_model import erf_gelu_nodes, tiny_vocab, write_model_folder

HIDDEN, WIDE = 8, 1024


@pytest.mark.parametrize(
    ("width", "runs_at"),
    [(3072, 3072 + PAD), (1024, 1024 + PAD), (4096, 4096 + PAD), (768, 768), (512, 512), (37, 37)],
)
def test_only_widths_of_whole_4kib_rows_are_padded(width: int, runs_at: int) -> None:
    assert padded_width(width) == runs_at


def test_torch_layout_weights_are_padded_with_zeros() -> None:
    rng = np.random.default_rng(0)
    up, bias, down = (rng.normal(size=s).astype(np.float32) for s in [(WIDE, 4), WIDE, (4, WIDE)])
    w_up, b_up, w_down = pad_width(up, bias, down)
    assert w_up.shape == (WIDE + PAD, 4) and b_up.shape == (WIDE + PAD,)
    assert w_down.shape == (4, WIDE + PAD)
    assert not w_up[WIDE:].any() and not b_up[WIDE:].any() and not w_down[:, WIDE:].any()
    np.testing.assert_array_equal(w_down[:, :WIDE], down)


def _layer(activation: str = "erf", *, also_output: bool = False) -> onnx.ModelProto:
    """x → MatMul(W1) + b → activation → MatMul(W2) + b2, constants as torch writes them."""
    rng = np.random.default_rng(1)
    inits = [
        numpy_helper.from_array(rng.normal(0, 0.5, (HIDDEN, WIDE)).astype(np.float32), "w1"),
        numpy_helper.from_array(rng.normal(0, 0.5, WIDE).astype(np.float32), "b1"),
        numpy_helper.from_array(rng.normal(0, 0.1, (WIDE, HIDDEN)).astype(np.float32), "w2"),
        numpy_helper.from_array(rng.normal(0, 0.1, HIDDEN).astype(np.float32), "b2"),
        numpy_helper.from_array(np.array(3.0, np.float32), "three"),
    ]

    def constant(name: str, value: float) -> onnx.NodeProto:
        tensor = numpy_helper.from_array(np.array(value, dtype=np.float32))
        return helper.make_node("Constant", [], [name], value=tensor)

    nodes = [
        helper.make_node("MatMul", ["x", "w1"], ["mm"]),
        helper.make_node("Add", ["mm", "b1"], ["up"]),
        constant("one", 1.0),
        constant("half", 0.5),
        constant("c", 0.044715),
        constant("s", math.sqrt(2 / math.pi)),
    ]
    if activation == "erf":
        nodes += erf_gelu_nodes("up", "act")
    elif activation == "tanh":  # 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
        nodes += [
            helper.make_node("Pow", ["up", "three"], ["cube"]),
            helper.make_node("Mul", ["cube", "c"], ["cc"]),
            helper.make_node("Add", ["up", "cc"], ["inner"]),
            helper.make_node("Mul", ["inner", "s"], ["scaled"]),
            helper.make_node("Tanh", ["scaled"], ["t"]),
            helper.make_node("Add", ["t", "one"], ["t1"]),
            helper.make_node("Mul", ["up", "t1"], ["m"]),
            helper.make_node("Mul", ["m", "half"], ["act"]),
        ]
    else:  # sigmoid: a padded unit would be 0.5, not 0
        nodes.append(helper.make_node("Sigmoid", ["up"], ["act"]))
    nodes += [
        helper.make_node("MatMul", ["act", "w2"], ["mm2"]),
        helper.make_node("Add", ["mm2", "b2"], ["y"]),
    ]
    outputs = [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["b", "t", HIDDEN])]
    if also_output:
        outputs.append(helper.make_tensor_value_info("up", TensorProto.FLOAT, ["b", "t", WIDE]))
    graph = helper.make_graph(
        nodes,
        "ffn",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["b", "t", HIDDEN])],
        outputs,
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model


def _run(model: onnx.ModelProto, x: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return np.asarray(session.run(["y"], {"x": x})[0])


def _dims(model: onnx.ModelProto) -> dict[str, list[int]]:
    return {t.name: list(t.dims) for t in model.graph.initializer}


@pytest.mark.parametrize("activation", ["erf", "tanh"])
def test_a_gelu_layer_is_padded_and_computes_the_same_bits(activation: str) -> None:
    original = _layer(activation)
    padded = _layer(activation)
    assert pad_feed_forward(padded) == 1
    dims = _dims(padded)
    assert dims["w1"] == [HIDDEN, WIDE + PAD] and dims["b1"] == [WIDE + PAD]
    assert dims["w2"] == [WIDE + PAD, HIDDEN] and dims["b2"] == [HIDDEN]
    rng = np.random.default_rng(2)
    for shape in [(1, 1), (1, 7), (3, 40), (2, 300)]:
        x = rng.normal(size=(*shape, HIDDEN)).astype(np.float32)
        np.testing.assert_array_equal(_run(padded, x), _run(original, x))
    assert pad_feed_forward(padded) == 0  # 1040 wide does not alias: padded once


@pytest.mark.parametrize(
    "variant", [{"activation": "sigmoid"}, {"also_output": True}], ids=["nonzero", "read-outside"]
)
def test_a_layer_that_cannot_be_followed_to_zero_is_left_alone(variant: dict) -> None:  # type: ignore[type-arg]
    model = _layer(**variant)
    before = model.SerializeToString()
    assert pad_feed_forward(model) == 0
    assert model.SerializeToString() == before


def test_a_prepared_export_is_padded_and_pools_the_same_bits(tmp_path: Path) -> None:
    folder = write_model_folder(tmp_path / "m", ffn=WIDE)
    source = folder / "model.onnx"
    prepared = runnable_graph(source, optimize=True, quantize=None)
    dims = {t.name: list(t.dims) for t in onnx.load(str(prepared)).graph.initializer}
    assert dims["W_up"][1] == dims["W_dn"][0] == WIDE + PAD
    vocab = len(tiny_vocab())
    pooled = MaskedLMSession(prepared, vocab_size=vocab, source=source)
    plain = MaskedLMSession(source, vocab_size=vocab)
    rng = np.random.default_rng(0)
    lengths = np.array([40, 3, 17, 1], dtype=np.int64)
    ids = np.zeros((lengths.size, lengths.max()), dtype=np.int64)
    mask = np.zeros_like(ids)
    for row, n in enumerate(lengths):
        ids[row, :n], mask[row, :n] = rng.integers(5, 200, n), 1
    expected = masked_max(plain.logits(ids, mask), lengths)
    np.testing.assert_array_equal(pooled.pooled_logits(ids, mask, lengths), expected)


@pytest.mark.parametrize("fused", [False, True], ids=["exact", "fused"])
def test_a_built_graph_is_padded_and_pools_the_same_bits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fused: bool
) -> None:
    weights = bert_weights(len(tiny_vocab()), ffn=WIDE)
    folder = write_checkpoint(tmp_path / "m", weights=weights, intermediate_size=WIDE)
    config, safetensors = folder / "config.json", folder / "model.safetensors"
    padded = build_model(config, safetensors, fused=fused, cache_dir=tmp_path / "padded")
    monkeypatch.setattr(stride, "PAD", 0)
    plain = build_model(config, safetensors, fused=fused, cache_dir=tmp_path / "plain")
    tensors = onnx.load(str(padded), load_external_data=False).graph.initializer
    shapes = [list(t.dims) for t in tensors]
    assert [BERT_HIDDEN, WIDE + PAD] in shapes and [WIDE + PAD, BERT_HIDDEN] in shapes
    ids = np.random.default_rng(3).integers(5, 200, size=(3, 12), dtype=np.int64)
    mask = np.ones_like(ids)
    mask[1, 5:] = 0
    feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
    outputs = []
    for path in (padded, plain):
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        names = {i.name for i in session.get_inputs()}
        outputs.append(session.run([POOLED_OUTPUT], {k: v for k, v in feed.items() if k in names}))
    np.testing.assert_array_equal(outputs[0][0], outputs[1][0])
