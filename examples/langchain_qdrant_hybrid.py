"""Hybrid retrieval with LangChain and Qdrant: SPLADE sparse + a dense embedding, fused.

Builds a hybrid ``QdrantVectorStore`` over the twelve Chandrayaan documents on embedded
Qdrant (``location=":memory:"``), runs a few queries with RRF and DBSF fusion and in sparse-only
mode, then puts the retriever in a small RAG-style chain (prompt | retriever formatting; no
LLM call).

    python examples/langchain_qdrant_hybrid.py                       # default model (Hub)
    python examples/langchain_qdrant_hybrid.py --model ./splade-dir  # a local model folder
    SPLADEKIT_MODEL=./splade-dir python examples/langchain_qdrant_hybrid.py

The dense side is fastembed's ``BAAI/bge-small-en-v1.5`` when fastembed is installed and can
load it, else langchain-core's ``DeterministicFakeEmbedding`` (``--dense fake`` forces it),
so the script runs anywhere; with the fake, the sparse side does the real work.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import warnings
from pathlib import Path

from langchain_core.documents import Document
from langchain_core.embeddings import DeterministicFakeEmbedding, Embeddings
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnablePassthrough
from langchain_qdrant import QdrantVectorStore, RetrievalMode
from qdrant_client import models

from spladekit.langchain import SpladeQdrantSparseEmbeddings

sys.path.insert(0, str(Path(__file__).resolve().parent))
from chandrayaan import DOCUMENTS  # noqa: E402

DEFAULT_MODEL = "prithivida/Splade_PP_en_v1"
QUERIES = [
    "When did Chandrayaan-3 land on the Moon?",
    "Which rocket launched the mission?",
    "What is the name of the rover?",
]
FUSIONS = {"RRF": models.Fusion.RRF, "DBSF": models.Fusion.DBSF}


def dense_embedding(kind: str) -> tuple[Embeddings, str]:
    """A real small dense model when one loads, else a deterministic fake (and say which)."""
    if kind == "fake" or (kind == "auto" and importlib.util.find_spec("fastembed") is None):
        note = "" if kind == "fake" else " (fastembed not installed)"
        return DeterministicFakeEmbedding(size=64), f"deterministic fake{note}"
    try:
        with warnings.catch_warnings():  # langchain-community announces its sunset on import
            warnings.simplefilter("ignore", DeprecationWarning)
            from langchain_community.embeddings import FastEmbedEmbeddings

        return FastEmbedEmbeddings(model_name="BAAI/bge-small-en-v1.5"), "fastembed bge-small"
    except Exception as error:
        if kind == "fastembed":
            raise
        reason = f"{type(error).__name__}: {str(error).splitlines()[0][:80]}"
        return DeterministicFakeEmbedding(size=64), f"deterministic fake ({reason})"


def format_docs(docs: list[Document]) -> str:
    return "\n".join(f"- {doc.page_content}" for doc in docs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--model",
        default=os.environ.get("SPLADEKIT_MODEL", DEFAULT_MODEL),
        help="SPLADE model: Hub repo id or local folder (default: $SPLADEKIT_MODEL or %(default)s)",
    )
    parser.add_argument("--dense", choices=["auto", "fastembed", "fake"], default="auto")
    args = parser.parse_args()

    sparse = SpladeQdrantSparseEmbeddings(args.model, batch_size=32)
    dense, dense_name = dense_embedding(args.dense)
    print(f"sparse: {args.model}\ndense:  {dense_name}\n")

    store = QdrantVectorStore.from_texts(
        DOCUMENTS,
        embedding=dense,
        sparse_embedding=sparse,
        retrieval_mode=RetrievalMode.HYBRID,
        location=":memory:",
        collection_name="chandrayaan",
    )

    for query in QUERIES:
        print(f"Q: {query}")
        for name, fusion in FUSIONS.items():
            hits = store.similarity_search_with_score(
                query, k=3, hybrid_fusion=models.FusionQuery(fusion=fusion)
            )
            for rank, (doc, score) in enumerate(hits, 1):
                print(f"  {name:4} #{rank} {score:6.3f}  {doc.page_content[:70]}")
        print()

    # Sparse only: SPLADE alone ranks the documents (no dense side at all).
    sparse_store = QdrantVectorStore.from_texts(
        DOCUMENTS,
        sparse_embedding=sparse,
        retrieval_mode=RetrievalMode.SPARSE,
        location=":memory:",
        collection_name="chandrayaan-sparse",
    )
    print("Sparse only:")
    for query in QUERIES:
        doc, score = sparse_store.similarity_search_with_score(query, k=1)[0]
        print(f"  SPARSE #1 {score:6.2f}  {query} -> {doc.page_content[:70]}")
    print()

    retriever = store.as_retriever(
        search_kwargs={"k": 2, "hybrid_fusion": models.FusionQuery(fusion=models.Fusion.RRF)}
    )
    prompt = ChatPromptTemplate.from_template(
        "Answer from the context only.\nContext:\n{context}\n\nQuestion: {question}"
    )
    chain = {"context": retriever | format_docs, "question": RunnablePassthrough()} | prompt
    print(chain.invoke(QUERIES[0]).to_string())


if __name__ == "__main__":
    main()
