"""BERT and RoBERTa masked LMs (``BertForMaskedLM``, ``RobertaForMaskedLM``, XLM-RoBERTa).

HF math: embeddings ``LayerNorm(word[ids] + token_type[0] + position[pos])``, post-LN encoder
layers, then the MLM head ``LayerNorm(act(dense(h))) @ decoderᵀ + bias``. BERT positions are
``0, 1, …``; RoBERTa's start after the padding index (``padding_idx + 1``, padding itself at
``padding_idx``) and its head always uses erf GELU. The decoder is the word-embedding table
unless ``tie_word_embeddings`` is false.
"""

from __future__ import annotations

import numpy as np
import onnx

from spladekit.errors import ModelFormatError
from spladekit.model.build import layers
from spladekit.model.build.layers import Emitter
from spladekit.model.build.weights import Head, Settings, Weights

__all__ = ["ARCHITECTURES", "emit"]

#: Architecture → model family ("bert": absolute positions from 0; "roberta": after padding).
ARCHITECTURES = {
    "BertForMaskedLM": "bert",
    "RobertaForMaskedLM": "roberta",
    "XLMRobertaForMaskedLM": "roberta",
}


def _embeddings(
    g: Emitter, w: Weights, prefix: str, positions: str, eps: float
) -> tuple[str, np.ndarray]:
    """The embedding sum and its layer norm; also the word table (the tied decoder)."""
    name = f"{prefix}.embeddings"
    table = w.get(f"{name}.word_embeddings.weight")
    word = g.op("Gather", [g.tensor(f"{name}.word_embeddings.weight", table), "input_ids"], name)
    types = w.get(f"{name}.token_type_embeddings.weight")
    summed = g.op("Add", [word, g.tensor(f"{name}.token_type_embeddings.row0", types[0])], name)
    rows = g.tensor(
        f"{name}.position_embeddings.weight", w.get(f"{name}.position_embeddings.weight")
    )
    summed = g.op("Add", [summed, g.op("Gather", [rows, positions], name)], name)
    norm = f"{name}.LayerNorm"
    out = layers.layer_norm(g, summed, w.get(f"{norm}.weight"), w.get(f"{norm}.bias"), eps, norm)
    return out, table


def _positions(g: Emitter, family: str, pad: int) -> str:
    """Position ids: ``0 … tokens-1`` (BERT), or RoBERTa's ``cumsum(real) * real + pad``."""
    if family == "bert":
        tokens = g.op(
            "Gather", [g.op("Shape", ["input_ids"], "positions"), g.const(1, np.int64)], "positions"
        )
        return g.op("Range", [g.const(0, np.int64), tokens, g.const(1, np.int64)], "positions")
    real = g.op(
        "Not", [g.op("Equal", ["input_ids", g.const(pad, np.int64)], "positions")], "positions"
    )
    real = g.op(
        "Mul",
        [g.op("Cast", [real], "positions", to=onnx.TensorProto.INT64), "attention_mask"],
        "positions",
    )
    count = g.op("CumSum", [real, g.const(1, np.int64)], "positions")
    return g.op(
        "Add", [g.op("Mul", [count, real], "positions"), g.const(pad, np.int64)], "positions"
    )


def emit(config: Settings, w: Weights, g: Emitter, architecture: str) -> Head:
    """Emit the encoder and the MLM head's transform; return what the pooled head needs."""
    family = ARCHITECTURES[architecture]
    kind = config.get("position_embedding_type", "absolute")
    if kind != "absolute":
        msg = (
            f"{config.path}: position_embedding_type {kind!r} is not supported; "
            "spladekit builds absolute position embeddings only"
        )
        raise ModelFormatError(msg)
    prefix, head = ("bert", "cls.predictions") if family == "bert" else ("roberta", "lm_head")
    w.require_head(head)
    eps = config.float("layer_norm_eps", 1e-12)
    act = layers.check_activation(config.get("hidden_act", "gelu"), f"{config.path} hidden_act")
    heads = config.int("num_attention_heads", 12)
    count = config.int("num_hidden_layers", 12)
    pad = config.int("pad_token_id", 1 if family == "roberta" else 0)
    x, table = _embeddings(g, w, prefix, _positions(g, family, pad), eps)
    mask = layers.attention_mask(g)
    for i in range(count):
        stem = f"{prefix}.encoder.layer.{i}"
        names = {
            "q": f"{stem}.attention.self.query",
            "k": f"{stem}.attention.self.key",
            "v": f"{stem}.attention.self.value",
            "o": f"{stem}.attention.output.dense",
            "attention_norm": f"{stem}.attention.output.LayerNorm",
            "up": f"{stem}.intermediate.dense",
            "down": f"{stem}.output.dense",
            "output_norm": f"{stem}.output.LayerNorm",
        }
        x = layers.encoder_layer(g, x, mask, w.get, names, heads=heads, eps=eps, act=act)
    w.refuse_extra_layer(f"{prefix}.encoder.layer.{count}.", count)
    if family == "bert":
        dense, norm, head_act = f"{head}.transform.dense", f"{head}.transform.LayerNorm", act
    else:  # RobertaLMHead applies erf GELU whatever hidden_act says
        dense, norm, head_act = f"{head}.dense", f"{head}.layer_norm", "gelu"
    t = layers.linear_activation(
        g, x, w.get(f"{dense}.weight"), w.get(f"{dense}.bias"), head_act, dense
    )
    t = layers.layer_norm(g, t, w.get(f"{norm}.weight"), w.get(f"{norm}.bias"), eps, norm)
    tied = config.get("tie_word_embeddings", True)
    decoder = w.decoder(f"{head}.decoder.weight", table, tied=tied)
    # transformers ties the decoder's bias to the head's own bias parameter
    bias = w.first(f"{head}.bias", f"{head}.decoder.bias")
    return Head(hidden=t, weight=decoder, bias=bias)
