"""evaluate: a SpladeEncoder on a BEIR split — encode, index exactly, search, score the run.

Scoring is exact: every document's dot product with the query, through
:class:`~spladekit.SparseIndex` (one vector per document) or, for
``long_documents="best-window"``, :class:`~spladekit.index.WindowIndex` (a document scores as
its best window). The run keeps each query's top ``max(k_values + (10,))`` documents, which is
all the metrics look at. As BEIR does by default, a document whose id equals the query's is
dropped from that query's run (it matters on sets where queries are documents, e.g. ArguAna).
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Sequence
from typing import Any

from spladekit.encoder import SpladeEncoder
from spladekit.errors import InputError, InputTypeError
from spladekit.evaluation.beir import BeirDataset, load_beir
from spladekit.evaluation.metrics import MRR_CUT, mean_metrics
from spladekit.evaluation.result import EvaluationResult
from spladekit.index import SparseIndex, WindowIndex
from spladekit.index.ids import Id
from spladekit.vector import SparseVector

__all__ = ["evaluate", "peak_rss_bytes"]

logger = logging.getLogger(__name__)


def peak_rss_bytes() -> int | None:
    """The process's peak resident set size so far, or None where it is not reported."""
    try:
        import resource
    except ImportError:  # Windows
        return None
    peak = int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    return peak if sys.platform == "darwin" else peak * 1024  # Linux reports KiB


def _check_k_values(k_values: object) -> tuple[int, ...]:
    if isinstance(k_values, (str, bytes)) or not isinstance(k_values, Sequence) or not k_values:
        msg = f"k_values must be a non-empty list of positive integers, got {k_values!r}"
        raise InputTypeError(msg)
    for position, k in enumerate(k_values):
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            msg = f"k_values[{position}] must be a positive integer, got {k!r}"
            raise InputError(msg)
    return tuple(sorted(set(k_values)))


def _search(
    encoder: SpladeEncoder, data: BeirDataset, depth: int, show_progress: bool
) -> tuple[list[list[tuple[Id, float]]], int, float]:
    """Each query's hits, the number of model inputs, and the corpus encoding time."""
    start = time.perf_counter()
    index: SparseIndex | WindowIndex
    if encoder.long_documents == "best-window":
        windows = encoder.encode_document_windows(data.texts, show_progress=show_progress)
        seconds = time.perf_counter() - start
        segments = sum(len(w) for w in windows)
        index = WindowIndex(data.doc_ids, windows)
    else:
        vectors = encoder.encode_documents(data.texts, show_progress=show_progress)
        seconds = time.perf_counter() - start
        segments = len(vectors)
        index = SparseIndex()
        index.add(data.doc_ids, vectors)
    logger.info("encoded %d documents in %.1f s; searching", len(data.texts), seconds)
    queries: list[SparseVector] = encoder.encode_queries(list(data.queries.values()))
    return index.search_many(queries, k=depth), segments, seconds


def evaluate(
    encoder: SpladeEncoder,
    dataset_dir: str | os.PathLike[str],
    *,
    split: str = "test",
    k_values: Sequence[int] = (1, 10, 100),
    show_progress: bool = False,
) -> EvaluationResult:
    """nDCG@k, MRR@10 and Recall@k of *encoder* on a BEIR folder's *split*, exactly scored.

    *dataset_dir* holds ``corpus.jsonl``, ``queries.jsonl`` and ``qrels/<split>.tsv`` (BEIR's
    layout; a document is ``title + " " + text``). The metrics follow trec_eval / pytrec_eval,
    which BEIR reports (see :mod:`spladekit.evaluation.metrics` for ties and unjudged
    queries). Long documents follow the encoder's ``long_documents``. The result also holds
    documents/s of the corpus encoding and the process's peak memory.

    Example:
        >>> result = evaluate(SpladeEncoder("prithivida/Splade_PP_en_v1"), "scifact")  # doctest: +SKIP
        >>> result["nDCG@10"], result.documents_per_second  # doctest: +SKIP
    """
    if not isinstance(encoder, SpladeEncoder):
        msg = f"evaluate takes a SpladeEncoder, got {type(encoder).__name__}"
        raise InputTypeError(msg)
    cuts = _check_k_values(k_values)
    data = load_beir(dataset_dir, split)
    if not data.texts:
        msg = f"{data.path / 'corpus.jsonl'} holds no documents"
        raise InputError(msg)
    depth = max((*cuts, MRR_CUT))
    hits, segments, seconds = _search(encoder, data, depth, show_progress)
    run: dict[str, dict[str, float]] = {}
    for query, found in zip(data.queries, hits, strict=True):
        run[query] = {str(doc): score for doc, score in found if str(doc) != query}
    metrics, per_query = mean_metrics(data.qrels, run, cuts)
    settings: dict[str, Any] = {
        "long_documents": encoder.long_documents,
        "quantize": encoder.quantize,
        "max_length": encoder.max_length,
        "top_k": encoder.top_k,
        "threshold": encoder.threshold,
    }
    if encoder.long_documents != "truncate":
        settings["stride"] = encoder.stride
    return EvaluationResult(
        model=encoder.name,
        dataset=str(data.path),
        split=split,
        metrics=metrics,
        queries=len(data.qrels),
        documents=len(data.texts),
        segments=segments,
        encode_seconds=seconds,
        documents_per_second=len(data.texts) / seconds if seconds > 0 else 0.0,
        peak_rss_bytes=peak_rss_bytes(),
        settings=settings,
        per_query=per_query,
    )
