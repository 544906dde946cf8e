"""spladekit encode: every input format, both outputs, errors named, interrupts survived."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from spladekit import SparseVector, SpladeEncoder

from support.cli import COMMAND, assert_one_line_error, environment, spladekit
from support.documents import DOCUMENTS

pa = pytest.importorskip("pyarrow", reason="the parquet extra is not installed")
pq = pytest.importorskip("pyarrow.parquet")

from spladekit.arrow import from_table, vector_schema  # noqa: E402


def rows(count: int) -> list[dict[str, str]]:
    return [
        {"_id": f"doc-{i}", "title": f"Part {i}", "text": DOCUMENTS[i % len(DOCUMENTS)]}
        for i in range(count)
    ]


def write_jsonl(path: Path, records: list[dict[str, str]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def read_jsonl(path: Path) -> tuple[list[object], list[SparseVector]]:
    data = [json.loads(line) for line in path.read_text().splitlines()]
    return [d["id"] for d in data], [SparseVector(d["indices"], d["values"]) for d in data]


@pytest.fixture(scope="module")
def encoder(tiny_model_dir: Path) -> SpladeEncoder:
    return SpladeEncoder(tiny_model_dir)


def test_jsonl_to_parquet_with_ids_and_joined_fields(
    tiny_model_dir: Path, encoder: SpladeEncoder, tmp_path: Path
) -> None:
    records = rows(30)
    source = write_jsonl(tmp_path / "corpus.jsonl", records)
    out = tmp_path / "vectors.parquet"
    done = spladekit(
        "encode",
        tiny_model_dir,
        source,
        out,
        "--id-field",
        "_id",
        "--text-field",
        "title",
        "--text-field",
        "text",
    )
    assert done.returncode == 0, done.stderr
    assert "30 rows (30 encoded, 0 kept from before)" in done.stdout
    table = pq.read_table(out)
    assert table.schema == vector_schema([pa.field("id", pa.string())])  # the one Arrow layout
    assert table.column("id").to_pylist() == [r["_id"] for r in records]
    texts = [f"{r['title']} {r['text']}" for r in records]
    assert from_table(table) == encoder.encode_documents(texts)  # same batches: bit for bit
    assert not (tmp_path / "vectors.parquet.part").exists()


@pytest.mark.parametrize("fmt", ["csv", "tsv", "parquet", "text", "jsonl"])
def test_every_input_format_to_jsonl(
    tiny_model_dir: Path, encoder: SpladeEncoder, tmp_path: Path, fmt: str
) -> None:
    texts = [*DOCUMENTS, "", 'a "quoted", comma text']
    source = tmp_path / f"input.{'txt' if fmt == 'text' else fmt}"
    if fmt in ("csv", "tsv"):
        with source.open("w", newline="") as handle:
            writer = csv.writer(handle, delimiter="," if fmt == "csv" else "\t")
            writer.writerow(["text", "id"])
            writer.writerows([t, f"n{i}"] for i, t in enumerate(texts))
    elif fmt == "parquet":
        pq.write_table(
            pa.table({"text": texts, "id": [f"n{i}" for i in range(len(texts))]}), source
        )
    elif fmt == "jsonl":
        write_jsonl(source, [{"text": t, "id": f"n{i}"} for i, t in enumerate(texts)])
    else:
        source.write_text("\n".join(texts) + "\n")
    out = tmp_path / "out.jsonl"
    flags = [] if fmt == "text" else ["--id-field", "id"]
    done = spladekit("encode", tiny_model_dir, source, out, *flags)
    assert done.returncode == 0, done.stderr
    ids, vectors = read_jsonl(out)
    assert ids == (
        list(range(len(texts))) if fmt == "text" else [f"n{i}" for i in range(len(texts))]
    )
    assert vectors == encoder.encode_documents(texts)  # float32 written in its shortest exact form
    assert len(vectors[-2]) == 0  # an empty text: an empty row, not a missing one


def test_stdin_and_positions_as_ids(
    tiny_model_dir: Path, encoder: SpladeEncoder, tmp_path: Path
) -> None:
    out = tmp_path / "out.parquet"
    done = spladekit("encode", tiny_model_dir, "-", out, stdin="\n".join(DOCUMENTS[:4]) + "\n")
    assert done.returncode == 0, done.stderr
    table = pq.read_table(out)
    assert table.schema.field("id").type == pa.int64()
    assert table.column("id").to_pylist() == [0, 1, 2, 3]
    assert from_table(table) == encoder.encode_documents(DOCUMENTS[:4])


@pytest.mark.parametrize(
    ("setup", "args", "parts"),
    [
        (None, ("{missing}.jsonl", "{out}"), ["cannot read", "No such file or directory"]),
        (None, ("{tmp}", "{out}", "--input-format", "jsonl"), ["cannot read", "Is a directory"]),
        ("bad-json", ("{jsonl}", "{out}"), ["line 2 is not JSON"]),
        (
            "no-field",
            ("{jsonl}", "{out}"),
            ["line 2 has no 'text' field (it has 'body')", "--text-field"],
        ),
        ("good", ("{jsonl}", "{out}", "--id-field", "key"), ["line 1 has no 'key' field"]),
        (
            "good",
            ("{jsonl}", "{out}", "--text-field", "n"),
            ["line 1: 'n' must be a string to be used as the text, got int"],
        ),
        (
            "csv",
            ("{csv}", "{out}", "--text-field", "body"),
            ["has no 'body' column (its columns: 'text')"],
        ),
        (
            "good",
            ("{jsonl}", "{tmp}/x.txt"),
            ["cannot tell the output format", ".parquet or .jsonl"],
        ),
        ("good", ("{tmp}/x.docx", "{out}"), ["cannot tell the format of", "--input-format"]),
        ("good", ("{jsonl}", "{missing}/out.parquet"), ["its folder does not exist"]),
        ("good", ("{jsonl}", "{tmp}"), ["is a folder"]),
        ("exists", ("{jsonl}", "{out}"), ["exists; pass --resume to continue it or --overwrite"]),
        (
            "good",
            ("{jsonl}", "{jsonl}", "--output-format", "jsonl", "--overwrite"),
            ["INPUT and OUTPUT are the same file"],
        ),
        (
            "text",
            ("{text}", "{out}", "--text-field", "t"),
            ["plain-text input has one text per line"],
        ),
        (
            "good",
            ("{jsonl}", "{out}", "--chunk-size", "0"),
            ["--chunk-size must be a positive integer"],
        ),
        ("twice", ("{jsonl}", "{out}", "--id-field", "id"), ["id 'a' appears twice in the input"]),
        ("good", ("{jsonl}", "{out}", "--long-documents", "best-window"), ["one vector per text"]),
        ("not-parquet", ("{parquet}", "{out}"), ["cannot read", "as Parquet"]),
    ],
)
def test_bad_input_exits_2_in_one_line_and_leaves_no_file(
    tiny_model_dir: Path, tmp_path: Path, setup: str | None, args: tuple[str, ...], parts: list[str]
) -> None:
    places = {
        "missing": str(tmp_path / "missing"),
        "out": str(tmp_path / "out.parquet"),
        "tmp": str(tmp_path),
        "jsonl": str(tmp_path / "in.jsonl"),
        "csv": str(tmp_path / "in.csv"),
        "text": str(tmp_path / "in.txt"),
        "parquet": str(tmp_path / "in.parquet"),
    }
    contents = {
        "bad-json": '{"text": "moon"}\n{"text": \n',
        "no-field": '{"text": "moon"}\n{"body": "moon"}\n',
        "good": '{"text": "moon", "n": 3, "id": "a"}\n',
        "twice": '{"text": "moon", "id": "a"}\n{"text": "rover", "id": "a"}\n',
        "exists": '{"text": "moon"}\n',
    }
    if setup in contents:
        Path(places["jsonl"]).write_text(contents[setup])
    if setup == "exists":
        Path(places["out"]).write_text("mine")
    if setup == "csv":
        Path(places["csv"]).write_text("text\nmoon\n")
    if setup == "text":
        Path(places["text"]).write_text("moon\n")
    if setup == "not-parquet":
        Path(places["parquet"]).write_text("not parquet at all")
    done = spladekit("encode", tiny_model_dir, *(a.format(**places) for a in args))
    assert_one_line_error(done, 2, *parts)
    if setup == "exists":
        assert Path(places["out"]).read_text() == "mine"  # never touched without --resume
    else:
        assert not Path(places["out"]).exists()
    assert not Path(places["out"] + ".part").exists()


def test_a_bad_record_keeps_the_finished_chunks_and_resume_finishes(
    tiny_model_dir: Path, encoder: SpladeEncoder, tmp_path: Path
) -> None:
    records = rows(25)
    source = tmp_path / "in.jsonl"
    broken = [json.dumps(r) for r in records]
    broken[17] = "{broken"
    source.write_text("\n".join(broken) + "\n")
    out = tmp_path / "out.parquet"
    args = ("encode", tiny_model_dir, source, out, "--id-field", "_id", "--chunk-size", "5")
    done = spladekit(*args)
    assert done.returncode == 2 and "line 18 is not JSON" in done.stderr
    assert "keeps the 15 rows finished (15 new); run the same command with --resume" in done.stderr
    assert pq.read_table(out).column("id").to_pylist() == [r["_id"] for r in records[:15]]
    write_jsonl(source, records)
    done = spladekit(*args, "--resume")
    assert done.returncode == 0, done.stderr
    assert "25 rows (10 encoded, 15 kept from before)" in done.stdout
    assert from_table(pq.read_table(out)) == encoder.encode_documents([r["text"] for r in records])


def uninterrupted(tiny_model_dir: Path, source: Path, out: Path, *flags: str) -> Path:
    done = spladekit("encode", tiny_model_dir, source, out, *flags)
    assert done.returncode == 0, done.stderr
    return out


def start(*args: str | Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*COMMAND, "-v", "encode", *map(str, args)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment(),
    )


def wait_for(process: subprocess.Popen[str], text: str) -> None:
    assert process.stderr is not None
    for line in process.stderr:
        if text in line:
            return
    pytest.fail(f"the run ended before logging {text!r}: {process.wait()}")


@pytest.mark.parametrize("suffix", ["parquet", "jsonl"])
@pytest.mark.parametrize("sent", [signal.SIGINT, signal.SIGTERM])
def test_interrupted_while_reading_then_resumed_equals_one_run(
    tiny_model_dir: Path, tmp_path: Path, suffix: str, sent: signal.Signals
) -> None:
    """The input arrives slowly (a pipe); the signal lands after two chunks, mid-read."""
    texts = [f"{DOCUMENTS[i % 12]} {i}" for i in range(23)]
    whole = tmp_path / "whole.txt"
    whole.write_text("\n".join(texts) + "\n")
    expected = uninterrupted(
        tiny_model_dir, whole, tmp_path / f"expected.{suffix}", "--chunk-size", "5"
    )
    out = tmp_path / f"out.{suffix}"
    with start(tiny_model_dir, "-", out, "--chunk-size", "5") as process:
        assert process.stdin is not None and process.stderr is not None
        process.stdin.write("\n".join(texts[:12]) + "\n")  # two chunks and a part of the third
        process.stdin.flush()
        wait_for(process, "wrote 10 rows")
        process.send_signal(sent)
        assert process.wait(timeout=60) == 130
        stderr = process.stderr.read()
    assert "keeps the 10 rows finished" in stderr and "interrupted" in stderr
    assert "Traceback" not in stderr
    kept = read_output(out)
    assert kept[0] == list(range(10)) and len(kept[1]) == 10  # a readable file, whole rows only
    done = spladekit("encode", tiny_model_dir, whole, out, "--chunk-size", "5", "--resume")
    assert done.returncode == 0, done.stderr
    assert "23 rows (13 encoded, 10 kept from before)" in done.stdout
    assert read_output(out) == read_output(expected)
    if suffix == "parquet":
        assert pq.read_table(out).equals(pq.read_table(expected))
    else:
        assert out.read_text() == expected.read_text()


def test_interrupted_while_encoding_then_resumed_equals_one_run(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    """A big file: SIGINT as soon as the first chunk is written, while later ones are encoded."""
    records = [
        {"id": f"r{i}", "text": f"{DOCUMENTS[i % 12]} {DOCUMENTS[(i * 7) % 12]} {i}"}
        for i in range(4000)
    ]
    source = write_jsonl(tmp_path / "big.jsonl", records)
    flags = ("--id-field", "id", "--chunk-size", "20")
    expected = uninterrupted(tiny_model_dir, source, tmp_path / "expected.parquet", *flags)
    out = tmp_path / "out.parquet"
    with start(tiny_model_dir, source, out, *flags) as process:
        wait_for(process, "wrote 20 rows")
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=120) == 130, "the run should still have been encoding"
    kept = pq.read_table(out)
    assert 20 <= kept.num_rows < len(records) and kept.num_rows % 20 == 0  # whole chunks only
    assert kept.equals(pq.read_table(expected).slice(0, kept.num_rows))
    done = spladekit("encode", tiny_model_dir, source, out, *flags, "--resume")
    assert done.returncode == 0, done.stderr
    assert (
        f"({len(records) - kept.num_rows} encoded, {kept.num_rows} kept from before)" in done.stdout
    )
    assert pq.read_table(out).equals(pq.read_table(expected))


def read_output(path: Path) -> tuple[list[object], list[SparseVector]]:
    if path.suffix == ".jsonl":
        return read_jsonl(path)
    table = pq.read_table(path)
    return table.column("id").to_pylist(), from_table(table)


def test_resume_refuses_another_kind_of_id(tiny_model_dir: Path, tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", rows(3))
    out = uninterrupted(tiny_model_dir, source, tmp_path / "out.parquet")
    done = spladekit("encode", tiny_model_dir, source, out, "--id-field", "_id", "--resume")
    assert_one_line_error(done, 2, "holds int64 ids, but this run writes --id-field values")
    assert pq.read_table(out).num_rows == 3


def test_missing_pyarrow_names_the_extra(tiny_model_dir: Path, tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", rows(2))
    script = "import sys; sys.modules['pyarrow'] = None\nfrom spladekit.cli import main\nsys.exit(main())"
    done = subprocess.run(
        [
            COMMAND[0],
            "-c",
            script,
            "encode",
            str(tiny_model_dir),
            str(source),
            str(tmp_path / "o.parquet"),
        ],
        capture_output=True,
        text=True,
        env=environment(),
        check=False,
    )
    assert_one_line_error(done, 1, "'pyarrow' is not installed", 'pip install "spladekit[parquet]"')


@pytest.mark.skipif(sys.platform == "win32", reason="a pseudo-terminal is POSIX")
def test_progress_bar_on_a_terminal_only(tiny_model_dir: Path, tmp_path: Path) -> None:
    import fcntl
    import pty
    import struct
    import termios

    source = write_jsonl(tmp_path / "in.jsonl", rows(40))
    quiet = spladekit("encode", tiny_model_dir, source, tmp_path / "a.parquet")
    assert quiet.returncode == 0 and quiet.stderr == ""
    main, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # a real size
    process = subprocess.Popen(
        [*COMMAND, "encode", str(tiny_model_dir), str(source), str(tmp_path / "b.parquet")],
        stdout=subprocess.DEVNULL,
        stderr=terminal,
        env=environment(),
    )
    os.close(terminal)
    shown = b""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            chunk = os.read(main, 4096)
        except OSError:  # the terminal closed: the process is done
            break
        if not chunk:
            break
        shown += chunk
    os.close(main)
    assert process.wait(timeout=60) == 0
    text = shown.decode(errors="replace")
    assert "40/40" in text and "doc/s" in text  # count, rate (and ETA while running)
    assert np.array_equal(
        pq.read_table(tmp_path / "a.parquet").column("id").to_numpy(),
        pq.read_table(tmp_path / "b.parquet").column("id").to_numpy(),
    )


def test_a_resume_that_cannot_read_output_leaves_it_untouched(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", rows(4))
    out = uninterrupted(tiny_model_dir, source, tmp_path / "out.jsonl", "--id-field", "_id")
    lines = out.read_text().splitlines(keepends=True)
    damaged = "".join([*lines[:2], "{not json\n", *lines[2:]])
    out.write_text(damaged)
    done = spladekit("encode", tiny_model_dir, source, out, "--id-field", "_id", "--resume")
    assert_one_line_error(done, 2, "cannot resume", "line 3 is not JSON")
    assert out.read_text() == damaged and not (tmp_path / "out.jsonl.part").exists()
