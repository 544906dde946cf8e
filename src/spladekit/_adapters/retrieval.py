"""What both frameworks' SpladeRetriever share: a SparseIndex folder and the encoder it needs.

A saved retriever is a folder of three files: ``index.spladeidx`` (the
:class:`~spladekit.SparseIndex`), the documents or nodes as JSON (each framework's own
shape), and ``retriever.json``: the settings, the model's name and vocabulary size. Loading
takes the encoder as constructing does (``encoder=``, or a model and its options), and
defaults to the model named in the file; a vocabulary that differs from the one the index
was built with is refused, since every score would be wrong.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from spladekit._adapters.base import take_encoder
from spladekit.encoder import SpladeEncoder
from spladekit.errors import IndexFormatError, InputError, InputTypeError
from spladekit.index import SparseIndex

__all__ = [
    "INDEX_FILE",
    "SETTINGS_FILE",
    "check_top_k",
    "encoder_for",
    "json_ready",
    "load_index",
    "read_settings",
    "write_settings",
]

INDEX_FILE = "index.spladeidx"
SETTINGS_FILE = "retriever.json"
_VERSION = 1


def check_top_k(name: str, value: object) -> int:
    """A positive int: how many hits a retriever returns (any size; more than the index is fine)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        msg = f"{name} must be a positive integer, got {value!r}"
        raise InputError(msg)
    return value


def json_ready(value: Any, what: str) -> Any:
    """*value* after a JSON round trip check: refused, naming *what*, if it does not survive."""
    try:
        json.dumps(value)
    except (TypeError, ValueError) as error:
        msg = f"{what} cannot be saved as JSON: {error}"
        raise InputTypeError(msg) from error
    return value


def write_settings(
    folder: str | os.PathLike[str],
    kind: str,
    index: SparseIndex,
    encoder: SpladeEncoder,
    settings: dict[str, Any],
) -> Path:
    """Create *folder*, save *index* into it and write ``retriever.json``; returns the folder."""
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    index.save(target / INDEX_FILE)
    document = {
        "format": kind,
        "version": _VERSION,
        "model": encoder.name,
        "vocab_size": encoder.vocab_size,
        "query_mode": encoder.query_mode,
        "settings": settings,
    }
    (target / SETTINGS_FILE).write_text(json.dumps(document, indent=2), encoding="utf-8")
    return target


def read_settings(folder: str | os.PathLike[str], kind: str) -> dict[str, Any]:
    """``retriever.json`` of a folder written by :func:`write_settings` for *kind*."""
    path = Path(folder) / SETTINGS_FILE
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        msg = f"{folder} holds no saved retriever ({SETTINGS_FILE} is missing)"
        raise IndexFormatError(msg) from error
    except ValueError as error:
        msg = f"{path} is not valid JSON: {error}"
        raise IndexFormatError(msg) from error
    if not isinstance(document, dict) or document.get("format") != kind:
        found = document.get("format") if isinstance(document, dict) else None
        msg = f"{path} was written by {found!r}, not {kind!r}"
        raise IndexFormatError(msg)
    if document.get("version") != _VERSION:
        msg = f"{path} has version {document.get('version')!r}; this spladekit reads {_VERSION}"
        raise IndexFormatError(msg)
    return document


def encoder_for(
    owner: str, saved: dict[str, Any], model: object, encoder: object, options: dict[str, Any]
) -> SpladeEncoder:
    """The encoder a loaded retriever uses: given, or loaded (by default the saved model)."""
    if encoder is None and model is None:
        model = saved.get("model")
    chosen = take_encoder(owner, model, encoder, options, stacklevel=3)
    if chosen.vocab_size != saved.get("vocab_size"):
        msg = (
            f"{owner}: the index was built with a {saved.get('vocab_size')}-token vocabulary "
            f"({saved.get('model')!r}) but the encoder has {chosen.vocab_size} "
            f"({chosen.name!r}); load it with the model it was built with"
        )
        raise InputError(msg)
    return chosen


def load_index(folder: str | os.PathLike[str], *, mmap: bool) -> SparseIndex:
    """The SparseIndex saved in *folder*."""
    return SparseIndex.load(Path(folder) / INDEX_FILE, mmap=mmap)
