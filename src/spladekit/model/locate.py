"""Locate: which files make up a model — in a local folder, the Hugging Face cache, or the Hub.

A model is an ONNX export (run after :mod:`.prepare`) or safetensors weights with their
``config.json`` (turned into a graph by :mod:`.build`), plus ``tokenizer.json``. A
sentence-transformers folder says in ``modules.json`` where its masked LM lives and how it
pools (:mod:`.layout`). From the Hub only what is used is downloaded: never a pickle, never an
export when building from weights, never weights when running an export (:mod:`.hub`).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Literal

from spladekit.errors import InputError, InputTypeError, ModelFormatError, ModelNotFoundError
from spladekit.files import optional_json_object
from spladekit.model.catalog import KnownModel, find_known_model
from spladekit.model.hub import Fetch, cached_listing, download
from spladekit.model.layout import LAYOUT_FILES, Layout, module_folders, read_layout
from spladekit.options import ModelFormat

__all__ = ["MODEL_FILE_LAYOUTS", "ModelFiles", "locate_model"]

logger = logging.getLogger(__name__)

#: Where ONNX exports put the model, most common first.
MODEL_FILE_LAYOUTS: tuple[str, ...] = (
    "model.onnx",
    "onnx/model.onnx",
    "model_optimized.onnx",
    "onnx/model_optimized.onnx",
)
WEIGHTS_FILE = "model.safetensors"
INDEX_FILE = "model.safetensors.index.json"
PICKLE_FILE = "pytorch_model.bin"
TOKENIZER_FILE = "tokenizer.json"
IDF_FILE = "idf.json"
#: Small files that tell us limits and special tokens; fetched when present.
METADATA_FILES: tuple[str, ...] = (
    "config.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
)
ST_CONFIG_FILE = "sentence_bert_config.json"
#: Families whose position ids start after the padding index, so fewer tokens fit.
_OFFSET_POSITIONS = ("roberta", "xlm-roberta", "camembert")


@dataclass(frozen=True)
class ModelFiles:
    """The files of one model, resolved on local disk."""

    root: Path
    model: Path  # the ONNX export, or the weights (model.safetensors or its shard index)
    tokenizer: Path
    idf: Path | None
    known: KnownModel | None
    format: Literal["onnx", "safetensors"] = "onnx"
    config: Path | None = None  # the masked LM's config.json
    layout: Layout | None = None  # what modules.json says, in a sentence-transformers folder
    query_weights: Path | None = None  # a SparseStaticEmbedding's weights (inference-free)

    def max_length(self) -> int | None:
        """The model's token limit from its config files, if they state a sane one."""
        folder = self.config.parent if self.config is not None else self.root
        config = _read_json(folder / "config.json")
        positions = config.get("max_position_embeddings")
        if isinstance(positions, int) and config.get("model_type") in _OFFSET_POSITIONS:
            pad = config.get("pad_token_id")
            positions -= (pad if isinstance(pad, int) else 1) + 1
        tokenizer = _read_json(folder / "tokenizer_config.json") or _read_json(
            self.root / "tokenizer_config.json"
        )
        stated = (
            positions,
            tokenizer.get("model_max_length"),
            _read_json(folder / ST_CONFIG_FILE).get("max_seq_length"),
        )
        limits = [v for v in stated if isinstance(v, int) and 0 < v <= 1_000_000]
        return min(limits) if limits else None


def _read_json(path: Path) -> dict[str, Any]:
    """A config file's object, ``{}`` when absent; an invalid one is a ModelFormatError."""
    return optional_json_object(path, "model config") or {}


def _join(folder: str, name: str) -> str:
    return str(PurePosixPath(folder, name)) if folder else name


def _looks_like_path(name: str) -> bool:
    # A Hub id is "name" or "org/name"; anything else that does not exist is a mistyped path.
    return name.startswith((".", "/", "~")) or name.count("/") > 1 or "\\" in name


def _with_external_data(files: list[str]) -> list[str]:
    # Models over 2 GB keep weights in a sibling "<file>_data" (or "<file>.data").
    return [p for f in files for p in (f, f + "_data", f + ".data")]


def _onnx_candidates(mlm: str, known: KnownModel | None, model_file: str | None) -> list[str]:
    if model_file:
        return [model_file]
    found = [known.model_file] if known is not None else []
    found += [_join(mlm, c) for c in MODEL_FILE_LAYOUTS] + list(MODEL_FILE_LAYOUTS)
    return list(dict.fromkeys(found))


