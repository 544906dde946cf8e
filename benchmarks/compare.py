"""How two tools' saved vectors agree: index sets, values, and the top 10 they rank."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np


def load_vectors(path: Path) -> list[tuple[np.ndarray, np.ndarray]]:
    data = np.load(path)
    ends = np.cumsum(data["sizes"])
    starts = ends - data["sizes"]
    return [(data["indices"][a:b], data["values"][a:b]) for a, b in zip(starts, ends, strict=True)]


def agreement(a: Path, b: Path) -> dict[str, Any]:
    """Identical index sets, max |Δvalue| on those, and index-set Jaccard over all texts."""
    left, right = load_vectors(a), load_vectors(b)
    same = [np.array_equal(x[0], y[0]) for x, y in zip(left, right, strict=True)]
    deltas = [
        float(np.abs(x[1] - y[1]).max(initial=0.0))
        for (x, y, s) in zip(left, right, same, strict=True)
        if s
    ]
    jaccard = [
        len(np.intersect1d(x[0], y[0])) / max(1, len(np.union1d(x[0], y[0])))
        for x, y in zip(left, right, strict=True)
    ]
    common = []
    for x, y in zip(left, right, strict=True):
        _, ix, iy = np.intersect1d(x[0], y[0], return_indices=True)
        common.append(float(np.abs(x[1][ix] - y[1][iy]).max(initial=0.0)))
    return {
        "texts": len(left),
        "identical_index_sets": int(sum(same)),
        "max_abs_delta": max(deltas, default=float("nan")),
        "mean_jaccard": float(np.mean(jaccard)),
        "max_abs_delta_common": max(common, default=0.0),
    }


def to_dense_scores(
    queries: list[tuple[np.ndarray, np.ndarray]], docs: list[tuple[np.ndarray, np.ndarray]]
) -> np.ndarray:
    vocab = 1 + max(int(v[0].max(initial=0)) for v in queries + docs)
    d = np.zeros((len(docs), vocab), dtype=np.float32)
    for row, (i, v) in enumerate(docs):
        d[row, i] = v
    scores = np.zeros((len(queries), len(docs)), dtype=np.float32)
    for row, (i, v) in enumerate(queries):
        scores[row] = d[:, i] @ v
    return scores


def top10_overlap(q_a: Path, d_a: Path, q_b: Path, d_b: Path) -> float:
    a = to_dense_scores(load_vectors(q_a), load_vectors(d_a))
    b = to_dense_scores(load_vectors(q_b), load_vectors(d_b))
    k = min(10, a.shape[1])
    top_a = np.argsort(-a, axis=1, kind="stable")[:, :k]
    top_b = np.argsort(-b, axis=1, kind="stable")[:, :k]
    return float(
        np.mean(
            [len(set(x) & set(y)) / k for x, y in zip(top_a.tolist(), top_b.tolist(), strict=True)]
        )
    )
