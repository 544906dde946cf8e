"""Step 3, batch: segments sorted by length, cut into padded batches within a token budget.

Padding every batch to its longest text wastes work and memory (a 500-token abstract beside
twenty 60-token ones pads them all to 500). Sorting by length first makes neighbours similar;
a budget on ``rows × longest`` then bounds the (batch, tokens, vocab) logits array whatever
batch size the caller asked for.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["Batch", "plan_batches"]


@dataclass(frozen=True)
class Batch:
    """One padded model input and which segments its rows are."""

    segment_ids: npt.NDArray[np.int64]
    input_ids: npt.NDArray[np.int64]
    attention_mask: npt.NDArray[np.int64]
    lengths: npt.NDArray[np.int64]


def plan_batches(
    segments: Sequence[npt.NDArray[np.int64]],
    *,
    token_budget: int,
    max_rows: int | None,
    pad_id: int = 0,
) -> Iterator[Batch]:
    """Yield padded batches over *segments*, longest first, each within *token_budget*.

    A batch's cost is ``rows × longest row``; a single segment longer than the budget still
    gets a batch of its own.
    """
    lengths = np.fromiter((s.size for s in segments), dtype=np.int64, count=len(segments))
    order = np.argsort(-lengths, kind="stable")
    start = 0
    while start < order.size:
        longest = int(lengths[order[start]])
        rows = max(1, token_budget // max(longest, 1))
        if max_rows is not None:
            rows = min(rows, max_rows)
        chosen = order[start : start + rows]
        start += chosen.size
        input_ids = np.full((chosen.size, longest), pad_id, dtype=np.int64)
        mask = np.zeros((chosen.size, longest), dtype=np.int64)
        for row, seg in enumerate(chosen.tolist()):
            size = segments[seg].size
            input_ids[row, :size] = segments[seg]
            mask[row, :size] = 1
        yield Batch(chosen, input_ids, mask, lengths[chosen])
