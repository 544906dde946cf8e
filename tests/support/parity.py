"""Comparing vectors with a reference the way the checkpoint parity rule reads.

Same index sets except entries whose reference value is below *floor* (a value that small may
round to zero on either side), and the largest |Δvalue| over the union of indices.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from spladekit import SparseVector


def compare(
    got: Sequence[SparseVector], expected: Sequence[Mapping[int, float]], *, floor: float = 1e-4
) -> tuple[int, float]:
    """(texts whose index sets differ beyond *floor*, max |Δvalue|) over all texts."""
    assert len(got) == len(expected)
    mismatched, worst = 0, 0.0
    for vector, reference in zip(got, expected, strict=True):
        mine = vector.to_dict()
        missing = {i for i, v in reference.items() if v >= floor} - mine.keys()
        extra = {i for i, v in mine.items() if v >= floor} - reference.keys()
        mismatched += bool(missing or extra)
        for index in mine.keys() | reference.keys():
            worst = max(worst, abs(mine.get(index, 0.0) - reference.get(index, 0.0)))
    return mismatched, worst