def _weight_patterns(mlm: str, listing: set[str] | None) -> list[str]:
    single, index = _join(mlm, WEIGHTS_FILE), _join(mlm, INDEX_FILE)
    shards = [index, _join(mlm, "model-*-of-*.safetensors")]
    if listing is None:
        return [single, *shards]
    return [single] if single in listing else shards if index in listing else []


def _model_patterns(
    mlm: str, candidates: list[str], format: ModelFormat, listing: set[str] | None
) -> list[str]:
    """What to fetch of the model itself: the first export present, or else the weights."""
    if format != "safetensors":
        present = [c for c in candidates if listing is not None and c in listing]
        if present or listing is None:
            return _with_external_data(present[:1] if present else candidates)
    return _weight_patterns(mlm, listing) if format != "onnx" else []


def _fetch(
    repo_id: str,
    known: KnownModel | None,
    model_file: str | None,
    format: ModelFormat,
    fetch: Fetch,
) -> tuple[Path, set[str] | None]:
    """Download what a model needs, in up to three small steps; return the snapshot folder.

    1. the small root files (tokenizer, configs, modules.json), which caches the repo's file
       listing; 2. the config of each sentence-transformers module; 3. the model itself — the
       first ONNX export the listing has, else the weights — and the masked LM's own files.
    """
    small = [TOKENIZER_FILE, IDF_FILE, *METADATA_FILES, *LAYOUT_FILES]
    fixed = [model_file] if model_file else []
    if known is not None and not model_file and format != "safetensors":
        fixed = [known.model_file]
    extra = list(known.additional_files) if known else []
    root = download(repo_id, [*_with_external_data(fixed + extra), *small], **fetch)
    listing = cached_listing(repo_id, revision=fetch["revision"], cache_dir=fetch["cache_dir"])
    folders = [f for f in module_folders(root) if f]
    if folders:
        root = download(repo_id, [_join(f, "config.json") for f in folders], **fetch)
    layout = read_layout(root)
    mlm = layout.mlm if layout else ""
    wanted = layout.files() if layout else []
    if mlm:
        wanted += [_join(mlm, f) for f in (TOKENIZER_FILE, *METADATA_FILES)]
    if not fixed:
        candidates = _onnx_candidates(mlm, known, None)
        wanted += _model_patterns(mlm, candidates, format, listing)
    if wanted:
        root = download(repo_id, wanted, **fetch)
    if listing is None and not fixed and format == "auto":  # no listing: exports, then weights
        if _first_existing(root, _onnx_candidates(mlm, known, None)) is None:
            root = download(repo_id, _weight_patterns(mlm, None), **fetch)
    return root, listing


def _first_existing(root: Path, candidates: list[str]) -> Path | None:
    for relative in candidates:
        if (root / relative).is_file():
            return root / relative
    return None


def _found_files(root: Path, limit: int = 40) -> list[str]:
    found = sorted(
        str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and ".cache" not in p.parts
    )
    return found[:limit] + ([f"... {len(found) - limit} more"] if len(found) > limit else [])


def _not_found(
    root: Path,
    mlm: str,
    candidates: list[str],
    format: ModelFormat,
    listing: set[str] | None,
) -> Exception:
    """The error for a folder (or repo) without a model spladekit can load."""
    pickle = _join(mlm, PICKLE_FILE)
    if format != "onnx" and ((root / pickle).is_file() or pickle in (listing or ())):
        msg = (
            f"{root} holds its weights only as {pickle}, a pickle, which spladekit never loads "
            "(unpickling can run code). Use a repo or folder that has model.safetensors, or "
            "convert it once where torch is installed: "
            "AutoModelForMaskedLM.from_pretrained(path).save_pretrained(path, safe_serialization=True)"
        )
        return ModelFormatError(msg)
    looked = ([] if format == "safetensors" else candidates) + (
        [] if format == "onnx" else [_join(mlm, WEIGHTS_FILE), _join(mlm, INDEX_FILE)]
    )
    what = {"onnx": "ONNX model", "safetensors": "safetensors weights"}.get(
        format, "ONNX model or safetensors weights"
    )
    found = _found_files(root)
    repo_onnx = sorted(f for f in listing or () if f.endswith(".onnx"))
    hint = "Pass model_file='path/inside/folder.onnx' if the export lives elsewhere."
    if format == "safetensors":
        hint = "format='safetensors' builds the graph from weights; drop it to run an export."
    msg = (
        f"no {what} in {root}: looked for {', '.join(looked)}; "
        f"found {', '.join(found) if found else 'no files'}. "
        + (f"The repo has ONNX files: {', '.join(repo_onnx)}. " if repo_onnx else "")
        + hint
    )
    return ModelNotFoundError(msg)


