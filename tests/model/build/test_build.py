"""Building from weights: which checkpoints are refused and how, the cache, int8."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from spladekit import SpladeEncoder
from spladekit.errors import ModelFormatError, ModelNotFoundError
from spladekit.model.build import ARCHITECTURES, build_model, emit

from support.tiny_checkpoint import bert_weights, write_checkpoint
from support.tiny_model import tiny_vocab

TEXTS = ["the moon", "india launched a lunar mission to the south pole of the moon"]


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "cache"
    monkeypatch.setenv("SPLADEKIT_CACHE", str(root))
    return root


def edit_config(folder: Path, **changes: object) -> Path:
    config = json.loads((folder / "config.json").read_text())
    config.update(changes)
    (folder / "config.json").write_text(json.dumps(config))
    return folder


def test_an_unknown_architecture_names_itself_and_the_supported_ones(tmp_path: Path) -> None:
    folder = edit_config(write_checkpoint(tmp_path / "m"), architectures=["GPT2LMHeadModel"])
    with pytest.raises(ModelFormatError, match="GPT2LMHeadModel") as caught:
        SpladeEncoder(folder)
    assert all(name in str(caught.value) for name in ARCHITECTURES)
    assert str(folder / "config.json") in str(caught.value)


def test_a_bare_encoder_without_its_mlm_head_is_refused(tmp_path: Path) -> None:
    weights = {k: v for k, v in bert_weights(len(tiny_vocab())).items() if not k.startswith("cls.")}
    folder = write_checkpoint(tmp_path / "m", weights=weights)
    with pytest.raises(ModelFormatError, match=r"no masked-LM head \(cls.predictions"):
        SpladeEncoder(folder)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"hidden_act": "swish"}, "activation 'swish' is not one spladekit can build"),
        ({"position_embedding_type": "relative_key"}, "position_embedding_type 'relative_key'"),
        ({"num_hidden_layers": 1}, "more than the 1 layers"),
        ({"num_hidden_layers": 3}, "encoder.layer.2"),
        ({"layer_norm_eps": "tiny"}, "layer_norm_eps must be a positive number"),
        ({"num_attention_heads": 3}, "not a multiple of 3 attention heads"),
    ],
)
def test_configs_it_cannot_build_are_refused_by_name(
    tmp_path: Path, changes: dict[str, object], message: str
) -> None:
    folder = edit_config(write_checkpoint(tmp_path / "m"), **changes)
    with pytest.raises(ModelFormatError, match=message):
        SpladeEncoder(folder)


def test_pickled_weights_are_never_loaded(tmp_path: Path) -> None:
    folder = write_checkpoint(tmp_path / "m")
    (folder / "model.safetensors").rename(folder / "pytorch_model.bin")
    with pytest.raises(ModelFormatError, match="pickle, which spladekit never loads") as caught:
        SpladeEncoder(folder)
    assert "model.safetensors" in str(caught.value)


def test_weights_without_config_are_not_found(tmp_path: Path) -> None:
    folder = write_checkpoint(tmp_path / "m")
    (folder / "config.json").unlink()
    with pytest.raises(ModelNotFoundError, match=r"no config.json beside it"):
        SpladeEncoder(folder)


def test_a_second_load_builds_nothing(
    tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = write_checkpoint(tmp_path / "m", seed=11)
    first = SpladeEncoder(folder)
    built = first._documents.session.path
    assert built.is_relative_to(cache / "built") and built.name == "model.onnx"
    stamp = built.stat().st_mtime_ns

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("built again")

    monkeypatch.setattr(emit, "write_graph", refuse)
    again = SpladeEncoder(folder)
    assert again._documents.session.path == built and built.stat().st_mtime_ns == stamp
    assert again.encode_documents(TEXTS) == first.encode_documents(TEXTS)
    # The key is the content: the same checkpoint copied elsewhere reuses the entry.
    copy = shutil.copytree(folder, tmp_path / "copy")
    assert SpladeEncoder(copy)._documents.session.path == built
    assert [p.name for p in (cache / "built").iterdir() if p.name.startswith(".")] == []


def test_changed_weights_or_config_build_again(tmp_path: Path, cache: Path) -> None:
    folder = write_checkpoint(tmp_path / "m", seed=12)
    first = SpladeEncoder(folder)._documents.session.path
    write_checkpoint(folder, seed=13)  # new weights in place
    second = SpladeEncoder(folder)._documents.session.path
    assert second != first
    edit_config(folder, layer_norm_eps=1e-6)
    assert SpladeEncoder(folder)._documents.session.path not in (first, second)
    assert len([p for p in (cache / "built").iterdir() if not p.name.startswith(".")]) == 3


def test_side_file_offsets_are_aligned_for_memory_mapping(tmp_path: Path, cache: Path) -> None:
    import onnx

    folder = write_checkpoint(tmp_path / "m", seed=14)
    path = build_model(folder / "config.json", folder / "model.safetensors")
    model = onnx.load(str(path), load_external_data=False)
    external = [t for t in model.graph.initializer if t.data_location == onnx.TensorProto.EXTERNAL]
    assert external
    for tensor in external:
        info = {e.key: e.value for e in tensor.external_data}
        assert info["location"] == "model.onnx.data" and int(info["offset"]) % (1 << 16) == 0
    onnx.checker.check_model(str(path))
    assert [i.name for i in model.graph.input] == ["input_ids", "attention_mask"]
    assert [o.name for o in model.graph.output] == ["pooled_logits"]
    assert model.opset_import[0].version >= 17


def test_int8_builds_from_the_fp32_graph_and_encodes_close(tmp_path: Path, cache: Path) -> None:
    folder = write_checkpoint(tmp_path / "m", seed=15)
    fp32 = SpladeEncoder(folder)
    int8 = SpladeEncoder(folder, quantize="int8")
    assert int8._documents.session.path != fp32._documents.session.path
    assert int8._documents.session.pooled
    for a, b in zip(int8.encode_documents(TEXTS), fp32.encode_documents(TEXTS), strict=True):
        shared = np.intersect1d(a.indices, b.indices)
        assert len(shared) / len(np.union1d(a.indices, b.indices)) > 0.5
    assert (
        SpladeEncoder(folder, quantize="int8")._documents.session.path
        == int8._documents.session.path
    )


def test_optimize_false_still_runs_the_built_graph(tmp_path: Path) -> None:
    folder = write_checkpoint(tmp_path / "m", seed=16)
    encoder = SpladeEncoder(folder, optimize=False)
    assert encoder._documents.session.pooled
    assert encoder.encode_documents(TEXTS) == SpladeEncoder(folder).encode_documents(TEXTS)
    ids = np.array([[2, 10, 3]], dtype=np.int64)
    with pytest.raises(ModelFormatError, match="no token logits"):
        encoder._documents.session.logits(ids, np.ones_like(ids))


def test_model_file_does_not_go_with_format_safetensors(tmp_path: Path) -> None:
    from spladekit.errors import InputError

    folder = write_checkpoint(tmp_path / "m", seed=17)
    with pytest.raises(InputError, match="model_file names an ONNX file"):
        SpladeEncoder(folder, model_file="model.onnx", format="safetensors")
