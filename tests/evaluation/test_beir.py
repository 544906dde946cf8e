"""Reading BEIR folders: BEIR's conventions, and every malformed file named with its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from spladekit.errors import InputError
from spladekit.evaluation.beir import load_beir

from support.beir import write_beir

CORPUS = [
    {"_id": "d1", "title": "Moon", "text": "The lunar surface."},
    {"_id": "d2", "title": "", "text": "  Rockets launch.  "},
    {"_id": "d3", "text": "No title at all."},
]


def folder(tmp_path: Path) -> Path:
    return write_beir(
        tmp_path / "set",
        CORPUS,
        {"q1": "moon?", "q2": "rockets?", "q3": "never judged"},
        {"q2": {"d2": 1, "d9": 2}, "q1": {"d1": 2, "d3": 0}},
    )


def test_reads_beir_conventions(tmp_path: Path) -> None:
    data = load_beir(folder(tmp_path))
    assert data.doc_ids == ["d1", "d2", "d3"]
    assert data.texts == ["Moon The lunar surface.", "Rockets launch.", "No title at all."]
    assert list(data.queries) == ["q2", "q1"]  # only judged queries, in the qrels' order
    assert data.qrels == {"q2": {"d2": 1, "d9": 2}, "q1": {"d1": 2, "d3": 0}}
    assert data.split == "test"


def test_a_qrels_file_without_header_is_read_too(tmp_path: Path) -> None:
    root = folder(tmp_path)
    (root / "qrels" / "dev.tsv").write_text("q1\td1\t1\n")
    assert load_beir(root, "dev").qrels == {"q1": {"d1": 1}}


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda r: (r / "corpus.jsonl").unlink(), r"has no corpus\.jsonl; a BEIR folder holds"),
        (
            lambda r: (r / "qrels" / "test.tsv").rename(r / "qrels" / "dev.tsv"),
            r"no qrels/test\.tsv \(splits there: dev\)",
        ),
        (
            lambda r: (r / "corpus.jsonl").write_text('{"_id": "a", "text": "x"}\n{oops\n'),
            r"corpus\.jsonl line 2 is not JSON",
        ),
        (
            lambda r: (r / "corpus.jsonl").write_text('["a"]\n'),
            r"line 1 must be a JSON object, got list",
        ),
        (
            lambda r: (r / "corpus.jsonl").write_text('{"text": "x"}\n'),
            r"line 1 has no '_id' field \(it has 'text'\)",
        ),
        (
            lambda r: (r / "corpus.jsonl").write_text('{"_id": "a", "text": 3.5}\n'),
            r"line 1: 'text' must be a string, got float",
        ),
        (
            lambda r: (r / "corpus.jsonl").write_text(
                '{"_id": "a", "text": "x"}\n\n{"_id": "a", "text": "y"}\n'
            ),
            r"line 3 repeats _id 'a' \(first on line 1\)",
        ),
        (
            lambda r: (r / "qrels" / "test.tsv").write_text("q\td\t1\nq1 d1 1\n"),
            r"test\.tsv line 2 must be 'query-id<TAB>corpus-id<TAB>score'",
        ),
        (
            lambda r: (r / "qrels" / "test.tsv").write_text("q1\td1\t1\nq1\td2\thigh\n"),
            r"line 2: the score must be an integer, got 'high'",
        ),
        (
            lambda r: (r / "qrels" / "test.tsv").write_text("q1\td1\t1\nq7\td1\t1\n"),
            r"judges 1 queries that queries\.jsonl lacks \('q7'\)",
        ),
        (
            lambda r: (r / "queries.jsonl").write_bytes(b'{"_id": "q1", "text": "\xff"}\n'),
            r"cannot read .*queries\.jsonl",
        ),
    ],
)
def test_malformed_folders_are_named(tmp_path: Path, damage, message: str) -> None:  # type: ignore[no-untyped-def]
    root = folder(tmp_path)
    damage(root)
    with pytest.raises(InputError, match=message):
        load_beir(root)


def test_not_a_folder(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="is not a folder; a BEIR folder holds"):
        load_beir(tmp_path / "missing")
    with pytest.raises(InputError, match="split must be a non-empty string"):
        load_beir(folder(tmp_path), "")
    with pytest.raises(InputError, match="dataset_dir must be a folder path, got int"):
        load_beir(3)  # type: ignore[arg-type]
