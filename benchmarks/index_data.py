"""The index benchmark's vectors: SciFact through the real splade-tiny model, and a synthetic 1M set.

SciFact is encoded once and cached under ``benchmarks/.cache`` (gitignored): 5,183 documents
(title + abstract, windows over 512 tokens) and the 300 test claims on the model's query path.
The synthetic set draws each document's ~150 term ids from a Zipf law over a 30,522 vocabulary
(values log-normal, like SPLADE's log1p(relu) weights) and each query's ~40; the exponent is
the one whose document-frequency curve is closest to SciFact's (``fit_zipf`` prints both).

Run as a script to build the SciFact cache: ``python benchmarks/index_data.py``.
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

import numpy as np

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from corpus import SCIFACT, load_corpus, load_corpus_ids, load_test_queries  # noqa: E402

CACHE = BENCH / ".cache"
MODEL = BENCH.parent.parent / "shared" / "data" / "checkpoints" / "splade-tiny-onnx"
VOCAB = 30522

logger = logging.getLogger("index_data")

#: (indptr int64 [n+1], indices int64 [nnz], values float32 [nnz]): a batch of vectors as CSR.
Csr = tuple[np.ndarray, np.ndarray, np.ndarray]


def to_csr(vectors: list) -> Csr:  # type: ignore[type-arg]
    sizes = np.array([len(v) for v in vectors], dtype=np.int64)
    indptr = np.concatenate([[0], np.cumsum(sizes)])
    indices = np.concatenate([v.indices for v in vectors]) if vectors else np.empty(0, np.int64)
    values = np.concatenate([v.values for v in vectors]) if vectors else np.empty(0, np.float32)
    return indptr, indices.astype(np.int64), values.astype(np.float32)


def from_csr(csr: Csr) -> list:  # type: ignore[type-arg]
    """SparseVectors back from CSR rows (the arrays are already sorted, unique and positive)."""
    from spladekit import SparseVector

    indptr, indices, values = csr
    return [
        SparseVector._trusted(indices[a:b], values[a:b])
        for a, b in zip(indptr[:-1].tolist(), indptr[1:].tolist(), strict=True)
    ]


def scifact(encode_if_missing: bool = True) -> dict[str, object]:
    """SciFact documents and test queries as splade-tiny vectors (cached), with ids and qrels."""
    path = CACHE / "scifact-splade-tiny.npz"
    if not path.exists():
        if not encode_if_missing:
            raise FileNotFoundError(path)
        if not (SCIFACT / "corpus.jsonl").exists() or not MODEL.is_dir():
            raise FileNotFoundError("SciFact and splade-tiny-onnx are needed in ../shared/data")
        from spladekit import SpladeEncoder

        encoder = SpladeEncoder(MODEL)
        texts = load_corpus()
        queries, _ = load_test_queries()
        began = time.perf_counter()
        docs = encoder.encode_documents(texts, batch_size=32, show_progress=True)
        logger.warning("encoded %d documents in %.0f s", len(docs), time.perf_counter() - began)
        query_vectors = encoder.encode_queries(queries)
        d, q = to_csr(docs), to_csr(query_vectors)
        CACHE.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npz")
        np.savez(
            tmp,
            d_indptr=d[0],
            d_indices=d[1],
            d_values=d[2],
            q_indptr=q[0],
            q_indices=q[1],
            q_values=q[2],
        )
        tmp.replace(path)
    data = np.load(path)
    queries, relevant = load_test_queries()
    return {
        "docs": (data["d_indptr"], data["d_indices"], data["d_values"]),
        "queries": (data["q_indptr"], data["q_indices"], data["q_values"]),
        "doc_ids": load_corpus_ids(),
        "query_texts": queries,
        "relevant": relevant,
    }


def document_frequency_curve(csr: Csr, points: int = 8) -> list[float]:
    """Share of documents holding the 1st, 10th, 100th, ... most common term."""
    indptr, indices, _ = csr
    df = np.sort(np.bincount(indices, minlength=VOCAB))[::-1] / (len(indptr) - 1)
    ranks = [10**i for i in range(points) if 10**i <= VOCAB]
    return [float(df[r - 1]) for r in ranks]


def inclusion_probabilities(nnz: float, exponent: float) -> np.ndarray:
    """P(term of rank r is in a vector) = min(1, c / r**exponent), with c set so the mean is *nnz*."""
    weights = 1.0 / np.arange(1, VOCAB + 1, dtype=np.float64) ** exponent
    low, high = 0.0, float(nnz) / weights[-1]
    for _ in range(100):
        c = (low + high) / 2
        if np.minimum(1.0, c * weights).sum() < nnz:
            low = c
        else:
            high = c
    return np.minimum(1.0, c * weights)


def synthetic(count: int, nnz: float, seed: int, exponent: float, chunk: int = 32_768) -> Csr:
    """*count* SPLADE-like vectors: term of Zipf rank r present with p ∝ r**-exponent (capped at 1).

    The mean number of non-zeros is *nnz*; ranks are shuffled onto term ids (the same map for
    documents and queries, so common document terms are common query terms); values are
    log-normal (median 0.6, long tail), like SPLADE's log(1 + relu) weights. Built term by
    term per chunk of documents, then put in document order with one stable sort.
    """
    rng = np.random.default_rng(seed)
    probability = inclusion_probabilities(nnz, exponent)
    term_of_rank = np.random.default_rng(12345).permutation(VOCAB).astype(np.int64)
    heavy = np.flatnonzero(probability > 0.02)
    light = np.flatnonzero(probability <= 0.02)
    indptr_parts, index_parts, value_parts = [np.zeros(1, np.int64)], [], []
    total = 0
    for start in range(0, count, chunk):
        n = min(chunk, count - start)
        # Common terms: a Bernoulli draw per document. Rare ones: a binomial count of
        # documents drawn with replacement (a repeat is dropped below; rare at p <= 0.02).
        mask = rng.random((heavy.size, n)) < probability[heavy, None]
        rows, docs = np.nonzero(mask)
        heavy_terms = term_of_rank[heavy][rows]
        counts = rng.binomial(n, probability[light])
        light_terms = np.repeat(term_of_rank[light], counts)
        light_docs = rng.integers(0, n, size=light_terms.size)
        terms = np.concatenate([heavy_terms, light_terms])
        docs = np.concatenate([docs, light_docs])
        key = np.sort(docs * VOCAB + terms)  # document order, terms ascending within each
        docs, terms = np.divmod(key, VOCAB)
        fresh = np.ones(terms.size, dtype=bool)
        fresh[1:] = (terms[1:] != terms[:-1]) | (docs[1:] != docs[:-1])
        terms, docs = terms[fresh], docs[fresh]
        lengths = np.bincount(docs, minlength=n)
        index_parts.append(terms)
        value_parts.append(rng.lognormal(-0.5, 0.6, size=terms.size).astype(np.float32))
        indptr_parts.append(total + np.cumsum(lengths))
        total += int(terms.size)
    return np.concatenate(indptr_parts), np.concatenate(index_parts), np.concatenate(value_parts)


def postings_per_query(docs: Csr, queries: Csr) -> float:
    """Mean over queries of the postings their terms touch, as a share of the documents."""
    df = np.bincount(docs[1], minlength=VOCAB)
    n = len(docs[0]) - 1
    return float(
        np.mean(
            [
                df[queries[1][a:b]].sum() / n
                for a, b in zip(queries[0][:-1], queries[0][1:], strict=True)
            ]
        )
    )


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    data = scifact()
    docs = data["docs"]
    assert isinstance(docs, tuple)
    print("documents", len(docs[0]) - 1, "nnz/doc", (len(docs[1])) / (len(docs[0]) - 1))
    print("SciFact df curve", document_frequency_curve(docs))
    queries = data["queries"]
    assert isinstance(queries, tuple)
    print("query nnz", len(queries[1]) / (len(queries[0]) - 1))
    print("SciFact postings per query / n", postings_per_query(docs, queries))
    for exponent in (0.6, 0.8, 1.0, 1.2):
        d = synthetic(5183, 150, seed=1, exponent=exponent)
        q = synthetic(300, 40, seed=2, exponent=exponent)
        print(
            exponent,
            "df curve",
            document_frequency_curve(d),
            "postings/query",
            postings_per_query(d, q),
        )
