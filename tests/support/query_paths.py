"""Tiny models whose queries take another path: inference-free, two encoders, another vocabulary."""

from __future__ import annotations

import json
from pathlib import Path

import onnx

from support.tiny_model import (
    SPECIAL_TOKENS,
    build_onnx_model,
    build_tokenizer,
    tiny_vocab,
    write_model_folder,
)


def inference_free_folder(folder: Path, seed: int = 0) -> Path:
    """A tiny model with an ``idf.json`` beside it: queries are looked up, not run."""
    write_model_folder(folder, seed=seed)
    vocab = (folder / "vocab.txt").read_text().split()
    weights = {
        token: 0.5 + (position % 7) / 3
        for position, token in enumerate(vocab)
        if token not in SPECIAL_TOKENS
    }
    (folder / "idf.json").write_text(json.dumps(weights))
    return folder


def two_encoder_folders(folder: Path) -> tuple[Path, Path]:
    """A document model and a different query model (same vocabulary)."""
    return (
        write_model_folder(folder / "documents", seed=11),
        write_model_folder(folder / "queries", seed=22),
    )


def other_vocabulary_folder(folder: Path) -> Path:
    """A tiny model whose vocabulary has three more words than the usual one."""
    folder.mkdir(parents=True, exist_ok=True)
    vocab = tiny_vocab(["zebra", "quokka", "narwhal"])
    build_tokenizer(vocab).save(str(folder / "tokenizer.json"))
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n")
    config = {"model_type": "bert", "vocab_size": len(vocab), "max_position_embeddings": 512}
    (folder / "config.json").write_text(json.dumps(config))
    (folder / "tokenizer_config.json").write_text(json.dumps({"model_max_length": 512}))
    onnx.save(build_onnx_model(len(vocab)), str(folder / "model.onnx"))
    return folder
