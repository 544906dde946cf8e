"""Input records for ``spladekit encode``: JSONL, CSV/TSV, Parquet or plain-text lines, streamed.

Every format yields :class:`Record` (an id and a text) one at a time, so a file of any size
is read with bounded memory. The text is one field, or several joined by a space (BEIR's
``title`` + ``text``); the id is a field's value (as a string) or, with no ``--id-field``,
the record's position (0-based). A record that lacks a field, or holds a non-text value,
is an :class:`~spladekit.errors.InputError` naming the file and line (or row).
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from spladekit.errors import InputError, require

__all__ = ["FORMATS", "Record", "count_records", "input_format", "read_records"]

#: Input formats and the file endings that name them.
FORMATS = {
    "jsonl": (".jsonl", ".ndjson"),
    "csv": (".csv",),
    "tsv": (".tsv",),
    "parquet": (".parquet", ".pq"),
    "text": (".txt",),
}
#: Rows read from a Parquet file at a time.
_PARQUET_BATCH = 1024


@dataclass(frozen=True)
class Record:
    """One input text and its id."""

    id: str | int
    text: str


def input_format(path: str, given: str | None) -> str:
    """*given*, or the format *path*'s ending names (stdin, ``-``, is plain-text lines)."""
    if given is not None:
        return given
    if path == "-":
        return "text"
    suffix = Path(path).suffix.lower()
    for name, endings in FORMATS.items():
        if suffix in endings:
            return name
    msg = f"cannot tell the format of {path} from its ending; give --input-format ({', '.join(FORMATS)})"
    raise InputError(msg)


def _open(path: str) -> IO[str]:
    if path == "-":
        return sys.stdin
    try:
        return open(path, encoding="utf-8", newline="")  # closed by _lines
    except OSError as error:
        msg = f"cannot read {path}: {error.strerror or error}"
        raise InputError(msg) from error


def _lines(path: str) -> Iterator[tuple[int, str]]:
    handle = _open(path)
    try:
        yield from enumerate(handle, start=1)
    except UnicodeDecodeError as error:
        msg = f"{path} is not UTF-8 text: {error}"
        raise InputError(msg) from error
    except OSError as error:  # a folder opens on some systems and fails on read
        msg = f"cannot read {path}: {error.strerror or error}"
        raise InputError(msg) from error
    finally:
        if handle is not sys.stdin:
            handle.close()


class _Fields:
    """Picks the id and the text out of one record, naming its place when something is off."""

    def __init__(self, path: str, text_fields: Sequence[str], id_field: str | None) -> None:
        self.path, self.text_fields, self.id_field = path, list(text_fields), id_field

    def record(self, row: dict[str, Any], position: int, where: str) -> Record:
        texts = [self._value(row, name, where, text=True) for name in self.text_fields]
        text = texts[0] if len(texts) == 1 else " ".join(texts).strip()
        if self.id_field is None:
            return Record(position, text)
        return Record(self._value(row, self.id_field, where, text=False), text)

    def _value(self, row: dict[str, Any], name: str, where: str, *, text: bool) -> str:
        if name not in row or row[name] is None:
            fields = ", ".join(repr(k) for k in row if k is not None) or "none"
            missing = "no value for" if name in row else "no"
            msg = f"{self.path} {where} has {missing} {name!r} field (it has {fields}); choose one with --{'text' if text else 'id'}-field"
            raise InputError(msg)
        value = row[name]
        if isinstance(value, str):
            return value
        if not text and isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        kind = "text" if text else "id"
        msg = f"{self.path} {where}: {name!r} must be a string to be used as the {kind}, got {type(value).__name__} {str(value)[:40]!r}"
        raise InputError(msg)


def _jsonl(path: str, fields: _Fields) -> Iterator[Record]:
    position = 0
    for number, line in _lines(path):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError as error:
            msg = f"{path} line {number} is not JSON: {error}"
            raise InputError(msg) from error
        if not isinstance(row, dict):
            msg = f"{path} line {number} must be a JSON object, got {type(row).__name__}"
            raise InputError(msg)
        yield fields.record(row, position, f"line {number}")
        position += 1


