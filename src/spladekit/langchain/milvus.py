"""``SpladeMilvusSparseEmbedding``: langchain-milvus' ``BaseSparseEmbedding`` on SPLADE.

The Milvus store checks ``isinstance(..., BaseSparseEmbedding)``, hence a real subclass.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from spladekit.errors import require

require("langchain_milvus", "langchain,milvus")

from langchain_milvus.utils.sparse import BaseSparseEmbedding  # noqa: E402

from spladekit._adapters import shapes  # noqa: E402
from spladekit._adapters.base import EncoderHolder, in_thread  # noqa: E402
from spladekit.encoder import SpladeEncoder  # noqa: E402

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from spladekit.options import EncoderOptions

__all__ = ["SpladeMilvusSparseEmbedding"]


class SpladeMilvusSparseEmbedding(EncoderHolder, BaseSparseEmbedding):
    """SPLADE ``{token_id: weight}`` rows for ``langchain_milvus.Milvus``.

    Takes a model and encoder options, or ``encoder=``, like every adapter. Milvus rejects an
    empty sparse vector on insert, deep inside the client. So :meth:`embed_documents` raises
    :class:`~spladekit.errors.InputError` naming the text and its position when a document has
    no weight (empty or blank text, or everything pruned): drop such texts before adding them.
    An empty *query* vector is accepted by Milvus (it matches nothing), so :meth:`embed_query`
    returns ``{}``.

    Example:
        >>> from langchain_milvus import Milvus  # doctest: +SKIP
        >>> store = Milvus(  # doctest: +SKIP
        ...     embedding_function=[dense, SpladeMilvusSparseEmbedding(encoder=encoder)],
        ...     vector_field=["dense", "sparse"],
        ...     index_params=[dense_index, {"index_type": "SPARSE_INVERTED_INDEX", "metric_type": "IP"}],
        ...     connection_args={"uri": "./milvus.db"},
        ... )
    """

    def __init__(
        self,
        model: str | os.PathLike[str] | None = None,
        *,
        encoder: SpladeEncoder | None = None,
        batch_size: int | None = None,
        **options: Unpack[EncoderOptions],
    ) -> None:
        self._hold(model, encoder, dict(options), batch_size)

    def embed_documents(self, texts: list[str]) -> list[dict[int, float]]:
        """Encode documents as ``{token_id: weight}``; an empty vector is an error."""
        return shapes.to_nonempty_dicts(self._encode_documents(texts), texts)

    def embed_query(self, query: str) -> dict[int, float]:
        """Encode one query on the query path (``{}`` when it has no weight)."""
        return shapes.to_dict(self._encode_query(query))

    async def aembed_documents(self, texts: list[str]) -> list[dict[int, float]]:
        """:meth:`embed_documents` in a worker thread; the event loop keeps running."""
        return await in_thread(self.embed_documents, texts)

    async def aembed_query(self, query: str) -> dict[int, float]:
        """:meth:`embed_query` in a worker thread."""
        return await in_thread(self.embed_query, query)
