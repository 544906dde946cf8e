"""``SpladeRetriever``: LangChain's ``BM25Retriever``, with SPLADE and an exact in-process index.

Same shape as ``langchain_community.retrievers.BM25Retriever`` (``from_texts``,
``from_documents``, ``k``), so it drops into an ``EnsembleRetriever`` beside a dense retriever
where BM25 was; plus what a store has: ``add_documents``, ``delete``, ``save_local`` /
``load_local``. No vector database: documents are scored exactly by a
:class:`~spladekit.SparseIndex`.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from spladekit.errors import IndexFormatError, InputError, InputTypeError, require

require("langchain_core", "langchain")

from langchain_core.callbacks import (  # noqa: E402
    AsyncCallbackManagerForRetrieverRun,
    CallbackManagerForRetrieverRun,
)
from langchain_core.documents import Document  # noqa: E402
from langchain_core.retrievers import BaseRetriever  # noqa: E402
from pydantic import ConfigDict, PrivateAttr  # noqa: E402

from spladekit._adapters import retrieval  # noqa: E402
from spladekit._adapters.base import in_thread, take_encoder  # noqa: E402
from spladekit.encoder import SpladeEncoder  # noqa: E402
from spladekit.index import SparseIndex  # noqa: E402
from spladekit.options import check_positive  # noqa: E402

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from spladekit.options import EncoderOptions

__all__ = ["SpladeRetriever"]

_KIND = "spladekit.langchain.SpladeRetriever"
_DOCUMENTS_FILE = "documents.json"


class SpladeRetriever(BaseRetriever):
    """SPLADE retrieval over documents held in memory: a drop-in for ``BM25Retriever``.

    Build it with :meth:`from_texts` or :meth:`from_documents` (or construct it empty and
    :meth:`add_documents`), giving a model (Hub repo id, known name or folder) and any encoder
    option by keyword, or ``encoder=`` an existing :class:`~spladekit.SpladeEncoder`.
    Documents take the model's document path, queries its query path (the same model, a
    query model, or an inference-free weight table). ``invoke`` returns the ``k`` best
    documents (copies, metadata kept), each with its dot product as a plain float in
    ``metadata[score_key]`` (``score_key=None`` leaves metadata untouched); ``ainvoke``
    encodes and searches in a worker thread.

    Example:
        >>> from spladekit.langchain import SpladeRetriever
        >>> retriever = SpladeRetriever.from_texts(  # doctest: +SKIP
        ...     ["Chandrayaan-3 landed on the Moon", "The rocket was a GSLV Mk III"],
        ...     model="prithivida/Splade_PP_en_v1",
        ...     k=1,
        ... )
        >>> retriever.invoke("When did it land?")  # doctest: +SKIP
        [Document(id='…', metadata={'score': 11.3}, page_content='Chandrayaan-3 landed on the Moon')]
    """

    k: int = 4
    """Number of documents to return."""
    batch_size: int | None = None
    """Most documents per model run when adding (memory is bounded by the token budget anyway)."""
    score_key: str | None = "score"
    """Metadata key that receives each hit's score; None to leave metadata as stored."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    _encoder: SpladeEncoder = PrivateAttr()
    _index: SparseIndex = PrivateAttr()
    _documents: dict[str, Document] = PrivateAttr()

    def __init__(
        self,
        model: str | os.PathLike[str] | None = None,
        *,
        encoder: SpladeEncoder | None = None,
        k: int = 4,
        batch_size: int | None = None,
        score_key: str | None = "score",
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **options: Unpack[EncoderOptions],
    ) -> None:
        retrieval.check_top_k("k", k)
        check_positive("batch_size", batch_size, allow_none=True)
        if score_key is not None and not isinstance(score_key, str):
            msg = f"score_key must be a str or None, got {type(score_key).__name__}"
            raise InputTypeError(msg)
        fields: dict[str, Any] = {"k": k, "batch_size": batch_size, "score_key": score_key}
        super().__init__(**fields, tags=tags, metadata=metadata)
        self._encoder = take_encoder(type(self).__name__, model, encoder, dict(options))
        self._index = SparseIndex()
        self._documents = {}

    # --- building --------------------------------------------------------------------------

    @classmethod
    def from_texts(
        cls,
        texts: Iterable[str],
        metadatas: Iterable[dict[str, Any]] | None = None,
        ids: Iterable[str] | None = None,
        *,
        model: str | os.PathLike[str] | None = None,
        encoder: SpladeEncoder | None = None,
        k: int = 4,
        batch_size: int | None = None,
        score_key: str | None = "score",
        **options: Unpack[EncoderOptions],
    ) -> SpladeRetriever:
        """A retriever over *texts* (``metadatas`` and ``ids`` aligned with them, optional)."""
        retriever = cls(
            model, encoder=encoder, k=k, batch_size=batch_size, score_key=score_key, **options
        )
        retriever.add_texts(texts, metadatas, ids)
        return retriever

    @classmethod
    def from_documents(
        cls,
        documents: Iterable[Document],
        *,
        model: str | os.PathLike[str] | None = None,
        encoder: SpladeEncoder | None = None,
        k: int = 4,
        batch_size: int | None = None,
        score_key: str | None = "score",
        **options: Unpack[EncoderOptions],
    ) -> SpladeRetriever:
        """A retriever over *documents* (their ``id`` kept when set, else a new uuid4)."""
        retriever = cls(
            model, encoder=encoder, k=k, batch_size=batch_size, score_key=score_key, **options
        )
        retriever.add_documents(documents)
        return retriever

    @property
    def encoder(self) -> SpladeEncoder:
        """The encoder behind this retriever (shared when it was passed in)."""
        return self._encoder

    @property
    def index(self) -> SparseIndex:
        """The :class:`~spladekit.SparseIndex` holding the document vectors."""
        return self._index

    def __len__(self) -> int:
        return len(self._index)

    def add_texts(
        self,
        texts: Iterable[str],
        metadatas: Iterable[dict[str, Any]] | None = None,
        ids: Iterable[str] | None = None,
    ) -> list[str]:
        """Encode and add *texts*; returns their ids."""
        if isinstance(texts, str):
            msg = "texts must be a list of str, got a single str (wrap it in a list)"
            raise InputTypeError(msg)
        text_list = list(texts)
        meta_list = list(metadatas) if metadatas is not None else [{} for _ in text_list]
        id_list = list(ids) if ids is not None else [None] * len(text_list)
        if not len(meta_list) == len(id_list) == len(text_list):
            msg = f"got {len(text_list)} texts, {len(meta_list)} metadatas and {len(id_list)} ids; they must align"
            raise InputError(msg)
        documents = []
        for position, (text, meta, id_) in enumerate(
            zip(text_list, meta_list, id_list, strict=True)
        ):
            if not isinstance(meta, dict):
                msg = f"metadatas[{position}] must be a dict, got {type(meta).__name__}"
                raise InputTypeError(msg)
            documents.append(Document(page_content=text, metadata=meta, id=id_))
        return self.add_documents(documents)

    def add_documents(
        self, documents: Iterable[Document], *, ids: Sequence[str] | None = None
    ) -> list[str]:
        """Encode and add *documents*; returns their ids (given, the documents', or new uuid4s).

        An id already in the retriever is an error (``delete`` it first): nothing is added.
        """
        if isinstance(documents, Document):
            msg = "documents must be a list of Document, got a single Document (wrap it in a list)"
            raise InputTypeError(msg)
        batch = list(documents)
        for position, document in enumerate(batch):
            if not isinstance(document, Document):
                msg = f"documents[{position}] must be a langchain Document, got {type(document).__name__}"
                raise InputTypeError(msg)
        if ids is not None and len(ids) != len(batch):
            msg = f"got {len(batch)} documents and {len(ids)} ids; they must align"
            raise InputError(msg)
        chosen = [
            (ids[i] if ids is not None else d.id) or str(uuid.uuid4()) for i, d in enumerate(batch)
        ]
        for position, id_ in enumerate(chosen):
            if not isinstance(id_, str):
                msg = f"ids[{position}] must be a str, got {type(id_).__name__}"
                raise InputTypeError(msg)
        vectors = self._encoder.encode_documents(
            [d.page_content for d in batch], batch_size=self.batch_size
        )
        self._index.add(chosen, vectors)
        for id_, document in zip(chosen, batch, strict=True):
            self._documents[id_] = Document(
                id=id_, page_content=document.page_content, metadata=dict(document.metadata)
            )
        return chosen

    async def aadd_documents(self, documents: Iterable[Document]) -> list[str]:
        """:meth:`add_documents` in a worker thread; the event loop keeps running."""
        return await in_thread(self.add_documents, documents)

    def delete(self, ids: Sequence[str]) -> None:
        """Remove documents by id (an unknown id is an error; nothing is removed then)."""
        self._index.delete(ids)
        for id_ in ids:
            self._documents.pop(id_, None)

    # --- retrieving ------------------------------------------------------------------------

    def _search(self, query: str) -> list[Document]:
        if not isinstance(query, str):
            msg = f"the query must be a str, got {type(query).__name__}"
            raise InputTypeError(msg)
        hits = self._index.search(self._encoder.encode_query(query), self.k)
        found = []
        for id_, score in hits:
            stored = self._documents[str(id_)]
            metadata = dict(stored.metadata)
            if self.score_key is not None:
                metadata[self.score_key] = score
            found.append(
                Document(id=stored.id, page_content=stored.page_content, metadata=metadata)
            )
        return found

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        return self._search(query)

    async def _aget_relevant_documents(
        self, query: str, *, run_manager: AsyncCallbackManagerForRetrieverRun
    ) -> list[Document]:
        return await in_thread(self._search, query)

    # --- saving ----------------------------------------------------------------------------

    def save_local(self, folder_path: str | os.PathLike[str]) -> None:
        """Save to *folder_path*: the index, the documents (JSON) and the settings.

        Metadata must be JSON-serializable. Reading it back runs no code (no pickle).
        """
        rows = []
        for id_ in self._index.ids:
            document = self._documents[str(id_)]
            metadata = retrieval.json_ready(document.metadata, f"the metadata of document {id_!r}")
            rows.append({"id": id_, "page_content": document.page_content, "metadata": metadata})
        settings = {"k": self.k, "batch_size": self.batch_size, "score_key": self.score_key}
        folder = retrieval.write_settings(folder_path, _KIND, self._index, self._encoder, settings)
        (folder / _DOCUMENTS_FILE).write_text(json.dumps(rows), encoding="utf-8")

    @classmethod
    def load_local(
        cls,
        folder_path: str | os.PathLike[str],
        *,
        model: str | os.PathLike[str] | None = None,
        encoder: SpladeEncoder | None = None,
        mmap: bool = True,
        **options: Unpack[EncoderOptions],
    ) -> SpladeRetriever:
        """A retriever saved by :meth:`save_local`.

        Pass the encoder as when building (``encoder=`` or a model and its options); with
        neither, the model named in the folder is loaded. *mmap* maps the index file.
        """
        saved = retrieval.read_settings(folder_path, _KIND)
        chosen = retrieval.encoder_for(cls.__name__, saved, model, encoder, dict(options))
        index = retrieval.load_index(folder_path, mmap=mmap)
        rows = json.loads((Path(folder_path) / _DOCUMENTS_FILE).read_text(encoding="utf-8"))
        if [row["id"] for row in rows] != index.ids:
            msg = f"{folder_path}: {_DOCUMENTS_FILE} does not list the index's documents"
            raise IndexFormatError(msg)
        settings = saved["settings"]
        retriever = cls(encoder=chosen, **settings)
        retriever._index = index
        retriever._documents = {
            row["id"]: Document(
                id=row["id"], page_content=row["page_content"], metadata=row["metadata"]
            )
            for row in rows
        }
        return retriever
