"""Metrics against hand-computed figures and, where it installs, pytrec_eval's (trec_eval's)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from spladekit.evaluation.metrics import (
    mean_metrics,
    metric_names,
    ndcg_at,
    ranking,
    recall_at,
    reciprocal_rank_at,
)


def test_graded_ndcg_by_hand() -> None:
    judged = {"a": 2, "b": 1, "c": 0}
    ranked = ["c", "a", "x", "b"]
    dcg = 0 / math.log2(2) + 2 / math.log2(3) + 0 / math.log2(4) + 1 / math.log2(5)
    ideal = 2 / math.log2(2) + 1 / math.log2(3)  # linear gains, judged documents by level
    assert ndcg_at(ranked, judged, 4) == pytest.approx(dcg / ideal)
    assert ndcg_at(ranked, judged, 1) == 0.0
    assert ndcg_at(["a", "b"], judged, 10) == pytest.approx(1.0)
    assert ndcg_at(["b", "a"], judged, 10) == pytest.approx(
        (1 + 2 / math.log2(3)) / (2 + 1 / math.log2(3))
    )
    # the ideal DCG is cut at k too: one of two relevant documents at rank 1 is perfect at 1
    assert ndcg_at(["a"], {"a": 1, "b": 1}, 1) == 1.0


def test_non_positive_judgements_give_nothing() -> None:
    assert ndcg_at(["a", "b"], {"a": -1, "b": 0}, 10) == 0.0
    assert recall_at(["a"], {"a": 0, "b": -2}, 10) == 0.0
    assert reciprocal_rank_at(["a", "b"], {"a": -1, "b": 3}, 10) == 0.5


def test_recall_and_reciprocal_rank_by_hand() -> None:
    judged = {"a": 1, "b": 1, "c": 1, "d": 0}
    ranked = ["x", "d", "b", "y", "a"]
    assert recall_at(ranked, judged, 2) == 0.0
    assert recall_at(ranked, judged, 3) == pytest.approx(1 / 3)
    assert recall_at(ranked, judged, 100) == pytest.approx(2 / 3)
    assert reciprocal_rank_at(ranked, judged, 10) == pytest.approx(1 / 3)
    assert reciprocal_rank_at(ranked, judged, 2) == 0.0  # MRR@k stops at k


def test_ties_are_ordered_as_trec_eval_orders_them() -> None:
    # equal scores: the doc id that sorts later comes first, whatever the run's order
    assert ranking({"b": 1.0, "c": 1.0, "a": 1.0, "z": 0.5, "y": 2.0}) == ["y", "c", "b", "a", "z"]
    means, _ = mean_metrics({"q": {"c": 1}}, {"q": {"a": 1.0, "c": 1.0}}, (1,))
    assert means["nDCG@1"] == 1.0
    means, _ = mean_metrics({"q": {"a": 1}}, {"q": {"a": 1.0, "c": 1.0}}, (1,))
    assert means["nDCG@1"] == 0.0


def test_which_queries_count() -> None:
    qrels = {"judged": {"a": 1}, "found nothing": {"b": 1}, "absent": {"c": 1}}
    run = {"judged": {"a": 3.0}, "found nothing": {}, "unjudged": {"a": 9.0}}
    means, per_query = mean_metrics(qrels, run, (10,))
    assert set(per_query) == set(qrels)  # unjudged skipped; judged without results count 0
    assert per_query["found nothing"]["nDCG@10"] == per_query["absent"]["nDCG@10"] == 0.0
    assert means["nDCG@10"] == pytest.approx(1 / 3)
    assert list(means) == metric_names((10,)) == ["nDCG@10", "MRR@10", "Recall@10"]
    assert mean_metrics({}, run, (1,))[0] == {"nDCG@1": 0.0, "MRR@10": 0.0, "Recall@1": 0.0}


def _random_run(seed: int) -> tuple[dict[str, dict[str, int]], dict[str, dict[str, float]]]:
    """40 queries over 60 documents: graded judgements (0-3), scores with many exact ties."""
    rng = np.random.default_rng(seed)
    docs = [f"d{i}" for i in range(60)]
    qrels: dict[str, dict[str, int]] = {}
    run: dict[str, dict[str, float]] = {}
    for q in range(40):
        judged = rng.choice(docs, size=int(rng.integers(1, 8)), replace=False)
        qrels[f"q{q}"] = {d: int(rng.integers(0, 4)) for d in judged.tolist()}
        found = rng.choice(docs, size=int(rng.integers(0, 40)), replace=False)
        run[f"q{q}"] = {d: float(rng.integers(1, 6)) / 4 for d in found.tolist()}  # ties
    return qrels, run


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_same_figures_as_pytrec_eval(seed: int) -> None:
    pytrec_eval = pytest.importorskip("pytrec_eval", reason="pytrec_eval is not installed")
    qrels, run = _random_run(seed)
    cuts = (1, 3, 5, 10, 20)
    measures = {f"ndcg_cut.{','.join(map(str, cuts))}", f"recall.{','.join(map(str, cuts))}"}
    theirs = pytrec_eval.RelevanceEvaluator(qrels, measures | {"recip_rank"}).evaluate(run)
    # BEIR's MRR@10: trec_eval's recip_rank of the run cut to its top 10 (in trec_eval's order)
    top10 = {q: {d: run[q][d] for d in ranking(run[q])[:10]} for q in run}
    cut_rr = pytrec_eval.RelevanceEvaluator(qrels, {"recip_rank"}).evaluate(top10)
    _, ours = mean_metrics(qrels, run, cuts)
    assert set(ours) == set(theirs) == set(qrels)
    for query, figures in ours.items():
        for k in cuts:
            assert figures[f"nDCG@{k}"] == pytest.approx(theirs[query][f"ndcg_cut_{k}"], abs=1e-12)
            assert figures[f"Recall@{k}"] == pytest.approx(theirs[query][f"recall_{k}"], abs=1e-12)
        assert figures["MRR@10"] == pytest.approx(cut_rr[query]["recip_rank"], abs=1e-12)
