"""int8 copies: each Int8Config quantizes what it says, int8 is the fused graph quantized, and
its BiasGelu split leaves the vectors as they were."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from spladekit import SpladeEncoder
from spladekit.model import graph
from spladekit.model.build import build_model
from spladekit.model.prepare import prepare_model
from spladekit.model.quantize import (
    HEAD_PREFIX,
    head_matmuls,
    quantize_graph,
    quantized_model,
    split_bias_gelu,
)
from spladekit.model.variant import FUSED_REVISION, INT8, INT8_REVISION, Int8Config, variant_key
from spladekit.pipeline.batch import plan_batches
from spladekit.pipeline.run import ort_session
from spladekit.pipeline.tokenize import TextTokenizer

TEXTS = ["Chandrayaan-3 landed on the Moon's surface.", "vitamin d and tuberculosis risk"]


def ops(path: Path) -> Counter[str]:
    return Counter(n.op_type for n in onnx.load(str(path), load_external_data=False).graph.node)


@pytest.mark.parametrize("per_channel", [True, False])
@pytest.mark.parametrize("head", [True, False])
def test_each_config_quantizes_what_it_says(
    shared_data: Path, tmp_path: Path, per_channel: bool, head: bool
) -> None:
    source = shared_data / "checkpoints" / "splade-tiny-onnx" / "model.onnx"
    exact = prepare_model(source, cache_dir=tmp_path / "cache")
    blocks = head_matmuls(exact)
    assert blocks, "the pooled head's vocabulary blocks are MatMuls"
    quantize_graph(exact, tmp_path / "int8", Int8Config(per_channel=per_channel, head=head))
    quantized = onnx.load(str(tmp_path / "int8" / "model.onnx"), load_external_data=False)
    fp32_head = [
        n
        for n in quantized.graph.node
        if n.op_type == "MatMul" and any(i.startswith(HEAD_PREFIX) for i in n.input)
    ]
    assert len(fp32_head) == (0 if head else len(blocks))
    assert ops(tmp_path / "int8" / "model.onnx")["MatMulInteger"] > 0


def test_the_config_is_part_of_the_cache_key() -> None:
    keys = {
        variant_key(quantize="int8", fused=False, int8=Int8Config(per_channel=p, head=h))
        for p in (True, False)
        for h in (True, False)
    }
    assert len(keys) == 4
    assert variant_key(quantize=None, fused=False) == "None"  # exact fp32 entries stay valid
    int8 = f"int8:{INT8.key}:r{INT8_REVISION}"
    assert variant_key(quantize="int8", fused=True) == f"{int8}|fused{FUSED_REVISION}"


def test_int8_is_the_fused_graph_quantized(shared_data: Path) -> None:
    """quantize="int8" quantizes the fused graph whatever optimize says (variant.is_fused)."""
    folder = shared_data / "checkpoints" / "splade-tiny"
    fused = SpladeEncoder(folder, optimize="fused", quantize="int8")
    default = SpladeEncoder(folder, quantize="int8")
    assert default._documents.session.path == fused._documents.session.path
    assert ops(default._documents.session.path)["QAttention"] == 2
    fp32 = SpladeEncoder(folder)
    for a, c in zip(default.encode_documents(TEXTS), fp32.encode_documents(TEXTS), strict=True):
        top = set(c.indices[np.argsort(-c.values)[:10]].tolist())
        assert len(top & set(a.indices.tolist())) >= 9


def test_int8_of_a_fused_export_loads_and_ranks_like_fp32(shared_data: Path) -> None:
    """The transformer optimizer's graph declares com.microsoft, or quantizing it fails."""
    folder = shared_data / "checkpoints" / "splade-tiny-onnx"
    fused = SpladeEncoder(folder, optimize="fused", quantize="int8")
    model = onnx.load(str(fused._documents.session.path), load_external_data=False)
    assert any(o.domain == "com.microsoft" for o in model.opset_import)
    assert ops(fused._documents.session.path)["MatMulInteger"] > 0
    for a, c in zip(
        fused.encode_documents(TEXTS), SpladeEncoder(folder).encode_documents(TEXTS), strict=True
    ):
        top = set(c.indices[np.argsort(-c.values)[:10]].tolist())
        assert len(top & set(a.indices.tolist())) >= 9


def _session(path: Path) -> ort.InferenceSession:
    return ort_session(path, ort.SessionOptions(), ["CPUExecutionProvider"], huge_pages=False)


def test_split_bias_gelu_folds_the_bias_into_the_int8_matmul_with_the_same_vectors(
    shared_data: Path, tmp_path: Path
) -> None:
    """BiasGelu → Add + Gelu: the session takes the Add into the int8 MatMul; nothing moves."""
    folder = shared_data / "checkpoints" / "splade-tiny"
    fused = build_model(
        folder / "config.json", folder / "model.safetensors", fused=True, cache_dir=tmp_path
    )
    assert ops(fused)["BiasGelu"] == 3  # 2 layers and the head's transform
    plain = quantized_model(fused, tmp_path / "plain")
    graph.write_model(plain, tmp_path / "plain")
    split = quantized_model(fused, tmp_path / "split")
    assert split_bias_gelu(split) == 3
    graph.write_model(split, tmp_path / "split")
    assert ops(tmp_path / "split" / "model.onnx")["BiasGelu"] == 0
    optimized = tmp_path / "optimized.onnx"
    options = ort.SessionOptions()
    options.optimized_model_filepath = str(optimized)
    ort_session(
        tmp_path / "split" / "model.onnx", options, ["CPUExecutionProvider"], huge_pages=False
    )
    ran = ops(optimized)
    assert ran["Gelu"] == 3 and ran["BiasGelu"] == 0  # the bias went into the MatMul
    tokenizer = TextTokenizer.from_file(folder / "tokenizer.json", max_length=512)
    segments = tokenizer.segment_texts(TEXTS, windows=False, stride=0, offset=0, what="texts")
    for batch in plan_batches(segments.ids, token_budget=1024, max_rows=1):
        feed = {"input_ids": batch.input_ids, "attention_mask": batch.attention_mask}
        (a,) = _session(tmp_path / "plain" / "model.onnx").run(["pooled_logits"], feed)
        (b,) = _session(tmp_path / "split" / "model.onnx").run(["pooled_logits"], feed)
        np.testing.assert_array_equal(a, b)