def locate_model(
    model: str | os.PathLike[str],
    *,
    revision: str | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    local_files_only: bool | None = None,
    model_file: str | None = None,
    format: ModelFormat = "auto",
) -> ModelFiles:
    """Resolve a Hub repo id, a known model name or a local folder to files on disk.

    ``format="auto"`` takes an ONNX export in one of :data:`MODEL_FILE_LAYOUTS` (or
    *model_file*) when there is one, else ``model.safetensors`` (or a sharded index) with its
    ``config.json``; ``"onnx"`` and ``"safetensors"`` take only that kind. Besides the model,
    ``tokenizer.json``, an optional ``idf.json`` and small config files are fetched.
    """
    if not isinstance(model, (str, os.PathLike)):
        msg = f"model must be a Hub repo id or a folder (str or path), got {type(model).__name__}"
        raise InputTypeError(msg)
    if model_file and format == "safetensors":
        msg = "model_file names an ONNX file to run; it does not go with format='safetensors'"
        raise InputError(msg)
    if model_file:  # an ONNX file named explicitly: nothing else is looked for
        format = "onnx"
    name = os.fspath(model)
    if not isinstance(name, str):
        msg = f"model must be a str path, got {type(name).__name__}"
        raise InputTypeError(msg)
    local = Path(name).expanduser()
    known: KnownModel | None = None
    listing: set[str] | None = None
    if local.is_dir():
        root = local
    elif local.exists():
        msg = f"{name!r} is a file; pass the folder that holds the model and tokenizer.json"
        raise ModelNotFoundError(msg)
    elif _looks_like_path(name):
        msg = f"no model folder at {name!r} (it does not exist)"
        raise ModelNotFoundError(msg)
    else:
        known = find_known_model(name)
        repo_id = known.hf_repo if known else name
        fetch = Fetch(revision=revision, cache_dir=cache_dir, local_files_only=local_files_only)
        root, listing = _fetch(repo_id, known, model_file, format, fetch)
        logger.debug("model %s resolved to %s", name, root)

    if known is None:
        known = _known_from_folder(root)
    layout = read_layout(root)
    mlm = layout.mlm if layout else ""
    candidates = _onnx_candidates(mlm, known, model_file)
    onnx_file = None if format == "safetensors" else _first_existing(root, candidates)
    weights = None
    if onnx_file is None and format != "onnx":
        weights = _first_existing(root, [_join(mlm, WEIGHTS_FILE), _join(mlm, INDEX_FILE)])
    found = onnx_file or weights
    if found is None:
        raise _not_found(root, mlm, candidates, format, listing)
    config = _first_existing(root, [_join(mlm, "config.json")])
    if weights is not None and config is None:
        msg = f"{weights} has no config.json beside it (needed to know its architecture)"
        raise ModelNotFoundError(msg)
    beside_model = str(found.parent.relative_to(root) / TOKENIZER_FILE)
    tokenizer = _first_existing(root, [_join(mlm, TOKENIZER_FILE), TOKENIZER_FILE, beside_model])
    if tokenizer is None:
        listed = _found_files(root)
        msg = (
            f"no {TOKENIZER_FILE} in {root} (needed to turn text into token ids); "
            f"found {', '.join(listed) if listed else 'no files'}"
        )
        raise ModelNotFoundError(msg)
    query_weights = layout.query_weights if layout else None
    return ModelFiles(
        root=root,
        model=found,
        tokenizer=tokenizer,
        idf=_first_existing(root, [IDF_FILE]),
        known=known,
        format="onnx" if onnx_file is not None else "safetensors",
        config=config,
        layout=layout,
        query_weights=root / query_weights if query_weights else None,
    )


def _known_from_folder(root: Path) -> KnownModel | None:
    """A cached Hub snapshot's folder names its repo (``models--org--name``): use its facts."""
    for part in root.parts:
        if part.startswith("models--"):
            return find_known_model(part[len("models--") :].replace("--", "/"))
    return None
