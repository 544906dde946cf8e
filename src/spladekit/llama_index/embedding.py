"""``SpladeSparseEmbedding``: LlamaIndex's ``BaseSparseEmbedding`` on a SPLADE encoder."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from spladekit.errors import InputError, InputTypeError, require

require("llama_index.core", "llama-index")

from llama_index.core.base.embeddings.base_sparse import (  # noqa: E402
    BaseSparseEmbedding,
    SparseEmbedding,
)
from llama_index.core.bridge.pydantic import PrivateAttr  # noqa: E402
from llama_index.core.constants import DEFAULT_EMBED_BATCH_SIZE  # noqa: E402

from spladekit._adapters import shapes  # noqa: E402
from spladekit._adapters.base import in_thread, take_encoder  # noqa: E402
from spladekit.encoder import SpladeEncoder  # noqa: E402
from spladekit.options import check_positive  # noqa: E402
from spladekit.pipeline.text import check_encodable, check_texts  # noqa: E402

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from spladekit.options import EncoderOptions

__all__ = ["SpladeSparseEmbedding", "encoder_of"]

_MAX_EMBED_BATCH_SIZE = 2048  # BaseSparseEmbedding's own upper bound


class SpladeSparseEmbedding(BaseSparseEmbedding):
    """LlamaIndex sparse embedding backed by a :class:`~spladekit.SpladeEncoder`.

    Give a model (Hub repo id, known name or folder) and any encoder option by keyword, or
    ``encoder=`` an existing encoder. Vectors are ``{token_id: weight}`` dicts of plain
    ``int``/``float``. Texts are encoded in batches of ``embed_batch_size`` (one encoder call
    per batch); async methods run the encoder in a worker thread so the event loop keeps running.

    Example:
        >>> sparse = SpladeSparseEmbedding("prithivida/Splade_PP_en_v1", threads=2)  # doctest: +SKIP
        >>> sparse.get_query_embedding("Who landed on the Moon?")  # doctest: +SKIP
        {2040: 0.83, ...}
    """

    _encoder: SpladeEncoder = PrivateAttr()

    def __init__(
        self,
        model: str | os.PathLike[str] | None = None,
        *,
        encoder: SpladeEncoder | None = None,
        embed_batch_size: int = DEFAULT_EMBED_BATCH_SIZE,
        num_workers: int | None = None,
        **options: Unpack[EncoderOptions],
    ) -> None:
        check_positive("embed_batch_size", embed_batch_size, allow_none=False)
        if embed_batch_size > _MAX_EMBED_BATCH_SIZE:
            msg = f"embed_batch_size must be at most {_MAX_EMBED_BATCH_SIZE} (LlamaIndex's bound), got {embed_batch_size}"
            raise InputError(msg)
        built = take_encoder(type(self).__name__, model, encoder, dict(options))
        super().__init__(
            model_name=built.name, embed_batch_size=embed_batch_size, num_workers=num_workers
        )
        self._encoder = built

    @classmethod
    def class_name(cls) -> str:
        """Name LlamaIndex records when it serializes this model."""
        return "SpladeSparseEmbedding"

    @property
    def encoder(self) -> SpladeEncoder:
        """The shared encoder (not copied: several adapters may hold the same one)."""
        return self._encoder

    def get_text_embedding_batch(
        self, texts: list[str], show_progress: bool = False, **kwargs: Any
    ) -> list[SparseEmbedding]:
        """Embed *texts* in batches of ``embed_batch_size`` (LlamaIndex's batching).

        The whole list is checked first: a bare str is refused (LlamaIndex would embed it
        character by character) and a bad item is named by its position in *texts*.
        """
        checked = _checked(texts)
        return super().get_text_embedding_batch(checked, show_progress=show_progress, **kwargs)

    async def aget_text_embedding_batch(
        self, texts: list[str], show_progress: bool = False
    ) -> list[SparseEmbedding]:
        """:meth:`get_text_embedding_batch` with each batch encoded off the event loop."""
        checked = _checked(texts)
        return await super().aget_text_embedding_batch(checked, show_progress=show_progress)

    def _get_query_embedding(self, query: str) -> SparseEmbedding:
        return shapes.to_dict(self._encoder.encode_query(query))

    async def _aget_query_embedding(self, query: str) -> SparseEmbedding:
        return await in_thread(self._get_query_embedding, query)

    def _get_text_embedding(self, text: str) -> SparseEmbedding:
        return self._get_text_embeddings([text])[0]

    async def _aget_text_embedding(self, text: str) -> SparseEmbedding:
        return (await self._aget_text_embeddings([text]))[0]

    def _get_text_embeddings(self, texts: list[str]) -> list[SparseEmbedding]:
        vectors = self._encoder.encode_documents(texts, batch_size=self.embed_batch_size)
        return shapes.to_dicts(vectors)

    async def _aget_text_embeddings(self, texts: list[str]) -> list[SparseEmbedding]:
        return await in_thread(self._get_text_embeddings, texts)


def _checked(texts: object) -> list[str]:
    checked = check_texts(texts)
    check_encodable(checked)
    return checked


def encoder_of(source: Any) -> SpladeEncoder:
    """The encoder inside a :class:`SpladeSparseEmbedding`, or the encoder itself."""
    if isinstance(source, SpladeSparseEmbedding):
        return source.encoder
    if isinstance(source, SpladeEncoder):
        return source
    msg = f"expected a SpladeEncoder or SpladeSparseEmbedding, got {type(source).__name__}"
    raise InputTypeError(msg)
