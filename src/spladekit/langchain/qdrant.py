"""``SpladeQdrantSparseEmbeddings``: langchain-qdrant's ``SparseEmbeddings`` on a SPLADE encoder."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from spladekit.errors import require

require("langchain_qdrant", "langchain,qdrant")

from langchain_qdrant.sparse_embeddings import SparseEmbeddings  # noqa: E402
from langchain_qdrant.sparse_embeddings import SparseVector as QdrantSparseVector  # noqa: E402

from spladekit._adapters import shapes  # noqa: E402
from spladekit._adapters.base import EncoderHolder, in_thread  # noqa: E402
from spladekit.encoder import SpladeEncoder  # noqa: E402
from spladekit.vector import SparseVector  # noqa: E402

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from spladekit.options import EncoderOptions

__all__ = ["SpladeQdrantSparseEmbeddings"]


def _to_qdrant(vector: SparseVector) -> QdrantSparseVector:
    indices, values = shapes.to_lists(vector)
    return QdrantSparseVector(indices=indices, values=values)


class SpladeQdrantSparseEmbeddings(EncoderHolder, SparseEmbeddings):
    """SPLADE sparse vectors for ``QdrantVectorStore`` (``RetrievalMode.HYBRID`` or ``SPARSE``).

    Give a model (Hub repo id, known name or folder) and any encoder option by keyword, or
    ``encoder=`` an existing :class:`~spladekit.SpladeEncoder`. *batch_size* caps the texts per
    model run. Documents use the document path, queries the query path. An empty text gives an
    empty ``SparseVector(indices=[], values=[])``: Qdrant stores it, and it matches no sparse
    query (in hybrid mode the dense side can still find the document).

    Example:
        >>> from langchain_qdrant import QdrantVectorStore, RetrievalMode  # doctest: +SKIP
        >>> sparse = SpladeQdrantSparseEmbeddings("prithivida/Splade_PP_en_v1", batch_size=32)  # doctest: +SKIP
        >>> store = QdrantVectorStore.from_texts(  # doctest: +SKIP
        ...     texts, embedding=dense, sparse_embedding=sparse,
        ...     retrieval_mode=RetrievalMode.HYBRID, location=":memory:",
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

    def embed_documents(self, texts: list[str]) -> list[QdrantSparseVector]:
        """Encode documents, one Qdrant ``SparseVector`` each, in order."""
        return [_to_qdrant(v) for v in self._encode_documents(texts)]

    def embed_query(self, text: str) -> QdrantSparseVector:
        """Encode one query on the query path."""
        return _to_qdrant(self._encode_query(text))

    async def aembed_documents(self, texts: list[str]) -> list[QdrantSparseVector]:
        """:meth:`embed_documents` in a worker thread; the event loop keeps running."""
        return await in_thread(self.embed_documents, texts)

    async def aembed_query(self, text: str) -> QdrantSparseVector:
        """:meth:`embed_query` in a worker thread."""
        return await in_thread(self.embed_query, text)
