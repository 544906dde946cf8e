"""The inference-free query path: a token → weight table instead of a transformer.

OpenSearch's inference-free sparse models encode documents with a transformer but queries
by tokenizing and giving each distinct token its weight from ``idf.json``. A query then costs a
tokenizer call and a table lookup: no model run at all.
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

import numpy as np
import numpy.typing as npt

from spladekit.errors import ModelFormatError
from spladekit.files import read_json_object
from spladekit.pipeline.tokenize import TextTokenizer, TokenIds
from spladekit.vector import SparseVector

__all__ = ["QueryWeightTable"]


class QueryWeightTable:
    """A dense weight per vocabulary id, read from a ``{token: weight}`` JSON table."""

    def __init__(self, weights: npt.NDArray[np.float32], *, skip_ids: Collection[int] = ()) -> None:
        self.weights = weights
        self._skip = np.asarray(sorted(skip_ids), dtype=np.int64)

    @classmethod
    def from_file(
        cls, path: str | Path, tokenizer: TextTokenizer, *, skip_ids: Collection[int] = ()
    ) -> QueryWeightTable:
        """Load ``idf.json``: every token in the tokenizer's vocabulary, every weight a finite number ≥ 0."""
        table = read_json_object(Path(path), "query weight table")
        weights = np.zeros(tokenizer.vocab_size, dtype=np.float32)
        unknown: list[str] = []
        for token, weight in table.items():
            if (
                isinstance(weight, bool)
                or not isinstance(weight, (int, float))
                or not 0 <= weight < float(np.finfo(np.float32).max)
            ):
                msg = (
                    f"{path}: the weight of {token!r} must be a finite number >= 0, got {weight!r}"
                )
                raise ModelFormatError(msg)
            token_id = tokenizer.token_to_id(token)
            if token_id is None:
                unknown.append(token)
                continue
            weights[token_id] = weight
        if unknown:
            msg = f"{path}: {len(unknown)} tokens are not in the tokenizer, e.g. {unknown[:5]}"
            raise ModelFormatError(msg)
        return cls(weights, skip_ids=skip_ids)

    def encode(self, content: TokenIds) -> SparseVector:
        """The vector of one tokenized query: each distinct token's weight."""
        ids = np.unique(content)
        if self._skip.size:
            ids = ids[~np.isin(ids, self._skip)]
        values = self.weights[ids]
        keep = values > 0
        return SparseVector._trusted(ids[keep], values[keep].astype(np.float32))
