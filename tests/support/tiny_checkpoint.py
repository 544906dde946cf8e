"""Tiny Hugging Face checkpoints written in code: config.json + model.safetensors + tokenizer.

The safetensors writer here is the format's spec written out (8-byte header length, JSON
header, bytes), independent of spladekit's reader. Weights are random with HF names for
``BertForMaskedLM`` (tied or untied decoder), ``RobertaForMaskedLM`` and
``DistilBertForMaskedLM``; the MLM bias is shifted so a short text activates a few dozen
vocabulary entries, as a trained SPLADE model does.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import numpy as np

from support.tiny_model import build_tokenizer, tiny_vocab

_DTYPE_NAMES = {np.dtype("<f4"): "F32", np.dtype("<f2"): "F16", np.dtype("<i8"): "I64"}
HIDDEN, HEADS, FFN, LAYERS, POSITIONS = 16, 2, 32, 2, 64


def write_safetensors(
    path: Path, tensors: dict[str, np.ndarray], *, bf16: bool = False, align: int = 8
) -> Path:
    """Write *tensors* as safetensors; ``bf16=True`` stores float32 ones as BF16 (truncated)."""
    header: dict[str, Any] = {"__metadata__": {"format": "pt"}}
    chunks: list[bytes] = []
    offset = 0
    for name, array in tensors.items():
        if bf16 and array.dtype == np.float32:
            data = (np.ascontiguousarray(array).view(np.uint32) >> 16).astype("<u2").tobytes()
            dtype = "BF16"
        else:
            data = np.ascontiguousarray(array).tobytes()
            dtype = _DTYPE_NAMES[array.dtype.newbyteorder("<")]
        header[name] = {
            "dtype": dtype,
            "shape": list(array.shape),
            "data_offsets": [offset, offset + len(data)],
        }
        chunks.append(data)
        offset += len(data)
    encoded = json.dumps(header).encode()
    encoded += b" " * (-len(encoded) % align)
    path.write_bytes(struct.pack("<Q", len(encoded)) + encoded + b"".join(chunks))
    return path


def bf16_round(array: np.ndarray) -> np.ndarray:
    """What storing *array* as BF16 (truncation) keeps of it, as float32."""
    bits = np.ascontiguousarray(array, dtype=np.float32).view(np.uint32)
    return (bits & np.uint32(0xFFFF0000)).view(np.float32)


def _linear(rng: np.random.Generator, out: int, fan_in: int, name: str) -> dict[str, np.ndarray]:
    return {
        f"{name}.weight": rng.normal(0, 0.3, (out, fan_in)).astype(np.float32),
        f"{name}.bias": rng.normal(0, 0.1, out).astype(np.float32),
    }


def _norm(rng: np.random.Generator, name: str, *, old_names: bool = False) -> dict[str, np.ndarray]:
    weight, bias = ("gamma", "beta") if old_names else ("weight", "bias")
    return {
        f"{name}.{weight}": (1 + rng.normal(0, 0.1, HIDDEN)).astype(np.float32),
        f"{name}.{bias}": rng.normal(0, 0.1, HIDDEN).astype(np.float32),
    }


def bert_weights(
    vocab: int,
    *,
    seed: int = 0,
    tied: bool = True,
    family: str = "bert",
    old_names: bool = False,
    layers: int = LAYERS,
    positions: int = POSITIONS,
    ffn: int = FFN,
) -> dict[str, np.ndarray]:
    """HF-named weights of a tiny BertForMaskedLM (or RobertaForMaskedLM)."""
    rng = np.random.default_rng(seed)
    p = family
    w: dict[str, np.ndarray] = {
        f"{p}.embeddings.word_embeddings.weight": rng.normal(0, 1, (vocab, HIDDEN)).astype(
            np.float32
        ),
        f"{p}.embeddings.position_embeddings.weight": rng.normal(
            0, 0.3, (positions, HIDDEN)
        ).astype(np.float32),
        f"{p}.embeddings.token_type_embeddings.weight": rng.normal(
            0, 0.3, (1 if family == "roberta" else 2, HIDDEN)
        ).astype(np.float32),
    }
    w |= _norm(rng, f"{p}.embeddings.LayerNorm", old_names=old_names)
    for i in range(layers):
        s = f"{p}.encoder.layer.{i}"
        for part in ("query", "key", "value"):
            w |= _linear(rng, HIDDEN, HIDDEN, f"{s}.attention.self.{part}")
        w |= _linear(rng, HIDDEN, HIDDEN, f"{s}.attention.output.dense")
        w |= _norm(rng, f"{s}.attention.output.LayerNorm", old_names=old_names)
        w |= _linear(rng, ffn, HIDDEN, f"{s}.intermediate.dense")
        w |= _linear(rng, HIDDEN, ffn, f"{s}.output.dense")
        w |= _norm(rng, f"{s}.output.LayerNorm", old_names=old_names)
    head = "cls.predictions" if family == "bert" else "lm_head"
    dense = f"{head}.transform.dense" if family == "bert" else f"{head}.dense"
    norm = f"{head}.transform.LayerNorm" if family == "bert" else f"{head}.layer_norm"
    w |= _linear(rng, HIDDEN, HIDDEN, dense)
    w |= _norm(rng, norm, old_names=old_names and family == "bert")
    w[f"{head}.bias"] = (-4.0 + rng.normal(0, 0.5, vocab)).astype(np.float32)
    if not tied:
        w[f"{head}.decoder.weight"] = rng.normal(0, 0.7, (vocab, HIDDEN)).astype(np.float32)
    return w


def distilbert_weights(vocab: int, *, seed: int = 0, tied: bool = True) -> dict[str, np.ndarray]:
    """HF-named weights of a tiny DistilBertForMaskedLM."""
    rng = np.random.default_rng(seed)
    p = "distilbert"
    w: dict[str, np.ndarray] = {
        f"{p}.embeddings.word_embeddings.weight": rng.normal(0, 1, (vocab, HIDDEN)).astype(
            np.float32
        ),
        f"{p}.embeddings.position_embeddings.weight": rng.normal(
            0, 0.3, (POSITIONS, HIDDEN)
        ).astype(np.float32),
    }
    w |= _norm(rng, f"{p}.embeddings.LayerNorm")
    for i in range(LAYERS):
        s = f"{p}.transformer.layer.{i}"
        for part in ("q_lin", "k_lin", "v_lin", "out_lin"):
            w |= _linear(rng, HIDDEN, HIDDEN, f"{s}.attention.{part}")
        w |= _norm(rng, f"{s}.sa_layer_norm")
        w |= _linear(rng, FFN, HIDDEN, f"{s}.ffn.lin1")
        w |= _linear(rng, HIDDEN, FFN, f"{s}.ffn.lin2")
        w |= _norm(rng, f"{s}.output_layer_norm")
    w |= _linear(rng, HIDDEN, HIDDEN, "vocab_transform")
    w |= _norm(rng, "vocab_layer_norm")
    w["vocab_projector.bias"] = (-4.0 + rng.normal(0, 0.5, vocab)).astype(np.float32)
    if not tied:
        w["vocab_projector.weight"] = rng.normal(0, 0.7, (vocab, HIDDEN)).astype(np.float32)
    return w


def bert_config(kind: str, vocab: int, **overrides: Any) -> dict[str, Any]:
    """config.json of a tiny checkpoint: kind is bert, roberta or distilbert."""
    if kind == "distilbert":
        config: dict[str, Any] = {
            "architectures": ["DistilBertForMaskedLM"],
            "model_type": "distilbert",
            "activation": "gelu",
            "dim": HIDDEN,
            "hidden_dim": FFN,
            "n_heads": HEADS,
            "n_layers": LAYERS,
            "max_position_embeddings": POSITIONS,
            "vocab_size": vocab,
            "pad_token_id": 0,
        }
    else:
        config = {
            "architectures": ["RobertaForMaskedLM" if kind == "roberta" else "BertForMaskedLM"],
            "model_type": kind,
            "hidden_act": "gelu",
            "hidden_size": HIDDEN,
            "intermediate_size": FFN,
            "num_attention_heads": HEADS,
            "num_hidden_layers": LAYERS,
            "layer_norm_eps": 1e-5 if kind == "roberta" else 1e-12,
            "max_position_embeddings": POSITIONS,
            "type_vocab_size": 1 if kind == "roberta" else 2,
            "vocab_size": vocab,
            "pad_token_id": 1 if kind == "roberta" else 0,
        }
    return config | overrides


def write_checkpoint(
    folder: Path,
    kind: str = "bert",
    *,
    seed: int = 0,
    tied: bool = True,
    tokenizer: bool = True,
    weights: dict[str, np.ndarray] | None = None,
    bf16: bool = False,
    **config: Any,
) -> Path:
    """A folder like a Hub SPLADE repo without an export: config, weights, tokenizer."""
    folder.mkdir(parents=True, exist_ok=True)
    vocab = tiny_vocab()
    if weights is None:
        if kind == "distilbert":
            weights = distilbert_weights(len(vocab), seed=seed, tied=tied)
        else:
            weights = bert_weights(len(vocab), seed=seed, tied=tied, family=kind)
    settings = bert_config(kind, len(vocab), **({"tie_word_embeddings": tied} | config))
    (folder / "config.json").write_text(json.dumps(settings, indent=2))
    write_safetensors(folder / "model.safetensors", weights, bf16=bf16)
    if tokenizer:
        build_tokenizer(vocab).save(str(folder / "tokenizer.json"))
        (folder / "tokenizer_config.json").write_text(json.dumps({"model_max_length": 512}))
    return folder


ST = "sentence_transformers.sparse_encoder.models"


def _pooling_config(folder: Path, strategy: str, activation: str | None) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    config: dict[str, Any] = {"pooling_strategy": strategy, "word_embedding_dimension": None}
    if activation is not None:
        config["activation_function"] = activation
    (folder / "config.json").write_text(json.dumps(config, indent=4))


def write_sentence_transformers(
    folder: Path,
    *,
    mlm_folder: str = "",
    activation: str | None = "relu",
    pooling: str = "max",
    seed: int = 0,
    max_seq_length: int = 48,
) -> Path:
    """A SparseEncoder.save() layout: MLMTransformer (root or subfolder) + SpladePooling."""
    write_checkpoint(folder / mlm_folder if mlm_folder else folder, seed=seed)
    mlm = folder / mlm_folder if mlm_folder else folder
    (mlm / "sentence_bert_config.json").write_text(
        json.dumps({"max_seq_length": max_seq_length, "do_lower_case": False})
    )
    _pooling_config(folder / "1_SpladePooling", pooling, activation)
    modules = [
        {"idx": 0, "name": "0", "path": mlm_folder, "type": f"{ST}.MLMTransformer"},
        {"idx": 1, "name": "1", "path": "1_SpladePooling", "type": f"{ST}.SpladePooling"},
    ]
    (folder / "modules.json").write_text(json.dumps(modules, indent=2))
    return folder


def write_router(
    folder: Path, *, activation: str = "log1p_relu", seed: int = 0, mlm_in_root: bool = False
) -> tuple[Path, np.ndarray]:
    """An inference-free Router layout: document MLM + SpladePooling, query SparseStaticEmbedding.

    Returns the folder and the query weight table written (one weight per vocabulary id).
    """
    vocab = tiny_vocab()
    document = "" if mlm_in_root else "document_0_MLMTransformer"
    write_checkpoint(folder / document if document else folder, seed=seed)
    _pooling_config(folder / "document_1_SpladePooling", "max", activation)
    query = folder / "query_0_SparseStaticEmbedding"
    query.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed + 100)
    weights = np.where(rng.random(len(vocab)) < 0.7, rng.uniform(0.5, 6, len(vocab)), 0.0)
    weights = weights.astype(np.float32)
    write_safetensors(query / "model.safetensors", {"weight": weights})
    (query / "config.json").write_text(json.dumps({"frozen": True}))
    build_tokenizer(vocab).save(str(query / "tokenizer.json"))
    types = {
        "query_0_SparseStaticEmbedding": f"{ST}.SparseStaticEmbedding.SparseStaticEmbedding",
        document: f"{ST}.MLMTransformer.MLMTransformer",
        "document_1_SpladePooling": f"{ST}.SpladePooling.SpladePooling",
    }
    router = {
        "types": types,
        "structure": {
            "query": ["query_0_SparseStaticEmbedding"],
            "document": [document, "document_1_SpladePooling"],
        },
        "parameters": {"default_route": "document", "allow_empty_key": True},
    }
    (folder / "router_config.json").write_text(json.dumps(router, indent=4))
    modules = [{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Router"}]
    (folder / "modules.json").write_text(json.dumps(modules, indent=2))
    return folder, weights