def _csv(path: str, fields: _Fields, delimiter: str) -> Iterator[Record]:
    lines = (line for _, line in _lines(path))
    reader = csv.DictReader(lines, delimiter=delimiter)
    try:
        header = reader.fieldnames
        if header is None:
            return
        wanted = [*fields.text_fields, *([fields.id_field] if fields.id_field else [])]
        missing = [name for name in wanted if name not in header]
        if missing:
            msg = f"{path} has no {' or '.join(map(repr, missing))} column (its columns: {', '.join(map(repr, header))})"
            raise InputError(msg)
        for position, row in enumerate(reader):
            yield fields.record(row, position, f"line {reader.line_num}")
    except csv.Error as error:
        msg = f"{path} line {reader.line_num} is not valid CSV: {error}"
        raise InputError(msg) from error


def _parquet(path: str, fields: _Fields) -> Iterator[Record]:
    require("pyarrow", "parquet")
    import pyarrow.parquet as pq

    if path == "-":
        msg = "Parquet cannot be read from stdin; give the file's path"
        raise InputError(msg)
    try:
        source = pq.ParquetFile(path)
    except (OSError, ValueError) as error:  # pyarrow: ArrowIOError, ArrowInvalid (not Parquet)
        msg = f"cannot read {path} as Parquet: {error}"
        raise InputError(msg) from error
    columns = [*fields.text_fields, *([fields.id_field] if fields.id_field else [])]
    names = source.schema_arrow.names
    missing = [name for name in columns if name not in names]
    if missing:
        msg = f"{path} has no {' or '.join(map(repr, missing))} column (its columns: {', '.join(map(repr, names))})"
        raise InputError(msg)
    position = 0
    batches = source.iter_batches(batch_size=_PARQUET_BATCH, columns=list(dict.fromkeys(columns)))
    while True:
        try:
            batch = next(batches, None)
        except (OSError, ValueError) as error:  # a damaged row group
            msg = f"cannot read {path} after row {position}: {error}"
            raise InputError(msg) from error
        if batch is None:
            return
        data = batch.to_pydict()
        for row in range(batch.num_rows):
            values = {name: data[name][row] for name in data}
            yield fields.record(values, position, f"row {position}")
            position += 1


def _text(path: str) -> Iterator[Record]:
    for number, line in _lines(path):
        yield Record(number - 1, line.rstrip("\r\n"))


def read_records(
    path: str, fmt: str, *, text_fields: Sequence[str], id_field: str | None
) -> Iterator[Record]:
    """The records of *path* (``-``: stdin) in order, read lazily."""
    fields = _Fields(path, text_fields, id_field)
    if fmt == "jsonl":
        return _jsonl(path, fields)
    if fmt in ("csv", "tsv"):
        return _csv(path, fields, "," if fmt == "csv" else "\t")
    if fmt == "parquet":
        return _parquet(path, fields)
    return _text(path)


def count_records(path: str, fmt: str) -> int | None:
    """How many records *path* holds, for a progress bar's ETA (None if it cannot say cheaply)."""
    if path == "-":
        return None
    try:
        if fmt == "parquet":
            import pyarrow.parquet as pq

            return int(pq.ParquetFile(path).metadata.num_rows)
        if fmt in ("csv", "tsv"):
            with open(path, encoding="utf-8", newline="") as handle:
                return max(
                    0,
                    sum(1 for _ in csv.reader(handle, delimiter="," if fmt == "csv" else "\t")) - 1,
                )
        with open(path, "rb") as handle:
            return _count_lines(handle, blank_lines=fmt == "text")
    except (OSError, ValueError, csv.Error):
        return None  # the reader says what is wrong; the bar only loses its total


def _count_lines(handle: Iterable[bytes], *, blank_lines: bool) -> int:
    return sum(1 for line in handle if blank_lines or line.strip())
