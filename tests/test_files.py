"""Every file a model is read from: any damage or oddity is a ModelFormatError naming the file."""

from __future__ import annotations

import json
from pathlib import Path

import onnx
import pytest

from spladekit import ModelFormatError, SpladeEncoder

from support.tiny_model import build_onnx_model, write_model_folder


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return write_model_folder(tmp_path / "model", seed=21)


@pytest.mark.parametrize(
    "content",
    ["{not json", '{"max_position_embeddings": NaN}', "[1, 2]", "\udcff"],
    ids=["garbage", "nan", "not an object", "not utf-8"],
)
@pytest.mark.parametrize("name", ["config.json", "tokenizer_config.json"])
def test_an_invalid_config_file_is_never_ignored(folder: Path, name: str, content: str) -> None:
    (folder / name).write_text(content, errors="surrogateescape")
    with pytest.raises(ModelFormatError, match=rf"{name}") as info:
        SpladeEncoder(folder)
    assert info.value.__cause__ is not None or "JSON object" in str(info.value)


def _with_table(folder: Path, table: object) -> Path:
    vocab = (folder / "vocab.txt").read_text().split()
    weights = {token: 1.0 for token in vocab[5:40]}
    (folder / "idf.json").write_text(
        json.dumps(table(weights) if callable(table) else table, allow_nan=True)
    )
    return folder


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (lambda w: {**w, "moon": None}, r"weight of 'moon' must be a finite number >= 0, got None"),
        (lambda w: {**w, "moon": "1.5"}, r"weight of 'moon' .* got '1.5'"),
        (lambda w: {**w, "moon": True}, r"weight of 'moon' .* got True"),
        (lambda w: {**w, "moon": -1.0}, r"weight of 'moon' .* got -1.0"),
        (lambda w: {**w, "moon": float("inf")}, r"not valid JSON: Infinity"),
        (lambda w: {**w, "moon": float("nan")}, r"not valid JSON: NaN"),
        (lambda w: {**w, "moon": 1e300}, r"weight of 'moon' .* got 1e\+300"),
        (["moon"], r"must hold a JSON object, got list"),
    ],
)
def test_a_query_weight_table_with_a_bad_weight_is_refused(
    folder: Path, table: object, message: str
) -> None:
    _with_table(folder, table)
    with pytest.raises(ModelFormatError, match=message) as info:
        SpladeEncoder(folder)
    assert "idf.json" in str(info.value)


def test_a_good_weight_table_makes_queries_inference_free(folder: Path) -> None:
    _with_table(folder, lambda w: w)
    assert SpladeEncoder(folder).query_mode == "idf"


@pytest.mark.parametrize("optimize", [True, False])
def test_a_graph_with_no_output_is_a_model_format_error(folder: Path, optimize: bool) -> None:
    model = build_onnx_model(len((folder / "vocab.txt").read_text().split()))
    del model.graph.output[:]
    onnx.save(model, str(folder / "model.onnx"))
    with pytest.raises(ModelFormatError, match="model.onnx"):
        SpladeEncoder(folder, optimize=optimize)


def test_a_tensor_cut_short_is_a_model_format_error(folder: Path) -> None:
    model = onnx.load(str(folder / "model.onnx"))
    weight = next(t for t in model.graph.initializer if t.name == "W")
    weight.raw_data = weight.raw_data[: len(weight.raw_data) // 2]
    onnx.save(model, str(folder / "model.onnx"))
    with pytest.raises(ModelFormatError, match="model.onnx"):
        SpladeEncoder(folder)
