"""Step 5, pool: logits become one sparse vector per text.

SPLADE's weight for vocabulary entry j is ``max_t log(1 + relu(logits[t, j]))`` over the
text's real (non-padding) tokens. ``log1p∘relu`` is monotone, so the max is taken on raw
logits first — inside the prepared graph (:mod:`spladekit.model.prepare`), or here with
:func:`masked_max` for a model run as exported — and only the pooled (vocab,) row is
activated: the same numbers, bit for bit. Then the windows of a long text are merged by the
same max, and the result pruned (``top_k``, ``threshold``) into a :class:`SparseVector`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import numpy.typing as npt

from spladekit.vector import SparseVector

__all__ = ["Activation", "TextPool", "activate", "masked_max", "sparsify"]

#: How pooled logits become weights: SPLADE's log(1 + relu(x)), or log1p once more
#: (OpenSearch doc-v3 models).
Activation = Literal["log1p_relu", "log1p_log1p_relu"]


def masked_max(
    logits: npt.NDArray[np.float32], lengths: npt.NDArray[np.int64]
) -> npt.NDArray[np.float32]:
    """Max of each row's first ``lengths[b]`` token positions: (batch, tokens, vocab) → (batch, vocab)."""
    pooled = np.empty((logits.shape[0], logits.shape[2]), dtype=np.float32)
    for row, length in enumerate(lengths.tolist()):
        np.max(logits[row, :length], axis=0, out=pooled[row])
    return pooled


def activate(
    pooled: npt.NDArray[np.float32],
    activation: Activation,
    drop_ids: npt.NDArray[np.int64] | None = None,
) -> npt.NDArray[np.float32]:
    """Turn pooled logits into weights, in place; *drop_ids* (special tokens) get none."""
    np.maximum(pooled, 0.0, out=pooled)
    np.log1p(pooled, out=pooled)
    if activation == "log1p_log1p_relu":
        np.log1p(pooled, out=pooled)
    if drop_ids is not None and drop_ids.size:
        pooled[:, drop_ids] = 0.0
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


class TextPool:
    """Weights arrive row by row (a segment each); one vector per text leaves, in text order.

    A text split into windows gets the max over its windows — the max SPLADE already takes
    over tokens, so a short text's vector is unchanged — and is pruned once its last window
    has arrived, so at most the texts with windows still pending hold a (vocab,) row.
    """

    def __init__(
        self, owners: Sequence[int], texts: int, *, top_k: int | None, threshold: float
    ) -> None:
        self._owners = owners
        self._left = np.bincount(np.asarray(owners, dtype=np.int64), minlength=texts)
        self._merged: dict[int, npt.NDArray[np.float32]] = {}
        self._top_k = top_k
        self._threshold = threshold
        self.vectors: list[SparseVector] = [SparseVector.empty()] * texts

    def add(self, segment_ids: npt.NDArray[np.int64], weights: npt.NDArray[np.float32]) -> None:
        """Take one batch's weights; ``segment_ids[row]`` says whose segment each row is."""
        for row, segment in enumerate(segment_ids.tolist()):
            owner = self._owners[segment]
            self._left[owner] -= 1
            if owner in self._merged:
                np.maximum(self._merged[owner], weights[row], out=self._merged[owner])
            elif self._left[owner] > 0:
                self._merged[owner] = weights[row].copy()
            if self._left[owner] == 0:
                final = self._merged.pop(owner, weights[row])
                self.vectors[owner] = sparsify(final, top_k=self._top_k, threshold=self._threshold)
