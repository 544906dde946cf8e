"""LlamaIndex adapters: one SPLADE encoder in each shape LlamaIndex's stores take.

One module per shape, all on one :class:`~spladekit.SpladeEncoder`, converting through
:mod:`spladekit._adapters.shapes`:

- :class:`SpladeSparseEmbedding` (``embedding``): a ``BaseSparseEmbedding``
  (``dict[int, float]`` vectors), e.g. for ``PineconeVectorStore(sparse_embedding_model=...)``.
- :func:`qdrant_sparse_functions` (``qdrant``): the ``sparse_doc_fn`` / ``sparse_query_fn``
  pair of ``QdrantVectorStore(enable_hybrid=True)``.
- :func:`hybrid_fusion` (``fusion``): a fusion whose scores stay in [0, 1] (LlamaIndex's
  default keeps raw SPLADE dot products when a list has one hit).
- ``SpladeSparseEmbeddingFunction`` (``milvus``, loaded on first use: it needs pymilvus):
  ``MilvusVectorStore(enable_sparse=True, sparse_embedding_function=...)``.
- :class:`SpladeRetriever` (``retriever``): a ``BaseRetriever`` with the API of
  llama-index-retrievers-bm25's ``BM25Retriever``, over an in-process exact ``SparseIndex``.

Example:
    >>> from spladekit.llama_index import SpladeSparseEmbedding, qdrant_sparse_functions
    >>> sparse = SpladeSparseEmbedding("prithivida/Splade_PP_en_v1")  # doctest: +SKIP
    >>> doc_fn, query_fn = qdrant_sparse_functions(sparse)  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from spladekit.errors import require

require("llama_index.core", "llama-index")

from spladekit.llama_index.embedding import SpladeSparseEmbedding  # noqa: E402
from spladekit.llama_index.fusion import hybrid_fusion  # noqa: E402
from spladekit.llama_index.qdrant import qdrant_sparse_functions  # noqa: E402
from spladekit.llama_index.retriever import SpladeRetriever  # noqa: E402

if TYPE_CHECKING:
    from spladekit.llama_index.milvus import SpladeSparseEmbeddingFunction

__all__ = [
    "SpladeRetriever",
    "SpladeSparseEmbedding",
    "SpladeSparseEmbeddingFunction",
    "hybrid_fusion",
    "qdrant_sparse_functions",
]

#: Classes whose module needs more than llama-index-core: (module, package, extra).
_LAZY = {
    "SpladeSparseEmbeddingFunction": ("milvus", "llama_index.vector_stores.milvus", "milvus"),
}


def __getattr__(name: str) -> Any:
    """Load the Milvus adapter only when asked for (it needs pymilvus)."""
    if name not in _LAZY:
        msg = f"module {__name__!r} has no attribute {name!r}"
        raise AttributeError(msg)
    module, package, extra = _LAZY[name]
    require(package, extra)
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
