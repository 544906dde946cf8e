"""On real weights: evaluate's nDCG@10 is what brute force over sentence-transformers' vectors gives.

../shared/data/checkpoints/splade-tiny/reference.jsonl holds sentence-transformers' vectors
(torch, 512-token truncation) of 200 SciFact abstracts (every 25th, title + " " + text) and
50 SciFact queries. A BEIR folder of those abstracts, with the SciFact qrels restricted to
them, is evaluated with the ONNX export; scoring the reference vectors by brute force must
give the same figures — so loading, encoding, indexing, searching and the metrics all agree
with an independent implementation.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from spladekit import SparseVector, SpladeEncoder, evaluate
from spladekit.evaluation.beir import read_qrels
from spladekit.evaluation.metrics import mean_metrics, ranking

from support.beir import write_beir


@pytest.fixture(scope="module")
def reference(shared_data: Path) -> dict[str, list[dict[str, object]]]:
    path = shared_data / "checkpoints" / "splade-tiny" / "reference.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    return {
        "documents": [r for r in rows if r["kind"] == "document"][3:],  # after the 3 seed texts
        "queries": [r for r in rows if r["kind"] == "query"],
    }


@pytest.fixture(scope="module")
def folder(
    shared_data: Path,
    reference: dict[str, list[dict[str, object]]],
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, dict[str, SparseVector], dict[str, SparseVector]]:
    scifact = shared_data / "scifact"
    every_25th = [json.loads(line) for line in (scifact / "corpus.jsonl").read_text().splitlines()][
        ::25
    ]
    corpus = every_25th[: len(reference["documents"])]
    for row, ref in zip(corpus, reference["documents"], strict=True):
        assert f"{row['title']} {row['text']}".strip() == ref["text"]
    by_text = {
        json.loads(line)["text"]: json.loads(line)["_id"]
        for line in (scifact / "queries.jsonl").read_text().splitlines()
    }
    query_ids = [by_text[str(r["text"])] for r in reference["queries"]]
    in_slice = {row["_id"] for row in corpus}
    qrels: dict[str, dict[str, int]] = {}
    with (scifact / "qrels" / "train.tsv").open() as handle:  # the 50 queries are train queries
        for query, doc, score in list(csv.reader(handle, delimiter="\t"))[1:]:
            if query in query_ids and doc in in_slice:
                qrels.setdefault(query, {})[doc] = int(score)
    root = write_beir(
        tmp_path_factory.mktemp("scifact-slice") / "slice",
        [{"_id": r["_id"], "title": r["title"], "text": r["text"]} for r in corpus],
        {q: str(r["text"]) for q, r in zip(query_ids, reference["queries"], strict=True)},
        qrels,
        split="train",
    )
    documents = {
        row["_id"]: SparseVector(ref["indices"], ref["values"])  # type: ignore[arg-type]
        for row, ref in zip(corpus, reference["documents"], strict=True)
    }
    queries = {
        q: SparseVector(r["indices"], r["values"])  # type: ignore[arg-type]
        for q, r in zip(query_ids, reference["queries"], strict=True)
    }
    return root, documents, queries


def reference_run(
    documents: dict[str, SparseVector], queries: dict[str, SparseVector]
) -> dict[str, dict[str, float]]:
    run = {}
    for query, vector in queries.items():
        scores = {doc: vector.dot(d) for doc, d in documents.items()}
        run[query] = {doc: s for doc, s in scores.items() if s > 0}
    return run


@pytest.fixture(scope="module")
def encoder(shared_data: Path) -> SpladeEncoder:
    # the reference truncates at 512 tokens, as the default does
    return SpladeEncoder(
        shared_data / "checkpoints" / "splade-tiny-onnx", long_documents="truncate"
    )


def test_same_ndcg_as_brute_force_over_the_reference_vectors(
    encoder: SpladeEncoder, folder: tuple[Path, dict[str, SparseVector], dict[str, SparseVector]]
) -> None:
    root, documents, queries = folder
    qrels = read_qrels(root / "qrels" / "train.tsv")
    assert len(qrels) >= 5  # SciFact judges few of these 50 queries inside a 200-abstract slice
    with pytest.warns(UserWarning, match="truncated"):
        result = evaluate(encoder, root, split="train")
    expected, per_query = mean_metrics(qrels, reference_run(documents, queries), (1, 10, 100))
    assert result["nDCG@10"] == pytest.approx(expected["nDCG@10"], abs=1e-9)
    for name, value in expected.items():
        assert result[name] == pytest.approx(value, abs=1e-9), name
    assert result.per_query.keys() == per_query.keys()
    for query, figures in per_query.items():
        assert dict(result.per_query[query]) == pytest.approx(figures, abs=1e-9), query
    assert 0.3 < result["nDCG@10"] < 1.0  # real retrieval: neither broken nor trivial


def test_every_queries_ranking_matches_the_reference(
    encoder: SpladeEncoder,
    folder: tuple[Path, dict[str, SparseVector], dict[str, SparseVector]],
    tmp_path: Path,
) -> None:
    """All 50 queries: judging the reference's own top 10 (graded 10..1), evaluate gets 1.0."""
    root, documents, queries = folder
    run = reference_run(documents, queries)
    graded = {q: {doc: 10 - rank for rank, doc in enumerate(ranking(run[q])[:10])} for q in run}
    lines = ["query-id\tcorpus-id\tscore"] + [
        f"{q}\t{d}\t{g}" for q, j in graded.items() for d, g in j.items()
    ]
    (root / "qrels" / "reference.tsv").write_text("\n".join(lines) + "\n")
    with pytest.warns(UserWarning, match="truncated"):
        result = evaluate(encoder, root, split="reference", k_values=(10,))
    assert result.queries == 50
    assert result["nDCG@10"] == pytest.approx(1.0, abs=1e-9)
