"""A cache entry's manifest: every file's size and CRC-32s, written last, checked on load.

A prepared or built graph runs memory-mapped weights straight from the cache, so a damaged
byte there would give silently different vectors. The manifest makes damage visible: it is
written after every other file of the entry (and the entry is renamed into place after it), so
an entry without one is incomplete, and an entry whose files no longer match it is damaged.

Checking reads every byte once: CRC-32 in 64 MiB chunks spread over threads (``zlib.crc32``
releases the GIL), and only once per process for an unchanged file.
"""

from __future__ import annotations

import json
import os
import threading
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

__all__ = ["MANIFEST", "content_damage", "damage", "quick_damage", "write_manifest"]

MANIFEST = "manifest.json"
_VERSION = 1
_CHUNK = 64 << 20

#: (path, size, mtime, inode) of files this process has already checked.
_checked: set[tuple[str, int, int, int]] = set()
_lock = threading.Lock()


def _stamp(path: Path) -> tuple[str, int, int, int]:
    stat = path.stat()
    return (str(path.resolve()), stat.st_size, stat.st_mtime_ns, stat.st_ino)


def _chunk_crc(path: Path, offset: int, size: int) -> int:
    with path.open("rb", buffering=0) as file:
        file.seek(offset)
        crc = 0
        left = size
        while left:
            data = file.read(min(left, 8 << 20))
            if not data:
                break
            crc = zlib.crc32(data, crc)
            left -= len(data)
        return crc


def _crcs(path: Path, size: int, pool: ThreadPoolExecutor) -> list[int]:
    offsets = range(0, max(size, 1), _CHUNK)
    return list(pool.map(lambda o: _chunk_crc(path, o, min(_CHUNK, size - o)), offsets))


def _workers() -> int:
    try:
        return max(1, min(8, len(os.sched_getaffinity(0))))
    except AttributeError:  # not on Linux
        return max(1, min(8, os.cpu_count() or 1))


def write_manifest(folder: Path) -> None:
    """Record every file of *folder* (sizes and chunk CRC-32s) in its manifest, synced to disk."""
    files: dict[str, dict[str, object]] = {}
    with ThreadPoolExecutor(_workers()) as pool:
        for path in sorted(p for p in folder.iterdir() if p.is_file() and p.name != MANIFEST):
            with path.open("rb") as file:
                os.fsync(file.fileno())  # the manifest must never outlive the bytes it vouches for
            size = path.stat().st_size
            files[path.name] = {"size": size, "crc32": _crcs(path, size, pool)}
    target = folder / MANIFEST
    with target.open("w", encoding="utf-8") as file:
        json.dump({"version": _VERSION, "chunk": _CHUNK, "files": files}, file)
        file.flush()
        os.fsync(file.fileno())


def _read(folder: Path) -> dict[str, tuple[int, list[int]]]:
    """Name → (size, chunk CRC-32s) from the manifest; ValueError when it is not well formed."""
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    if not isinstance(manifest, dict) or manifest.get("version") != _VERSION:
        msg = "its manifest is of another version"
        raise ValueError(msg)
    if manifest.get("chunk") != _CHUNK or not isinstance(manifest.get("files"), dict):
        msg = "its manifest is not one this version writes"
        raise ValueError(msg)
    files: dict[str, tuple[int, list[int]]] = {}
    for name, facts in manifest["files"].items():
        size, crcs = facts.get("size"), facts.get("crc32")
        if not isinstance(size, int) or not isinstance(crcs, list):
            msg = f"its manifest entry for {name} is malformed"
            raise TypeError(msg)
        files[name] = (size, [int(c) for c in crcs])
    return files


def quick_damage(folder: Path) -> str | None:
    """What the manifest alone shows wrong (missing, extra or resized files), or None."""
    try:
        files = _read(folder)
    except FileNotFoundError:
        return "it has no manifest (an interrupted or older entry)"
    except (OSError, ValueError, TypeError, AttributeError) as error:  # AttributeError: not a dict
        return f"its manifest is unreadable: {error}"
    present = {p.name for p in folder.iterdir() if p.is_file() and p.name != MANIFEST}
    if present != set(files):
        return f"it holds {sorted(present)}, its manifest lists {sorted(files)}"
    for name, (size, _) in files.items():
        actual = (folder / name).stat().st_size
        if actual != size:
            return f"{name} is {actual} bytes, its manifest says {size}"
    return None


def content_damage(folder: Path) -> str | None:
    """Which file's bytes no longer match their CRC-32s, or None; each file once per process.

    Call after :func:`quick_damage` found nothing.
    """
    try:
        files = _read(folder)
    except (OSError, ValueError, TypeError, AttributeError) as error:
        return f"its manifest is unreadable: {error}"
    unchecked = [
        (folder / name, size, crcs)
        for name, (size, crcs) in files.items()
        if _stamp(folder / name) not in _checked
    ]
    with ThreadPoolExecutor(_workers()) as pool:
        for path, size, crcs in unchecked:
            got = _crcs(path, size, pool)
            if got != crcs:
                bad = next(i for i, (a, b) in enumerate(zip(got, crcs, strict=True)) if a != b)
                return (
                    f"{path.name} has changed since it was written "
                    f"(bytes {bad * _CHUNK} to {min(size, (bad + 1) * _CHUNK)})"
                )
    with _lock:
        _checked.update(_stamp(path) for path, _, _ in unchecked)
    return None


def damage(folder: Path) -> str | None:
    """What is wrong with the entry *folder* (a missing, changed or extra file), or None."""
    return quick_damage(folder) or content_damage(folder)
