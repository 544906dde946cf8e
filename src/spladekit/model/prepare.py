"""Prepare: rewrite an exported ONNX SPLADE model once into a graph that pools inside, cached.

The rewrite itself is :mod:`spladekit.model.rewrite`; this module decides when it runs.

A SPLADE export ends in ``logits = MatMul(hidden, W) + bias`` of shape (batch, tokens, 30522):
~250 MB per 2048 tokens that ONNX Runtime writes, biases, and hands to numpy only to be
max-pooled. The prepared graph ends in :func:`spladekit.model.graph.pooled_head` instead
(padding rows replaced by the first token, the projection in column blocks each max-pooled
at once, the bias added after the max), so the (tokens, vocab) intermediate never exists
whole. Its output ``pooled_logits`` (batch, vocab) equals ``masked_max(logits)`` of the
original, bit for bit. A head of another shape is pooled on its full logits, masked.

Weights move to a side file (``model.onnx.data``) that ONNX Runtime memory-maps, so loading
does not hold a second copy of them. ``fused=True`` (``optimize="fused"``) then puts in ONNX
Runtime's fused transformer kernels (:mod:`spladekit.model.fuse`), and ``quantize="int8"``
applies ONNX Runtime's dynamic int8 quantization to the exact or fused copy
(:mod:`spladekit.model.quantize`; an encoder asks for the fused one:
:func:`spladekit.model.variant.is_fused`).

Prepared models live in ``$SPLADEKIT_CACHE`` (default ``~/.cache/spladekit/prepared``), keyed
by the source file's path, size, modification time, a fingerprint of its bytes and the variant
(:func:`spladekit.model.variant.variant_key`), so a changed model is prepared again.
"""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path

from spladekit.errors import ModelFormatError
from spladekit.model.cache import cache_root, cached_graph
from spladekit.model.variant import variant_key
from spladekit.options import Quantize

__all__ = ["NotPreparableError", "prepare_model"]

logger = logging.getLogger(__name__)

#: Bump when the rewrite (or the entry layout) changes, so every cache entry is prepared again.
#: 2: entries carry a manifest (spladekit.model.manifest). Variants (fused, int8 and how) are
#: keyed apart by variant_key, which leaves the exact fp32 key as it was. 3: feed-forward
#: layers padded to a stride that does not alias (spladekit.model.stride). 4: fused copies
#: keep Add + Add + LayerNormalization (no SkipLayerNormalization). 5: q, k and v as one
#: MatMul in the exact copy (spladekit.model.pack).
PREPARE_VERSION = 5


class NotPreparableError(ModelFormatError):
    """A readable export this rewrite does not apply to (it can still run as exported)."""


def _fingerprint(source: Path, quantize: Quantize | None, fused: bool) -> str:
    real = source.resolve()
    stat = real.stat()
    variant = variant_key(quantize=quantize, fused=fused)
    digest = hashlib.sha256(
        f"{PREPARE_VERSION}|{real}|{stat.st_size}|{stat.st_mtime_ns}|{variant}".encode()
    )
    with real.open("rb") as file:
        digest.update(file.read(1 << 16))
        file.seek(max(0, stat.st_size - (1 << 16)))
        digest.update(file.read())
    for side in sorted(source.parent.glob(f"{source.name}?data")):  # model.onnx_data / .data
        side_stat = side.resolve().stat()
        digest.update(f"|{side.name}|{side_stat.st_size}|{side_stat.st_mtime_ns}".encode())
    return digest.hexdigest()[:20]


def prepare_model(
    source: str | os.PathLike[str],
    *,
    quantize: Quantize | None = None,
    fused: bool = False,
    cache_dir: str | os.PathLike[str] | None = None,
) -> Path:
    """The prepared copy of *source* (pooled in-graph, weights memory-mappable), made once.

    *fused*: on ONNX Runtime's fused transformer kernels; *quantize*: int8 (of that copy).

    Raises ModelFormatError when the file cannot be read as ONNX, and its subclass
    NotPreparableError when it can but this rewrite does not apply to it.
    """
    if quantize not in (None, "int8"):
        msg = f"quantize must be None or 'int8', got {quantize!r}"
        raise ModelFormatError(msg)
    source = Path(source)
    root = Path(cache_dir) if cache_dir is not None else cache_root() / "prepared"

    def make(folder: Path) -> None:
        # Imported here: the onnx package costs seconds to import, and a cached model never
        # needs it.
        if quantize == "int8":
            from spladekit.model.quantize import quantize_graph

            quantize_graph(prepare_model(source, fused=fused, cache_dir=root), folder)
        elif fused:
            from spladekit.model.fuse import fuse_graph

            fuse_graph(prepare_model(source, cache_dir=root), folder)
        else:
            from spladekit.model.rewrite import NotRewritable, rewrite_export

            try:
                rewrite_export(source, folder)
            except NotRewritable as error:
                raise NotPreparableError(str(error)) from error
        logger.info("prepared %s (quantize=%s, fused=%s)", source, quantize, fused)

    return cached_graph(root, _fingerprint(source, quantize, fused), make)
