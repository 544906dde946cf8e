"""``SpladeSparseEmbeddings``: langchain-qdrant's ``SparseEmbeddings`` on a SPLADE encoder.

Import it from :mod:`spladekit.langchain`; this module needs langchain-qdrant.
"""

from __future__ import annotations

from spladekit.errors import require

require("langchain_qdrant", "langchain,qdrant")

from langchain_qdrant.sparse_embeddings import SparseEmbeddings  # noqa: E402
from langchain_qdrant.sparse_embeddings import SparseVector as QdrantSparseVector  # noqa: E402

from spladekit import wire  # noqa: E402
from spladekit.adapters import in_thread  # noqa: E402
from spladekit.langchain import SpladeAdapter  # noqa: E402
from spladekit.vector import SparseVector  # noqa: E402

__all__ = ["SpladeSparseEmbeddings"]


def _to_qdrant(vector: SparseVector) -> QdrantSparseVector:
    indices, values = wire.to_lists(vector)
    return QdrantSparseVector(indices=indices, values=values)


class SpladeSparseEmbeddings(SpladeAdapter, SparseEmbeddings):
    """SPLADE sparse vectors for ``QdrantVectorStore`` (``RetrievalMode.HYBRID`` or ``SPARSE``).

    Documents use the encoder's document path, queries its query path. An empty text gives
    an empty ``SparseVector(indices=[], values=[])``: Qdrant stores it, and it matches no
    sparse query (in hybrid mode the dense side can still find the document).

    Example:
        >>> from langchain_qdrant import QdrantVectorStore, RetrievalMode  # doctest: +SKIP
        >>> sparse = SpladeSparseEmbeddings("prithivida/Splade_PP_en_v1", batch_size=32)  # doctest: +SKIP
        >>> store = QdrantVectorStore.from_texts(  # doctest: +SKIP
        ...     texts, embedding=dense, sparse_embedding=sparse,
        ...     retrieval_mode=RetrievalMode.HYBRID, location=":memory:",
        ... )
    """

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
