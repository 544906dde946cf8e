"""Locate: which files make up a model — in a local folder, the Hugging Face cache, or the Hub.

huggingface_hub owns everything Hub-side (cache layout, ``HF_HUB_OFFLINE``, ``HF_ENDPOINT``,
tokens, retries); this module only decides which files to ask for and which file is which.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypedDict

from spladekit.errors import InputTypeError, ModelNotFoundError
from spladekit.model.catalog import KnownModel, find_known_model

__all__ = ["MODEL_FILE_LAYOUTS", "ModelFiles", "locate_model"]

logger = logging.getLogger(__name__)

#: Where ONNX exports put the model, most common first.
MODEL_FILE_LAYOUTS: tuple[str, ...] = (
    "model.onnx",
    "onnx/model.onnx",
    "model_optimized.onnx",
    "onnx/model_optimized.onnx",
)
TOKENIZER_FILE = "tokenizer.json"
IDF_FILE = "idf.json"
#: Small files that tell us limits and special tokens; fetched when present.
METADATA_FILES: tuple[str, ...] = (
    "config.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
)


@dataclass(frozen=True)
class ModelFiles:
    """The files of one model, resolved on local disk."""

    root: Path
    model: Path
    tokenizer: Path
    idf: Path | None
    known: KnownModel | None

    def max_length(self) -> int | None:
        """The model's token limit from its config files, if they state a sane one."""
        limits: list[int] = []
        for name, key in (
            ("config.json", "max_position_embeddings"),
            ("tokenizer_config.json", "model_max_length"),
        ):
            value = _read_json(self.root / name).get(key)
            if isinstance(value, int) and 0 < value <= 1_000_000:
                limits.append(value)
        return min(limits) if limits else None


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _looks_like_path(name: str) -> bool:
    # A Hub id is "name" or "org/name"; anything else that does not exist is a mistyped path.
    return name.startswith((".", "/", "~")) or name.count("/") > 1 or "\\" in name


def _with_external_data(files: list[str]) -> list[str]:
    # Models over 2 GB keep weights in a sibling "<file>_data" (or "<file>.data").
    return [p for f in files for p in (f, f + "_data", f + ".data")]


class _Fetch(TypedDict):
    revision: str | None
    cache_dir: str | os.PathLike[str] | None
    local_files_only: bool | None


def _hub_errors() -> tuple[type[BaseException], ...]:
    """What snapshot_download raises when a model is not to be had (not a bug of ours)."""
    from huggingface_hub.errors import EntryNotFoundError, HFValidationError

    errors: list[type[BaseException]] = [OSError, EntryNotFoundError, HFValidationError]
    try:  # huggingface_hub 1.x talks to the Hub through httpx, whose errors are not OSErrors
        import httpx

        errors.append(httpx.HTTPError)
    except ImportError:
        pass
    return tuple(errors)


def _download(
    repo_id: str,
    patterns: list[str],
    *,
    revision: str | None,
    cache_dir: str | os.PathLike[str] | None,
    local_files_only: bool | None,
) -> Path:
    from huggingface_hub import snapshot_download

    try:
        folder = snapshot_download(
            repo_id,
            revision=revision,
            cache_dir=os.fspath(cache_dir) if cache_dir is not None else None,
            local_files_only=bool(local_files_only),
            allow_patterns=patterns,
        )
    except _hub_errors() as error:
        where = "in the local cache" if local_files_only else "on the Hub or in the local cache"
        msg = (
            f"could not get model {repo_id!r} (revision {revision or 'main'}) {where} "
            f"(nor is there a local folder of that name): {type(error).__name__}: {error}"
        )
        raise ModelNotFoundError(msg) from error
    return Path(folder)


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


