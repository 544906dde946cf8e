"""Layout: what a sentence-transformers folder says about the model in it (``modules.json``).

sentence-transformers' ``SparseEncoder`` saves a SPLADE model as a list of modules:

- ``MLMTransformer`` (the masked LM: config.json, model.safetensors, tokenizer files; in the
  root folder or a subfolder) followed by ``SpladePooling`` (its config.json holds
  ``pooling_strategy`` and ``activation_function``);
- or one ``Router`` (``router_config.json``) whose ``document`` route is those two modules and
  whose ``query`` route is a ``SparseStaticEmbedding`` (a ``weight`` vector in its
  model.safetensors): inference-free queries, a token-weight table.

spladekit computes max pooling of ``log1p(relu(x))`` (``activation_function="relu"``) or of
``log1p(log1p(relu(x)))`` (``"log1p_relu"``); any other module or setting is refused by name,
never approximated.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from spladekit.errors import ModelFormatError
from spladekit.files import read_json
from spladekit.pipeline.pool import Activation

__all__ = ["LAYOUT_FILES", "MODULES_FILE", "ROUTER_FILE", "Layout", "module_folders", "read_layout"]

logger = logging.getLogger(__name__)

MODULES_FILE = "modules.json"
ROUTER_FILE = "router_config.json"
#: What tells a sentence-transformers layout apart: fetched first, before its module folders.
LAYOUT_FILES = (MODULES_FILE, ROUTER_FILE, f"*/{ROUTER_FILE}")
#: SpladePooling's ``activation_function`` → spladekit's name for the whole weighting.
_ACTIVATIONS: dict[str, Activation] = {"relu": "log1p_relu", "log1p_relu": "log1p_log1p_relu"}


@dataclass(frozen=True)
class Layout:
    """Where a sentence-transformers folder keeps its parts (paths relative to its root)."""

    mlm: str  # folder of the document masked LM ("" = the root)
    activation: Activation
    query_weights: str | None = None  # SparseStaticEmbedding's model.safetensors, if any

    def files(self) -> list[str]:
        """The small files this layout reads, relative to the root."""
        extra = [self.query_weights] if self.query_weights else []
        return extra + [_join(self.mlm, "sentence_bert_config.json")]


def _join(folder: str, name: str) -> str:
    return str(PurePosixPath(folder, name)) if folder else name


def _class(reference: object) -> str:
    """``sentence_transformers.sparse_encoder.models.SpladePooling`` → ``SpladePooling``."""
    return str(reference).rsplit(".", 1)[-1]


def _json(path: Path) -> Any:
    return read_json(path, "sentence-transformers file") if path.is_file() else None


def _pooling(root: Path, folder: str) -> Activation:
    """The activation a SpladePooling module states; max pooling or a ModelFormatError."""
    path = root / _join(folder, "config.json")
    config = _json(path)
    config = config if isinstance(config, dict) else {}
    strategy = config.get("pooling_strategy", "max")
    activation = config.get("activation_function", "relu")  # SpladePooling's own defaults
    if strategy != "max":
        msg = (
            f"{path}: SpladePooling pooling_strategy {strategy!r} is not supported; "
            "spladekit computes 'max' pooling only"
        )
        raise ModelFormatError(msg)
    if activation not in _ACTIVATIONS:
        msg = (
            f"{path}: SpladePooling activation_function {activation!r} is not supported; "
            f"spladekit computes {' and '.join(map(repr, _ACTIVATIONS))}"
        )
        raise ModelFormatError(msg)
    return _ACTIVATIONS[activation]


def _document_route(
    root: Path, where: Path, route: list[tuple[str, str]]
) -> tuple[str, Activation]:
    """(MLM folder, activation) of ``MLMTransformer`` + ``SpladePooling``, else refused."""
    kinds = [kind for kind, _ in route]
    if kinds != ["MLMTransformer", "SpladePooling"]:
        msg = (
            f"{where}: modules {kinds} are not a SPLADE encoder spladekit can run; it runs "
            "MLMTransformer followed by SpladePooling"
        )
        raise ModelFormatError(msg)
    return route[0][1], _pooling(root, route[1][1])


def _router(root: Path, folder: str) -> Layout:
    path = root / _join(folder, ROUTER_FILE)
    config = _json(path)
    if config is None:  # older sentence-transformers wrote it as config.json
        path = root / _join(folder, "config.json")
        config = _json(path)
    if not isinstance(config, dict) or not isinstance(config.get("structure"), dict):
        msg = f"{path}: a Router needs 'types' and 'structure', got {config!r}"
        raise ModelFormatError(msg)
    types, structure = config.get("types", {}), config["structure"]

    def route(name: str) -> list[tuple[str, str]]:
        return [(_class(types.get(m, m)), _join(folder, m)) for m in structure.get(name, [])]

    unknown = sorted(set(structure) - {"query", "document"})
    if unknown:
        msg = f"{path}: routes {unknown} are not ones spladekit knows (query, document)"
        raise ModelFormatError(msg)
    mlm, activation = _document_route(root, path, route("document"))
    query = route("query")
    if not query:
        return Layout(mlm=mlm, activation=activation)
    if [kind for kind, _ in query] != ["SparseStaticEmbedding"]:
        msg = (
            f"{path}: the query route {[kind for kind, _ in query]} is not supported; "
            "spladekit runs a SparseStaticEmbedding (inference-free) query route, or pass "
            "query_model= for a second encoder"
        )
        raise ModelFormatError(msg)
    static = query[0][1]
    static_config = _json(root / _join(static, "config.json"))
    if isinstance(static_config, dict) and static_config.get("path"):
        msg = (
            f"{root / _join(static, 'config.json')}: a SparseStaticEmbedding that points to "
            f"{static_config['path']!r} is not supported; save it with its weights"
        )
        raise ModelFormatError(msg)
    return Layout(mlm=mlm, activation=activation, query_weights=_join(static, "model.safetensors"))


def read_layout(root: Path) -> Layout | None:
    """The layout ``root/modules.json`` describes, None when there is none."""
    path = root / MODULES_FILE
    modules = _json(path)
    if modules is None:
        return None
    if not isinstance(modules, list) or not all(isinstance(m, dict) for m in modules):
        msg = f"{path} must be a list of modules, got {modules!r}"
        raise ModelFormatError(msg)
    ordered = sorted(modules, key=lambda m: int(m.get("idx", 0)))
    listed = [(_class(m.get("type", "")), str(m.get("path", ""))) for m in ordered]
    if [kind for kind, _ in listed] == ["Router"]:
        layout = _router(root, listed[0][1])
    else:
        mlm, activation = _document_route(root, path, listed)
        layout = Layout(mlm=mlm, activation=activation)
    logger.debug("%s: sentence-transformers layout %s", root, layout)
    return layout


def module_folders(root: Path) -> list[str]:
    """Every module folder ``modules.json`` (and a Router's config) names, read leniently.

    Used to fetch the modules' own config files before :func:`read_layout` reads them.
    """
    try:
        modules = _json(root / MODULES_FILE)
    except ModelFormatError:
        return []
    folders: list[str] = []
    for module in modules if isinstance(modules, list) else []:
        if not isinstance(module, dict):
            continue
        folder = str(module.get("path", ""))
        folders.append(folder)
        if _class(module.get("type", "")) == "Router":
            try:
                router = _json(root / _join(folder, ROUTER_FILE))
            except ModelFormatError:
                continue
            structure = router.get("structure") if isinstance(router, dict) else None
            for names in structure.values() if isinstance(structure, dict) else []:
                if isinstance(names, list):
                    folders += [_join(folder, str(n)) for n in names]
    return list(dict.fromkeys(folders))
