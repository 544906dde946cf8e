"""DistilBERT masked LMs (``DistilBertForMaskedLM``).

HF math: embeddings ``LayerNorm(word[ids] + position[0 …])`` (no token types), post-LN layers
(``sa_layer_norm``, ``output_layer_norm``), then ``vocab_layer_norm(act(vocab_transform(h)))``
projected by ``vocab_projector`` (tied to the word table by default). Every layer norm of
DistilBERT uses epsilon 1e-12, fixed in transformers' code rather than in config.json.
"""

from __future__ import annotations

import numpy as np

from spladekit.model.build import layers
from spladekit.model.build.layers import Emitter
from spladekit.model.build.weights import Head, Settings, Weights

__all__ = ["ARCHITECTURES", "emit"]

ARCHITECTURES = {"DistilBertForMaskedLM": "distilbert"}
_EPS = 1e-12


def _embeddings(g: Emitter, w: Weights) -> tuple[str, np.ndarray]:
    """Word plus position embeddings, layer-normed; also the word table (the tied decoder)."""
    name = "distilbert.embeddings"
    table = w.get(f"{name}.word_embeddings.weight")
    word = g.op("Gather", [g.tensor(f"{name}.word_embeddings.weight", table), "input_ids"], name)
    shape = g.op("Shape", ["input_ids"], name)
    tokens = g.op("Gather", [shape, g.const(1, np.int64)], name)
    positions = g.op("Range", [g.const(0, np.int64), tokens, g.const(1, np.int64)], name)
    rows = w.get(f"{name}.position_embeddings.weight")
    where = g.op("Gather", [g.tensor(f"{name}.position_embeddings.weight", rows), positions], name)
    summed = g.op("Add", [word, where], name)
    norm = f"{name}.LayerNorm"
    out = layers.layer_norm(g, summed, w.get(f"{norm}.weight"), w.get(f"{norm}.bias"), _EPS, norm)
    return out, table


def emit(config: Settings, w: Weights, g: Emitter, architecture: str) -> Head:
    """Emit the encoder and the MLM head's transform; return what the pooled head needs."""
    del architecture  # one architecture in this family
    w.require_head("vocab_projector")
    act = layers.check_activation(config.get("activation", "gelu"), f"{config.path} activation")
    heads = config.int("n_heads", 12)
    count = config.int("n_layers", 6)
    x, table = _embeddings(g, w)
    mask = layers.attention_mask(g)
    for i in range(count):
        stem = f"distilbert.transformer.layer.{i}"
        names = {
            "q": f"{stem}.attention.q_lin",
            "k": f"{stem}.attention.k_lin",
            "v": f"{stem}.attention.v_lin",
            "o": f"{stem}.attention.out_lin",
            "attention_norm": f"{stem}.sa_layer_norm",
            "up": f"{stem}.ffn.lin1",
            "down": f"{stem}.ffn.lin2",
            "output_norm": f"{stem}.output_layer_norm",
        }
        x = layers.encoder_layer(g, x, mask, w.get, names, heads=heads, eps=_EPS, act=act)
    w.refuse_extra_layer(f"distilbert.transformer.layer.{count}.", count)
    t = layers.linear_activation(
        g,
        x,
        w.get("vocab_transform.weight"),
        w.get("vocab_transform.bias"),
        act,
        "vocab_transform",
    )
    t = layers.layer_norm(
        g,
        t,
        w.get("vocab_layer_norm.weight"),
        w.get("vocab_layer_norm.bias"),
        _EPS,
        "vocab_layer_norm",
    )
    tied = config.get("tie_word_embeddings", True)
    decoder = w.decoder("vocab_projector.weight", table, tied=tied)
    return Head(hidden=t, weight=decoder, bias=w.get("vocab_projector.bias"))
