"""``spladekit eval MODEL DATASET_DIR``: retrieval quality on a BEIR folder, as a table.

The figures are :func:`spladekit.evaluate`'s (trec_eval definitions, exact scoring);
``--json`` also writes them, per-query figures included. A progress bar shows on a terminal.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from spladekit.cli.flags import add_encoder_flags, load_encoder, truncation_summary
from spladekit.errors import InputError
from spladekit.evaluation import evaluate

__all__ = ["add_parser", "run"]


def add_parser(commands: Any) -> None:
    """Register ``eval`` on the subcommand parser."""
    parser = commands.add_parser(
        "eval",
        help="measure nDCG@k, MRR@10 and Recall@k on a BEIR folder",
        description=(
            "Encode a BEIR folder's corpus, score every document exactly for each judged query "
            "of the split, and print nDCG@k, MRR@10 and Recall@k (trec_eval's definitions, as "
            "BEIR reports them), documents/s and peak memory."
        ),
        epilog="example: spladekit eval prithivida/Splade_PP_en_v1 scifact/ --json scifact.json",
    )
    parser.add_argument("model", metavar="MODEL", help="Hub repo id, known model name or folder")
    parser.add_argument(
        "dataset",
        metavar="DATASET_DIR",
        help="a BEIR folder: corpus.jsonl, queries.jsonl, qrels/SPLIT.tsv",
    )
    parser.add_argument("--split", default="test", help="the qrels file to use [default: test]")
    parser.add_argument(
        "--k-values",
        type=int,
        nargs="+",
        default=[1, 10, 100],
        metavar="K",
        help="cut-offs of nDCG@k and Recall@k [default: 1 10 100]",
    )
    parser.add_argument("--json", metavar="PATH", help="also write the result as JSON to PATH")
    add_encoder_flags(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Evaluate and print the table."""
    if args.json and not Path(args.json).resolve().parent.is_dir():
        msg = f"--json {args.json}: its folder does not exist"
        raise InputError(msg)  # said now, not after minutes of encoding
    encoder = load_encoder(args)
    with truncation_summary("texts"):
        result = evaluate(
            encoder,
            args.dataset,
            split=args.split,
            k_values=args.k_values,
            show_progress=sys.stderr.isatty(),
        )
    print(result)
    if args.json:
        result.to_json(args.json)
    return 0
