"""LlamaIndex adapters: one SPLADE encoder in each shape LlamaIndex's stores take.

LlamaIndex's stores want sparse encoders in three different shapes; all three share one
:class:`~spladekit.SpladeEncoder` and convert through :mod:`spladekit.wire`:

- :class:`SpladeSparseEmbedding`: a ``BaseSparseEmbedding`` (``dict[int, float]`` vectors),
  e.g. for ``PineconeVectorStore(sparse_embedding_model=...)``.
- :func:`qdrant_sparse_functions`: the ``sparse_doc_fn`` / ``sparse_query_fn`` pair of
  ``QdrantVectorStore(enable_hybrid=True)``, and :func:`hybrid_fusion`, a fusion whose scores
  stay in [0, 1] (the default keeps raw SPLADE dot products when a list has one hit).
- ``SpladeSparseEmbeddingFunction`` (in :mod:`spladekit.llama_index_milvus`, also importable
  from here): ``MilvusVectorStore(enable_sparse=True, sparse_embedding_function=...)``.

Example:
    >>> from spladekit.llama_index import SpladeSparseEmbedding, qdrant_sparse_functions
    >>> sparse = SpladeSparseEmbedding(model_name="prithivida/Splade_PP_en_v1")  # doctest: +SKIP
    >>> doc_fn, query_fn = qdrant_sparse_functions(sparse)  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable
from typing import Any

from spladekit.errors import InputError, InputTypeError, require

require("llama_index.core", "llama-index")

from llama_index.core.base.embeddings.base_sparse import (  # noqa: E402
    BaseSparseEmbedding,
    SparseEmbedding,
)
from llama_index.core.bridge.pydantic import PrivateAttr  # noqa: E402
from llama_index.core.constants import DEFAULT_EMBED_BATCH_SIZE  # noqa: E402
from llama_index.core.schema import BaseNode  # noqa: E402
from llama_index.core.vector_stores.types import VectorStoreQueryResult  # noqa: E402

from spladekit import wire  # noqa: E402
from spladekit.adapters import in_thread, resolve_encoder  # noqa: E402
from spladekit.encoder import SpladeEncoder  # noqa: E402

__all__ = [
    "SpladeSparseEmbedding",
    "hybrid_fusion",
    "qdrant_sparse_functions",
]

logger = logging.getLogger(__name__)

#: ``(indices per text, values per text)``: what Qdrant's ``sparse_doc_fn`` returns.
SparseColumns = tuple[list[list[int]], list[list[float]]]
SparseEncoderFn = Callable[[list[str]], SparseColumns]

_MAX_EMBED_BATCH_SIZE = 2048  # BaseSparseEmbedding's own upper bound


class SpladeSparseEmbedding(BaseSparseEmbedding):
    """LlamaIndex sparse embedding backed by a :class:`~spladekit.SpladeEncoder`.

    Vectors are ``{token_id: weight}`` dicts of plain ``int``/``float``. Texts are encoded in
    batches of ``embed_batch_size`` (one encoder call per batch); async methods run the encoder
    in a worker thread so the event loop keeps running.

    Example:
        >>> sparse = SpladeSparseEmbedding(model_name="prithivida/Splade_PP_en_v1", threads=2)  # doctest: +SKIP
        >>> sparse.get_query_embedding("Who landed on the Moon?")  # doctest: +SKIP
        {2040: 0.83, ...}
    """

    _encoder: SpladeEncoder = PrivateAttr()

    def __init__(
        self,
        encoder: SpladeEncoder | None = None,
        *,
        model_name: str | os.PathLike[str] | None = None,
        embed_batch_size: int = DEFAULT_EMBED_BATCH_SIZE,
        num_workers: int | None = None,
        **options: Any,
    ) -> None:
        if (
            isinstance(embed_batch_size, bool)
            or not isinstance(embed_batch_size, int)
            or not 1 <= embed_batch_size <= _MAX_EMBED_BATCH_SIZE
        ):
            msg = (
                f"embed_batch_size must be an integer from 1 to {_MAX_EMBED_BATCH_SIZE}, "
                f"got {embed_batch_size!r}"
            )
            raise InputError(msg)
        built = resolve_encoder(encoder, model_name, options, "SpladeSparseEmbedding")
        super().__init__(
            model_name=built.name, embed_batch_size=embed_batch_size, num_workers=num_workers
        )
        self._encoder = built

    @classmethod
    def class_name(cls) -> str:
        """Name LlamaIndex records when it serializes this model."""
        return "SpladeSparseEmbedding"

    @property
    def encoder(self) -> SpladeEncoder:
        """The shared encoder (not copied: several adapters may hold the same one)."""
        return self._encoder

    def _get_query_embedding(self, query: str) -> SparseEmbedding:
        return wire.to_dict(self._encoder.encode_query(query))

    async def _aget_query_embedding(self, query: str) -> SparseEmbedding:
        return await in_thread(self._get_query_embedding, query)

    def _get_text_embedding(self, text: str) -> SparseEmbedding:
        return self._get_text_embeddings([text])[0]

    async def _aget_text_embedding(self, text: str) -> SparseEmbedding:
        return (await self._aget_text_embeddings([text]))[0]

    def _get_text_embeddings(self, texts: list[str]) -> list[SparseEmbedding]:
        vectors = self._encoder.encode_documents(texts, batch_size=self.embed_batch_size)
        return wire.to_dicts(vectors)

    async def _aget_text_embeddings(self, texts: list[str]) -> list[SparseEmbedding]:
        return await in_thread(self._get_text_embeddings, texts)


def encoder_of(source: SpladeEncoder | SpladeSparseEmbedding) -> SpladeEncoder:
    """The encoder inside an adapter, or the encoder itself."""
    if isinstance(source, SpladeSparseEmbedding):
        return source.encoder
    if isinstance(source, SpladeEncoder):
        return source
    msg = f"expected a SpladeEncoder or SpladeSparseEmbedding, got {type(source).__name__}"
    raise InputTypeError(msg)


def qdrant_sparse_functions(
    encoder_or_embedding: SpladeEncoder | SpladeSparseEmbedding,
) -> tuple[SparseEncoderFn, SparseEncoderFn]:
    """``(sparse_doc_fn, sparse_query_fn)`` for ``QdrantVectorStore(enable_hybrid=True)``.

    Always pass both: given only one, the store loads a fastembed model for the other (and
    fails offline). Documents take the document path, queries the query path (a query model
    or an inference-free table where the model has one).

    Example:
        >>> doc_fn, query_fn = qdrant_sparse_functions(encoder)  # doctest: +SKIP
        >>> store = QdrantVectorStore("docs", client=client, enable_hybrid=True,
        ...     sparse_doc_fn=doc_fn, sparse_query_fn=query_fn, hybrid_fusion_fn=hybrid_fusion)  # doctest: +SKIP
    """
    encoder = encoder_of(encoder_or_embedding)
    batch_size = (
        encoder_or_embedding.embed_batch_size
        if isinstance(encoder_or_embedding, SpladeSparseEmbedding)
        else None
    )

    def sparse_doc_fn(texts: list[str]) -> SparseColumns:
        return wire.to_columns(encoder.encode_documents(texts, batch_size=batch_size))

    def sparse_query_fn(texts: list[str]) -> SparseColumns:
        return wire.to_columns(encoder.encode_queries(texts))

    return sparse_doc_fn, sparse_query_fn


def _relative_scores(
    result: VectorStoreQueryResult, which: str
) -> dict[str, tuple[BaseNode, float]]:
    """Each node's score min-max scaled into [0, 1]; a lone (or all-tied) hit scores 1."""
    nodes = list(result.nodes or [])
    if not nodes:
        return {}
    similarities = result.similarities
    if similarities is None or len(similarities) != len(nodes):
        got = "no" if similarities is None else str(len(similarities))
        msg = f"{which} result has {len(nodes)} nodes but {got} similarities; cannot fuse"
        raise InputError(msg)
    scores = [float(s) if s is not None else math.nan for s in similarities]
    finite = [s for s in scores if math.isfinite(s)]
    low, high = (min(finite), max(finite)) if finite else (0.0, 0.0)
    scaled: dict[str, tuple[BaseNode, float]] = {}
    for node, score in zip(nodes, scores, strict=True):
        if not math.isfinite(score):
            value = 0.0
        elif high > low:
            value = (score - low) / (high - low)
        else:
            value = 1.0
        if node.node_id not in scaled:  # first (best-listed) occurrence wins
            scaled[node.node_id] = (node, value)
    return scaled


