"""spladekit.pipeline.huge_pages: which memory is moved, that it moves, and that nothing changes."""

from __future__ import annotations

import ctypes
import mmap
import re
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from spladekit.pipeline import huge_pages
from spladekit.pipeline.huge_pages import HUGE_PAGE, collapse, new_ranges, on_huge_pages

MIB = 1 << 20
linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux /proc and THP")


def test_new_ranges_keeps_only_what_is_new_in_whole_huge_pages() -> None:
    before = [(0, 4 * MIB), (20 * MIB, 22 * MIB)]
    after = [(0, 10 * MIB), (12 * MIB + 4096, 30 * MIB), (40 * MIB, 41 * MIB)]
    assert new_ranges(before, after) == [
        (4 * MIB, 10 * MIB),  # grown in place: only the growth
        (14 * MIB, 20 * MIB),  # cut at an old range, rounded in to huge pages
        (22 * MIB, 30 * MIB),
    ]  # (40, 41) MiB holds no whole huge page
    assert new_ranges(after, after) == []
    assert new_ranges([], [(HUGE_PAGE, 2 * HUGE_PAGE)]) == [(HUGE_PAGE, 2 * HUGE_PAGE)]


def _mapping_huge_kib(address: int) -> int:
    """AnonHugePages (KiB) of the mapping holding *address*, from /proc/self/smaps."""
    text = Path("/proc/self/smaps").read_text()
    for block in re.split(r"\n(?=[0-9a-f]+-[0-9a-f]+ )", text):
        start, end = (int(x, 16) for x in block.split()[0].split("-"))
        if start <= address < end:
            return int(re.search(r"AnonHugePages:\s+(\d+)", block).group(1))  # type: ignore[union-attr]
    raise AssertionError(f"no mapping holds {address:#x}")


def _buffer(size: int) -> tuple[mmap.mmap, int]:
    buffer = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    buffer.write(bytes(range(256)) * (size // 256))
    return buffer, ctypes.addressof(ctypes.c_char.from_buffer(buffer))


@pytest.fixture(scope="module")
def can_collapse() -> None:
    """Skip where the kernel cannot move memory onto huge pages (MADV_COLLAPSE: Linux 6.1)."""
    if not sys.platform.startswith("linux"):
        pytest.skip("Linux only")
    buffer, address = _buffer(4 * HUGE_PAGE)
    first = -(-address // HUGE_PAGE) * HUGE_PAGE
    if collapse([(first, first + HUGE_PAGE)]) == 0:
        pytest.skip("this kernel has no MADV_COLLAPSE")
    buffer.close()


@pytest.mark.usefixtures("can_collapse")
def test_collapse_moves_memory_and_keeps_its_bytes() -> None:
    buffer, address = _buffer(8 * HUGE_PAGE)
    content = bytes(buffer[:])
    moved = collapse(new_ranges([], [(address, address + len(buffer))]))
    assert moved >= 6 * HUGE_PAGE  # at most the two partial pages at the ends stay small
    assert _mapping_huge_kib(address) * 1024 >= moved
    assert bytes(buffer[:]) == content


@pytest.mark.usefixtures("can_collapse")
@pytest.mark.parametrize("background", [False, True])
def test_on_huge_pages_moves_what_make_allocated(background: bool) -> None:
    made = on_huge_pages(lambda: _buffer(8 * HUGE_PAGE), background=background)
    for thread in threading.enumerate():
        if thread.name == huge_pages.THREAD_NAME:
            thread.join()
    buffer, address = made
    assert _mapping_huge_kib(address) * 1024 >= 6 * HUGE_PAGE
    assert bytes(buffer[:256]) == bytes(range(256))


def test_other_platforms_only_make(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(huge_pages.sys, "platform", "darwin")

    def fail(ranges: object) -> int:
        raise AssertionError("collapse must not run off Linux")

    monkeypatch.setattr(huge_pages, "collapse", fail)
    assert on_huge_pages(lambda: 7, background=False) == 7


@linux_only
def test_a_kernel_that_refuses_changes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(ranges: object) -> int:
        raise OSError(22, "Invalid argument")

    monkeypatch.setattr(huge_pages, "collapse", refuse)
    buffer = on_huge_pages(lambda: _buffer(8 * HUGE_PAGE), background=False)[0]
    assert bytes(buffer[:256]) == bytes(range(256))


def _matmul_model(path: Path) -> Path:
    """One MatMul with a 16 MiB weight: ONNX Runtime packs it into memory of its own."""
    from onnx import TensorProto, helper, numpy_helper

    weight = np.random.default_rng(0).normal(size=(1024, 4096)).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"])],
        "mm",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["m", 1024])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["m", 4096])],
        [numpy_helper.from_array(weight, "w")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    path.write_bytes(model.SerializeToString())
    return path


_SESSIONS = """
import re, sys
from pathlib import Path
import numpy as np, onnxruntime as ort
from spladekit.pipeline.run import ort_session

def huge_kib():
    text = Path("/proc/self/smaps_rollup").read_text()
    return int(re.search(r"AnonHugePages:\\s+(\\d+)", text).group(1))

x = np.random.default_rng(1).normal(size=(3, 1024)).astype(np.float32)
plain = ort_session(sys.argv[1], ort.SessionOptions(), ["CPUExecutionProvider"], huge_pages=False)
before = huge_kib()
huge = ort_session(sys.argv[1], ort.SessionOptions(), ["CPUExecutionProvider"], huge_pages="now")
moved = huge_kib() - before
same = np.array_equal(huge.run(None, {"x": x})[0], plain.run(None, {"x": x})[0])
print(moved, same)
"""


@pytest.mark.usefixtures("can_collapse")
def test_a_session_on_huge_pages_gives_the_same_numbers(tmp_path: Path) -> None:
    # A fresh process, as an encoder's usually is: in one that made and freed sessions before,
    # the allocator may place the packed weights in memory it already had, which is left as is.
    path = _matmul_model(tmp_path / "mm.onnx")
    done = subprocess.run(
        [sys.executable, "-c", _SESSIONS, str(path)], capture_output=True, text=True, check=True
    )
    moved, same = done.stdout.split()
    assert int(moved) >= 4 * 1024  # KiB: most of the packed 16 MiB weight moved
    assert same == "True"
