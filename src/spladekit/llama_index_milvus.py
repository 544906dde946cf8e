"""LlamaIndex's Milvus store: a ``BaseSparseEmbeddingFunction`` backed by SPLADE.

Kept apart from :mod:`spladekit.llama_index` because it needs ``pymilvus`` (the ``milvus``
extra); ``from spladekit.llama_index import SpladeSparseEmbeddingFunction`` loads it on demand.
"""

from __future__ import annotations

import os
from typing import Any

from spladekit.errors import require

require("llama_index.vector_stores.milvus", "milvus")

from llama_index.vector_stores.milvus.utils import BaseSparseEmbeddingFunction  # noqa: E402

from spladekit import wire  # noqa: E402
from spladekit.adapters import in_thread, resolve_encoder  # noqa: E402
from spladekit.encoder import SpladeEncoder  # noqa: E402
from spladekit.llama_index import SpladeSparseEmbedding, encoder_of  # noqa: E402

__all__ = ["SpladeSparseEmbeddingFunction"]


class SpladeSparseEmbeddingFunction(BaseSparseEmbeddingFunction):
    """Sparse function for ``MilvusVectorStore(enable_sparse=True, sparse_embedding_function=...)``.

    Takes a shared :class:`~spladekit.SpladeEncoder` (or a :class:`SpladeSparseEmbedding`),
    or loads one from *model_name* and ``from_pretrained`` options. The store calls
    :meth:`encode_documents` once per node; async query encoding runs in a worker thread.

    Example:
        >>> fn = SpladeSparseEmbeddingFunction(model_name="prithivida/Splade_PP_en_v1")  # doctest: +SKIP
        >>> store = MilvusVectorStore(uri="./milvus.db", dim=384, enable_sparse=True,
        ...     sparse_embedding_function=fn)  # doctest: +SKIP
    """

    def __init__(
        self,
        encoder: SpladeEncoder | SpladeSparseEmbedding | None = None,
        *,
        model_name: str | os.PathLike[str] | None = None,
        **options: Any,
    ) -> None:
        shared = encoder_of(encoder) if encoder is not None else None
        self._encoder = resolve_encoder(shared, model_name, options, type(self).__name__)

    @property
    def encoder(self) -> SpladeEncoder:
        """The shared encoder."""
        return self._encoder

    def encode_queries(self, queries: list[str]) -> list[dict[int, float]]:
        """One ``{token_id: weight}`` per query, on the model's query path."""
        return wire.to_dicts(self._encoder.encode_queries(queries))

    def encode_documents(self, documents: list[str]) -> list[dict[int, float]]:
        """One ``{token_id: weight}`` per document; a document without weights is an error.

        Milvus rejects an empty sparse vector on insert, deep inside the client; this names
        the text instead (empty, blank, or everything pruned). Drop such nodes before adding.
        """
        vectors = self._encoder.encode_documents(documents)
        return wire.to_nonempty_dicts(vectors, documents, "documents")

    async def async_encode_queries(self, queries: list[str]) -> list[dict[int, float]]:
        """:meth:`encode_queries` in a worker thread, so the event loop keeps running."""
        return await in_thread(self.encode_queries, queries)

    async def async_encode_documents(self, documents: list[str]) -> list[dict[int, float]]:
        """:meth:`encode_documents` in a worker thread, so the event loop keeps running."""
        return await in_thread(self.encode_documents, documents)
