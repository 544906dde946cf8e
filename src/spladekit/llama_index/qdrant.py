"""LlamaIndex's Qdrant store: the ``sparse_doc_fn`` / ``sparse_query_fn`` pair, on SPLADE."""

from __future__ import annotations

from collections.abc import Callable

from spladekit._adapters import shapes
from spladekit.encoder import SpladeEncoder
from spladekit.llama_index.embedding import SpladeSparseEmbedding, encoder_of

__all__ = ["SparseColumns", "SparseEncoderFn", "qdrant_sparse_functions"]

#: ``(indices per text, values per text)``: what Qdrant's ``sparse_doc_fn`` returns.
SparseColumns = tuple[list[list[int]], list[list[float]]]
SparseEncoderFn = Callable[[list[str]], SparseColumns]


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
        return shapes.to_columns(encoder.encode_documents(texts, batch_size=batch_size))

    def sparse_query_fn(texts: list[str]) -> SparseColumns:
        return shapes.to_columns(encoder.encode_queries(texts))

    return sparse_doc_fn, sparse_query_fn
