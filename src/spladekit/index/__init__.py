"""An exact in-process SPLADE index: SparseVectors in, top-k dot products out, no database.

ids        slot ↔ id (str or int), packed for saving
build      vectors → segments of posting lists (dense rows for the commonest terms); merges
score      term-at-a-time accumulation and block-max top-k
persist    the file format: magic, JSON header, raw arrays, CRC-32s
sparse_index  :class:`SparseIndex`: add, delete, search, search_many, save, load
windows    :class:`WindowIndex`: documents of several vectors, each scored by its best window
"""

from spladekit.index.sparse_index import SparseIndex
from spladekit.index.windows import WindowIndex

__all__ = ["SparseIndex", "WindowIndex"]
