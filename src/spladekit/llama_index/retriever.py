"""``SpladeRetriever``: llama-index-retrievers-bm25's ``BM25Retriever``, with SPLADE, exact, in process.

Same shape as ``llama_index.retrievers.bm25.BM25Retriever`` (``from_defaults(nodes= | index= |
docstore=, similarity_top_k=)``, ``persist`` / ``from_persist_dir``), so it replaces BM25 in a
``QueryFusionRetriever`` beside a dense retriever; nodes are scored exactly by a
:class:`~spladekit.SparseIndex`, with no vector database.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from spladekit.errors import IndexFormatError, InputError, InputTypeError, require

require("llama_index.core", "llama-index")

from llama_index.core.base.base_retriever import BaseRetriever  # noqa: E402
from llama_index.core.callbacks.base import CallbackManager  # noqa: E402
from llama_index.core.constants import DEFAULT_SIMILARITY_TOP_K  # noqa: E402
from llama_index.core.schema import (  # noqa: E402
    BaseNode,
    IndexNode,
    MetadataMode,
    NodeWithScore,
    QueryBundle,
)
from llama_index.core.storage.docstore.types import BaseDocumentStore  # noqa: E402
from llama_index.core.storage.docstore.utils import doc_to_json, json_to_doc  # noqa: E402

from spladekit._adapters import retrieval  # noqa: E402
from spladekit._adapters.base import in_thread, take_encoder  # noqa: E402
from spladekit.encoder import SpladeEncoder  # noqa: E402
from spladekit.index import SparseIndex  # noqa: E402
from spladekit.options import check_positive  # noqa: E402

if TYPE_CHECKING:
    from llama_index.core.indices.base import BaseIndex
    from typing_extensions import Unpack

    from spladekit.options import EncoderOptions

__all__ = ["SpladeRetriever"]

_KIND = "spladekit.llama_index.SpladeRetriever"
_NODES_FILE = "nodes.json"


class SpladeRetriever(BaseRetriever):
    """SPLADE retrieval over nodes held in memory: a drop-in for LlamaIndex's ``BM25Retriever``.

    Build it with :meth:`from_defaults` (``nodes=``, ``index=`` or ``docstore=``), giving a
    model (Hub repo id, known name or folder) and any encoder option by keyword, or
    ``encoder=`` an existing :class:`~spladekit.SpladeEncoder`. A node is encoded as
    ``node.get_content(metadata_mode=MetadataMode.EMBED)`` (what dense embeddings see) on the
    document path; queries take the query path (the same model, a query model, or an
    inference-free weight table). ``retrieve`` returns up to ``similarity_top_k`` nodes with
    their dot product as a plain float score; ``aretrieve`` encodes and searches in a worker
    thread.

    Example:
        >>> from llama_index.core.schema import TextNode
        >>> from spladekit.llama_index import SpladeRetriever
        >>> retriever = SpladeRetriever.from_defaults(  # doctest: +SKIP
        ...     nodes=[TextNode(text="Chandrayaan-3 landed on the Moon")],
        ...     model="prithivida/Splade_PP_en_v1",
        ...     similarity_top_k=2,
        ... )
        >>> retriever.retrieve("When did it land?")  # doctest: +SKIP
    """

    def __init__(
        self,
        nodes: Sequence[BaseNode] | None = None,
        *,
        model: str | os.PathLike[str] | None = None,
        encoder: SpladeEncoder | None = None,
        similarity_top_k: int = DEFAULT_SIMILARITY_TOP_K,
        batch_size: int | None = None,
        sparse_index: SparseIndex | None = None,
        callback_manager: CallbackManager | None = None,
        objects: list[IndexNode] | None = None,
        object_map: dict[str, Any] | None = None,
        verbose: bool = False,
        **options: Unpack[EncoderOptions],
    ) -> None:
        self.similarity_top_k = retrieval.check_top_k("similarity_top_k", similarity_top_k)
        check_positive("batch_size", batch_size, allow_none=True)
        self.batch_size = batch_size
        self._encoder = take_encoder(type(self).__name__, model, encoder, dict(options))
        self._index = sparse_index if sparse_index is not None else SparseIndex()
        self._nodes: dict[str, BaseNode] = {}
        super().__init__(
            callback_manager=callback_manager,
            object_map=object_map,
            objects=objects,
            verbose=verbose,
        )
        if nodes is not None:
            self.insert_nodes(nodes)

    @classmethod
    def from_defaults(
        cls,
        index: BaseIndex[Any] | None = None,
        nodes: Sequence[BaseNode] | None = None,
        docstore: BaseDocumentStore | None = None,
        similarity_top_k: int = DEFAULT_SIMILARITY_TOP_K,
        *,
        model: str | os.PathLike[str] | None = None,
        encoder: SpladeEncoder | None = None,
        batch_size: int | None = None,
        verbose: bool = False,
        **options: Unpack[EncoderOptions],
    ) -> SpladeRetriever:
        """A retriever over exactly one of: *nodes*, an *index*'s docstore, or a *docstore*."""
        given = [
            name
            for name, v in (("index", index), ("nodes", nodes), ("docstore", docstore))
            if v is not None
        ]
        if len(given) != 1:
            msg = (
                f"pass exactly one of index=, nodes= or docstore=, got {', '.join(given) or 'none'}"
            )
            raise InputError(msg)
        if index is not None:
            docstore = index.docstore
        if docstore is not None:
            nodes = list(docstore.docs.values())
            if not nodes:
                msg = (
                    "the docstore holds no nodes (a vector store that keeps the text itself "
                    "leaves the index's docstore empty); pass nodes= instead"
                )
                raise InputError(msg)
        return cls(
            nodes,
            model=model,
            encoder=encoder,
            similarity_top_k=similarity_top_k,
            batch_size=batch_size,
            verbose=verbose,
            **options,
        )

    @property
    def encoder(self) -> SpladeEncoder:
        """The encoder behind this retriever (shared when it was passed in)."""
        return self._encoder

    @property
    def sparse_index(self) -> SparseIndex:
        """The :class:`~spladekit.SparseIndex` holding the node vectors."""
        return self._index

    @property
    def nodes(self) -> list[BaseNode]:
        """The nodes, in insertion order."""
        return [self._nodes[str(id_)] for id_ in self._index.ids]

    def insert_nodes(self, nodes: Sequence[BaseNode]) -> None:
        """Encode and add *nodes* (a node id already present is an error: nothing is added)."""
        if isinstance(nodes, BaseNode) or not isinstance(nodes, Sequence):
            msg = f"nodes must be a list of LlamaIndex nodes, got {type(nodes).__name__}"
            raise InputTypeError(msg)
        for position, node in enumerate(nodes):
            if not isinstance(node, BaseNode):
                msg = f"nodes[{position}] must be a LlamaIndex node, got {type(node).__name__}"
                raise InputTypeError(msg)
        texts = [node.get_content(metadata_mode=MetadataMode.EMBED) for node in nodes]
        vectors = self._encoder.encode_documents(texts, batch_size=self.batch_size)
        self._index.add([node.node_id for node in nodes], vectors)
        self._nodes.update((node.node_id, node) for node in nodes)

    def delete_nodes(self, node_ids: Sequence[str]) -> None:
        """Remove nodes by id (an unknown id is an error; nothing is removed then)."""
        self._index.delete(node_ids)
        for node_id in node_ids:
            self._nodes.pop(node_id, None)

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        query = self._encoder.encode_query(query_bundle.query_str)
        hits = self._index.search(query, self.similarity_top_k)
        return [NodeWithScore(node=self._nodes[str(id_)], score=score) for id_, score in hits]

    async def _aretrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        return await in_thread(self._retrieve, query_bundle)

    def persist(self, path: str | os.PathLike[str], encoding: str = "utf-8") -> None:
        """Save to the folder *path*: the index, the nodes (LlamaIndex's JSON) and the settings."""
        rows = [doc_to_json(node) for node in self.nodes]
        for row in rows:
            retrieval.json_ready(row, "a node")
        settings = {"similarity_top_k": self.similarity_top_k, "batch_size": self.batch_size}
        folder = retrieval.write_settings(path, _KIND, self._index, self._encoder, settings)
        (folder / _NODES_FILE).write_text(json.dumps(rows), encoding=encoding)

    @classmethod
    def from_persist_dir(
        cls,
        path: str | os.PathLike[str],
        encoding: str = "utf-8",
        *,
        model: str | os.PathLike[str] | None = None,
        encoder: SpladeEncoder | None = None,
        mmap: bool = True,
        **options: Unpack[EncoderOptions],
    ) -> SpladeRetriever:
        """A retriever saved by :meth:`persist` (the encoder as in :meth:`from_defaults`).

        With neither ``encoder=`` nor a model, the model named in the folder is loaded.
        """
        saved = retrieval.read_settings(path, _KIND)
        chosen = retrieval.encoder_for(cls.__name__, saved, model, encoder, dict(options))
        index = retrieval.load_index(path, mmap=mmap)
        rows = json.loads((Path(path) / _NODES_FILE).read_text(encoding=encoding))
        nodes = [json_to_doc(row) for row in rows]
        if [node.node_id for node in nodes] != index.ids:
            msg = f"{path}: {_NODES_FILE} does not list the index's nodes"
            raise IndexFormatError(msg)
        retriever = cls(encoder=chosen, sparse_index=index, **saved["settings"])
        retriever._nodes = {node.node_id: node for node in nodes}
        return retriever
