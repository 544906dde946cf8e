"""``hybrid_fusion``: relative score fusion for LlamaIndex's hybrid queries, scores in [0, 1]."""

from __future__ import annotations

import math

from spladekit.errors import InputError, require
from spladekit.options import check_positive

require("llama_index.core", "llama-index")

from llama_index.core.schema import BaseNode  # noqa: E402
from llama_index.core.vector_stores.types import VectorStoreQueryResult  # noqa: E402

__all__ = ["hybrid_fusion"]


def _relative_scores(
    result: VectorStoreQueryResult, which: str
) -> dict[str, tuple[BaseNode, float]]:
    """Each node's score min-max scaled into [0, 1]; a lone (or all-tied) hit scores 1."""
    nodes = list(result.nodes or [])
    if not nodes:
        return {}
    similarities = result.similarities
    if similarities is None or len(similarities) != len(nodes):
        got = "no" if similarities is None else str(len(similarities))
        msg = f"{which} result has {len(nodes)} nodes but {got} similarities; cannot fuse"
        raise InputError(msg)
    scores = [float(s) if s is not None else math.nan for s in similarities]
    finite = [s for s in scores if math.isfinite(s)]
    low, high = (min(finite), max(finite)) if finite else (0.0, 0.0)
    scaled: dict[str, tuple[BaseNode, float]] = {}
    for node, score in zip(nodes, scores, strict=True):
        if not math.isfinite(score):
            value = 0.0
        elif high > low:
            value = (score - low) / (high - low)
        else:
            value = 1.0
        if node.node_id not in scaled:  # first (best-listed) occurrence wins
            scaled[node.node_id] = (node, value)
    return scaled


def hybrid_fusion(
    dense_result: VectorStoreQueryResult,
    sparse_result: VectorStoreQueryResult,
    alpha: float = 0.5,
    top_k: int = 2,
) -> VectorStoreQueryResult:
    """Relative score fusion whose scores stay in [0, 1] whatever the list sizes.

    For ``QdrantVectorStore(hybrid_fusion_fn=hybrid_fusion)``. As in LlamaIndex, ``alpha`` is
    the dense weight: 1 is dense only, 0 sparse only, and the fused score is
    ``alpha * dense + (1 - alpha) * sparse`` with each list min-max scaled to [0, 1] and a
    node missing from a list scoring 0 there. Unlike LlamaIndex's ``relative_score_fusion``,
    a list with one hit (or all hits tied) scales to 1 instead of keeping its raw score, and a
    one-sided result is weighted too, so SPLADE's dot products (10-30) never swamp cosines.
    """
    if (
        isinstance(alpha, bool)
        or not isinstance(alpha, (int, float))
        or not 0.0 <= float(alpha) <= 1.0
    ):
        msg = f"alpha must be a number from 0 (sparse only) to 1 (dense only), got {alpha!r}"
        raise InputError(msg)
    check_positive("top_k", top_k, allow_none=False)
    dense = _relative_scores(dense_result, "dense")
    sparse = _relative_scores(sparse_result, "sparse")
    fused: list[tuple[float, BaseNode]] = []
    for node_id in dict.fromkeys([*dense, *sparse]):
        node = (dense.get(node_id) or sparse[node_id])[0]
        score = alpha * dense.get(node_id, (node, 0.0))[1]
        score += (1.0 - alpha) * sparse.get(node_id, (node, 0.0))[1]
        fused.append((min(1.0, max(0.0, score)), node))
    fused.sort(key=lambda pair: pair[0], reverse=True)  # stable: ties keep dense order
    best = fused[:top_k]
    return VectorStoreQueryResult(
        nodes=[node for _, node in best],
        similarities=[score for score, _ in best],
        ids=[node.node_id for _, node in best],
    )