def locate_model(
    model: str | os.PathLike[str],
    *,
    revision: str | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    local_files_only: bool | None = None,
    model_file: str | None = None,
) -> ModelFiles:
    """Resolve a Hub repo id, a known model name or a local folder to files on disk.

    Only the files a SPLADE encoder needs are downloaded: the ONNX model in one of
    :data:`MODEL_FILE_LAYOUTS` (or *model_file*), ``tokenizer.json``, an optional ``idf.json``
    and small config files.
    """
    if not isinstance(model, (str, os.PathLike)):
        msg = f"model must be a Hub repo id or a folder (str or path), got {type(model).__name__}"
        raise InputTypeError(msg)
    name = os.fspath(model)
    if not isinstance(name, str):
        msg = f"model must be a str path, got {type(name).__name__}"
        raise InputTypeError(msg)
    local = Path(name).expanduser()
    known: KnownModel | None = None
    hub_repo: str | None = None
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
        fetch = _Fetch(revision=revision, cache_dir=cache_dir, local_files_only=local_files_only)
        small = [TOKENIZER_FILE, IDF_FILE, *METADATA_FILES]
        models = [model_file] if model_file else [known.model_file] if known else []
        extra = list(known.additional_files) if known else []
        if not models:
            # Exports often hold the same model in several layouts: fetch the small files first
            # (that caches the repo's file listing), then only the first layout it really has.
            _download(repo_id, small, **fetch)
            listed = _cached_listing(repo_id, revision=revision, cache_dir=cache_dir)
            models = list(MODEL_FILE_LAYOUTS)
            if listed is not None:
                models = [m for m in models if m in listed][:1]
        patterns = [*_with_external_data(models + extra), *small]
        root = _download(repo_id, patterns, **fetch)
        logger.debug("model %s resolved to %s", name, root)
        hub_repo = repo_id

    if known is None:
        known = _known_from_folder(root)
    candidates = [model_file] if model_file else []
    if known is not None and not model_file:
        candidates.append(known.model_file)
    if not model_file:
        candidates += [c for c in MODEL_FILE_LAYOUTS if c not in candidates]
    onnx_file = _first_existing(root, candidates)
    if onnx_file is None:
        found = _found_files(root)
        listed = (
            _cached_listing(hub_repo, revision=revision, cache_dir=cache_dir) if hub_repo else None
        )
        repo_onnx = sorted(f for f in listed or () if f.endswith(".onnx"))
        msg = (
            f"no ONNX model in {root}: looked for {', '.join(candidates)}; "
            f"found {', '.join(found) if found else 'no files'}. "
            + (f"The repo has ONNX files: {', '.join(repo_onnx)}. " if repo_onnx else "")
            + "Pass model_file='path/inside/folder.onnx' if it lives elsewhere."
        )
        raise ModelNotFoundError(msg)
    beside_model = str(onnx_file.parent.relative_to(root) / TOKENIZER_FILE)
    tokenizer = _first_existing(root, [TOKENIZER_FILE, beside_model])
    if tokenizer is None:
        found = _found_files(root)
        msg = (
            f"no {TOKENIZER_FILE} in {root} (needed to turn text into token ids); "
            f"found {', '.join(found) if found else 'no files'}"
        )
        raise ModelNotFoundError(msg)
    return ModelFiles(
        root=root,
        model=onnx_file,
        tokenizer=tokenizer,
        idf=_first_existing(root, [IDF_FILE]),
        known=known,
    )


def _cached_listing(
    repo_id: str, *, revision: str | None, cache_dir: str | os.PathLike[str] | None
) -> set[str] | None:
    """The repo's file paths, from the listing snapshot_download cached (no network), if any."""
    try:
        from huggingface_hub import get_cached_repo_tree
        from huggingface_hub.errors import CachedRepoTreeNotFoundError
    except ImportError:  # a huggingface_hub older than its cached listings
        return None
    folder = os.fspath(cache_dir) if cache_dir is not None else None
    try:
        listing = get_cached_repo_tree(repo_id, revision=revision, cache_dir=folder)
    except (CachedRepoTreeNotFoundError, OSError) as error:  # no listing cached (older cache)
        logger.debug("no cached file listing for %s: %s", repo_id, error)
        return None
    return {f.path for f in listing}


def _known_from_folder(root: Path) -> KnownModel | None:
    """A cached Hub snapshot's folder names its repo (``models--org--name``): use its facts."""
    for part in root.parts:
        if part.startswith("models--"):
            return find_known_model(part[len("models--") :].replace("--", "/"))
    return None
