"""LangChain adapters: one :class:`~spladekit.SpladeEncoder` behind each store's sparse interface.

langchain-core has no sparse-embedding interface of its own; each vector store defines one,
so there is one thin class per store, all sharing the options, the encoder and the
conversions of :mod:`spladekit.wire`:

=============================  ==============================================  =================
class                          interface it fills                              vector it returns
=============================  ==============================================  =================
``SpladeSparseEmbeddings``     langchain-qdrant ``SparseEmbeddings``           ``SparseVector``
``SpladeMilvusSparseEmbedding``  langchain-milvus ``BaseSparseEmbedding``      ``dict[int, float]``
``SpladePineconeEncoder``      pinecone-text ``BaseSparseEncoder`` (shape)     ``{"indices", "values"}``
=============================  ==============================================  =================

Documents take the encoder's document path, queries its query path (the same model, a query
model, or an inference-free weight table). The ``a…`` methods run the encoder in a worker
thread, so the event loop keeps running while a batch is encoded.

Empty texts (or texts with no weight left after pruning) give an empty vector. What happens
next depends on the store: Qdrant stores and searches empty sparse vectors, so they pass
through; Milvus rejects them on insert, so ``SpladeMilvusSparseEmbedding.embed_documents``
raises :class:`~spladekit.errors.InputError` naming the text and its position (an empty
*query* is accepted by Milvus and matches nothing, so it passes through); the Pinecone
encoder passes them through.

The Qdrant and Milvus classes live in private modules imported on first access, so a Milvus
user needs no langchain-qdrant and the reverse; a missing package raises
:class:`~spladekit.errors.MissingDependencyError` naming the ``pip install`` command.

Example:
    >>> from langchain_qdrant import QdrantVectorStore, RetrievalMode  # doctest: +SKIP
    >>> from spladekit.langchain import SpladeSparseEmbeddings  # doctest: +SKIP
    >>> store = QdrantVectorStore.from_texts(  # doctest: +SKIP
    ...     texts,
    ...     embedding=dense,
    ...     sparse_embedding=SpladeSparseEmbeddings("prithivida/Splade_PP_en_v1"),
    ...     retrieval_mode=RetrievalMode.HYBRID,
    ...     location=":memory:",
    ... )
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TypeVar, overload

from spladekit import wire
from spladekit.adapters import ENCODER_OPTIONS, resolve_encoder
from spladekit.encoder import DEFAULT_TOKEN_BUDGET, Providers, SpladeEncoder
from spladekit.errors import InputTypeError, require
from spladekit.inputs import check_positive
from spladekit.models import LongDocuments
from spladekit.prepare import Quantize
from spladekit.vector import SparseVector

require("langchain_core", "langchain")

if TYPE_CHECKING:
    from spladekit._langchain_milvus import SpladeMilvusSparseEmbedding
    from spladekit._langchain_qdrant import SpladeSparseEmbeddings

__all__ = ["SpladeMilvusSparseEmbedding", "SpladePineconeEncoder", "SpladeSparseEmbeddings"]

_T = TypeVar("_T")
_R = TypeVar("_R")

#: Classes that need a store's package, and the extra that brings it.
_STORE_CLASSES = {
    "SpladeSparseEmbeddings": (
        "spladekit._langchain_qdrant",
        "langchain_qdrant",
        "langchain,qdrant",
    ),
    "SpladeMilvusSparseEmbedding": (
        "spladekit._langchain_milvus",
        "langchain_milvus",
        "langchain,milvus",
    ),
}


def __getattr__(name: str) -> Any:
    """Import a store's class on first use, so each store's package stays optional."""
    if name not in _STORE_CLASSES:
        msg = f"module {__name__!r} has no attribute {name!r}"
        raise AttributeError(msg)
    adapter_module, package, extra = _STORE_CLASSES[name]
    require(package, extra)
    return getattr(importlib.import_module(adapter_module), name)


class SpladeAdapter:
    """Holds one encoder and the options shared by every LangChain adapter.

    Give either *encoder* (an existing :class:`SpladeEncoder`, shared and never reloaded) or
    the :meth:`SpladeEncoder.from_pretrained` arguments: a model name or path first, then
    options by keyword. Unknown options are a ``TypeError``, not silently dropped.
    """

    def __init__(
        self,
        model_name_or_path: str | os.PathLike[str] | None = None,
        *,
        encoder: SpladeEncoder | None = None,
        batch_size: int | None = None,
        revision: str | None = None,
        cache_dir: str | os.PathLike[str] | None = None,
        local_files_only: bool | None = None,
        providers: Providers = None,
        threads: int | None = None,
        max_length: int | None = None,
        model_file: str | None = None,
        query_model: str | os.PathLike[str] | None = None,
        top_k: int | None = None,
        threshold: float = 0.0,
        token_budget: int = DEFAULT_TOKEN_BUDGET,
        long_documents: LongDocuments = "window",
        stride: int | None = None,
        optimize: bool = True,
        quantize: Quantize | None = None,
    ) -> None:
        check_positive("batch_size", batch_size, allow_none=True)
        self.batch_size = batch_size
        options = {
            "revision": revision,
            "cache_dir": cache_dir,
            "local_files_only": local_files_only,
            "providers": providers,
            "threads": threads,
            "max_length": max_length,
            "model_file": model_file,
            "query_model": query_model,
            "top_k": top_k,
            "threshold": threshold,
            "token_budget": token_budget,
            "long_documents": long_documents,
            "stride": stride,
            "optimize": optimize,
            "quantize": quantize,
        }
        given = {k: v for k, v in options.items() if v != ENCODER_OPTIONS[k]}
        self._encoder = resolve_encoder(
            encoder, model_name_or_path, given, type(self).__name__, "model_name_or_path"
        )

    @property
    def encoder(self) -> SpladeEncoder:
        """The encoder behind this adapter (shared when it was passed in)."""
        return self._encoder

    def _encode_documents(self, texts: Sequence[str]) -> list[SparseVector]:
        return self._encoder.encode_documents(texts, batch_size=self.batch_size)

    def _encode_query(self, text: str) -> SparseVector:
        if not isinstance(text, str):
            msg = f"the query must be a str, got {type(text).__name__}"
            raise InputTypeError(msg)
        return self._encoder.encode_query(text)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(encoder={self._encoder.name!r})"


class SpladePineconeEncoder(SpladeAdapter):
    """pinecone-text's ``BaseSparseEncoder`` shape, for ``PineconeHybridSearchRetriever``.

    A str gives one ``{"indices": [...], "values": [...]}`` dict, a list gives a list of them.
    Every call returns fresh dicts: the retriever rescales them in place. Empty vectors pass
    through as ``{"indices": [], "values": []}``.

    Example:
        >>> from langchain_community.retrievers import PineconeHybridSearchRetriever  # doctest: +SKIP
        >>> retriever = PineconeHybridSearchRetriever(  # doctest: +SKIP
        ...     embeddings=dense, sparse_encoder=SpladePineconeEncoder(encoder=encoder), index=index
        ... )
    """

    @overload
    def encode_documents(self, texts: str) -> dict[str, list[int] | list[float]]: ...
    @overload
    def encode_documents(self, texts: list[str]) -> list[dict[str, list[int] | list[float]]]: ...
    def encode_documents(
        self, texts: str | list[str]
    ) -> dict[str, list[int] | list[float]] | list[dict[str, list[int] | list[float]]]:
        """Encode documents (the document path) as Pinecone sparse dicts."""
        if isinstance(texts, str):
            return wire.to_pinecone(self._encode_documents([texts])[0])
        return [wire.to_pinecone(v) for v in self._encode_documents(texts)]

    @overload
    def encode_queries(self, texts: str) -> dict[str, list[int] | list[float]]: ...
    @overload
    def encode_queries(self, texts: list[str]) -> list[dict[str, list[int] | list[float]]]: ...
    def encode_queries(
        self, texts: str | list[str]
    ) -> dict[str, list[int] | list[float]] | list[dict[str, list[int] | list[float]]]:
        """Encode queries (the query path) as Pinecone sparse dicts."""
        if isinstance(texts, str):
            return wire.to_pinecone(self._encode_query(texts))
        return [wire.to_pinecone(v) for v in self._encoder.encode_queries(texts)]
