"""SparseVector → the shape each store and framework takes, in one place.

Every adapter converts here and nowhere else. Values leave as plain Python ``int``/``float``
lists (via ``ndarray.tolist()``): numpy scalars break some clients' JSON encoding, and pydantic
validates lists of numbers far faster than arrays.
"""

from __future__ import annotations

from collections.abc import Sequence

from spladekit.errors import InputError
from spladekit.vector import SparseVector

__all__ = [
    "to_columns",
    "to_dict",
    "to_dicts",
    "to_lists",
    "to_nonempty_dicts",
    "to_pinecone",
]

_SHOWN = 60  # characters of an offending text quoted in an error


def to_lists(vector: SparseVector) -> tuple[list[int], list[float]]:
    """``(indices, values)`` as plain lists: Qdrant's ``SparseVector(indices=, values=)``."""
    return vector.indices.tolist(), vector.values.tolist()


def to_dict(vector: SparseVector) -> dict[int, float]:
    """``{token_id: weight}``: LlamaIndex ``SparseEmbedding`` and Milvus' sparse rows."""
    return vector.to_dict()


def to_dicts(vectors: Sequence[SparseVector]) -> list[dict[int, float]]:
    """:func:`to_dict` for a batch."""
    return [v.to_dict() for v in vectors]


def to_nonempty_dicts(
    vectors: Sequence[SparseVector], texts: Sequence[str], what: str = "texts"
) -> list[dict[int, float]]:
    """:func:`to_dicts` for stores that reject empty sparse vectors on insert (Milvus).

    Milvus fails deep inside its client on an empty row; this names the text instead.
    """
    for position, vector in enumerate(vectors):
        if len(vector) == 0:
            text = texts[position]
            shown = text if len(text) <= _SHOWN else text[:_SHOWN] + "..."
            msg = (
                f"{what}[{position}] = {shown!r} has no SPLADE weight (empty, blank, or "
                "everything pruned), and Milvus rejects empty sparse vectors; "
                "drop such texts before adding them"
            )
            raise InputError(msg)
    return to_dicts(vectors)


def to_pinecone(vector: SparseVector) -> dict[str, list[int] | list[float]]:
    """``{"indices": [...], "values": [...]}``: pinecone-text's ``SparseVector`` dict."""
    indices, values = to_lists(vector)
    return {"indices": indices, "values": values}


def to_columns(vectors: Sequence[SparseVector]) -> tuple[list[list[int]], list[list[float]]]:
    """All indices, then all values: LlamaIndex Qdrant's ``sparse_doc_fn`` return shape."""
    pairs = [to_lists(v) for v in vectors]
    return [p[0] for p in pairs], [p[1] for p in pairs]
