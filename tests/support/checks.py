"""Checks the adapter tests share: brute-force rankings and vector comparisons."""

from __future__ import annotations

from typing import Any

import pytest

from spladekit import SparseVector, SpladeEncoder

from support.documents import DOCUMENTS

QUERY = "When did Chandrayaan-3 land on the Moon?"
QUERIES = [QUERY, "lunar mission rover", "Which rocket launched the mission?"]


def count_calls(monkeypatch: pytest.MonkeyPatch, encoder: SpladeEncoder, method: str) -> list[int]:
    """Wrap the real encoder method; record the number of texts per call."""
    real = getattr(encoder, method)
    sizes: list[int] = []

    def counting(texts: list[str], **kwargs: Any) -> list[SparseVector]:
        sizes.append(len(texts))
        return real(texts, **kwargs)

    monkeypatch.setattr(encoder, method, counting)
    return sizes


def brute_force(encoder: SpladeEncoder, query: str) -> list[tuple[int, float]]:
    """(document position, dot product) for every document sharing a term, best first."""
    q = encoder.encode_query(query)
    scores = [(i, q.dot(d)) for i, d in enumerate(encoder.encode_documents(DOCUMENTS))]
    return sorted((s for s in scores if s[1] > 0), key=lambda s: -s[1])


def assert_close(got: list[Any], expected: list[SparseVector]) -> None:
    """Equal up to float32 noise: ONNX sums differ slightly with batch composition."""
    assert len(got) == len(expected)
    for g, e in zip(got, expected, strict=True):
        g_dict = g if isinstance(g, dict) else g.to_dict()
        e_dict = e.to_dict()
        keys = g_dict.keys() | e_dict.keys()
        assert {k: g_dict.get(k, 0.0) for k in keys} == pytest.approx(
            {k: e_dict.get(k, 0.0) for k in keys}, abs=1e-5
        )


def position(node_id: str) -> int:
    return int(node_id.rsplit("-", 1)[1])


def brute_force_ranking(encoder: SpladeEncoder, query: str) -> list[tuple[str, float]]:
    """Every document with a positive score, best first: what a sparse search must return."""
    q = encoder.encode_query(query)
    scores = [
        (d, q.dot(v)) for d, v in zip(DOCUMENTS, encoder.encode_documents(DOCUMENTS), strict=True)
    ]
    return sorted((s for s in scores if s[1] > 0), key=lambda s: -s[1])
