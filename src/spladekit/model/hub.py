"""The Hub side of locating a model: downloads and cached file listings, via huggingface_hub.

huggingface_hub owns everything here (cache layout, ``HF_HUB_OFFLINE``, ``HF_ENDPOINT``,
tokens, retries); these helpers only ask it for files by pattern and wrap what it raises.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TypedDict

from spladekit.errors import ModelNotFoundError

__all__ = ["Fetch", "cached_listing", "download"]

logger = logging.getLogger(__name__)


class Fetch(TypedDict):
    """Where and how to fetch: the options every download of one model shares."""

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


def download(
    repo_id: str,
    patterns: list[str],
    *,
    revision: str | None,
    cache_dir: str | os.PathLike[str] | None,
    local_files_only: bool | None,
) -> Path:
    """The snapshot folder of *repo_id* holding (at least) the files matching *patterns*."""
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


def cached_listing(
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
