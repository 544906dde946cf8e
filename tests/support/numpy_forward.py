"""Masked-LM forward passes in plain numpy (float64), written from the transformers source.

The reference the built graphs are checked against: one text at a time, no padding, no ONNX,
nothing shared with spladekit's builder. ``splade_vector`` turns the logits into SPLADE
weights the way sentence-transformers' SpladePooling does (max over tokens of log1p(relu)).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

_erf = np.frompyfunc(math.erf, 1, 1)


def _gelu(x: np.ndarray, kind: str) -> np.ndarray:
    if kind == "relu":
        return np.maximum(x, 0.0)
    if kind == "gelu":
        return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)).astype(np.float64))
    # gelu_new / gelu_pytorch_tanh: the tanh approximation
    return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3)))


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


def _dense(w: dict[str, np.ndarray], name: str, x: np.ndarray) -> np.ndarray:
    return x @ w[f"{name}.weight"].astype(np.float64).T + w[f"{name}.bias"]


def _attention(
    x: np.ndarray, q: np.ndarray, k: np.ndarray, v: np.ndarray, heads: int
) -> np.ndarray:
    tokens, hidden = x.shape
    size = hidden // heads

    def split(t: np.ndarray) -> np.ndarray:
        return t.reshape(tokens, heads, size).transpose(1, 0, 2)

    scores = split(q) @ split(k).transpose(0, 2, 1) / math.sqrt(size)
    scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
    probs = scores / scores.sum(axis=-1, keepdims=True)
    return (probs @ split(v)).transpose(1, 0, 2).reshape(tokens, hidden)


def _ln(w: dict[str, np.ndarray], name: str, x: np.ndarray, eps: float) -> np.ndarray:
    weight = w.get(f"{name}.weight", w.get(f"{name}.gamma"))
    bias = w.get(f"{name}.bias", w.get(f"{name}.beta"))
    assert weight is not None and bias is not None, name
    return _layer_norm(x, weight, bias, eps)


def bert_logits(w: dict[str, np.ndarray], config: dict[str, Any], ids: list[int]) -> np.ndarray:
    """(tokens, vocab) logits of BertForMaskedLM / RobertaForMaskedLM for one text."""
    roberta = config["model_type"] in ("roberta", "xlm-roberta")
    p = "roberta" if roberta else "bert"
    eps = config.get("layer_norm_eps", 1e-12)
    act = config.get("hidden_act", "gelu")
    ids_array = np.asarray(ids)
    if roberta:  # create_position_ids_from_input_ids
        pad = config.get("pad_token_id", 1)
        real = (ids_array != pad).astype(np.int64)
        positions = np.cumsum(real) * real + pad
    else:
        positions = np.arange(len(ids))
    x = (
        w[f"{p}.embeddings.word_embeddings.weight"][ids_array].astype(np.float64)
        + w[f"{p}.embeddings.token_type_embeddings.weight"][0]
        + w[f"{p}.embeddings.position_embeddings.weight"][positions]
    )
    x = _ln(w, f"{p}.embeddings.LayerNorm", x, eps)
    for i in range(config["num_hidden_layers"]):
        s = f"{p}.encoder.layer.{i}"
        q, k, v = (_dense(w, f"{s}.attention.self.{n}", x) for n in ("query", "key", "value"))
        a = _dense(
            w, f"{s}.attention.output.dense", _attention(x, q, k, v, config["num_attention_heads"])
        )
        x = _ln(w, f"{s}.attention.output.LayerNorm", a + x, eps)
        up = _gelu(_dense(w, f"{s}.intermediate.dense", x), act)
        x = _ln(w, f"{s}.output.LayerNorm", _dense(w, f"{s}.output.dense", up) + x, eps)
    if roberta:
        t = _ln(w, "lm_head.layer_norm", _gelu(_dense(w, "lm_head.dense", x), "gelu"), eps)
        decoder, bias = w.get("lm_head.decoder.weight"), w["lm_head.bias"]
    else:
        t = _gelu(_dense(w, "cls.predictions.transform.dense", x), act)
        t = _ln(w, "cls.predictions.transform.LayerNorm", t, eps)
        decoder, bias = w.get("cls.predictions.decoder.weight"), w["cls.predictions.bias"]
    if decoder is None or config.get("tie_word_embeddings", True):
        decoder = w[f"{p}.embeddings.word_embeddings.weight"]
    return t @ decoder.astype(np.float64).T + bias


def distilbert_logits(
    w: dict[str, np.ndarray], config: dict[str, Any], ids: list[int]
) -> np.ndarray:
    """(tokens, vocab) logits of DistilBertForMaskedLM for one text."""
    eps, act = 1e-12, config.get("activation", "gelu")
    p = "distilbert"
    x = w[f"{p}.embeddings.word_embeddings.weight"][ids].astype(np.float64)
    x = x + w[f"{p}.embeddings.position_embeddings.weight"][: len(ids)]
    x = _ln(w, f"{p}.embeddings.LayerNorm", x, eps)
    for i in range(config["n_layers"]):
        s = f"{p}.transformer.layer.{i}"
        q, k, v = (_dense(w, f"{s}.attention.{n}", x) for n in ("q_lin", "k_lin", "v_lin"))
        a = _dense(w, f"{s}.attention.out_lin", _attention(x, q, k, v, config["n_heads"]))
        x = _ln(w, f"{s}.sa_layer_norm", a + x, eps)
        ffn = _dense(w, f"{s}.ffn.lin2", _gelu(_dense(w, f"{s}.ffn.lin1", x), act))
        x = _ln(w, f"{s}.output_layer_norm", ffn + x, eps)
    t = _ln(w, "vocab_layer_norm", _gelu(_dense(w, "vocab_transform", x), act), eps)
    decoder = w.get("vocab_projector.weight")
    if decoder is None or config.get("tie_word_embeddings", True):
        decoder = w[f"{p}.embeddings.word_embeddings.weight"]
    return t @ decoder.astype(np.float64).T + w["vocab_projector.bias"]


def splade_vector(logits: np.ndarray, *, twice: bool = False) -> dict[int, float]:
    """Max over tokens of log1p(relu(logits)) (log1p applied twice when *twice*), sparse."""
    weights = np.log1p(np.maximum(logits, 0.0)).max(axis=0)
    if twice:
        weights = np.log1p(weights)
    return {int(i): float(weights[i]) for i in np.flatnonzero(weights > 0)}
