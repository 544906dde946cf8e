"""Write small BEIR-format folders (corpus.jsonl, queries.jsonl, qrels/<split>.tsv) for tests."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path


def write_beir(
    folder: Path,
    corpus: Sequence[Mapping[str, str]],
    queries: Mapping[str, str],
    qrels: Mapping[str, Mapping[str, int]],
    split: str = "test",
) -> Path:
    """A BEIR folder: *corpus* rows ({"_id", "title", "text"}), queries by id, graded qrels."""
    (folder / "qrels").mkdir(parents=True, exist_ok=True)
    (folder / "corpus.jsonl").write_text("".join(json.dumps(dict(d)) + "\n" for d in corpus))
    (folder / "queries.jsonl").write_text(
        "".join(
            json.dumps({"_id": q, "text": t, "metadata": {}}) + "\n" for q, t in queries.items()
        )
    )
    lines = ["query-id\tcorpus-id\tscore"]
    lines += [f"{q}\t{d}\t{level}" for q, judged in qrels.items() for d, level in judged.items()]
    (folder / "qrels" / f"{split}.tsv").write_text("\n".join(lines) + "\n")
    return folder
