"""spladekit, models, explain and eval through a subprocess: help, happy paths, bad arguments."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from spladekit import SpladeEncoder
from spladekit.options import OPTIONS

from support.beir import write_beir
from support.checks import QUERIES
from support.cli import assert_one_line_error, spladekit
from support.documents import DOCUMENTS

ROOT = Path(__file__).resolve().parents[2]


def test_help_reads_well_and_names_every_command() -> None:
    done = spladekit("--help")
    assert done.returncode == 0
    for command in ("models", "explain", "encode", "eval"):
        assert re.search(rf"^\s+{command}\s+\w", done.stdout, re.M), command
    assert "examples:" in done.stdout
    assert spladekit("--version").stdout.startswith("spladekit 0.")


@pytest.mark.parametrize("command", ["models", "explain", "encode", "eval"])
def test_each_command_has_help(command: str) -> None:
    done = spladekit(command, "--help")
    assert done.returncode == 0 and done.stdout.startswith(f"usage: spladekit {command}")
    if command != "models":  # every encoder option is a flag, made from options.OPTIONS
        for name, option in OPTIONS.items():
            flag = option.flag or "--" + name.replace("_", "-")
            assert (flag in done.stdout) == option.cli, (command, flag)
        for flag in (
            "--top-k",
            "--threads",
            "--quantize",
            "--long-documents",
            "--revision",
            "--offline",
        ):
            assert flag in done.stdout


def test_console_script_and_python_dash_m_are_the_same_entry() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text()  # tomllib is 3.11+, the package 3.10+
    assert '[project.scripts]\nspladekit = "spladekit.cli:main"\n' in pyproject
    script = "import sys; from spladekit.cli import main; sys.exit(main(['models', '--json']))"
    direct = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert direct.stdout == spladekit("models", "--json").stdout


@pytest.mark.parametrize(
    ("args", "parts"),
    [
        ((), ["the following arguments are required: COMMAND"]),
        (("bogus",), ["invalid choice: 'bogus'"]),
        (("explain",), ["required: MODEL, TEXT", "spladekit explain --help"]),
        (("explain", "m", "t", "--threads", "many"), ["--threads: invalid int value: 'many'"]),
        (("explain", "m", "t", "--long-documents", "chunks"), ["invalid choice: 'chunks'"]),
        (("eval", "m", "d", "--k-values"), ["--k-values: expected at least one argument"]),
    ],
)
def test_bad_usage_exits_2_in_one_line(args: tuple[str, ...], parts: list[str]) -> None:
    assert_one_line_error(spladekit(*args), 2, *parts)


def test_models_table_and_json() -> None:
    done = spladekit("models")
    assert done.returncode == 0
    lines = done.stdout.splitlines()
    assert lines[0].split() == ["model", "GB", "queries", "license"]
    rows = SpladeEncoder.list_models()
    assert len(lines) == 1 + len(rows)
    assert lines[1].split()[:2] == ["prithivida/Splade_PP_en_v1", "0.532"]
    assert json.loads(spladekit("models", "--json").stdout) == rows


def table_rows(stdout: str) -> list[tuple[str, float]]:
    lines = stdout.splitlines()
    assert lines[0].split() == ["token", "weight"]
    widths = {len(line) for line in lines}
    assert len(widths) == 1, "columns are aligned"
    return [(line.rsplit(maxsplit=1)[0], float(line.rsplit(maxsplit=1)[1])) for line in lines[1:]]


def test_explain_prints_the_explanation(tiny_model_dir: Path) -> None:
    encoder = SpladeEncoder(tiny_model_dir)
    done = spladekit("explain", tiny_model_dir, DOCUMENTS[0])
    assert done.returncode == 0, done.stderr
    expected = encoder.explain(DOCUMENTS[0])
    assert table_rows(done.stdout) == [(t, round(w, 4)) for t, w in expected]
    top = table_rows(spladekit("explain", tiny_model_dir, DOCUMENTS[0], "--top-k", "3").stdout)
    assert top == [(t, round(w, 4)) for t, w in expected[:3]]
    query = table_rows(spladekit("explain", tiny_model_dir, QUERIES[0], "--query").stdout)
    assert query == [(t, round(w, 4)) for t, w in encoder.explain(encoder.encode_query(QUERIES[0]))]


def test_explain_on_the_real_model_shows_expansion(shared_data: Path) -> None:
    model = shared_data / "checkpoints" / "splade-tiny-onnx"
    done = spladekit("explain", model, "Chandrayaan-3 is India's third lunar mission")
    assert done.returncode == 0, done.stderr
    tokens = [token for token, _ in table_rows(done.stdout)]
    assert tokens[:2] == ["india", "lunar"] and "moons" in tokens  # "moons" is not in the text


@pytest.mark.parametrize(
    ("args", "status", "parts"),
    [
        (("explain", "{missing}", "text"), 2, ["no model folder at", "it does not exist"]),
        (
            ("explain", "{model}", "text", "--threads", "0"),
            2,
            ["threads must be a positive integer"],
        ),
        (("explain", "{model}", "text", "--top-k", "0"), 2, ["top_k must be a positive integer"]),
        (
            ("eval", "{model}", "{missing}"),
            2,
            ["is not a folder; a BEIR folder holds corpus.jsonl"],
        ),
        (
            ("eval", "{model}", "{beir}", "--split", "dev"),
            2,
            ["no qrels/dev.tsv (splits there: test)"],
        ),
        (
            ("eval", "{model}", "{beir}", "--json", "{missing}/out.json"),
            2,
            ["its folder does not exist"],
        ),
        (
            ("eval", "{model}", "{beir}", "--k-values", "0"),
            2,
            ["k_values[0] must be a positive integer"],
        ),
    ],
)
def test_bad_values_exit_in_one_line(
    tiny_model_dir: Path,
    beir: Path,
    tmp_path: Path,
    args: tuple[str, ...],
    status: int,
    parts: list[str],
) -> None:
    places = {"model": str(tiny_model_dir), "missing": str(tmp_path / "missing"), "beir": str(beir)}
    assert_one_line_error(spladekit(*(a.format(**places) for a in args)), status, *parts)


@pytest.fixture(scope="module")
def beir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    corpus = [{"_id": f"d{i}", "title": "", "text": text} for i, text in enumerate(DOCUMENTS)]
    queries = {f"q{i}": text for i, text in enumerate(QUERIES)}
    qrels = {"q0": {"d6": 1}, "q1": {"d0": 1, "d5": 1}, "q2": {"d9": 1}}
    return write_beir(tmp_path_factory.mktemp("cli-beir") / "set", corpus, queries, qrels)


def test_eval_prints_the_table_and_writes_json(
    tiny_model_dir: Path, beir: Path, tmp_path: Path
) -> None:
    from spladekit import evaluate

    out = tmp_path / "result.json"
    done = spladekit("eval", tiny_model_dir, beir, "--json", out, "--k-values", "1", "10")
    assert done.returncode == 0, done.stderr
    expected = evaluate(SpladeEncoder(tiny_model_dir), beir, k_values=(1, 10))
    for name, value in expected.metrics.items():
        assert re.search(rf"^{re.escape(name)}\s+{value:.4f}$", done.stdout, re.M), name
    assert "3 queries, 12 documents" in done.stdout and "documents/s" in done.stdout
    written = json.loads(out.read_text())
    assert written["metrics"] == pytest.approx(expected.metrics)
    assert written["split"] == "test" and written["settings"]["long_documents"] == "truncate"


def test_eval_sums_truncation_up_in_one_line(short_model_dir: Path, beir: Path) -> None:
    done = spladekit("eval", short_model_dir, beir)
    assert done.returncode == 0, done.stderr
    [line] = [x for x in done.stderr.splitlines() if x.strip()]
    assert re.fullmatch(r"\d+ texts longer than the model's limit were truncated to it .*", line)
