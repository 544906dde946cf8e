"""Output files for ``spladekit encode``: Parquet or JSONL rows of id, indices, values.

Rows go to ``OUTPUT.part`` one chunk at a time (a Parquet row group, or a block of JSONL
lines, each chunk written whole with SIGINT and SIGTERM held off) and the part file becomes
``OUTPUT`` only when it is complete: at the end, or when the run stops early (Ctrl-C, a bad
record), with every chunk finished so far and no partial row. So ``OUTPUT`` is always a
readable file; a hard kill (SIGKILL, power loss) leaves the previous ``OUTPUT`` as it was.
``--resume`` copies the rows already in ``OUTPUT`` into the new part file and skips their ids.

The Parquet schema is :func:`spladekit.arrow.vector_schema`'s: ``id`` (int64 positions or
string ids), ``indices`` ``list<int32>``, ``values`` ``list<float32>``. JSONL rows hold the
same three keys; weights are written in float32's shortest form, which reads back exactly.
"""

from __future__ import annotations

import abc
import json
import logging
import os
import signal
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, Literal

from spladekit.arrow import to_arrays, vector_schema
from spladekit.errors import InputError, require
from spladekit.vector import SparseVector

__all__ = ["OUTPUT_FORMATS", "Writer", "held_signals", "open_writer", "output_format"]

logger = logging.getLogger("spladekit.cli")

IdKind = Literal["int", "str"]
#: Output formats and the file endings that name them.
OUTPUT_FORMATS = {"parquet": (".parquet", ".pq"), "jsonl": (".jsonl", ".ndjson")}


def output_format(path: str, given: str | None) -> str:
    """*given*, or the format *path*'s ending names."""
    if given is not None:
        return given
    suffix = Path(path).suffix.lower()
    for name, endings in OUTPUT_FORMATS.items():
        if suffix in endings:
            return name
    msg = f"cannot tell the output format of {path} from its ending; name it .parquet or .jsonl, or give --output-format"
    raise InputError(msg)


@contextmanager
def held_signals() -> Iterator[None]:
    """Hold SIGINT and SIGTERM off while the block runs; act on them (KeyboardInterrupt) after.

    Only the main thread may change signal handlers; elsewhere the block just runs.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pending: list[int] = []

    def hold(signum: int, frame: object) -> None:
        pending.append(signum)

    previous = {s: signal.signal(s, hold) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        if pending:
            raise KeyboardInterrupt


class Writer(abc.ABC):
    """Rows of one output, written to ``OUTPUT.part`` and moved to ``OUTPUT`` by :meth:`finish`."""

    def __init__(self, path: Path, id_kind: IdKind) -> None:
        self.path = path
        self.part = path.with_name(path.name + ".part")
        self.id_kind = id_kind
        self.rows = 0

    @abc.abstractmethod
    def write(self, ids: Sequence[str | int], vectors: Sequence[SparseVector]) -> None:
        """Append one chunk of rows."""

    @abc.abstractmethod
    def resume(self) -> set[str | int]:
        """Copy the rows of an existing ``OUTPUT`` into the part file; their ids."""

    @abc.abstractmethod
    def close(self) -> None:
        """Close the part file (complete and readable from here on)."""

    def finish(self) -> None:
        """Close the part file and put it in place of ``OUTPUT``."""
        self.close()
        os.replace(self.part, self.path)

    def discard(self) -> None:
        """Close and remove the part file (nothing worth keeping was written)."""
        self.close()
        self.part.unlink(missing_ok=True)

    def _wrong_kind(self, found: str) -> InputError:
        wanted = "row positions (no --id-field)" if self.id_kind == "int" else "--id-field values"
        return InputError(
            f"{self.path} holds {found} ids, but this run writes {wanted}; resume with the flags of the first run"
        )


class ParquetWriter(Writer):
    """One Parquet row group per chunk."""

    def __init__(self, path: Path, id_kind: IdKind) -> None:
        super().__init__(path, id_kind)
        require("pyarrow", "parquet")
        import pyarrow as pa
        import pyarrow.parquet as pq

        self._pa = pa
        self.schema = vector_schema(
            [pa.field("id", pa.int64() if id_kind == "int" else pa.string())]
        )
        self._file = pq.ParquetWriter(str(self.part), self.schema)

    def write(self, ids: Sequence[str | int], vectors: Sequence[SparseVector]) -> None:
        """Append one chunk as one row group."""
        pa = self._pa
        indices, values = to_arrays(vectors)
        column = pa.array(ids, type=self.schema.field("id").type)
        table = pa.Table.from_arrays([column, indices, values], schema=self.schema)
        self._file.write_table(table, row_group_size=max(1, len(ids)))
        self.rows += len(ids)

    def resume(self) -> set[str | int]:
        """Copy the existing file's row groups; their ids."""
        import pyarrow.parquet as pq

        try:
            source = pq.ParquetFile(str(self.path))
        except (OSError, ValueError) as error:  # pyarrow: ArrowIOError, ArrowInvalid
            msg = f"cannot resume {self.path}: it is not a readable Parquet file ({error})"
            raise InputError(msg) from error
        if source.schema_arrow.names != self.schema.names:
            msg = f"cannot resume {self.path}: its columns are {source.schema_arrow.names}, not {self.schema.names}"
            raise InputError(msg)
        if source.schema_arrow.field("id").type != self.schema.field("id").type:
            raise self._wrong_kind(str(source.schema_arrow.field("id").type))
        done: set[str | int] = set()
        for group in range(source.num_row_groups):
            table = source.read_row_group(group).cast(self.schema)
            self._file.write_table(table, row_group_size=max(1, table.num_rows))
            done.update(table.column("id").to_pylist())
            self.rows += table.num_rows
        return done

    def close(self) -> None:
        """Write the footer."""
        self._file.close()


