"""Huge pages for the memory a new ONNX Runtime session has just taken (Linux).

A session packs every MatMul weight into buffers of its own (~430 MB for BERT-base fp32), and
each query streams all of them: on 4 KiB pages that is ~100,000 TLB misses per forward pass.
Linux gives anonymous memory 2 MiB pages only where asked (``transparent_hugepage`` is
``madvise`` on most distributions), and ONNX Runtime does not ask. :func:`on_huge_pages`
makes the session, then asks for huge pages on the anonymous memory that appeared meanwhile
(``MADV_HUGEPAGE``) and has the kernel move it onto them (``MADV_COLLAPSE``, Linux 6.1).
The numbers are the same; only the page size changes. Moving takes time (~1.3 s for
BERT-base's 418 MB on the AMD EPYC here, ~6 ms a page), so a background thread does it while
the session already runs. Only memory mapped during the session's making is moved: weights the
allocator puts in memory the process already had (after earlier sessions were freed) stay as
they are. Measured paired in one process on the BERT-base benchmark model
(``benchmarks/huge_pages.py``): one fp32 query 0.98× the time, documents 0.99–1.00×; int8
reads its weights from the mapped model file, so nothing moves. Where the kernel or platform
cannot, nothing happens.
"""

from __future__ import annotations

import ctypes
import os
import sys
import threading
from collections.abc import Callable
from typing import TypeVar

__all__ = [
    "HUGE_PAGE",
    "THREAD_NAME",
    "anonymous_ranges",
    "collapse",
    "new_ranges",
    "on_huge_pages",
]

T = TypeVar("T")
Range = tuple[int, int]

#: The x86-64 / arm64 (4 KiB base) transparent huge page size.
HUGE_PAGE = 2 << 20
#: The background thread that moves the memory (a benchmark joins it before timing).
THREAD_NAME = "spladekit-huge-pages"
_MADV_HUGEPAGE = 14
_MADV_COLLAPSE = 25
_MAPS = "/proc/self/maps"


def anonymous_ranges() -> list[Range]:
    """Writable anonymous mappings (and the brk heap) of this process, sorted: (start, end)."""
    ranges = []
    with open(_MAPS) as maps:
        for line in maps:
            fields = line.split()
            if fields[1].startswith("rw") and (len(fields) < 6 or fields[5] == "[heap]"):
                start, end = (int(x, 16) for x in fields[0].split("-"))
                ranges.append((start, end))
    return sorted(ranges)


def new_ranges(before: list[Range], after: list[Range]) -> list[Range]:
    """The parts of *after* not in *before*, each cut to whole huge pages (none if smaller)."""
    fresh = []
    for start, end in after:
        pieces = [(start, end)]
        for old_start, old_end in before:
            if old_start >= end:
                break
            pieces = [
                part
                for lo, hi in pieces
                for part in ((lo, min(hi, old_start)), (max(lo, old_end), hi))
                if part[0] < part[1]
            ]
        for lo, hi in pieces:
            lo = -(-lo // HUGE_PAGE) * HUGE_PAGE
            hi = hi // HUGE_PAGE * HUGE_PAGE
            if lo < hi:
                fresh.append((lo, hi))
    return fresh


def collapse(ranges: list[Range]) -> int:
    """Ask for huge pages on *ranges* and have them moved now; the bytes the kernel moved."""
    libc = ctypes.CDLL(None, use_errno=True)
    madvise = libc.madvise
    madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    moved = 0
    for start, end in ranges:
        madvise(start, end - start, _MADV_HUGEPAGE)
        for page in range(start, end, HUGE_PAGE):  # one by one: a page that cannot move
            if madvise(page, HUGE_PAGE, _MADV_COLLAPSE) == 0:  # (EINVAL) leaves the rest
                moved += HUGE_PAGE
    return moved


def _collapse_quietly(ranges: list[Range]) -> None:
    try:
        collapse(ranges)
    except (OSError, AttributeError):  # a libc without madvise: 4 KiB pages, as before
        pass


def on_huge_pages(make: Callable[[], T], *, background: bool = True) -> T:
    """``make()``, with the anonymous memory it took moved onto huge pages where Linux can.

    The move runs in a daemon thread unless *background* is False (then it is done on return).
    It only changes page sizes, so memory freed or reused meanwhile is still safe to move.
    """
    if not sys.platform.startswith("linux") or not os.path.exists(_MAPS):
        return make()
    try:
        before = anonymous_ranges()
    except OSError:
        return make()
    made = make()
    try:
        ranges = new_ranges(before, anonymous_ranges())
    except OSError:
        return made
    if not background:
        _collapse_quietly(ranges)
    elif ranges:
        mover = threading.Thread(target=_collapse_quietly, args=(ranges,), name=THREAD_NAME)
        mover.daemon = True
        mover.start()
    return made
