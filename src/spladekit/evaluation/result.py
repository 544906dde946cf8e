"""EvaluationResult: the figures of one evaluation, as a frozen value that prints and saves.

Kept apart from the run itself so the command line, a notebook and a test read the same fields;
:meth:`EvaluationResult.to_json` writes everything (per-query figures included), and
:meth:`EvaluationResult.table` is what ``spladekit eval`` prints.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["EvaluationResult"]


@dataclass(frozen=True)
class EvaluationResult:
    """What :func:`spladekit.evaluate` measured on one BEIR split.

    ``metrics`` maps ``"nDCG@10"``, ``"MRR@10"``, ``"Recall@100"``, … to their mean over the
    judged queries; ``per_query`` holds each query's figures. Speed is the corpus encoding
    alone; ``peak_rss_bytes`` is the process's peak resident memory so far (None where the
    platform does not report it).
    """

    model: str
    dataset: str
    split: str
    metrics: Mapping[str, float]
    queries: int
    documents: int
    #: Model inputs the corpus became (more than ``documents`` when long ones are windowed).
    segments: int
    encode_seconds: float
    documents_per_second: float
    peak_rss_bytes: int | None
    #: The encoder settings that change the figures (long_documents, quantize, top_k, ...).
    settings: Mapping[str, Any] = field(default_factory=dict)
    per_query: Mapping[str, Mapping[str, float]] = field(default_factory=dict, repr=False)

    def __getitem__(self, metric: str) -> float:
        """``result["nDCG@10"]``: one metric's mean."""
        return self.metrics[metric]

    def to_dict(self) -> dict[str, Any]:
        """Plain data (dicts, lists, numbers, strings), ready for ``json.dumps``."""
        data = asdict(self)
        data["metrics"] = dict(self.metrics)
        data["settings"] = dict(self.settings)
        data["per_query"] = {q: dict(v) for q, v in self.per_query.items()}
        return data

    def to_json(self, path: str | os.PathLike[str] | None = None, *, indent: int = 2) -> str:
        """The result as JSON text; also written to *path* when one is given."""
        text = json.dumps(self.to_dict(), indent=indent) + "\n"
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    def table(self) -> str:
        """An aligned plain-text table of the metrics, then the run's size and speed."""
        width = max(len(name) for name in self.metrics) if self.metrics else 6
        lines = [f"{'metric':<{width}}  value"]
        lines += [f"{name:<{width}}  {value:.4f}" for name, value in self.metrics.items()]
        rss = (
            f"{self.peak_rss_bytes / 1e9:.2f} GB" if self.peak_rss_bytes is not None else "unknown"
        )
        lines += [
            "",
            f"{self.queries} queries, {self.documents} documents ({self.segments} model inputs)",
            f"encoding: {self.encode_seconds:.1f} s, {self.documents_per_second:.1f} documents/s; "
            f"peak RSS {rss}",
        ]
        return "\n".join(lines)

    def __str__(self) -> str:
        header = f"{self.model} on {self.dataset} ({self.split})"
        settings = ", ".join(f"{k}={v!r}" for k, v in self.settings.items())
        return (
            f"{header}\n{settings}\n\n{self.table()}" if settings else f"{header}\n\n{self.table()}"
        )
