"""Built graphs give the vectors of a numpy forward pass of the same architecture.

Tiny checkpoints (tests/support/tiny_checkpoint.py) for every supported family and variant are
built and encoded; the reference is tests/support/numpy_forward.py, one text at a time in
float64. Padded batches must give what single texts give, and the in-graph padding fix of the
shared pooled head must be load-bearing here too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest

from spladekit import SpladeEncoder
from spladekit.model import graph as graph_module

from support.numpy_forward import bert_logits, distilbert_logits, splade_vector
from support.parity import compare
from support.tiny_checkpoint import (
    bert_config,
    bert_weights,
    bf16_round,
    distilbert_weights,
    write_checkpoint,
)
from support.tiny_model import build_tokenizer, tiny_vocab

TEXTS = [
    "the moon",
    "india launched a lunar mission to the south pole of the moon",
    "rover",
    "chandrayaan third mission lander rover orbit surface space launch launched",
    "what is the weather in ny now?",
]
VOCAB = len(tiny_vocab())

#: name → (kind, weights, config overrides)
VARIANTS: dict[str, tuple[str, dict[str, np.ndarray], dict[str, Any]]] = {
    "bert-tied": ("bert", bert_weights(VOCAB, seed=1), {}),
    "bert-untied": (
        "bert",
        bert_weights(VOCAB, seed=2, tied=False),
        {"tie_word_embeddings": False},
    ),
    "bert-gamma-beta-names": ("bert", bert_weights(VOCAB, seed=3, old_names=True), {}),
    "bert-gelu-tanh": ("bert", bert_weights(VOCAB, seed=4), {"hidden_act": "gelu_new"}),
    "bert-relu": ("bert", bert_weights(VOCAB, seed=5), {"hidden_act": "relu"}),
    "roberta": ("roberta", bert_weights(VOCAB, seed=6, family="roberta"), {}),
    "distilbert-tied": ("distilbert", distilbert_weights(VOCAB, seed=7), {}),
    "distilbert-untied": (
        "distilbert",
        distilbert_weights(VOCAB, seed=8, tied=False),
        {"tie_word_embeddings": False},
    ),
}


def reference(
    kind: str, weights: dict[str, np.ndarray], config: dict[str, Any]
) -> list[dict[int, float]]:
    tokenizer = build_tokenizer(tiny_vocab())
    forward = distilbert_logits if kind == "distilbert" else bert_logits
    return [splade_vector(forward(weights, config, tokenizer.encode(t).ids)) for t in TEXTS]


def checkpoint(
    tmp_path: Path, name: str, *, bf16: bool = False
) -> tuple[Path, list[dict[int, float]]]:
    kind, weights, overrides = VARIANTS[name]
    folder = write_checkpoint(tmp_path / name, kind, weights=weights, bf16=bf16, **overrides)
    config = bert_config(kind, VOCAB, **overrides)
    kept = {k: bf16_round(v) for k, v in weights.items()} if bf16 else weights
    return folder, reference(kind, kept, config)


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_built_vectors_equal_the_numpy_forward_pass(tmp_path: Path, name: str) -> None:
    folder, expected = checkpoint(tmp_path, name)
    encoder = SpladeEncoder(folder)
    assert encoder._documents.session.pooled
    got = encoder.encode_documents(TEXTS)
    assert all(len(v) > 0 for v in got)
    assert compare(got, expected) == (0, pytest.approx(0.0, abs=2e-5))
    # One text at a time (no padding) gives the batch's vectors.
    for text, vector in zip(TEXTS, got, strict=True):
        [alone] = encoder.encode_documents([text])
        assert compare([alone], [vector.to_dict()])[1] < 1e-5


def test_bf16_weights_are_widened_exactly(tmp_path: Path) -> None:
    folder, expected = checkpoint(tmp_path, "bert-tied", bf16=True)
    got = SpladeEncoder(folder).encode_documents(TEXTS)
    assert compare(got, expected) == (0, pytest.approx(0.0, abs=2e-5))


def test_a_wrong_reference_would_be_caught(tmp_path: Path) -> None:
    """The comparison can fail: another seed's weights give other vectors."""
    folder, _ = checkpoint(tmp_path, "bert-tied")
    kind, _, overrides = VARIANTS["bert-untied"]
    other = reference(
        kind, bert_weights(VOCAB, seed=2, tied=False), bert_config(kind, VOCAB, **overrides)
    )
    mismatched, worst = compare(SpladeEncoder(folder).encode_documents(TEXTS), other)
    assert mismatched > 0 and worst > 0.1


def test_padding_fix_of_the_pooled_head_is_load_bearing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = graph_module.pooled_head

    def unmasked(*args, **kwargs):  # type: ignore[no-untyped-def]
        return [
            onnx.helper.make_node("Identity", [n.input[1]], list(n.output))
            if n.op_type == "Where"
            else n
            for n in original(*args, **kwargs)
        ]

    monkeypatch.setattr(graph_module, "pooled_head", unmasked)
    monkeypatch.setenv("SPLADEKIT_CACHE", str(tmp_path / "cache"))
    folder, expected = checkpoint(tmp_path, "bert-tied")
    mismatched, worst = compare(SpladeEncoder(folder).encode_documents(TEXTS), expected)
    assert mismatched > 0 or worst > 1e-3
