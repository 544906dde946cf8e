"""Retrieval quality on BEIR-format data: :func:`evaluate` and its :class:`EvaluationResult`.

beir       read corpus.jsonl, queries.jsonl and qrels/<split>.tsv
metrics    nDCG@k, MRR@10, Recall@k with trec_eval's (pytrec_eval's, BEIR's) definitions
run        :func:`evaluate`: encode, index exactly, search, score; speed and memory
result     :class:`EvaluationResult`: the figures, as a table or JSON
"""

from spladekit.evaluation.result import EvaluationResult
from spladekit.evaluation.run import evaluate

__all__ = ["EvaluationResult", "evaluate"]
