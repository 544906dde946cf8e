"""Documents/s at several ``token_budget`` values: what decided the default (1024).

    flock /work/bench.lock python benchmarks/token_budget.py [--budgets 1024,768,512,1536,2048]

The benchmark's BERT-base model (spladekit's default graph: prepared, exact fp32) encodes the
benchmark's 96 SciFact documents in batches planned within each budget. Batches differ from
one budget to the next, so the passes, not the batches, take turns: one whole pass per
budget, the order reversed each round, and each pass's time is divided by the first
budget's in the same round. Writes benchmarks/results/token_budget.json.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent / "src"))

from build_model import build_folder  # noqa: E402
from corpus import load_corpus  # noqa: E402
from levers import session  # noqa: E402
from machine import cpu_flags, cpu_model  # noqa: E402
from paired import feeds, save  # noqa: E402
from run import pick_docs  # noqa: E402
from spladekit.model.prepare import prepare_model  # noqa: E402
from spladekit.pipeline.tokenize import TextTokenizer  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--budgets", default="1024,768,512,1536,2048")
    parser.add_argument("--docs", type=int, default=96)
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    budgets = [int(b) for b in args.budgets.split(",")]
    folder = build_folder("base")
    tokenizer = TextTokenizer.from_file(folder / "tokenizer.json", max_length=512)
    corpus = load_corpus()
    texts = [corpus[i] for i in pick_docs(args.docs)]
    plans = {b: feeds(tokenizer, texts, 256, token_budget=b) for b in budgets}
    s = session(prepare_model(folder / "model.onnx"))
    for plan in plans.values():
        s.run(["pooled_logits"], plan[-1])  # warm: the arena grown for the largest batch
    seconds: dict[int, list[float]] = {b: [] for b in budgets}
    for turn in range(args.rounds):
        for budget in budgets if turn % 2 == 0 else budgets[::-1]:
            began = time.perf_counter()
            for feed in plans[budget]:
                s.run(["pooled_logits"], feed)
            seconds[budget].append(time.perf_counter() - began)
    first = np.array(seconds[budgets[0]])
    report = {
        "cpu": cpu_model(),
        "flags": cpu_flags(),
        "documents": len(texts),
        "budgets": {
            str(b): {
                "runs": len(plans[b]),
                "best documents/s": len(texts) / min(seconds[b]),
                f"median time per pass / {budgets[0]}'s": float(
                    np.median(np.array(seconds[b]) / first)
                ),
            }
            for b in budgets
        },
    }
    save(report, "token_budget.json")


if __name__ == "__main__":
    main()
