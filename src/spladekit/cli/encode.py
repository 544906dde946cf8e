"""``spladekit encode MODEL INPUT OUTPUT``: a file of texts → a file of sparse vectors.

Streaming: records are read, encoded and written a chunk at a time (``--chunk-size``, one
Parquet row group each), so memory stays bounded whatever the input's size. Chunks are cut
by input position, so a resumed run encodes exactly the batches an uninterrupted one would
and writes the same rows. Interrupting (Ctrl-C, SIGTERM) or a bad record keeps every chunk
finished so far in OUTPUT (see :mod:`spladekit.cli.write`); ``--resume`` continues it. A
progress bar with documents/s and ETA shows when stderr is a terminal.
"""

from __future__ import annotations

import argparse
import itertools
import logging
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from spladekit.cli.flags import add_encoder_flags, load_encoder, truncation_summary
from spladekit.cli.read import FORMATS, Record, count_records, input_format, read_records
from spladekit.cli.write import OUTPUT_FORMATS, Writer, held_signals, open_writer, output_format
from spladekit.encoder import SORT_CHUNK, SpladeEncoder
from spladekit.errors import InputError

__all__ = ["add_parser", "run"]

logger = logging.getLogger("spladekit.cli")

_EPILOG = """\
examples:
  spladekit encode MODEL corpus.jsonl vectors.parquet --id-field _id --text-field title --text-field text
  spladekit encode MODEL notes.txt vectors.jsonl          # one text per line, ids 0, 1, 2, ...
  cat notes.txt | spladekit encode MODEL - vectors.parquet
  spladekit encode MODEL corpus.jsonl vectors.parquet --id-field _id --resume   # after Ctrl-C
"""


