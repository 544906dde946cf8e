"""Damaged model files are ModelFormatErrors that name the file, with the cause chained."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from spladekit import SpladeEncoder
from spladekit.errors import ModelFormatError

from support.tiny_checkpoint import write_checkpoint, write_sentence_transformers
from support.tiny_model import write_model_folder


def truncate(path: Path, keep: float | int) -> None:
    data = path.read_bytes()
    size = int(len(data) * keep) if isinstance(keep, float) else keep
    path.write_bytes(data[:size])


@pytest.mark.parametrize("keep", [0.5, 0.9, -1, 10])
@pytest.mark.parametrize("optimize", [True, False])
def test_a_truncated_onnx_file(tmp_path: Path, keep: float | int, optimize: bool) -> None:
    folder = write_model_folder(tmp_path / "m", seed=41)
    model = folder / "model.onnx"
    truncate(model, keep if keep != -1 else model.stat().st_size - 1)
    with pytest.raises(ModelFormatError) as caught:
        SpladeEncoder(folder, optimize=optimize)
    assert str(model) in str(caught.value)
    assert caught.value.__cause__ is not None


@pytest.mark.parametrize("keep", [4, 60, 0.5, -1])
def test_a_truncated_safetensors_file(tmp_path: Path, keep: float | int) -> None:
    folder = write_checkpoint(tmp_path / "m", seed=42)
    weights = folder / "model.safetensors"
    truncate(weights, keep if keep != -1 else weights.stat().st_size - 1)
    with pytest.raises(ModelFormatError, match="safetensors|truncated") as caught:
        SpladeEncoder(folder)
    assert str(weights) in str(caught.value)


@pytest.mark.parametrize("name", ["config.json", "modules.json", "1_SpladePooling/config.json"])
def test_garbage_json_names_the_file(tmp_path: Path, name: str) -> None:
    folder = write_sentence_transformers(tmp_path / "m", seed=43)
    (folder / name).write_text('{"architectures": ["BertForMaskedLM"], ')
    with pytest.raises(ModelFormatError) as caught:
        SpladeEncoder(folder)
    assert str(folder / name) in str(caught.value)
    assert isinstance(caught.value.__cause__, ValueError)


def test_a_config_that_is_not_an_object(tmp_path: Path) -> None:
    folder = write_checkpoint(tmp_path / "m", seed=44)
    (folder / "config.json").write_text("[1, 2]")
    with pytest.raises(ModelFormatError, match=r"config.json must hold a JSON object"):
        SpladeEncoder(folder)


def test_missing_external_data_of_an_export(tmp_path: Path) -> None:
    import onnx

    folder = write_model_folder(tmp_path / "m", seed=45)
    model = onnx.load(str(folder / "model.onnx"))
    onnx.save(
        model, str(folder / "model.onnx"), save_as_external_data=True, location="model.onnx_data"
    )
    shutil.move(folder / "model.onnx_data", tmp_path / "elsewhere")
    with pytest.raises(ModelFormatError, match=str(folder / "model.onnx")):
        SpladeEncoder(folder)
