"""What the benchmarks say about the machine they ran on: the CPU's model and flags, peak RSS."""

from __future__ import annotations

import platform
import re
import resource
from pathlib import Path


def _cpuinfo() -> list[str]:
    try:
        return Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return []


def cpu_model() -> str:
    """The CPU's model name (/proc/cpuinfo), else the platform's word for it."""
    for line in _cpuinfo():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def cpu_flag_set() -> set[str] | None:
    """The first CPU's flags (/proc/cpuinfo), or None where they cannot be read."""
    for line in _cpuinfo():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return None


#: The SIMD flags fp32 and int8 speed depend on, named (present or missing) next to every figure.
SPEED_FLAGS = ("avx2", "fma", "avx512f", "avx512_vnni", "avx_vnni", "amx_int8")


def cpu_flags() -> str:
    """The :data:`SPEED_FLAGS` this CPU has, then those it lacks: ``avx2 fma (no avx512f, ...)``."""
    flags = cpu_flag_set()
    if flags is None:
        return "unknown"
    have = [f for f in SPEED_FLAGS if f in flags]
    missing = [f for f in SPEED_FLAGS if f not in flags]
    return " ".join(have) + (f" (no {', '.join(missing)})" if missing else "")


def has_vnni() -> bool:
    """Whether int8 MatMuls get VNNI dot products (AVX-512 or AVX) on this CPU."""
    return bool({"avx512_vnni", "avx_vnni"} & (cpu_flag_set() or set()))


def peak_rss_mb() -> float:
    """This process's peak RSS in MB: VmHWM from /proc/self/status.

    Not ``ru_maxrss``: Linux carries that across ``exec``, so a worker started by a parent
    that once held 1.2 GB would report 1.2 GB whatever it did itself.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # no /proc: KiB on Linux


def huge_mib() -> int:
    """This process's anonymous memory on transparent huge pages (MiB; 0 off Linux)."""
    if not Path("/proc/self/smaps_rollup").exists():
        return 0
    text = Path("/proc/self/smaps_rollup").read_text()
    return int(re.search(r"AnonHugePages:\s+(\d+)", text).group(1)) // 1024  # type: ignore[union-attr]
