"""Load: located files → the runnable pieces an encoder needs, for documents and for queries.

One decision lives here: which graph a session runs. For an export: the prepared copy
(default), its fused copy (``optimize="fused"``), the int8 copy of the fused one
(``quantize="int8"``), or the model as exported (``optimize=False``, or when it cannot be
prepared). For safetensors weights: the graph built from them (exact or fused), or the int8
copy of the fused one.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from spladekit.errors import InputError, ModelFormatError, ModelNotFoundError
from spladekit.model.build import build_model
from spladekit.model.build.safetensors import Checkpoint
from spladekit.model.cache import deferred_checks
from spladekit.model.catalog import KNOWN_MODELS
from spladekit.model.locate import ModelFiles, locate_model
from spladekit.model.prepare import NotPreparableError, prepare_model
from spladekit.model.variant import is_fused
from spladekit.options import EncoderOptions, Optimize, Quantize
from spladekit.pipeline.lookup import QueryWeightTable
from spladekit.pipeline.pool import Activation
from spladekit.pipeline.run import MaskedLMSession
from spladekit.pipeline.tokenize import TextTokenizer

__all__ = ["DEFAULT_MODEL", "LoadedModel", "ModelSet", "load_models", "runnable_graph"]

logger = logging.getLogger(__name__)

DEFAULT_MODEL = KNOWN_MODELS[0].model
_DEFAULT_MAX_LENGTH = 512


@dataclass(frozen=True)
class LoadedModel:
    """One transformer ready to run: its tokenizer, its session, how its logits become weights."""

    tokenizer: TextTokenizer
    session: MaskedLMSession
    activation: Activation = "log1p_relu"
    drop_special_tokens: bool = False


@dataclass(frozen=True)
class ModelSet:
    """What an encoder runs: a document model, and at most one separate query side."""

    name: str
    documents: LoadedModel
    query_model: LoadedModel | None = None
    query_weights: QueryWeightTable | None = None


def runnable_graph(source: Path, *, optimize: Optimize, quantize: Quantize | None) -> Path:
    """The ONNX file a session should run for the export *source*.

    The prepared copy when *optimize* (the default) or *quantize* (fused when *optimize* is
    ``"fused"``, and for int8: :func:`~spladekit.model.variant.is_fused`); the export itself
    when neither, or — with a warning — when an fp32 copy cannot be prepared.
    """
    if not optimize and quantize is None:
        return source
    try:
        return prepare_model(source, quantize=quantize, fused=is_fused(optimize, quantize))
    except (NotPreparableError, OSError) as error:  # OSError: the cache cannot be written
        if quantize is not None:
            raise
        logger.warning("running %s as exported: it could not be prepared (%s)", source, error)
        return source


def _graph(files: ModelFiles, settings: EncoderOptions) -> tuple[Path, Path]:
    """(the graph a session runs, the model it came from) for located *files*."""
    if files.format == "onnx":
        graph = runnable_graph(
            files.model, optimize=settings["optimize"], quantize=settings["quantize"]
        )
        return graph, files.model
    if files.config is None:  # locate never returns weights without their config
        msg = f"{files.model} has no config.json"
        raise ModelNotFoundError(msg)
    if not settings["optimize"]:
        logger.info("optimize=False has no effect on %s: its graph is built pooled", files.model)
    graph = build_model(
        files.config,
        files.model,
        quantize=settings["quantize"],
        fused=is_fused(settings["optimize"], settings["quantize"]),
    )
    return graph, graph


def _activation(files: ModelFiles) -> Activation:
    """How logits become weights: as the folder's SpladePooling says, else the catalog."""
    known = files.known.activation if files.known else None
    if files.layout is None:
        return known or "log1p_relu"
    if known is not None and known != files.layout.activation:
        logger.warning(
            "%s: its SpladePooling config gives %s, spladekit's table %s; following the config",
            files.root,
            files.layout.activation,
            known,
        )
    return files.layout.activation