def hybrid_fusion(
    dense_result: VectorStoreQueryResult,
    sparse_result: VectorStoreQueryResult,
    alpha: float = 0.5,
    top_k: int = 2,
) -> VectorStoreQueryResult:
    """Relative score fusion whose scores stay in [0, 1] whatever the list sizes.

    For ``QdrantVectorStore(hybrid_fusion_fn=hybrid_fusion)``. As in LlamaIndex, ``alpha`` is
    the dense weight: 1 is dense only, 0 sparse only, and the fused score is
    ``alpha * dense + (1 - alpha) * sparse`` with each list min-max scaled to [0, 1] and a
    node missing from a list scoring 0 there. Unlike LlamaIndex's ``relative_score_fusion``,
    a list with one hit (or all hits tied) scales to 1 instead of keeping its raw score, and a
    one-sided result is weighted too, so SPLADE's dot products (10-30) never swamp cosines.
    """
    if (
        isinstance(alpha, bool)
        or not isinstance(alpha, (int, float))
        or not 0.0 <= float(alpha) <= 1.0
    ):
        msg = f"alpha must be a number from 0 (sparse only) to 1 (dense only), got {alpha!r}"
        raise InputError(msg)
    if isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1:
        msg = f"top_k must be a positive integer, got {top_k!r}"
        raise InputError(msg)
    dense = _relative_scores(dense_result, "dense")
    sparse = _relative_scores(sparse_result, "sparse")
    fused: list[tuple[float, BaseNode]] = []
    for node_id in dict.fromkeys([*dense, *sparse]):
        node = (dense.get(node_id) or sparse[node_id])[0]
        score = alpha * dense.get(node_id, (node, 0.0))[1]
        score += (1.0 - alpha) * sparse.get(node_id, (node, 0.0))[1]
        fused.append((min(1.0, max(0.0, score)), node))
    fused.sort(key=lambda pair: pair[0], reverse=True)  # stable: ties keep dense order
    best = fused[:top_k]
    return VectorStoreQueryResult(
        nodes=[node for _, node in best],
        similarities=[score for score, _ in best],
        ids=[node.node_id for _, node in best],
    )


def __getattr__(name: str) -> Any:
    """Load the Milvus adapter only when asked for (it needs pymilvus)."""
    if name == "SpladeSparseEmbeddingFunction":
        from spladekit.llama_index_milvus import SpladeSparseEmbeddingFunction

        return SpladeSparseEmbeddingFunction
    msg = f"module {__name__!r} has no attribute {name!r}"
    raise AttributeError(msg)
