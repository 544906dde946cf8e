"""Ranking metrics with trec_eval's definitions, the ones BEIR reports through pytrec_eval.

A *run* maps each query id to ``{doc id: score}``; *qrels* map each query id to
``{doc id: relevance}`` (an int; > 0 is relevant, larger is more relevant).

- **Order.** A query's documents are ranked as trec_eval ranks them: higher score first, and
  among equal scores the doc id that sorts *later* as a string first. Every metric uses this
  order, so tied scores give the same figures as pytrec_eval (BEIR's own MRR@k keeps the run's
  insertion order among ties instead; the two differ only on exactly equal scores).
- **nDCG@k** (trec_eval ``ndcg_cut.k``): gain = the relevance level (not ``2**rel - 1``),
  discount ``log2(rank + 1)``; the ideal ranking is the judged documents by level, cut at k.
  Judgements <= 0 give no gain.
- **Recall@k** (``recall.k``): relevant documents in the top k / relevant documents judged.
- **MRR@k**: 1 / the rank of the first relevant document in the top k, else 0 (BEIR's ``mrr``).
- **Which queries.** Those with judgements: a run's query without qrels is skipped, as BEIR
  does. A judged query the run has no result for counts 0, as in BEIR (whose run holds every
  query, found or not) and ``trec_eval -c``: dropping it would flatter a model that finds
  nothing.

Example:
    >>> qrels = {"q": {"a": 2, "b": 1}}
    >>> run = {"q": {"a": 0.5, "c": 0.9, "b": 0.1}}
    >>> round(mean_metrics(qrels, run, k_values=(2,))[0]["nDCG@2"], 4)
    0.4796
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

__all__ = [
    "Qrels",
    "Run",
    "mean_metrics",
    "metric_names",
    "ndcg_at",
    "query_metrics",
    "ranking",
    "recall_at",
    "reciprocal_rank_at",
]

Qrels = Mapping[str, Mapping[str, int]]
Run = Mapping[str, Mapping[str, float]]

#: The cut of the reciprocal rank (MRR@10, as BEIR and MS MARCO report it).
MRR_CUT = 10


def ranking(scores: Mapping[str, float]) -> list[str]:
    """Doc ids best first, in trec_eval's order: score descending, then doc id descending."""
    return sorted(scores, key=lambda doc: (scores[doc], doc), reverse=True)


def ndcg_at(ranked: Sequence[str], judged: Mapping[str, int], k: int) -> float:
    """nDCG@k of one ranking with linear gains (trec_eval ``ndcg_cut``)."""
    dcg = sum(
        max(judged.get(doc, 0), 0) / math.log2(rank + 2) for rank, doc in enumerate(ranked[:k])
    )
    ideal_gains = sorted((level for level in judged.values() if level > 0), reverse=True)[:k]
    ideal = sum(level / math.log2(rank + 2) for rank, level in enumerate(ideal_gains))
    return dcg / ideal if ideal > 0 else 0.0


def recall_at(ranked: Sequence[str], judged: Mapping[str, int], k: int) -> float:
    """Share of the relevant documents found in the top *k* (0 when none is relevant)."""
    relevant = sum(1 for level in judged.values() if level > 0)
    if relevant == 0:
        return 0.0
    found = sum(1 for doc in ranked[:k] if judged.get(doc, 0) > 0)
    return found / relevant


def reciprocal_rank_at(ranked: Sequence[str], judged: Mapping[str, int], k: int) -> float:
    """1 / rank of the first relevant document within the top *k*, else 0."""
    for rank, doc in enumerate(ranked[:k], start=1):
        if judged.get(doc, 0) > 0:
            return 1.0 / rank
    return 0.0


def metric_names(k_values: Sequence[int]) -> list[str]:
    """The metrics reported for *k_values*, in report order."""
    return [f"nDCG@{k}" for k in k_values] + [f"MRR@{MRR_CUT}"] + [f"Recall@{k}" for k in k_values]


def query_metrics(
    scores: Mapping[str, float], judged: Mapping[str, int], k_values: Sequence[int]
) -> dict[str, float]:
    """Every metric of :func:`metric_names` for one query."""
    ranked = ranking(scores)
    values = {f"nDCG@{k}": ndcg_at(ranked, judged, k) for k in k_values}
    values[f"MRR@{MRR_CUT}"] = reciprocal_rank_at(ranked, judged, MRR_CUT)
    values.update({f"Recall@{k}": recall_at(ranked, judged, k) for k in k_values})
    return values


def mean_metrics(
    qrels: Qrels, run: Run, k_values: Sequence[int]
) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    """The mean of each metric over the judged queries, and each query's own figures."""
    per_query = {
        query: query_metrics(run.get(query, {}), judged, k_values)
        for query, judged in qrels.items()
    }
    names = metric_names(k_values)
    if not per_query:
        return dict.fromkeys(names, 0.0), per_query
    means = {
        name: math.fsum(q[name] for q in per_query.values()) / len(per_query) for name in names
    }
    return means, per_query
