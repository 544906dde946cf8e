"""One fp32 query: spladekit's ``encode_query`` against the bare forward, paired in one process.

    flock /work/bench.lock python benchmarks/query_parity.py [--queries 300] [--passes 2]

``run.py`` times each tool in its own process, and on a shared host one process's p50 moves
by more than the few per cent this goal turns on (per-round ratios 0.87-1.06 in one run).
Here one process holds both and they take turns query by query, the order flipping each time
(the method: benchmarks/paired.py): spladekit's default encoder on the benchmark's
BERT-base export (exact fp32, prepared, its huge-page move done before timing), timed for
the whole ``encode_query`` (tokenize, run, pool, prune), against ONNX Runtime's default
session on the export as exported, timed for ``run`` alone on ids tokenized beforehand. Idle
threads do not spin in either (two spinning pools in one process take each other's cores);
that is the one setting changed from both defaults. Reported: the median of the paired
ratios and each side's median. Writes benchmarks/results/query_parity.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent / "src"))

import spladekit.pipeline.run as pipeline_run  # noqa: E402
from build_model import build_folder  # noqa: E402
from corpus import sample_queries  # noqa: E402
from machine import cpu_flags, cpu_model, huge_mib  # noqa: E402
from spladekit import SpladeEncoder  # noqa: E402
from worker import _settle, bare_feed  # noqa: E402

RESULTS = BENCH / "results"
NO_SPINNING = ("session.intra_op.allow_spinning", "0")


def _no_spinning_sessions() -> None:
    """Make spladekit's sessions with idle threads not spinning (for this process only)."""
    make = pipeline_run.ort_session

    def ort_session(path: Any, options: Any, providers: Any, **kwargs: Any) -> Any:
        options.add_session_config_entry(*NO_SPINNING)
        return make(path, options, providers, **kwargs)

    pipeline_run.ort_session = ort_session  # type: ignore[assignment]


def main() -> None:
    import onnxruntime as ort
    from tokenizers import Tokenizer

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--passes", type=int, default=2, help="passes over the queries")
    args = parser.parse_args()
    folder = build_folder("base")
    texts = sample_queries(args.queries)
    _no_spinning_sessions()
    before = huge_mib()
    encoder = SpladeEncoder(folder)
    encoder.encode_query(texts[0])
    _settle()
    moved = huge_mib() - before
    options = ort.SessionOptions()
    options.add_session_config_entry(*NO_SPINNING)
    bare = ort.InferenceSession(str(folder / "model.onnx"), options, ["CPUExecutionProvider"])
    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    names = {i.name for i in bare.get_inputs()}
    feeds = [bare_feed(tokenizer, names, text) for text in texts]
    bare.run(None, feeds[0])

    def spladekit_query(i: int) -> float:
        began = time.perf_counter()
        encoder.encode_query(texts[i])
        return time.perf_counter() - began

    def bare_query(i: int) -> float:
        began = time.perf_counter()
        bare.run(None, feeds[i])
        return time.perf_counter() - began

    times: dict[str, list[float]] = {"bare forward": [], "spladekit encode_query": []}
    for turn in range(args.passes * len(texts)):
        i = turn % len(texts)
        order = [bare_query, spladekit_query] if turn % 2 == 0 else [spladekit_query, bare_query]
        results = {fn: fn(i) for fn in order}
        times["bare forward"].append(results[bare_query])
        times["spladekit encode_query"].append(results[spladekit_query])
    ratio = np.array(times["spladekit encode_query"]) / np.array(times["bare forward"])
    report = {
        "cpu": cpu_model(),
        "flags": cpu_flags(),
        "queries": len(ratio),
        "huge_pages_mib": moved,
        "median_ms": {name: 1000 * float(np.median(v)) for name, v in times.items()},
        "median ratio spladekit / bare": float(np.median(ratio)),
        "ratio quartiles": [float(q) for q in np.percentile(ratio, [25, 75])],
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "query_parity.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