def load_model(files: ModelFiles, settings: EncoderOptions) -> LoadedModel:
    """The tokenizer and ONNX session of one located model."""
    known = files.known
    stated = files.max_length()
    max_length = settings["max_length"]
    if max_length is not None and stated is not None and max_length > stated:
        msg = f"max_length must be at most {stated} (the model's limit in its config), got {max_length}"
        raise InputError(msg)
    limit = max_length or stated or (known.max_length if known else None)
    tokenizer = TextTokenizer.from_file(files.tokenizer, limit or _DEFAULT_MAX_LENGTH)

    def open_session() -> MaskedLMSession:
        graph, source = _graph(files, settings)
        return MaskedLMSession(
            graph,
            vocab_size=tokenizer.vocab_size,
            providers=settings["providers"],
            threads=settings["threads"],
            source=source,
        )

    # A cached graph's bytes are checked while ONNX Runtime reads them to create the session;
    # if they turn out damaged, the entry is rebuilt and the session made again.
    session: MaskedLMSession | None
    with deferred_checks() as checks:
        try:
            session = open_session()
        except ModelFormatError:
            if not checks.damaged():
                raise
            session = None
    if session is None or checks.damaged():
        session = open_session()
    return LoadedModel(
        tokenizer=tokenizer,
        session=session,
        activation=_activation(files),
        drop_special_tokens=known.drop_special_tokens if known else False,
    )


def _static_weights(path: Path, tokenizer: TextTokenizer) -> QueryWeightTable:
    """A SparseStaticEmbedding's ``weight`` (one per vocabulary id) as the query table."""
    weight = Checkpoint(path).float32("weight")
    if weight.ndim != 1 or weight.size > tokenizer.vocab_size:
        msg = (
            f"{path}: the query weights have shape {weight.shape}, not one weight per token "
            f"of the {tokenizer.vocab_size}-token vocabulary"
        )
        raise ModelFormatError(msg)
    if not np.all(np.isfinite(weight)) or bool((weight < 0).any()):
        msg = f"{path}: the query weights must be finite numbers >= 0"
        raise ModelFormatError(msg)
    table = np.zeros(tokenizer.vocab_size, dtype=np.float32)
    table[: weight.size] = weight  # sentence-transformers sizes a table from idf.json this way
    # SparseStaticEmbedding weighs every token of the query as tokenized without special
    # tokens, as the table's content ids are: nothing more is skipped.
    return QueryWeightTable(table)


def load_models(model: str | os.PathLike[str], settings: EncoderOptions) -> ModelSet:
    """Locate and load *model*'s document side and its query side (a model, a table, or none).

    The query side comes from ``query_model=``, else the catalog's partner model, else a
    sentence-transformers Router's SparseStaticEmbedding, else an ``idf.json`` beside the model
    (inference-free queries).
    """

    def locate(source: str | os.PathLike[str], file: str | None = None) -> ModelFiles:
        return locate_model(
            source,
            revision=settings["revision"],
            cache_dir=settings["cache_dir"],
            local_files_only=settings["local_files_only"],
            model_file=file,
            format=settings["format"],
        )

    files = locate(model, settings["model_file"])
    documents = load_model(files, settings)
    query_source = settings["query_model"] or (files.known.query_model if files.known else None)
    queries = load_model(locate(query_source), settings) if query_source is not None else None
    weights = None
    if queries is None and files.query_weights is not None:
        weights = _static_weights(files.query_weights, documents.tokenizer)
    elif queries is None and files.known is not None and files.known.query == "idf":
        if files.idf is None:
            msg = f"{files.known.model} encodes queries with idf.json, but {files.root} has none"
            raise ModelNotFoundError(msg)
    if queries is None and weights is None and files.idf is not None:
        skip = documents.tokenizer.special_ids
        weights = QueryWeightTable.from_file(files.idf, documents.tokenizer, skip_ids=skip)
    name = files.known.model if files.known else os.fspath(model)
    return ModelSet(name=name, documents=documents, query_model=queries, query_weights=weights)
