"""One query, paired in one process: spladekit fp32 and int8 against fastembed and the bare forward.

    flock /work/bench.lock python benchmarks/fastembed_parity.py [--queries 200] [--gap 0.05]

The int8 goal (one query in ≤ 0.35x fastembed's time) turns on a few per cent, and ``run.py``
times each tool in its own process, where p50s drift by more than that from one process to
the next. Here the four share one process — fastembed's venv (benchmarks/.venv-fastembed,
made by ``run.py``: the same onnxruntime and tokenizers as spladekit's; spladekit is imported
from src/, its prepared and int8 graphs made first in spladekit's venv) — and take turns query
by query, the order rotating. Each keeps its default session settings, spinning included; so
that the pool which ran last does not spin on the cores the next one needs, each call comes
``--gap`` seconds after the one before (ONNX Runtime's idle threads spin for tens of ms: with
no gap or 0.01 s every tool ran ~2x slower). These are sporadic queries, each after a pause,
not back to back as in ``run.py``. Reported per tool: its median and the medians of its
per-query ratios to fastembed's and to the bare forward's time. Writes
benchmarks/results/fastembed_parity.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent / "src"))

from corpus import sample_queries  # noqa: E402
from machine import cpu_flags, cpu_model  # noqa: E402
from worker import _bare, _fastembed, _settle, _spladekit  # noqa: E402

RESULTS = BENCH / "results"
#: spladekit's encoders here, as run.py's columns name them: options of from_pretrained.
ENCODERS = {"spladekit fp32": {}, "spladekit int8": {"quantize": "int8"}}


def _in_fastembed_venv(folder: Path) -> None:
    """Make spladekit's graphs here (onnx is needed once), then run this in fastembed's venv."""
    from run import fastembed_python

    for options in ENCODERS.values():
        _spladekit({"model": str(folder), "options": options})
    python = str(fastembed_python())
    os.execv(python, [python, __file__, *sys.argv[1:], "--model", str(folder)])


def _timed(call: Callable[[str], object]) -> Callable[[str], float]:
    def timed(text: str) -> float:
        began = time.perf_counter()
        call(text)
        return time.perf_counter() - began

    return timed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--gap", type=float, default=0.05, help="seconds of pause before a call")
    parser.add_argument("--model", type=Path, help=argparse.SUPPRESS)  # given in fastembed's venv
    args = parser.parse_args()
    try:
        import fastembed  # noqa: F401
    except ImportError:
        from build_model import build_folder  # onnx: not in fastembed's venv

        _in_fastembed_venv(build_folder("base"))
    folder = args.model
    texts = sample_queries(args.queries)
    tools: dict[str, Callable[[str], float]] = {
        "fastembed": _timed(_fastembed({"model": str(folder)})[1]),
        "bare forward": _bare({"model": str(folder)})[1],  # times its own run
    }
    for name, options in ENCODERS.items():
        tools[name] = _timed(_spladekit({"model": str(folder), "options": options})[1])
    for tool in tools.values():  # warm: weights packed, arena grown, huge pages moved
        tool(texts[0])
        _settle()
        tool(texts[1])
    names = list(tools)
    times: dict[str, list[float]] = {name: [] for name in names}
    for i, text in enumerate(texts):
        order = names[i % len(names) :] + names[: i % len(names)]
        for name in order if i % 2 == 0 else order[::-1]:
            time.sleep(args.gap)
            times[name].append(tools[name](text))
    fastembed_s, bare_s = np.array(times["fastembed"]), np.array(times["bare forward"])
    report = {
        "cpu": cpu_model(),
        "flags": cpu_flags(),
        "queries": len(texts),
        "gap_s": args.gap,
        "tools": {
            name: {
                "median_ms": 1000 * float(np.median(values)),
                "median ratio to fastembed": float(np.median(np.array(values) / fastembed_s)),
                "median ratio to bare forward": float(np.median(np.array(values) / bare_s)),
            }
            for name, values in times.items()
        },
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "fastembed_parity.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
