"""The prepared model (pooling inside the graph, weights in a side file) gives the same vectors.

Properties on the tiny model: the prepared path equals the model as exported, bit for bit,
on padded batches of mixed lengths; the in-graph masking is load-bearing (a mutant without it
fails the same check); preparation is cached and redone when the source changes; models it
cannot rewrite still load; int8 loads and encodes close to fp32.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import onnx
import pytest

from spladekit import SpladeEncoder
from spladekit.errors import ModelFormatError
from spladekit.model import graph as graph_module
from spladekit.model.load import runnable_graph
from spladekit.model.prepare import prepare_model
from spladekit.pipeline.pool import masked_max
from spladekit.pipeline.run import POOLED_OUTPUT, MaskedLMSession

from support.tiny_model import build_onnx_model, tiny_vocab, write_model_folder

TEXTS = [
    "the moon",
    "india launched a lunar mission to the south pole of the moon",
    "rover",
    "chandrayaan third mission lander rover orbit surface space launch " * 6,
    "what is the weather in ny now",
]


def padded_batch(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    lengths = np.array([40, 25, 3, 17, 1], dtype=np.int64)
    ids = np.zeros((lengths.size, lengths.max()), dtype=np.int64)
    mask = np.zeros_like(ids)
    for row, n in enumerate(lengths):
        ids[row, :n] = rng.integers(5, 200, n)
        mask[row, :n] = 1
    return ids, mask, lengths


def vectors_equal(a: list, b: list) -> None:  # type: ignore[type-arg]
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x.indices, y.indices)
        np.testing.assert_array_equal(x.values, y.values)


def session(folder: Path, *, optimize: bool = True) -> MaskedLMSession:
    """A session on the graph the encoder would run for *folder*'s export."""
    source = folder / "model.onnx"
    graph = runnable_graph(source, optimize=optimize, quantize=None)
    return MaskedLMSession(graph, vocab_size=len(tiny_vocab()), source=source)


def test_prepared_pooled_logits_equal_masked_max_of_the_export(tiny_model_dir: Path) -> None:
    prepared = session(tiny_model_dir)
    plain = session(tiny_model_dir, optimize=False)
    assert prepared.pooled and not plain.pooled
    assert prepared.path != plain.path and prepared.source == plain.path
    ids, mask, lengths = padded_batch()
    expected = masked_max(plain.logits(ids, mask), lengths)
    np.testing.assert_array_equal(prepared.pooled_logits(ids, mask, lengths), expected)
    # token logits stay available on a prepared model (from the export, for references)
    np.testing.assert_array_equal(prepared.logits(ids, mask), plain.logits(ids, mask))


def test_prepared_encoder_gives_the_same_vectors(tiny_model_dir: Path) -> None:
    prepared = SpladeEncoder.from_pretrained(tiny_model_dir)
    plain = SpladeEncoder.from_pretrained(tiny_model_dir, optimize=False)
    vectors_equal(prepared.encode_documents(TEXTS), plain.encode_documents(TEXTS))
    vectors_equal(prepared.encode_queries(TEXTS), plain.encode_queries(TEXTS))


