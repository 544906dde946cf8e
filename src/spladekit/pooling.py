"""Where logits become a sparse vector: masked max over tokens, activation, pruning.

SPLADE's weight for vocabulary entry j is ``max_t log(1 + relu(logits[t, j]))`` over the
text's real (non-padding) tokens. ``log1p∘relu`` is monotone, so the max can be taken on raw
logits first and only the pooled (vocab,) row activated — the same numbers, bit for bit, with
one pass over the big (batch, tokens, vocab) array and no copy of it.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import numpy.typing as npt

from spladekit.vector import SparseVector

__all__ = ["activate", "masked_max", "sparsify"]

Activation = Literal["log1p_relu", "log1p_log1p_relu"]


def masked_max(
    logits: npt.NDArray[np.float32], lengths: npt.NDArray[np.int64]
) -> npt.NDArray[np.float32]:
    """Max of each row's first ``lengths[b]`` token positions: (batch, tokens, vocab) → (batch, vocab)."""
    pooled = np.empty((logits.shape[0], logits.shape[2]), dtype=np.float32)
    for row, length in enumerate(lengths.tolist()):
        np.max(logits[row, :length], axis=0, out=pooled[row])
    return pooled


def activate(pooled: npt.NDArray[np.float32], activation: Activation) -> npt.NDArray[np.float32]:
    """Turn pooled logits into weights, in place: log1p(relu(x)) (twice log1p for doc-v3)."""
    np.maximum(pooled, 0.0, out=pooled)
    np.log1p(pooled, out=pooled)
    if activation == "log1p_log1p_relu":
        np.log1p(pooled, out=pooled)
    return pooled


def sparsify(
    weights: npt.NDArray[np.float32], *, top_k: int | None, threshold: float
) -> SparseVector:
    """Keep the weights above *threshold* (and only the *top_k* largest) as a SparseVector."""
    indices = np.flatnonzero(weights > threshold)
    if top_k is not None and indices.size > top_k:
        kept = np.argpartition(weights[indices], indices.size - top_k)[indices.size - top_k :]
        indices = np.sort(indices[kept])
    return SparseVector._trusted(indices.astype(np.int64), weights[indices].astype(np.float32))
