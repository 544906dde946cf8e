"""``spladekit explain MODEL TEXT``: the tokens a text's vector holds, with their weights.

Expansion terms — words the text does not contain — show up too: that is SPLADE at work.
``--top-k`` prunes the vector to its k largest weights, which is also what is shown.
"""

from __future__ import annotations

import argparse
from typing import Any

from spladekit.cli.flags import add_encoder_flags, load_encoder, truncation_summary

__all__ = ["add_parser", "run"]


def add_parser(commands: Any) -> None:
    """Register ``explain`` on the subcommand parser."""
    parser = commands.add_parser(
        "explain",
        help="show a text's tokens and weights",
        description=(
            "Encode TEXT and print its tokens and weights, highest first, as an aligned table."
        ),
    )
    parser.add_argument("model", metavar="MODEL", help="Hub repo id, known model name or folder")
    parser.add_argument("text", metavar="TEXT", help="the text to encode")
    parser.add_argument(
        "--query",
        action="store_true",
        help="encode TEXT as a query (the query path: same model, query model or idf table)",
    )
    add_encoder_flags(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Print the table."""
    encoder = load_encoder(args)
    with truncation_summary("text(s)"):
        subject = encoder.encode_query(args.text) if args.query else args.text
        explanation = encoder.explain(subject, top_k=encoder.top_k)
    print(explanation)
    return 0
