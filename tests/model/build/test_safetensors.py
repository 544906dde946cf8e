"""The safetensors reader: header, memory-mapped tensors, dtypes, shards, damage."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import pytest

from spladekit.errors import ModelFormatError
from spladekit.model.build.safetensors import Checkpoint, checkpoint_files

from support.tiny_checkpoint import bf16_round, write_safetensors

TENSORS = {
    "a": np.arange(12, dtype=np.float32).reshape(3, 4),
    "b": np.linspace(-2, 2, 7).astype(np.float16),
    "c": np.arange(5, dtype=np.int64),
}


def test_tensors_read_back_as_float32(tmp_path: Path) -> None:
    checkpoint = Checkpoint(write_safetensors(tmp_path / "m.safetensors", TENSORS))
    assert checkpoint.names == {"a", "b", "c"}
    assert checkpoint.shape("a") == (3, 4)
    np.testing.assert_array_equal(checkpoint.float32("a"), TENSORS["a"])
    np.testing.assert_array_equal(checkpoint.float32("b"), TENSORS["b"].astype(np.float32))
    np.testing.assert_array_equal(checkpoint.float32("c"), TENSORS["c"].astype(np.float32))
    assert checkpoint.float32("b").dtype == np.float32


def test_float32_tensors_are_views_of_the_mapped_file_not_copies(tmp_path: Path) -> None:
    checkpoint = Checkpoint(write_safetensors(tmp_path / "m.safetensors", TENSORS))
    array = checkpoint.float32("a")
    base = array
    while isinstance(base, np.ndarray) and base.base is not None:
        base = base.base
    assert isinstance(base, np.memmap) or type(base).__name__ == "mmap"
    assert not array.flags.writeable


def test_bf16_is_widened_to_the_same_float32(tmp_path: Path) -> None:
    values = np.random.default_rng(0).normal(size=(4, 5)).astype(np.float32)
    checkpoint = Checkpoint(write_safetensors(tmp_path / "m.safetensors", {"w": values}, bf16=True))
    np.testing.assert_array_equal(checkpoint.float32("w"), bf16_round(values))


def test_unaligned_offsets_are_read_correctly(tmp_path: Path) -> None:
    """Real checkpoints put tensors at offsets that are multiples of 4 but not of 64."""
    tensors = {"x": np.ones(3, np.float16), "y": np.arange(6, dtype=np.float32)}
    checkpoint = Checkpoint(write_safetensors(tmp_path / "m.safetensors", tensors, align=1))
    np.testing.assert_array_equal(checkpoint.float32("y"), tensors["y"])


def test_a_sharded_checkpoint_reads_as_one(tmp_path: Path) -> None:
    write_safetensors(tmp_path / "model-00001-of-00002.safetensors", {"a": TENSORS["a"]})
    write_safetensors(tmp_path / "model-00002-of-00002.safetensors", {"b": TENSORS["b"]})
    index = {
        "weight_map": {
            "a": "model-00001-of-00002.safetensors",
            "b": "model-00002-of-00002.safetensors",
        }
    }
    (tmp_path / "model.safetensors.index.json").write_text(json.dumps(index))
    checkpoint = Checkpoint(tmp_path / "model.safetensors.index.json")
    assert checkpoint.names == {"a", "b"}
    assert len(checkpoint_files(tmp_path / "model.safetensors.index.json")) == 2
    (tmp_path / "model-00002-of-00002.safetensors").unlink()
    with pytest.raises(ModelFormatError, match="model-00002-of-00002.safetensors"):
        Checkpoint(tmp_path / "model.safetensors.index.json")


def _damaged(path: Path, keep: int) -> Path:
    path.write_bytes(path.read_bytes()[:keep])
    return path


@pytest.mark.parametrize(
    ("keep", "message"),
    [(0, "too short"), (5, "too short"), (20, "truncated or not safetensors"), (-8, "truncated")],
)
def test_truncated_files_are_model_format_errors_naming_the_file(
    tmp_path: Path, keep: int, message: str
) -> None:
    path = write_safetensors(tmp_path / "m.safetensors", TENSORS)
    size = path.stat().st_size
    _damaged(path, keep if keep >= 0 else size + keep)
    with pytest.raises(ModelFormatError, match=message) as caught:
        Checkpoint(path)
    assert str(path) in str(caught.value)


def test_a_garbage_header_is_a_chained_model_format_error(tmp_path: Path) -> None:
    path = tmp_path / "m.safetensors"
    body = b"{not json"
    path.write_bytes(struct.pack("<Q", len(body)) + body)
    with pytest.raises(ModelFormatError, match=str(path)) as caught:
        Checkpoint(path)
    assert isinstance(caught.value.__cause__, json.JSONDecodeError)


def test_an_inconsistent_entry_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "m.safetensors"
    header = json.dumps({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 8]}}).encode()
    path.write_bytes(struct.pack("<Q", len(header)) + header + bytes(8))
    with pytest.raises(ModelFormatError, match="inconsistent"):
        Checkpoint(path)
