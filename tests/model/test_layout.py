"""sentence-transformers layouts: modules.json + SpladePooling, and the inference-free Router."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from spladekit import SpladeEncoder
from spladekit.errors import ModelFormatError
from spladekit.model.layout import read_layout

from support.numpy_forward import bert_logits, splade_vector
from support.parity import compare
from support.tiny_checkpoint import (
    bert_config,
    bert_weights,
    write_router,
    write_sentence_transformers,
)
from support.tiny_model import build_tokenizer, tiny_vocab

TEXTS = ["the moon", "india launched a lunar mission to the south pole of the moon"]
VOCAB = len(tiny_vocab())


def expected(seed: int, *, twice: bool) -> list[dict[int, float]]:
    tokenizer = build_tokenizer(tiny_vocab())
    weights, config = bert_weights(VOCAB, seed=seed), bert_config("bert", VOCAB)
    return [
        splade_vector(bert_logits(weights, config, tokenizer.encode(t).ids), twice=twice)
        for t in TEXTS
    ]


@pytest.mark.parametrize("mlm_folder", ["", "0_MLMTransformer"])
@pytest.mark.parametrize(
    ("activation", "twice"), [("relu", False), ("log1p_relu", True), (None, False)]
)
def test_a_sparse_encoder_folder_loads_with_its_pooling(
    tmp_path: Path, mlm_folder: str, activation: str | None, twice: bool
) -> None:
    folder = write_sentence_transformers(
        tmp_path / "m", mlm_folder=mlm_folder, activation=activation, seed=21
    )
    encoder = SpladeEncoder(folder)
    assert encoder.max_length == 48  # sentence_bert_config.json's max_seq_length
    mismatched, worst = compare(encoder.encode_documents(TEXTS), expected(21, twice=twice))
    assert mismatched == 0 and worst < 2e-5
    assert encoder.query_mode == "model"


def test_the_activation_is_read_not_assumed(tmp_path: Path) -> None:
    """A log1p_relu folder loaded as plain relu would give other numbers: the check can fail."""
    folder = write_sentence_transformers(tmp_path / "m", activation="log1p_relu", seed=22)
    _, worst = compare(SpladeEncoder(folder).encode_documents(TEXTS), expected(22, twice=False))
    assert worst > 0.05


@pytest.mark.parametrize(
    ("pooling", "activation", "message"),
    [
        ("sum", "relu", "pooling_strategy 'sum' is not supported"),
        ("max", "gelu", "activation_function 'gelu' is not supported"),
    ],
)
def test_pooling_it_cannot_compute_is_refused(
    tmp_path: Path, pooling: str, activation: str, message: str
) -> None:
    folder = write_sentence_transformers(tmp_path / "m", pooling=pooling, activation=activation)
    with pytest.raises(ModelFormatError, match=message) as caught:
        SpladeEncoder(folder)
    assert "1_SpladePooling" in str(caught.value)


def test_other_modules_are_refused_by_name(tmp_path: Path) -> None:
    folder = write_sentence_transformers(tmp_path / "m")
    modules = json.loads((folder / "modules.json").read_text())
    modules.append({"idx": 2, "name": "2", "path": "2_TopK", "type": "x.TopKActivation"})
    (folder / "modules.json").write_text(json.dumps(modules))
    with pytest.raises(ModelFormatError, match="TopKActivation"):
        SpladeEncoder(folder)


@pytest.mark.parametrize("mlm_in_root", [False, True])
def test_a_router_layout_encodes_queries_with_its_static_weights(
    tmp_path: Path, mlm_in_root: bool
) -> None:
    folder, table = write_router(tmp_path / "m", seed=23, mlm_in_root=mlm_in_root)
    layout = read_layout(folder)
    assert layout is not None and layout.activation == "log1p_log1p_relu"
    assert layout.query_weights == "query_0_SparseStaticEmbedding/model.safetensors"
    encoder = SpladeEncoder(folder)
    assert encoder.query_mode == "idf"
    mismatched, worst = compare(encoder.encode_documents(TEXTS), expected(23, twice=True))
    assert mismatched == 0 and worst < 2e-5
    tokenizer = build_tokenizer(tiny_vocab())
    for text in TEXTS:  # SparseStaticEmbedding: each token, tokenized without special tokens
        ids = set(tokenizer.encode(text, add_special_tokens=False).ids)
        want = {i: float(table[i]) for i in ids if table[i] > 0}
        assert encoder.encode_query(text).to_dict() == pytest.approx(want)
        assert want  # the table gives these queries weights: the check is not vacuous


def test_a_router_with_a_transformer_query_route_is_refused(tmp_path: Path) -> None:
    folder, _ = write_router(tmp_path / "m")
    router = json.loads((folder / "router_config.json").read_text())
    router["structure"]["query"] = ["document_0_MLMTransformer", "document_1_SpladePooling"]
    (folder / "router_config.json").write_text(json.dumps(router))
    with pytest.raises(ModelFormatError, match="query route"):
        SpladeEncoder(folder)
