"""Two sessions in one process taking turns: the paired method of the lever benchmarks.

The machines here change speed by up to ~30 % from second to second (other tenants), more
than most levers move, so ``int8_granularity.py``, ``huge_pages.py``, ``packed_qkv.py`` and
``bias_gelu.py`` hold both graphs (sessions of ``levers.session``) in one process and run
them on the same input a moment apart, query by query and batch by batch, the order
flipping each time; each time is compared with the other session's on the same input, and
the median of those ratios is reported. Idle threads do not spin there
(``session.intra_op.allow_spinning=0``): two spinning pools in one process take each
other's cores.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent / "src"))

from base_checkpoint import build_checkpoint  # noqa: E402
from build_model import build_folder  # noqa: E402
from corpus import load_corpus, sample_queries  # noqa: E402
from run import pick_docs  # noqa: E402
from spladekit.model.build import build_model  # noqa: E402
from spladekit.model.prepare import prepare_model  # noqa: E402
from spladekit.options import resolve_options  # noqa: E402
from spladekit.pipeline.batch import plan_batches  # noqa: E402
from spladekit.pipeline.run import POOLED_OUTPUT  # noqa: E402
from spladekit.pipeline.tokenize import TextTokenizer  # noqa: E402

Feed = dict[str, np.ndarray]
Run = Callable[[Feed], np.ndarray]


def feeds(
    tokenizer: TextTokenizer, texts: list[str], rows: int, token_budget: int | None = None
) -> list[dict[str, np.ndarray]]:
    """The model inputs spladekit makes of *texts*: its tokenizer and batches, ≤ *rows* each
    within *token_budget* padded tokens (the default's unless given)."""
    defaults = resolve_options({}, "paired")
    segments = tokenizer.segment_texts(  # no windows: truncated as encode_documents does
        texts, windows=False, stride=tokenizer.content_length, offset=0, what="texts"
    )
    return [
        {
            "input_ids": batch.input_ids,
            "attention_mask": batch.attention_mask,
            "token_type_ids": np.zeros_like(batch.input_ids),
        }
        for batch in plan_batches(
            segments.ids, token_budget=token_budget or defaults["token_budget"], max_rows=rows
        )
    ]


def pooled_runs(sessions: dict[str, Any]) -> dict[str, Run]:
    """Each session (levers.session, idle threads not spinning) as one feed → its pooled logits,
    given only the inputs it takes (a built graph has no token_type_ids)."""

    def pooled(session: Any) -> Run:
        names = [i.name for i in session.get_inputs()]
        return lambda feed: session.run([POOLED_OUTPUT], {k: feed[k] for k in names})[0]

    return {name: pooled(s) for name, s in sessions.items()}


def taken(session: Any, feeds: list[Feed]) -> list[Feed]:
    """*feeds* with only the inputs *session* takes, for a session run directly."""
    names = {i.name for i in session.get_inputs()}
    return [{k: v for k, v in feed.items() if k in names} for feed in feeds]


def max_differences(runs: dict[str, Run], feeds: list[Feed]) -> dict[str, float]:
    """Per session after the first: the max |Δ| of its pooled logits from the first's on *feeds*."""
    first, *others = runs
    worst = dict.fromkeys(others, 0.0)
    for feed in feeds:
        reference = runs[first](feed)
        for name in others:
            worst[name] = max(worst[name], float(np.abs(runs[name](feed) - reference).max()))
    return worst


def same_vectors(runs: dict[str, Run], feeds: list[Feed]) -> bool:
    """Whether every session gives the first one's pooled logits bit for bit on *feeds*."""
    return all(d == 0 for d in max_differences(runs, feeds).values())


def turns(runs: dict[str, Run], batches: list[Feed]) -> dict[str, Any]:
    """Each batch through every session in turn (order flipped each batch): times and ratios."""
    names = list(runs)
    times: dict[str, list[float]] = {name: [] for name in names}
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


def arguments(description: str, repeats: int) -> argparse.Namespace:
    """--queries, --docs and --repeats (passes over the documents), as every paired script has."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--docs", type=int, default=96)
    parser.add_argument("--repeats", type=int, default=repeats, help="passes over the documents")
    return parser.parse_args()


def workload(
    args: argparse.Namespace,
) -> tuple[Path, list[dict[str, np.ndarray]], list[dict[str, np.ndarray]]]:
    """The BERT-base benchmark folder, its single-query feeds and its document batches (≤ 32)."""
    folder = build_folder("base")
    tokenizer = TextTokenizer.from_file(folder / "tokenizer.json", max_length=512)
    queries = feeds(tokenizer, sample_queries(args.queries), 1)
    corpus = load_corpus()
    docs = feeds(tokenizer, [corpus[i] for i in pick_docs(args.docs)], 32)
    return folder, queries, docs


def fp32_graphs(folder: Path) -> dict[str, Path]:
    """The fp32 graphs spladekit runs of the benchmark model: its export prepared exact (the
    default) and fused, and fused built from the same weights as safetensors."""
    weights = build_checkpoint("base")
    return {
        "prepared, exact (the default)": prepare_model(folder / "model.onnx"),
        "prepared, fused": prepare_model(folder / "model.onnx", fused=True),
        "built from safetensors, fused": build_model(
            weights / "config.json", weights / "model.safetensors", fused=True
        ),
    }


def measure(
    runs: dict[str, Run], queries: list[Feed], docs: list[Feed], repeats: int
) -> dict[str, Any]:
    """Warm each session (its first runs pack weights, grow the arena), then both in turns."""
    for run in runs.values():
        run(queries[0])
        run(docs[-1])
    return {
        "queries": turns(runs, queries),
        "documents (batches of at most 32)": turns(runs, docs * repeats),
    }


def save(report: dict[str, Any], name: str) -> None:
    """Write *report* to benchmarks/results/*name* and print it."""
    results = BENCH / "results"
    results.mkdir(exist_ok=True)
    (results / name).write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
