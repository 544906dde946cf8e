"""Query paths beside the document model: inference-free weight tables and two-encoder models."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import onnx
import pytest

from spladekit import SpladeEncoder
from spladekit.errors import ModelFormatError, ModelNotFoundError
from spladekit.model.catalog import find_known_model

from support.tiny_model import build_onnx_model, write_model_folder

CARD_QUERY = "What's the weather in ny now?"
#: opensearch-neural-sparse-encoding-doc-v2-mini model card figures for CARD_QUERY.
CARD_WEIGHTS = {"ny": 5.7729, "weather": 4.5684, "now": 3.5895, "?": 3.3313}


@pytest.fixture(scope="module")
def inference_free_dir(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """idf.json + tokenizer.json from ../shared beside a small 30522-vocab ONNX document model."""
    source = shared_data / "opensearch-idf"
    if not (source / "idf.json").is_file():
        pytest.skip("opensearch idf table not in ../shared/data")
    folder = tmp_path_factory.mktemp("inference-free")
    shutil.copy(source / "idf.json", folder / "idf.json")
    shutil.copy(source / "tokenizer.json", folder / "tokenizer.json")
    onnx.save(build_onnx_model(30522, hidden=8, bias=-3.0), str(folder / "model.onnx"))
    return folder


def test_inference_free_query_matches_the_model_card(inference_free_dir: Path) -> None:
    encoder = SpladeEncoder.from_pretrained(inference_free_dir)
    assert encoder.query_mode == "idf"
    weights = dict(encoder.explain(encoder.encode_query(CARD_QUERY)))
    for token, expected in CARD_WEIGHTS.items():
        assert round(weights[token], 4) == expected, token
    # Every distinct token once, no special tokens, highest first.
    assert "[CLS]" not in weights and "[SEP]" not in weights
    ranked = [token for token, _ in encoder.explain(encoder.encode_query(CARD_QUERY), top_k=4)]
    assert ranked == ["ny", "weather", "now", "?"]


def test_inference_free_documents_still_run_the_model(inference_free_dir: Path) -> None:
    encoder = SpladeEncoder.from_pretrained(inference_free_dir)
    [document] = encoder.encode_documents([CARD_QUERY])
    query = encoder.encode_query(CARD_QUERY)
    assert document != query
    assert len(document) > len(query)  # the document model expands; the table cannot
    assert encoder.encode_queries([CARD_QUERY, "", CARD_QUERY]) == [query, query.empty(), query]


def test_a_broken_weight_table_is_reported(inference_free_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "model"
    shutil.copytree(inference_free_dir, folder)
    (folder / "idf.json").write_text(json.dumps({"notatoken!!": 1.0}))
    with pytest.raises(ModelFormatError, match="not in the tokenizer"):
        SpladeEncoder.from_pretrained(folder)


def test_known_inference_free_model_requires_its_table(tmp_path: Path) -> None:
    # A folder laid out as a Hub cache snapshot of a known model takes that model's facts.
    name = "opensearch-project/opensearch-neural-sparse-encoding-doc-v3-distill"
    snapshot = tmp_path / f"models--{name.replace('/', '--')}" / "snapshots" / "abc123"
    write_model_folder(snapshot, model_file="onnx/model.onnx")
    with pytest.raises(ModelNotFoundError, match="idf.json"):
        SpladeEncoder.from_pretrained(snapshot)


def test_activation_and_special_tokens_follow_the_model_table(tmp_path: Path) -> None:
    name = "opensearch-project/opensearch-neural-sparse-encoding-doc-v3-distill"
    known = find_known_model(name)
    assert known is not None and known.activation == "log1p_log1p_relu"
    plain = write_model_folder(tmp_path / "plain")
    snapshot = tmp_path / f"models--{name.replace('/', '--')}" / "snapshots" / "abc123"
    write_model_folder(snapshot, model_file="onnx/model.onnx")
    vocab = (plain / "vocab.txt").read_text().split()
    (snapshot / "idf.json").write_text(json.dumps({token: 1.0 for token in vocab}))

    v3 = SpladeEncoder.from_pretrained(snapshot)
    splade = SpladeEncoder.from_pretrained(plain)
    text = ["the lunar mission landed near the moon"]
    [doubled] = v3.encode_documents(text)
    [single] = splade.encode_documents(text)
    special = set(v3._documents.tokenizer.special_ids)
    expected = {i: w for i, w in single.to_dict().items() if i not in special}
    assert doubled.indices.tolist() == sorted(expected)
    np.testing.assert_allclose(
        doubled.values, np.log1p(np.array([expected[i] for i in sorted(expected)])), rtol=1e-6
    )


def test_two_encoders_each_path_uses_its_own_model(tmp_path: Path) -> None:
    documents_dir = write_model_folder(tmp_path / "doc", seed=11)
    queries_dir = write_model_folder(tmp_path / "query", seed=22)
    pair = SpladeEncoder.from_pretrained(documents_dir, query_model=queries_dir)
    assert pair.query_mode == "query_model"
    doc_only = SpladeEncoder.from_pretrained(documents_dir)
    query_only = SpladeEncoder.from_pretrained(queries_dir)
    texts = ["india lunar mission", "rover on the moon surface"]

    assert pair.encode_documents(texts) == doc_only.encode_documents(texts)
    assert pair.encode_queries(texts) == query_only.encode_queries(texts)
    assert pair.encode_queries(texts) != doc_only.encode_queries(texts)
    assert pair.encode_query(texts[0]) == query_only.encode_query(texts[0])


def test_two_encoder_model_from_the_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The efficient-SPLADE entry names its query model; loading the doc model loads both.
    known = find_known_model("naver/efficient-splade-VI-BT-large-doc")
    assert known is not None and known.query_model is not None
    cache = tmp_path / "hub"
    for repo, seed in ((known.hf_repo, 1), (known.query_model, 2)):
        folder = cache / f"models--{repo.replace('/', '--')}" / "snapshots" / "rev"
        write_model_folder(folder, seed=seed, model_file="onnx/model.onnx")
    import spladekit.model.locate as hub

    def from_cache(repo_id: str, patterns: list[str], **_: object) -> Path:
        return cache / f"models--{repo_id.replace('/', '--')}" / "snapshots" / "rev"

    monkeypatch.setattr(hub, "download", from_cache)
    pair = SpladeEncoder.from_pretrained(known.model)
    assert pair.query_mode == "query_model"
    query_only = SpladeEncoder.from_pretrained(known.query_model)
    assert pair.encode_query("moon rover") == query_only.encode_query("moon rover")
