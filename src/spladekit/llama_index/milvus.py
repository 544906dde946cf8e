"""LlamaIndex's Milvus store: a ``BaseSparseEmbeddingFunction`` backed by SPLADE.

Needs ``pymilvus`` (the ``milvus`` extra); ``from spladekit.llama_index import
SpladeSparseEmbeddingFunction`` loads this module on first use.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from spladekit.errors import require

require("llama_index.vector_stores.milvus", "milvus")

from llama_index.vector_stores.milvus.utils import BaseSparseEmbeddingFunction  # noqa: E402

from spladekit._adapters import shapes  # noqa: E402
from spladekit._adapters.base import EncoderHolder, in_thread  # noqa: E402
from spladekit.encoder import SpladeEncoder  # noqa: E402
from spladekit.llama_index.embedding import SpladeSparseEmbedding, encoder_of  # noqa: E402

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from spladekit.options import EncoderOptions

__all__ = ["SpladeSparseEmbeddingFunction"]


class SpladeSparseEmbeddingFunction(EncoderHolder, BaseSparseEmbeddingFunction):
    """Sparse function for ``MilvusVectorStore(enable_sparse=True, sparse_embedding_function=...)``.

    Give a model and encoder options, or ``encoder=`` a shared
    :class:`~spladekit.SpladeEncoder` (or a :class:`SpladeSparseEmbedding`). The store calls
    :meth:`encode_documents` once per node; async encoding runs in a worker thread.

    Example:
        >>> fn = SpladeSparseEmbeddingFunction("prithivida/Splade_PP_en_v1")  # doctest: +SKIP
        >>> store = MilvusVectorStore(uri="./milvus.db", dim=384, enable_sparse=True,
        ...     sparse_embedding_function=fn)  # doctest: +SKIP
    """

    def __init__(
        self,
        model: str | os.PathLike[str] | None = None,
        *,
        encoder: SpladeEncoder | SpladeSparseEmbedding | None = None,
        **options: Unpack[EncoderOptions],
    ) -> None:
        if isinstance(model, SpladeSparseEmbedding):  # 0.1 took it positionally
            model, encoder = encoder_of(model), encoder
        shared = encoder_of(encoder) if encoder is not None else None
        self._hold(model, shared, dict(options))

    def encode_queries(self, queries: list[str]) -> list[dict[int, float]]:
        """One ``{token_id: weight}`` per query, on the model's query path."""
        return shapes.to_dicts(self._encoder.encode_queries(queries))

    def encode_documents(self, documents: list[str]) -> list[dict[int, float]]:
        """One ``{token_id: weight}`` per document; a document without weights is an error.

        Milvus rejects an empty sparse vector on insert, deep inside the client; this names
        the text instead (empty, blank, or everything pruned). Drop such nodes before adding.
        """
        vectors = self._encode_documents(documents)
        return shapes.to_nonempty_dicts(vectors, documents, "documents")

    async def async_encode_queries(self, queries: list[str]) -> list[dict[int, float]]:
        """:meth:`encode_queries` in a worker thread, so the event loop keeps running."""
        return await in_thread(self.encode_queries, queries)

    async def async_encode_documents(self, documents: list[str]) -> list[dict[int, float]]:
        """:meth:`encode_documents` in a worker thread, so the event loop keeps running."""
        return await in_thread(self.encode_documents, documents)
