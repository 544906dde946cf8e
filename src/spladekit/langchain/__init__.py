"""LangChain adapters: one :class:`~spladekit.SpladeEncoder` behind each store's sparse interface.

langchain-core has no sparse-embedding interface of its own; each vector store defines one,
so there is one thin class per store, one module each, all sharing the encoder's options and
the conversions of :mod:`spladekit._adapters.shapes`:

=================================  ==========================================  ===========================
class (module)                     interface it fills                          vector it returns
=================================  ==========================================  ===========================
``SpladeQdrantSparseEmbeddings``   langchain-qdrant ``SparseEmbeddings``       ``SparseVector``
(``qdrant``)
``SpladeMilvusSparseEmbedding``    langchain-milvus ``BaseSparseEmbedding``    ``dict[int, float]``
(``milvus``)
``SpladePineconeEncoder``          pinecone-text ``BaseSparseEncoder`` shape   ``{"indices", "values"}``
(``pinecone``)
``SpladeRetriever``                a ``BaseRetriever`` (BM25Retriever's API)   ``Document`` hits
(``retriever``)                    over an in-process ``SparseIndex``
=================================  ==========================================  ===========================

Documents take the encoder's document path, queries its query path (the same model, a query
model, or an inference-free weight table). The ``a…`` methods run the encoder in a worker
thread, so the event loop keeps running while a batch is encoded.

Each class is imported on first access, so a Milvus user needs no langchain-qdrant and the
reverse; a missing package raises :class:`~spladekit.errors.MissingDependencyError` naming the
``pip install`` command. ``SpladeSparseEmbeddings`` is the 0.1 name of the Qdrant class.

Example:
    >>> from langchain_qdrant import QdrantVectorStore, RetrievalMode  # doctest: +SKIP
    >>> from spladekit.langchain import SpladeQdrantSparseEmbeddings  # doctest: +SKIP
    >>> store = QdrantVectorStore.from_texts(  # doctest: +SKIP
    ...     texts,
    ...     embedding=dense,
    ...     sparse_embedding=SpladeQdrantSparseEmbeddings("prithivida/Splade_PP_en_v1"),
    ...     retrieval_mode=RetrievalMode.HYBRID,
    ...     location=":memory:",
    ... )
"""

from __future__ import annotations

import importlib
import warnings
from typing import TYPE_CHECKING, Any

from spladekit.errors import require

require("langchain_core", "langchain")

if TYPE_CHECKING:
    from spladekit.langchain.milvus import SpladeMilvusSparseEmbedding
    from spladekit.langchain.pinecone import SpladePineconeEncoder
    from spladekit.langchain.qdrant import SpladeQdrantSparseEmbeddings
    from spladekit.langchain.retriever import SpladeRetriever

__all__ = [
    "SpladeMilvusSparseEmbedding",
    "SpladePineconeEncoder",
    "SpladeQdrantSparseEmbeddings",
    "SpladeRetriever",
]

#: Each public class: its module, and the package and extra it needs.
_CLASSES = {
    "SpladeQdrantSparseEmbeddings": ("qdrant", "langchain_qdrant", "langchain,qdrant"),
    "SpladeMilvusSparseEmbedding": ("milvus", "langchain_milvus", "langchain,milvus"),
    "SpladePineconeEncoder": ("pinecone", "langchain_core", "langchain"),
    "SpladeRetriever": ("retriever", "langchain_core", "langchain"),
}
#: Names of 0.1, kept for one release.
_RENAMED = {"SpladeSparseEmbeddings": "SpladeQdrantSparseEmbeddings"}


def __getattr__(name: str) -> Any:
    """Import a store's class on first use, so each store's package stays optional."""
    if name in _RENAMED:
        warnings.warn(
            f"spladekit.langchain.{name} is now {_RENAMED[name]}; the old name goes away in 0.3",
            DeprecationWarning,
            stacklevel=2,
        )
        name = _RENAMED[name]
    if name not in _CLASSES:
        msg = f"module {__name__!r} has no attribute {name!r}"
        raise AttributeError(msg)
    module, package, extra = _CLASSES[name]
    require(package, extra)
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
