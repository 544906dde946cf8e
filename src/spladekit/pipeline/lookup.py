"""The inference-free query path: a token → weight table instead of a transformer.

OpenSearch's inference-free sparse models encode documents with a transformer but queries
by tokenizing and giving each distinct token its weight from ``idf.json``. A query then costs a
tokenizer call and a table lookup: no model run at all.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from pathlib import Path

import numpy as np
import numpy.typing as npt

from spladekit.errors import ModelFormatError
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
        """Load ``idf.json``; every token must be in the tokenizer's vocabulary."""
        try:
            table = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            msg = f"cannot read query weight table {path}: {error}"
            raise ModelFormatError(msg) from error
        if not isinstance(table, dict):
            msg = f"{path} must map tokens to weights, got {type(table).__name__}"
            raise ModelFormatError(msg)
        weights = np.zeros(tokenizer.vocab_size, dtype=np.float32)
        unknown: list[str] = []
        for token, weight in table.items():
            token_id = tokenizer.token_to_id(token)
            if token_id is None:
                unknown.append(token)
                continue
            weights[token_id] = float(weight)
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