class JsonlWriter(Writer):
    """One JSON object per line, flushed after every chunk."""

    def __init__(self, path: Path, id_kind: IdKind) -> None:
        super().__init__(path, id_kind)
        self._file: IO[str] = self.part.open("w", encoding="utf-8")

    def write(self, ids: Sequence[str | int], vectors: Sequence[SparseVector]) -> None:
        """Append one chunk of lines."""
        lines = [_jsonl_row(doc, vector) for doc, vector in zip(ids, vectors, strict=True)]
        self._file.write("".join(lines))
        self._file.flush()
        self.rows += len(ids)

    def resume(self) -> set[str | int]:
        """Copy the existing lines; their ids."""
        done: set[str | int] = set()
        kind: type = int if self.id_kind == "int" else str
        try:
            with self.path.open(encoding="utf-8") as source:
                for number, line in enumerate(source, start=1):
                    found: str | int = _parsed(line, self.path, number)["id"]
                    if type(found) is not kind:
                        raise self._wrong_kind(type(found).__name__)
                    done.add(found)
                    self._file.write(line if line.endswith("\n") else line + "\n")
                    self.rows += 1
        except (OSError, UnicodeDecodeError) as error:
            msg = f"cannot resume {self.path}: {error}"
            raise InputError(msg) from error
        self._file.flush()
        return done

    def close(self) -> None:
        """Close the file."""
        self._file.close()


def _jsonl_row(doc: str | int, vector: SparseVector) -> str:
    indices = ", ".join(map(str, vector.indices.tolist()))
    values = ", ".join(vector.values.astype(str).tolist())  # float32's shortest round-trip form
    return f'{{"id": {json.dumps(doc)}, "indices": [{indices}], "values": [{values}]}}\n'


def _parsed(line: str, path: Path, number: int) -> dict[str, Any]:
    try:
        row = json.loads(line)
    except ValueError as error:
        msg = f"cannot resume {path}: line {number} is not JSON ({error})"
        raise InputError(msg) from error
    if not isinstance(row, dict) or not {"id", "indices", "values"} <= set(row):
        msg = f"cannot resume {path}: line {number} is not a row of spladekit encode"
        raise InputError(msg)
    return row


def open_writer(path: Path, fmt: str, id_kind: IdKind) -> Writer:
    """A writer of *fmt* whose part file sits beside *path*."""
    if fmt == "parquet":
        return ParquetWriter(path, id_kind)
    return JsonlWriter(path, id_kind)