def add_parser(commands: Any) -> None:
    """Register ``encode`` on the subcommand parser."""
    parser = commands.add_parser(
        "encode",
        help="encode a file of texts into a Parquet or JSONL file of vectors",
        description=(
            "Encode every text of INPUT (JSONL, CSV, TSV, Parquet or plain-text lines; '-'\n"
            "reads stdin) and write one row per text to OUTPUT (.parquet or .jsonl):\n"
            "id, indices (list<int32>), values (list<float32>)."
        ),
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("model", metavar="MODEL", help="Hub repo id, known model name or folder")
    parser.add_argument("input", metavar="INPUT", help="the texts ('-': stdin)")
    parser.add_argument("output", metavar="OUTPUT", help="the vectors (.parquet or .jsonl)")
    parser.add_argument(
        "--text-field",
        action="append",
        metavar="FIELD",
        help="field (column) holding the text; repeat it to join several with a space, e.g. "
        "--text-field title --text-field text [default: text]",
    )
    parser.add_argument(
        "--id-field",
        metavar="FIELD",
        help="field (column) holding each row's id, written as a string [default: the row's "
        "position, 0, 1, 2, ...]",
    )
    parser.add_argument(
        "--input-format", choices=list(FORMATS), help="[default: from INPUT's ending]"
    )
    parser.add_argument(
        "--output-format", choices=list(OUTPUT_FORMATS), help="[default: from OUTPUT's ending]"
    )
    parser.add_argument(
        "--chunk-size",
        type=int,
        default=SORT_CHUNK,
        metavar="N",
        help="texts encoded and written together (a Parquet row group); an interrupted run "
        f"keeps every finished chunk [default: {SORT_CHUNK}]",
    )
    again = parser.add_mutually_exclusive_group()
    again.add_argument(
        "--resume",
        action="store_true",
        help="OUTPUT exists from an interrupted run: keep its rows and encode only the ids not there",
    )
    again.add_argument("--overwrite", action="store_true", help="replace an existing OUTPUT")
    add_encoder_flags(parser)
    parser.set_defaults(run=run)


def _check(args: argparse.Namespace) -> tuple[str, str, Path]:
    """Formats and output path, refused before any model loads."""
    output = Path(args.output)
    if output.is_dir():
        msg = f"OUTPUT {output} is a folder; give a file name ending in .parquet or .jsonl"
        raise InputError(msg)
    in_format = input_format(args.input, args.input_format)
    out_format = output_format(args.output, args.output_format)
    if in_format == "text" and (args.text_field or args.id_field):
        msg = "plain-text input has one text per line and no fields: drop --text-field / --id-field, or give --input-format"
        raise InputError(msg)
    if args.chunk_size < 1:
        msg = f"--chunk-size must be a positive integer, got {args.chunk_size}"
        raise InputError(msg)
    if not output.resolve().parent.is_dir():
        msg = f"cannot write {output}: its folder does not exist"
        raise InputError(msg)
    if output.exists() and not (args.resume or args.overwrite):
        msg = f"{output} exists; pass --resume to continue it or --overwrite to replace it"
        raise InputError(msg)
    if args.input != "-" and Path(args.input).resolve() == output.resolve():
        msg = "INPUT and OUTPUT are the same file"
        raise InputError(msg)
    return in_format, out_format, output


def _chunks(records: Iterator[Record], size: int) -> Iterator[list[Record]]:
    while chunk := list(itertools.islice(records, size)):
        yield chunk


def _encode(
    encoder: SpladeEncoder,
    records: Iterator[Record],
    writer: Writer,
    kept: set[str | int],
    *,
    size: int,
    total: int | None,
) -> int:
    """Encode and write every record whose id is not in *kept*; the number written."""
    from tqdm.auto import tqdm

    seen: set[str | int] = set()
    written = 0
    show = sys.stderr.isatty()
    with tqdm(
        total=total, unit="doc", disable=not show, file=sys.stderr, dynamic_ncols=True
    ) as bar:
        for chunk in _chunks(records, size):
            todo: list[Record] = []
            for record in chunk:
                if record.id in seen:
                    msg = f"id {record.id!r} appears twice in the input; ids must be unique"
                    raise InputError(msg)
                seen.add(record.id)
                if record.id not in kept:
                    todo.append(record)
            if todo:
                vectors = encoder.encode_documents([record.text for record in todo])
                with held_signals():
                    writer.write([record.id for record in todo], vectors)
                written += len(todo)
                logger.info("wrote %d rows to %s", writer.rows, writer.part)
            bar.update(len(chunk))
    return written


def run(args: argparse.Namespace) -> int:
    """Encode INPUT into OUTPUT."""
    in_format, out_format, output = _check(args)
    encoder = load_encoder(args)
    if encoder.long_documents == "best-window":
        msg = "encode writes one vector per text; --long-documents best-window has several per long text: use truncate or window"
        raise InputError(msg)
    records = read_records(
        args.input, in_format, text_fields=args.text_field or ["text"], id_field=args.id_field
    )
    total = count_records(args.input, in_format) if sys.stderr.isatty() else None
    start = time.perf_counter()
    writer = open_writer(output, out_format, "int" if args.id_field is None else "str")
    previous = signal.signal(signal.SIGTERM, _interrupt)  # a kill is a Ctrl-C: keep what is done
    kept: int | None = None  # rows copied from an earlier run, once the copy is complete
    try:
        with held_signals():  # the copy is all or nothing
            done = writer.resume() if args.resume and output.exists() else set()
        kept = len(done)
        with truncation_summary("documents"):
            written = _encode(encoder, records, writer, done, size=args.chunk_size, total=total)
    except BaseException:
        with held_signals():
            if kept is not None and writer.rows > kept:
                writer.finish()
                logger.warning(
                    "%s keeps the %d rows finished (%d new); run the same command with --resume to go on",
                    output,
                    writer.rows,
                    writer.rows - kept,
                )
            else:  # nothing new: OUTPUT stays as it was (or absent)
                writer.discard()
        raise
    finally:
        signal.signal(signal.SIGTERM, previous)
    with held_signals():
        writer.finish()
    seconds = time.perf_counter() - start
    rate = written / seconds if seconds > 0 else 0.0
    print(
        f"{output}: {writer.rows} rows ({written} encoded, {kept} kept from before) "
        f"in {seconds:.1f} s, {rate:.1f} documents/s"
    )
    return 0


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt
