"""The ``spladekit`` command line (also ``python -m spladekit``): one module per subcommand.

models     the known-model table
explain    a text's tokens and weights as an aligned table
encode     a file of texts → Parquet or JSONL vectors, streamed, resumable
eval       nDCG@k / MRR@10 / Recall@k on a BEIR folder
flags      the encoder's flags, made from spladekit.options
read       input records (JSONL, CSV, Parquet, plain-text lines)
write      output files (Parquet, JSONL): written to a part file, finished on close or interrupt

Exit status: 0 done; 2 the command cannot work as given (a bad flag or value, an input file
that cannot be read or parsed, a model that is not there or not a SPLADE model) — fix the
command; 1 it failed while running (ONNX Runtime, a missing optional package, the disk) —
fix the environment; 130 interrupted (what was finished is kept). Errors are one line on
stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from spladekit.cli import encode, explain, models
from spladekit.cli import eval as eval_command
from spladekit.errors import (
    InferenceError,
    MissingDependencyError,
    SpladeError,
)

__all__ = ["main"]

#: Exit status of a command that cannot work as given (argparse's own for bad usage).
USAGE = 2
#: Exit status of a command that failed while running.
FAILED = 1
#: Exit status after Ctrl-C or SIGTERM (128 + SIGINT).
INTERRUPTED = 130

_EPILOG = """\
examples:
  spladekit models
  spladekit explain prithivida/Splade_PP_en_v1 "Chandrayaan-3 is India's third lunar mission"
  spladekit encode prithivida/Splade_PP_en_v1 corpus.jsonl vectors.parquet --id-field _id \\
      --text-field title --text-field text
  spladekit eval prithivida/Splade_PP_en_v1 scifact/ --json scifact.json

MODEL is a Hub repo id, a known model name or a local folder. Run
'spladekit COMMAND --help' for a command's flags.
"""


class _Parser(argparse.ArgumentParser):
    """argparse, with a usage error said in one line (the usage is one --help away)."""

    def error(self, message: str) -> NoReturn:
        self.exit(USAGE, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every subcommand."""
    from spladekit import __version__

    parser = _Parser(
        prog="spladekit",
        description="SPLADE sparse vectors on ONNX Runtime: explain, encode and evaluate.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"spladekit {__version__}")
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="log what is being done to stderr"
    )
    commands = parser.add_subparsers(title="commands", dest="command", metavar="COMMAND")
    commands.required = True
    for module in (models, explain, encode, eval_command):
        module.add_parser(commands)
    return parser


def one_line(error: BaseException) -> str:
    """The error's message on one line (a model error may quote a multi-line listing)."""
    return " ".join(str(error).split()) or type(error).__name__


def exit_status(error: BaseException) -> int:
    """:data:`FAILED` for failures while running, :data:`USAGE` for what the user gave."""
    if isinstance(error, (InferenceError, MissingDependencyError)):
        return FAILED
    if isinstance(error, SpladeError):
        return USAGE
    return FAILED  # OSError while writing: the disk, not the command


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(message)s",
        stream=sys.stderr,
    )
    try:
        status: int = args.run(args)
    except KeyboardInterrupt:
        print(f"spladekit {args.command}: interrupted", file=sys.stderr)
        return INTERRUPTED
    except BrokenPipeError:  # e.g. `spladekit models | head -1`: the reader left, not an error
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so the exit-time flush does not fail again
        return 0
    except (SpladeError, OSError) as error:
        print(f"spladekit {args.command}: error: {one_line(error)}", file=sys.stderr)
        return exit_status(error)
    return status
