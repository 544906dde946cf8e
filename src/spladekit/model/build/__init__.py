"""Build: ``config.json`` + safetensors weights → the pooled ONNX graph, torch-free, made once.

Most SPLADE checkpoints on the Hub ship no ONNX export. For those, the graph is emitted here
from the weights with the ``onnx`` package: the architecture's encoder (one module per family:
:mod:`.bert`, :mod:`.distilbert`, from the pieces in :mod:`.layers`), ending in the same
:func:`~spladekit.model.graph.pooled_head` a prepared export ends in, weights streamed into the
aligned side file as they are read. No torch, no pickle: ``pytorch_model.bin`` is never read.

``fused=True`` (``optimize="fused"``) emits ONNX Runtime's fused transformer kernels instead of
standard ops (:mod:`.layers`); ``quantize="int8"`` quantizes the exact or the fused graph
(:mod:`spladekit.model.quantize`; an encoder asks for the fused one:
:func:`spladekit.model.variant.is_fused`).

Built graphs live in ``$SPLADEKIT_CACHE/built`` keyed by the checkpoint's content (the sha256
of its config.json and weight files, which a Hugging Face cache blob already carries in its
name) and the variant (fused, quantized and how), so a second load builds nothing and changed
weights build again.
"""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path
from typing import Any

from spladekit.errors import ModelFormatError
from spladekit.files import read_json_object
from spladekit.model.build.safetensors import checkpoint_files
from spladekit.model.cache import cache_root, cached_graph, file_digest
from spladekit.model.variant import variant_key
from spladekit.options import Quantize

__all__ = ["ARCHITECTURES", "MODEL_TYPES", "architecture_of", "build_model", "read_config"]

logger = logging.getLogger(__name__)

#: Bump when built graphs (or the entry layout) change, so every cache entry is built again.
#: 2: entries carry a manifest (spladekit.model.manifest). 3: feed-forward layers padded
#: to a stride that does not alias (spladekit.model.stride). 4: fused graphs keep Add + Add +
#: LayerNormalization (no SkipLayerNormalization).
BUILD_VERSION = 4
#: The architectures spladekit builds (config.json ``architectures``) → family module.
ARCHITECTURES = {
    "BertForMaskedLM": "bert",
    "RobertaForMaskedLM": "bert",
    "XLMRobertaForMaskedLM": "bert",
    "DistilBertForMaskedLM": "distilbert",
}
#: A config without ``architectures`` is read by its ``model_type``.
MODEL_TYPES = {
    "bert": "BertForMaskedLM",
    "roberta": "RobertaForMaskedLM",
    "xlm-roberta": "XLMRobertaForMaskedLM",
    "distilbert": "DistilBertForMaskedLM",
}


def read_config(path: Path) -> dict[str, Any]:
    """config.json as a dict; unreadable or not an object is a ModelFormatError naming it."""
    return read_json_object(path, "model config")


def architecture_of(config: dict[str, Any], path: Path) -> str:
    """The supported architecture *config* names, else a ModelFormatError listing them."""
    named = config.get("architectures")
    if isinstance(named, list) and named:
        for architecture in named:
            if architecture in ARCHITECTURES:
                return str(architecture)
        stated = ", ".join(map(str, named))
    elif config.get("model_type") in MODEL_TYPES:
        return MODEL_TYPES[config["model_type"]]
    else:
        stated = f"model_type {config.get('model_type')!r}"
    msg = (
        f"{path} describes {stated}; spladekit builds graphs for "
        f"{', '.join(ARCHITECTURES)} (SPLADE needs a masked-LM head)"
    )
    raise ModelFormatError(msg)


def _key(config: Path, weights: list[Path], quantize: Quantize | None, fused: bool) -> str:
    variant = variant_key(quantize=quantize, fused=fused)
    digest = hashlib.sha256(f"{BUILD_VERSION}|{variant}|".encode())
    digest.update(config.read_bytes())
    for file in weights:
        digest.update(f"|{file.name}|{file_digest(file)}".encode())
    return digest.hexdigest()[:20]


def build_model(
    config: str | os.PathLike[str],
    weights: str | os.PathLike[str],
    *,
    quantize: Quantize | None = None,
    fused: bool = False,
    cache_dir: str | os.PathLike[str] | None = None,
) -> Path:
    """The pooled ONNX graph of the checkpoint *weights* described by *config*, made once.

    *weights* is ``model.safetensors`` or a sharded ``model.safetensors.index.json``; *fused*
    builds it on ONNX Runtime's fused kernels. Raises ModelFormatError for an architecture,
    activation or file it cannot build from.
    """
    if quantize not in (None, "int8"):
        msg = f"quantize must be None or 'int8', got {quantize!r}"
        raise ModelFormatError(msg)
    config_path, weights_path = Path(config), Path(weights)
    settings = read_config(config_path)
    architecture = architecture_of(settings, config_path)
    files = checkpoint_files(weights_path)
    root = Path(cache_dir) if cache_dir is not None else cache_root() / "built"

    def make(folder: Path) -> None:
        # Imported here: the onnx package costs seconds to import, and a cached graph never
        # needs it.
        if quantize == "int8":
            from spladekit.model.quantize import quantize_graph

            fp32 = build_model(config_path, weights_path, fused=fused, cache_dir=root)
            quantize_graph(fp32, folder)
        else:
            from spladekit.model.build.emit import write_graph

            write_graph(
                settings,
                architecture,
                ARCHITECTURES[architecture],
                config_path,
                weights_path,
                folder,
                fused=fused,
            )
        logger.info(
            "built %s %s (quantize=%s, fused=%s)", architecture, weights_path, quantize, fused
        )

    return cached_graph(root, _key(config_path, files, quantize, fused), make)
