"""int8 weight scales per channel or per tensor: which makes queries and documents faster.

    flock /work/bench.lock python benchmarks/int8_granularity.py [--queries 300] [--repeats 3]

The benchmark's BERT-base model, its fused graph quantized both ways (the vocabulary head
too, as :data:`spladekit.model.variant.INT8` does). The machines here change speed by up to
~30 % from second to second (other tenants), more than the difference looked for, so one
process holds both sessions and they take turns query by query (and batch by batch), the
order flipping each time; each configuration's time is compared with the other's on the same
input a moment apart, and the median of those ratios is reported. Idle threads do not spin
here (``session.intra_op.allow_spinning=0``): two spinning pools in one process take each
other's cores. That makes both slower by the same wake-ups, so the ratio still says which
kernels are faster. Writes benchmarks/results/int8_granularity.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent / "src"))

from build_model import build_folder  # noqa: E402
from corpus import load_corpus, sample_queries  # noqa: E402
from levers import session  # noqa: E402
from machine import cpu_flags, cpu_model  # noqa: E402
from run import pick_docs  # noqa: E402
from spladekit.model.prepare import prepare_model  # noqa: E402
from spladekit.model.quantize import quantize_graph  # noqa: E402
from spladekit.model.variant import Int8Config  # noqa: E402
from spladekit.options import resolve_options  # noqa: E402
from spladekit.pipeline.batch import plan_batches  # noqa: E402
from spladekit.pipeline.tokenize import TextTokenizer  # noqa: E402

RESULTS = BENCH / "results"
CONFIGS = {
    "per-channel": Int8Config(per_channel=True, head=True),
    "per-tensor": Int8Config(per_channel=False, head=True),
}


def feeds(tokenizer: TextTokenizer, texts: list[str], rows: int) -> list[dict[str, np.ndarray]]:
    """The model inputs spladekit makes of *texts*: its tokenizer and batches, ≤ *rows* each."""
    defaults = resolve_options({}, "int8_granularity")
    segments = tokenizer.segment_texts(
        texts, windows=False, stride=defaults["stride"], offset=0, what="texts"
    )
    return [
        {
            "input_ids": batch.input_ids,
            "attention_mask": batch.attention_mask,
            "token_type_ids": np.zeros_like(batch.input_ids),
        }
        for batch in plan_batches(
            segments.ids, token_budget=defaults["token_budget"], max_rows=rows
        )
    ]


def turns(
    runs: dict[str, Callable[[dict[str, np.ndarray]], Any]], batches: list[dict[str, np.ndarray]]
) -> dict[str, Any]:
    """Each batch through every session in turn (order flipped each batch): times and ratios."""
    names = list(runs)
    times = {name: [] for name in names}
    for i, feed in enumerate(batches):
        for name in names if i % 2 == 0 else names[::-1]:
            began = time.perf_counter()
            runs[name](feed)
            times[name].append(time.perf_counter() - began)
    first = np.array(times[names[0]])
    return {
        name: {
            "median_ms": 1000 * float(np.median(values)),
            "total_s": float(np.sum(values)),
            f"median ratio to {names[0]}": float(np.median(np.array(values) / first)),
        }
        for name, values in times.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--docs", type=int, default=96)
    parser.add_argument("--repeats", type=int, default=3, help="passes over the documents")
    args = parser.parse_args()
    folder = build_folder("base")
    tokenizer = TextTokenizer.from_file(folder / "tokenizer.json", max_length=512)
    fused = prepare_model(folder / "model.onnx", fused=True)
    with tempfile.TemporaryDirectory() as tmp:
        runs = {}
        for name, config in CONFIGS.items():
            quantize_graph(fused, Path(tmp) / name, config)
            s = session(Path(tmp) / name / "model.onnx", spinning=False)
            runs[name] = lambda feed, s=s: s.run(["pooled_logits"], feed)
        queries = feeds(tokenizer, sample_queries(args.queries), 1)
        corpus = load_corpus()
        docs = feeds(tokenizer, [corpus[i] for i in pick_docs(args.docs)], 32)
        for run in runs.values():  # warm: first runs pack weights and grow the arena
            run(queries[0])
            run(docs[-1])
        report = {
            "cpu": cpu_model(),
            "flags": cpu_flags(),
            "queries": turns(runs, queries),
            "documents (batches of at most 32)": turns(runs, docs * args.repeats),
        }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "int8_granularity.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
