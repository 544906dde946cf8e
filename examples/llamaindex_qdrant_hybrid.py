"""Hybrid (dense + SPLADE) retrieval with LlamaIndex over an embedded Qdrant, sync and async.

Run: ``python examples/llamaindex_qdrant_hybrid.py`` (downloads the default SPLADE model), or
offline with a local model folder: ``--model PATH`` or ``SPLADEKIT_MODEL=PATH``.

The dense side uses fastembed's bge-small when ``llama-index-embeddings-fastembed`` is
installed and the SPLADE model comes from the Hub; otherwise a small deterministic hashing
embedding, so the example runs fully offline. The LLM is LlamaIndex's ``MockLLM``: the point
is retrieval, and nothing here may call OpenAI.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import importlib.util
import math
import os
import re
from pathlib import Path
from typing import Any

from llama_index.core import Settings, StorageContext, VectorStoreIndex
from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.llms import MockLLM
from llama_index.core.schema import TextNode
from llama_index.vector_stores.qdrant import QdrantVectorStore
from qdrant_client import AsyncQdrantClient, QdrantClient

from spladekit.llama_index import SpladeSparseEmbedding, hybrid_fusion, qdrant_sparse_functions

from chandrayaan import DOCUMENTS

QUERY = "When did Chandrayaan-3 land on the Moon?"


class HashingEmbedding(BaseEmbedding):
    """Offline dense stand-in: word and character-trigram counts hashed into 256 dims."""

    dim: int = 256

    @classmethod
    def class_name(cls) -> str:
        return "HashingEmbedding"

    def _vector(self, text: str) -> list[float]:
        vector = [0.0] * self.dim
        for word in re.findall(r"\w+", text.lower()):
            for feature in [word] + [word[i : i + 3] for i in range(max(1, len(word) - 2))]:
                digest = hashlib.blake2b(feature.encode(), digest_size=8).digest()
                slot = int.from_bytes(digest[:4], "little") % self.dim
                vector[slot] += 1.0 if digest[4] % 2 else -1.0
        norm = math.sqrt(sum(v * v for v in vector)) or 1.0
        return [v / norm for v in vector]

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._vector(query)

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._vector(query)

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._vector(text)


def dense_embedding(choice: str, local_model: bool) -> BaseEmbedding:
    """fastembed's bge-small when asked for (or available online), else the hashing one."""
    try:
        has_fastembed = importlib.util.find_spec("llama_index.embeddings.fastembed") is not None
    except ModuleNotFoundError:  # no llama_index.embeddings namespace at all
        has_fastembed = False
    if choice == "fastembed" or (choice == "auto" and has_fastembed and not local_model):
        from llama_index.embeddings.fastembed import FastEmbedEmbedding

        embedding: BaseEmbedding = FastEmbedEmbedding(model_name="BAAI/bge-small-en-v1.5")
        return embedding
    return HashingEmbedding()


def nodes() -> list[TextNode]:
    return [
        TextNode(text=text, id_=f"00000000-0000-0000-0000-{i:012d}")
        for i, text in enumerate(DOCUMENTS)
    ]


def make_store(
    sparse: SpladeSparseEmbedding, *, client: Any = None, aclient: Any = None
) -> QdrantVectorStore:
    doc_fn, query_fn = qdrant_sparse_functions(sparse)  # always both: no fastembed fallback
    return QdrantVectorStore(
        "chandrayaan",
        client=client,
        aclient=aclient,
        enable_hybrid=True,
        sparse_doc_fn=doc_fn,
        sparse_query_fn=query_fn,
        hybrid_fusion_fn=hybrid_fusion,  # scores stay in [0, 1], even with one sparse hit
        index_doc_id=False,  # a payload index only helps a Qdrant server, not ":memory:"
    )


def show(title: str, results: list[Any]) -> None:
    print(title)
    for hit in results:
        print(f"  {hit.score:.3f}  {hit.node.get_content()[:72]}")


def run_sync(sparse: SpladeSparseEmbedding, args: argparse.Namespace) -> None:
    store = make_store(sparse, client=QdrantClient(":memory:"))
    index = VectorStoreIndex(
        nodes(), storage_context=StorageContext.from_defaults(vector_store=store)
    )
    options = retrieval_options(args)
    show(
        f"[sync] hybrid retrieve (alpha={args.alpha}): {args.query}",
        index.as_retriever(**options).retrieve(args.query),
    )
    show(
        f"[sync] sparse retrieve: {args.query}",
        index.as_retriever(
            vector_store_query_mode="sparse", similarity_top_k=args.top_k, sparse_top_k=args.top_k
        ).retrieve(args.query),
    )
    response = index.as_query_engine(**options).query(args.query)
    print(
        f"[sync] query engine: {len(response.source_nodes)} source nodes, MockLLM said {str(response)[:40]!r}"
    )


def retrieval_options(args: argparse.Namespace) -> dict[str, object]:
    """Hybrid retrieval settings shared by the sync and async runs."""
    return {
        "vector_store_query_mode": "hybrid",
        "similarity_top_k": args.top_k,
        "sparse_top_k": args.sparse_top_k,
        "alpha": args.alpha,
    }


async def run_async(sparse: SpladeSparseEmbedding, args: argparse.Namespace) -> None:
    store = make_store(sparse, aclient=AsyncQdrantClient(":memory:"))
    index = VectorStoreIndex(
        [], storage_context=StorageContext.from_defaults(vector_store=store), use_async=True
    )
    await index.ainsert_nodes(nodes())
    options = retrieval_options(args)
    show(
        f"[async] hybrid aretrieve (alpha={args.alpha}): {args.query}",
        await index.as_retriever(**options).aretrieve(args.query),
    )
    response = await index.as_query_engine(**options).aquery(args.query)
    print(
        f"[async] query engine: {len(response.source_nodes)} source nodes, MockLLM said {str(response)[:40]!r}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--model",
        default=os.environ.get("SPLADEKIT_MODEL"),
        help="Hub repo id or local folder (default: SPLADEKIT_MODEL, else spladekit's default model)",
    )
    parser.add_argument("--dense", choices=["auto", "fastembed", "hash"], default="auto")
    parser.add_argument("--query", default=QUERY)
    parser.add_argument(
        "--alpha", type=float, default=0.5, help="dense weight: 1 dense only, 0 sparse only"
    )
    parser.add_argument("--top-k", type=int, default=3)
    parser.add_argument("--sparse-top-k", type=int, default=5)
    args = parser.parse_args()

    local_model = args.model is not None and Path(args.model).is_dir()
    Settings.llm = MockLLM(max_tokens=8)
    Settings.embed_model = dense_embedding(args.dense, local_model)
    sparse = SpladeSparseEmbedding(args.model)  # None: spladekit's default model
    print(f"sparse: {sparse.model_name}; dense: {Settings.embed_model.class_name()}")
    print(
        "query terms:",
        ", ".join(
            f"{t} {w:.2f}"
            for t, w in sparse.encoder.explain(sparse.encoder.encode_query(args.query), top_k=6)
        ),
    )
    run_sync(sparse, args)
    asyncio.run(run_async(sparse, args))


if __name__ == "__main__":
    main()
