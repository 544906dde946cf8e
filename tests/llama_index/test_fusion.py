"""hybrid_fusion on crafted VectorStoreQueryResults: bounds, alpha, one-hit and empty lists."""

from __future__ import annotations

import random
from typing import Any

import pytest

pytest.importorskip("llama_index.core")

from llama_index.core.schema import TextNode  # noqa: E402
from llama_index.core.vector_stores.types import VectorStoreQueryResult  # noqa: E402

from spladekit.errors import InputError  # noqa: E402
from spladekit.llama_index import hybrid_fusion  # noqa: E402


def result(*pairs: tuple[str, float]) -> VectorStoreQueryResult:
    nodes = [TextNode(text=name, id_=name) for name, _ in pairs]
    return VectorStoreQueryResult(
        nodes=nodes, similarities=[s for _, s in pairs], ids=[n for n, _ in pairs]
    )


def fused(dense: VectorStoreQueryResult, sparse: VectorStoreQueryResult, **kw: Any) -> list[Any]:
    out = hybrid_fusion(dense, sparse, **kw)
    assert out.ids == [n.node_id for n in out.nodes or []]
    return list(zip(out.ids or [], out.similarities or [], strict=True))


def test_fusion_single_hits_and_empty_lists() -> None:
    assert fused(result(), result(), top_k=3) == []
    assert fused(VectorStoreQueryResult(), VectorStoreQueryResult()) == []
    assert fused(result(("a", 0.2)), result(("b", 27.0)), top_k=3) == [("a", 0.5), ("b", 0.5)]
    assert fused(result(("a", 0.2)), result(("a", 27.0)), top_k=3) == [("a", 1.0)]
    assert fused(result(), result(("b", 27.0)), top_k=3) == [("b", 0.5)]
    assert fused(result(("a", -0.3)), result(), top_k=3, alpha=1.0) == [("a", 1.0)]


def test_fusion_alpha_is_the_dense_weight() -> None:
    dense = result(("a", 0.9), ("b", 0.5), ("c", 0.1))
    sparse = result(("c", 30.0), ("b", 20.0), ("d", 10.0))
    assert fused(dense, sparse, alpha=1.0, top_k=2) == [("a", 1.0), ("b", 0.5)]
    assert fused(dense, sparse, alpha=0.0, top_k=2) == [("c", 1.0), ("b", 0.5)]
    half = dict(fused(dense, sparse, alpha=0.5, top_k=4))
    assert half == pytest.approx({"a": 0.5, "b": 0.5, "c": 0.5, "d": 0.0})
    assert fused(dense, sparse, alpha=0.25, top_k=1) == [("c", 0.75)]


def test_fusion_scores_stay_in_unit_interval_for_any_sizes() -> None:
    rng = random.Random(7)
    names = [f"n{i}" for i in range(8)]
    for _ in range(300):
        lists = []
        for low, high in [(-1.0, 1.0), (0.0, 40.0)]:
            picked = rng.sample(names, rng.randint(0, 5))
            lists.append(result(*[(n, rng.uniform(low, high)) for n in picked]))
        alpha = rng.choice([0.0, 1.0, rng.random()])
        top_k = rng.randint(1, 10)
        out = fused(*lists, alpha=alpha, top_k=top_k)
        scores = [s for _, s in out]
        assert all(0.0 <= s <= 1.0 for s in scores)
        assert scores == sorted(scores, reverse=True)
        assert len(out) == min(top_k, len({n for r in lists for n in r.ids or []}))
        assert len({n for n, _ in out}) == len(out)


def test_fusion_rejects_bad_input() -> None:
    with pytest.raises(InputError, match="alpha must be a number from 0"):
        hybrid_fusion(result(), result(), alpha=1.5)
    with pytest.raises(InputError, match="top_k must be a positive integer"):
        hybrid_fusion(result(), result(), top_k=0)
    broken = VectorStoreQueryResult(nodes=[TextNode(text="x", id_="x")], similarities=None)
    with pytest.raises(InputError, match="dense result has 1 nodes but no similarities"):
        hybrid_fusion(broken, result())
