"""Where spladekit keeps what it makes from a model once (prepared and built graphs), and how.

Every cache entry is a folder ``<root>/<key>/`` holding ``model.onnx`` (and its side file),
written by :func:`cached_graph` alone: made in a temporary folder beside it, its manifest
(:mod:`spladekit.model.manifest`: sizes and CRC-32s) written last, then renamed into place, so a
reader sees a complete entry or none, and two processes making the same entry at once both end
with one good copy. An entry is checked against its manifest before use (once per process);
a damaged one is rebuilt from the source model, with a warning. Inside
:func:`deferred_checks` the byte-level part of that check runs in a thread while the caller
creates its ONNX Runtime session (which reads the same pages), and the caller asks
:meth:`Checks.damaged` before using the session.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

from spladekit.model.manifest import MANIFEST, content_damage, quick_damage, write_manifest

__all__ = [
    "Checks",
    "DamagedCacheWarning",
    "cache_root",
    "cached_graph",
    "deferred_checks",
    "file_digest",
]

logger = logging.getLogger(__name__)

GRAPH_FILE = "model.onnx"
#: A Hugging Face cache blob is named by its content: sha256 (LFS files) or git's sha1.
_BLOB_NAME = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


def cache_root() -> Path:
    """``$SPLADEKIT_CACHE``, else ``$XDG_CACHE_HOME/spladekit``, else ``~/.cache/spladekit``."""
    env = os.environ.get("SPLADEKIT_CACHE")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "spladekit"


class DamagedCacheWarning(RuntimeWarning):
    """A cache entry no longer matched its manifest and was rebuilt from the source model."""


def _complete(entry: Path) -> bool:
    return (entry / GRAPH_FILE).is_file() and (entry / MANIFEST).is_file()


def _discard(entry: Path, reason: str) -> None:
    """Move a damaged entry out of the way (another process may be doing the same)."""
    warnings.warn(
        f"spladekit's cached graph {entry} is damaged ({reason}); rebuilding it from the "
        "source model",
        DamagedCacheWarning,
        stacklevel=4,
    )
    aside = entry.with_name(f".damaged-{entry.name}-{os.getpid()}")
    try:
        entry.rename(aside)
    except FileNotFoundError:  # another process moved it first
        return
    shutil.rmtree(aside, ignore_errors=True)


class Checks:
    """Byte-level checks of cache entries running in the background (see :func:`deferred_checks`)."""

    def __init__(self) -> None:
        self._pending: list[tuple[Path, Future[str | None]]] = []

    def add(self, entry: Path) -> None:
        """Start checking *entry*'s bytes in the background."""
        self._pending.append((entry, _checker().submit(content_damage, entry)))

    def damaged(self) -> bool:
        """Wait for the checks; a damaged entry is discarded (with a warning) and True returned."""
        found = False
        for entry, check in self._pending:
            problem = check.result()
            if problem is not None:
                _discard(entry, problem)
                found = True
        self._pending.clear()
        return found


_deferred: ContextVar[Checks | None] = ContextVar("spladekit_deferred_checks", default=None)
_checker_pool: ThreadPoolExecutor | None = None
_checker_lock = threading.Lock()


def _checker() -> ThreadPoolExecutor:
    global _checker_pool  # noqa: PLW0603  (one lazily made pool per process)
    with _checker_lock:
        if _checker_pool is None:
            _checker_pool = ThreadPoolExecutor(1, thread_name_prefix="spladekit-cache-check")
        return _checker_pool


@contextmanager
def deferred_checks() -> Iterator[Checks]:
    """Entries found in the cache inside this block are checked byte by byte in the background.

    The caller must ask ``checks.damaged()`` before trusting what it loaded from them.
    """
    checks = Checks()
    token = _deferred.set(checks)
    try:
        yield checks
    finally:
        _deferred.reset(token)


#: Leftovers of a killed process (a half-made or moved-aside entry) older than this go.
_STALE_SECONDS = 24 * 3600


def _sweep(root: Path) -> None:
    """Remove what killed processes left behind; a live process's work is never that old."""
    now = time.time()
    for leftover in [*root.glob(".partial-*"), *root.glob(".damaged-*")]:
        try:
            if now - leftover.stat().st_mtime > _STALE_SECONDS:
                shutil.rmtree(leftover, ignore_errors=True)
        except FileNotFoundError:  # another process swept it
            continue


def cached_graph(root: Path, key: str, make: Callable[[Path], None]) -> Path:
    """``<root>/<key>/model.onnx``, made once by ``make(folder)`` when not there, or damaged.

    *make* writes ``model.onnx`` (and whatever sits beside it) into the empty *folder* it is
    given; on success the manifest is written and that folder becomes the entry, on failure it
    is removed.
    """
    entry = root / key
    if entry.exists():
        problem = quick_damage(entry)
        checks = _deferred.get()
        if problem is None and checks is not None:
            checks.add(entry)
            return entry / GRAPH_FILE
        problem = problem or content_damage(entry)
        if problem is None:
            return entry / GRAPH_FILE
        _discard(entry, problem)
    root.mkdir(parents=True, exist_ok=True)
    _sweep(root)
    work = Path(tempfile.mkdtemp(prefix=".partial-", dir=root))
    token = _deferred.set(None)  # what make() reads from the cache must be checked first
    try:
        make(work)
        if not (work / GRAPH_FILE).is_file():
            msg = f"making cache entry {entry} wrote no {GRAPH_FILE}"
            raise FileNotFoundError(msg)
        write_manifest(work)
        work.chmod(0o755)  # mkdtemp makes it private; the cache may be shared
        try:
            work.rename(entry)
        except OSError:  # another process finished first: keep theirs
            if not _complete(entry):
                raise
        logger.info("cached %s", entry)
    finally:
        _deferred.reset(token)
        shutil.rmtree(work, ignore_errors=True)
    return entry / GRAPH_FILE


def _sha256(path: Path) -> str:
    hasher = hashlib.sha256()
    buffer = bytearray(1 << 22)
    view = memoryview(buffer)
    with path.open("rb", buffering=0) as file:
        while size := file.readinto(buffer):
            hasher.update(view[:size])
    return hasher.hexdigest()


def file_digest(path: Path) -> str:
    """The sha256 of *path*'s bytes, computed once per file version.

    A Hugging Face cache blob already carries its content hash in its name. Other files are
    hashed (about 0.7 s per 500 MB) and the result kept under ``<cache_root>/digests``, keyed
    by the file's real path, size, modification time and inode: a file rewritten in place is
    hashed again.
    """
    real = path.resolve()
    if real.parent.name == "blobs" and _BLOB_NAME.fullmatch(real.name):
        return real.name
    stat = real.stat()
    stamp = f"{real}|{stat.st_size}|{stat.st_mtime_ns}|{stat.st_ino}"
    memo = cache_root() / "digests" / hashlib.sha256(stamp.encode()).hexdigest()[:32]
    try:
        known = memo.read_text().strip()
    except OSError:
        known = ""
    if re.fullmatch(r"[0-9a-f]{64}", known):
        return known
    digest = _sha256(real)
    try:
        memo.parent.mkdir(parents=True, exist_ok=True)
        partial = memo.with_name(f".{memo.name}.{os.getpid()}")
        partial.write_text(digest)
        partial.replace(memo)
    except OSError as error:  # a read-only cache only costs the hash next time
        logger.debug("could not remember the digest of %s: %s", real, error)
    return digest