def test_masking_in_the_graph_is_load_bearing(
    tiny_model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A mutant whose graph skips the padding fix must fail the same equality."""
    original = graph_module.pooled_head

    def unmasked(*args, **kwargs):  # type: ignore[no-untyped-def]
        nodes = original(*args, **kwargs)
        return [
            onnx.helper.make_node("Identity", [n.input[1]], list(n.output))
            if n.op_type == "Where"
            else n
            for n in nodes
        ]

    monkeypatch.setattr(graph_module, "pooled_head", unmasked)
    monkeypatch.setenv("SPLADEKIT_CACHE", str(tmp_path))
    mutant = session(tiny_model_dir)
    plain = session(tiny_model_dir, optimize=False)
    ids, mask, lengths = padded_batch()
    expected = masked_max(plain.logits(ids, mask), lengths)
    assert not np.array_equal(mutant.pooled_logits(ids, mask, lengths), expected)


def test_prepared_once_then_reused_and_redone_when_the_source_changes(tmp_path: Path) -> None:
    folder = write_model_folder(tmp_path / "model", seed=3)
    cache = tmp_path / "cache"
    first = prepare_model(folder / "model.onnx", cache_dir=cache)
    stamp = first.stat().st_mtime_ns
    again = prepare_model(folder / "model.onnx", cache_dir=cache)
    assert again == first and again.stat().st_mtime_ns == stamp
    assert (first.parent / "model.onnx.data").stat().st_size > 0
    write_model_folder(folder, seed=4)  # new weights in the same place
    changed = prepare_model(folder / "model.onnx", cache_dir=cache)
    assert changed != first
    assert not [p for p in cache.iterdir() if p.name.startswith(".")]  # no partial entry left


def test_external_data_source_prepares_to_the_same_vectors(tmp_path: Path) -> None:
    folder = write_model_folder(tmp_path / "model", seed=5)
    model = onnx.load(str(folder / "model.onnx"))
    onnx.save(
        model,
        str(folder / "model.onnx"),
        save_as_external_data=True,
        location="model.onnx_data",
    )
    assert (folder / "model.onnx_data").stat().st_size > 0
    prepared = SpladeEncoder.from_pretrained(folder)
    assert prepared._documents.session.pooled
    plain = SpladeEncoder.from_pretrained(folder, optimize=False)
    vectors_equal(prepared.encode_documents(TEXTS), plain.encode_documents(TEXTS))
    # new weights in the side file alone (graph file untouched) are prepared again
    first = prepared._documents.session.path
    data = folder / "model.onnx_data"
    raw = bytearray(data.read_bytes())
    raw[:64] = bytes(64)
    data.write_bytes(bytes(raw))
    os.utime(data, ns=(data.stat().st_atime_ns, data.stat().st_mtime_ns + 10**9))
    assert prepare_model(folder / "model.onnx") != first


def test_a_head_without_bias_is_pooled_on_full_logits(tmp_path: Path) -> None:
    folder = write_model_folder(tmp_path / "model", seed=6)
    model = onnx.load(str(folder / "model.onnx"))
    graph = model.graph
    add = next(n for n in graph.node if "logits" in n.output)
    graph.node.remove(add)
    matmul = next(n for n in graph.node if n.op_type == "MatMul")
    matmul.output[0] = "logits"
    onnx.save(model, str(folder / "model.onnx"))
    prepared = SpladeEncoder.from_pretrained(folder)
    assert prepared._documents.session.pooled
    plain = SpladeEncoder.from_pretrained(folder, optimize=False)
    vectors_equal(prepared.encode_documents(TEXTS), plain.encode_documents(TEXTS))


def test_a_decoder_tied_through_transpose_is_split_too(tmp_path: Path) -> None:
    """``MatMul(h, Transpose(E))``: the head is still found, its vocabulary projection split."""
    folder = write_model_folder(tmp_path / "model", seed=8)
    model = onnx.load(str(folder / "model.onnx"))
    graph = model.graph
    weight = next(i for i in graph.initializer if i.name == "W")
    tied = onnx.numpy_helper.to_array(weight).T.copy()
    graph.initializer.remove(weight)
    graph.initializer.append(onnx.numpy_helper.from_array(tied, "E"))
    graph.node.insert(0, onnx.helper.make_node("Transpose", ["E"], ["W"], perm=[1, 0]))
    onnx.save(model, str(folder / "model.onnx"))
    path = prepare_model(folder / "model.onnx", cache_dir=tmp_path / "cache")
    ops = [n.op_type for n in onnx.load(str(path), load_external_data=False).graph.node]
    assert ops.count("MatMul") == graph_module.VOCAB_BLOCKS
    prepared = SpladeEncoder.from_pretrained(folder)
    plain = SpladeEncoder.from_pretrained(folder, optimize=False)
    vectors_equal(prepared.encode_documents(TEXTS), plain.encode_documents(TEXTS))


def test_old_opset_runs_as_exported(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    folder = write_model_folder(tmp_path / "model", seed=7)
    model = build_onnx_model(len(tiny_vocab()), seed=7)
    model.opset_import[0].version = 12  # same ops, declared older than prepare supports
    for node in model.graph.node:
        if node.op_type in ("ReduceSum", "Unsqueeze"):
            axes = [a for a in node.input[1:]]
            del node.input[1:]
            values = [-1] if node.op_type == "Unsqueeze" else [1]
            node.attribute.append(onnx.helper.make_attribute("axes", values))
            assert axes
    onnx.save(model, str(folder / "model.onnx"))
    with pytest.raises(ModelFormatError, match="opset 12"):
        prepare_model(folder / "model.onnx", cache_dir=tmp_path / "cache")
    with caplog.at_level(logging.WARNING, logger="spladekit.model.load"):
        encoder = SpladeEncoder.from_pretrained(folder)
    assert not encoder._documents.session.pooled
    assert "could not be prepared" in caplog.text
    assert encoder.encode_documents(["the moon"])[0].indices.size > 0


def test_prepared_graph_names_its_output(tiny_model_dir: Path) -> None:
    path = prepare_model(tiny_model_dir / "model.onnx")
    model = onnx.load(str(path), load_external_data=False)
    assert [o.name for o in model.graph.output] == [POOLED_OUTPUT]
    assert str(path).startswith(os.environ["SPLADEKIT_CACHE"])


def test_int8_loads_and_encodes_close_to_fp32(tiny_model_dir: Path) -> None:
    pytest.importorskip("onnxruntime.quantization")
    int8 = SpladeEncoder.from_pretrained(tiny_model_dir, quantize="int8")
    fp32 = SpladeEncoder.from_pretrained(tiny_model_dir)
    assert int8._documents.session.path != fp32._documents.session.path
    for a, b in zip(int8.encode_documents(TEXTS), fp32.encode_documents(TEXTS), strict=True):
        shared = np.intersect1d(a.indices, b.indices)
        assert len(shared) / len(np.union1d(a.indices, b.indices)) > 0.5
        assert 0 < len(a)


def test_bad_quantize_value_is_an_input_error(tiny_model_dir: Path) -> None:
    from spladekit.errors import InputError

    with pytest.raises(InputError, match="quantize must be None or 'int8', got 'int4'"):
        SpladeEncoder.from_pretrained(tiny_model_dir, quantize="int4")  # type: ignore[arg-type]
