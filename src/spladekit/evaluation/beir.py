"""Read a BEIR-format folder: ``corpus.jsonl``, ``queries.jsonl``, ``qrels/<split>.tsv``.

The layout and conventions are BEIR's ``GenericDataLoader``'s: a document's text is
``title + " " + text``, stripped; a qrels file is tab-separated ``query-id corpus-id score``
with a header line; only the queries judged in the split are evaluated, in the qrels' order.
Anything malformed is an :class:`~spladekit.errors.InputError` naming the file and line.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spladekit.errors import InputError

__all__ = ["BeirDataset", "load_beir"]

_LAYOUT = "a BEIR folder holds corpus.jsonl, queries.jsonl and qrels/<split>.tsv"


@dataclass(frozen=True)
class BeirDataset:
    """A BEIR split in memory: the corpus in file order, the judged queries and their qrels."""

    path: Path
    split: str
    doc_ids: list[str]
    texts: list[str]
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]


def _open_lines(path: Path) -> Iterator[tuple[int, str]]:
    """Numbered non-blank lines of a UTF-8 file; unreadable files are InputErrors."""
    try:
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if line.strip():
                    yield number, line
    except (OSError, UnicodeDecodeError) as error:
        msg = f"cannot read {path}: {error}"
        raise InputError(msg) from error


def _records(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    for number, line in _open_lines(path):
        try:
            record = json.loads(line)
        except ValueError as error:
            msg = f"{path} line {number} is not JSON: {error}"
            raise InputError(msg) from error
        if not isinstance(record, dict):
            msg = f"{path} line {number} must be a JSON object, got {type(record).__name__}"
            raise InputError(msg)
        yield number, record


def _field(
    record: dict[str, Any], name: str, path: Path, number: int, *, default: Any = None
) -> str:
    value = record.get(name, default)
    if value is None:
        msg = f"{path} line {number} has no {name!r} field (it has {', '.join(map(repr, record)) or 'none'})"
        raise InputError(msg)
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        msg = f"{path} line {number}: {name!r} must be a string, got {type(value).__name__}"
        raise InputError(msg)
    return str(value)


def read_corpus(path: Path) -> tuple[list[str], list[str]]:
    """Doc ids and texts (``title + " " + text``, stripped), in file order; ids must be unique."""
    ids: list[str] = []
    texts: list[str] = []
    seen: dict[str, int] = {}
    for number, record in _records(path):
        doc_id = _field(record, "_id", path, number)
        if doc_id in seen:
            msg = f"{path} line {number} repeats _id {doc_id!r} (first on line {seen[doc_id]})"
            raise InputError(msg)
        seen[doc_id] = number
        title = _field(record, "title", path, number, default="")
        text = _field(record, "text", path, number)
        ids.append(doc_id)
        texts.append(f"{title} {text}".strip())
    return ids, texts


def read_queries(path: Path) -> dict[str, str]:
    """Query id → text."""
    return {
        _field(record, "_id", path, number): _field(record, "text", path, number)
        for number, record in _records(path)
    }


def read_qrels(path: Path) -> dict[str, dict[str, int]]:
    """Query id → {doc id: relevance}; the header line (a non-integer score) is skipped."""
    qrels: dict[str, dict[str, int]] = {}
    for number, line in _open_lines(path):
        cells = line.rstrip("\r\n").split("\t")
        if len(cells) != 3:
            msg = f"{path} line {number} must be 'query-id<TAB>corpus-id<TAB>score', got {line.strip()!r}"
            raise InputError(msg)
        query, doc, score = (cell.strip() for cell in cells)
        try:
            level = int(score)
        except ValueError:
            if number == 1 and not qrels:  # the header: query-id corpus-id score
                continue
            msg = f"{path} line {number}: the score must be an integer, got {score!r}"
            raise InputError(msg) from None
        qrels.setdefault(query, {})[doc] = level
    return qrels


def load_beir(dataset_dir: str | os.PathLike[str], split: str = "test") -> BeirDataset:
    """The corpus, the queries judged in *split* and their qrels, checked against each other."""
    if not isinstance(dataset_dir, (str, os.PathLike)):
        msg = f"dataset_dir must be a folder path, got {type(dataset_dir).__name__}"
        raise InputError(msg)
    if not isinstance(split, str) or not split:
        msg = f"split must be a non-empty string (test, dev, train, ...), got {split!r}"
        raise InputError(msg)
    root = Path(dataset_dir)
    if not root.is_dir():
        msg = f"{root} is not a folder; {_LAYOUT}"
        raise InputError(msg)
    wanted = [root / "corpus.jsonl", root / "queries.jsonl"]
    missing = [p.name for p in wanted if not p.is_file()]
    if missing:
        msg = f"{root} has no {' or '.join(missing)}; {_LAYOUT}"
        raise InputError(msg)
    qrels_path = root / "qrels" / f"{split}.tsv"
    if not qrels_path.is_file():
        splits = sorted(p.stem for p in (root / "qrels").glob("*.tsv"))
        msg = f"{root} has no qrels/{split}.tsv (splits there: {', '.join(splits) or 'none'})"
        raise InputError(msg)
    doc_ids, texts = read_corpus(wanted[0])
    all_queries = read_queries(wanted[1])
    qrels = read_qrels(qrels_path)
    unknown = [query for query in qrels if query not in all_queries]
    if unknown:
        shown = ", ".join(map(repr, unknown[:5]))
        msg = f"{qrels_path} judges {len(unknown)} queries that queries.jsonl lacks ({shown})"
        raise InputError(msg)
    queries = {query: all_queries[query] for query in qrels}
    return BeirDataset(root, split, doc_ids, texts, queries, qrels)
