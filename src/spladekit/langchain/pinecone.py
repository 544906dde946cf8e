"""``SpladePineconeEncoder``: pinecone-text's sparse-encoder shape, for LangChain's Pinecone retriever."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, overload

from spladekit._adapters import shapes
from spladekit._adapters.base import EncoderHolder
from spladekit.encoder import SpladeEncoder

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from spladekit.options import EncoderOptions

__all__ = ["SpladePineconeEncoder"]

PineconeSparse = dict[str, list[int] | list[float]]


class SpladePineconeEncoder(EncoderHolder):
    """pinecone-text's ``BaseSparseEncoder`` shape, for ``PineconeHybridSearchRetriever``.

    Takes a model and encoder options, or ``encoder=``, like every adapter. A str gives one
    ``{"indices": [...], "values": [...]}`` dict, a list gives a list of them. Every call
    returns fresh dicts: the retriever rescales them in place. Empty vectors pass through as
    ``{"indices": [], "values": []}``.

    Example:
        >>> from langchain_community.retrievers import PineconeHybridSearchRetriever  # doctest: +SKIP
        >>> retriever = PineconeHybridSearchRetriever(  # doctest: +SKIP
        ...     embeddings=dense, sparse_encoder=SpladePineconeEncoder(encoder=encoder), index=index
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

    @overload
    def encode_documents(self, texts: str) -> PineconeSparse: ...
    @overload
    def encode_documents(self, texts: list[str]) -> list[PineconeSparse]: ...
    def encode_documents(self, texts: str | list[str]) -> PineconeSparse | list[PineconeSparse]:
        """Encode documents (the document path) as Pinecone sparse dicts."""
        if isinstance(texts, str):
            return shapes.to_pinecone(self._encode_documents([texts])[0])
        return [shapes.to_pinecone(v) for v in self._encode_documents(texts)]

    @overload
    def encode_queries(self, texts: str) -> PineconeSparse: ...
    @overload
    def encode_queries(self, texts: list[str]) -> list[PineconeSparse]: ...
    def encode_queries(self, texts: str | list[str]) -> PineconeSparse | list[PineconeSparse]:
        """Encode queries (the query path) as Pinecone sparse dicts."""
        if isinstance(texts, str):
            return shapes.to_pinecone(self._encode_query(texts))
        return [shapes.to_pinecone(v) for v in self._encoder.encode_queries(texts)]
