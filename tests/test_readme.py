"""Every code block of README.md runs as written, with local models in place of Hub names.

Python blocks run in a fresh interpreter in an empty folder, offline. Where the real trained
model (../shared) is present, the ``# >`` lines must be what the block prints. Blocks that are
not run say why in a ``<!-- readme-test: skip (why) -->`` line, and the install and test
commands they show must be the ones CI runs.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from support.beir import write_beir
from support.documents import DOCUMENTS as SEED_DOCUMENTS
from support.readme import README, Block, blocks
from support.tiny_checkpoint import write_checkpoint
from support.tiny_model import write_model_folder

ROOT = README.parent
RUN = [b for b in blocks() if b.skip is None and b.language != "text"]


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Path], bool]:
    """Hub names used in the README → local folders; and whether they are the real model."""
    shared = ROOT.parent / "shared" / "data"
    real = shared / "checkpoints" / "splade-tiny-onnx"
    folder = tmp_path_factory.mktemp("readme-models")
    weights = shared / "checkpoints" / "splade-tiny"  # safetensors only: built on load
    tiny_weights = write_checkpoint(folder / "tiny-weights")
    default = real if (real / "model.onnx").is_file() else write_model_folder(folder / "tiny")
    idf = folder / "inference-free"
    idf.mkdir()
    table = shared / "opensearch-idf"
    if (table / "idf.json").is_file() and default == real:
        for name in ("model.onnx", "config.json"):
            (idf / name).symlink_to(real / name)
        shutil.copy(table / "idf.json", idf / "idf.json")
        shutil.copy(table / "tokenizer.json", idf / "tokenizer.json")
    else:  # the tiny model and a weight table over its vocabulary
        write_model_folder(idf)
        vocab = (idf / "vocab.txt").read_text().split()
        weights = {token: round(1.0 + i / 100, 4) for i, token in enumerate(vocab)}
        (idf / "idf.json").write_text(json.dumps(weights))
    names = {
        "prithivida/Splade_PP_en_v1": default,
        "opensearch-project/opensearch-neural-sparse-encoding-doc-v2-mini": idf,
        "naver/efficient-splade-VI-BT-large-doc": default,
        "naver/efficient-splade-VI-BT-large-query": write_model_folder(folder / "q", seed=2),
        "naver/splade-v3": weights if (weights / "model.safetensors").is_file() else tiny_weights,
    }
    return names, default == real


def localized(code: str, names: dict[str, Path], language: str = "python") -> str:
    """*code* with local folders for Hub names; in shell blocks, ``spladekit`` run from here."""
    for name, path in names.items():
        code = code.replace(f'"{name}"', repr(str(path)))
        if language == "bash":
            code = re.sub(rf"(?<=\s){re.escape(name)}(?=\s)", shlex.quote(str(path)), code)
    if language == "bash":  # the console script of an installed spladekit, from this checkout
        command = f"{shlex.quote(sys.executable)} -m spladekit"
        code = re.sub(r"^spladekit\b", lambda _: command, code, flags=re.M)
    return code


def shell_inputs(folder: Path) -> None:
    """The files the README's command-line blocks read: corpus.jsonl and a BEIR folder."""
    corpus = [
        {"_id": f"seed-{i}", "title": "Chandrayaan-3", "text": text}
        for i, text in enumerate(SEED_DOCUMENTS)
    ]
    queries = {"q0": "When did Chandrayaan-3 land on the Moon?", "q1": "Which rocket launched it?"}
    qrels = {"q0": {"seed-6": 1}, "q1": {"seed-9": 1}}
    write_beir(folder / "scifact", corpus, queries, qrels)
    (folder / "corpus.jsonl").write_text("".join(json.dumps(row) + "\n" for row in corpus))


def test_every_block_is_run_or_says_why_not() -> None:
    found = blocks()
    assert len(found) >= 10
    for block in found:
        assert block.language in ("python", "bash", "text"), f"{block.name}: give the language"
        if block.language == "bash":
            assert block.skip or block.code.lstrip().startswith("spladekit"), block.name
    assert len(RUN) >= 8
    assert sum(len(b.expected_output) for b in RUN) >= 6  # outputs really get compared


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One prepared-model cache for all blocks, as a user's machine would have."""
    return tmp_path_factory.mktemp("readme-cache")


@pytest.mark.parametrize("block", RUN, ids=[b.name for b in RUN])
def test_block_runs(
    block: Block, models: tuple[dict[str, Path], bool], cache: Path, tmp_path: Path
) -> None:
    names, real = models
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "SPLADEKIT_CACHE": str(cache),
        "PYTHONWARNINGS": "error::DeprecationWarning:__main__",
    }
    code = localized(block.code, names, block.language)
    if block.language == "bash":
        shell_inputs(tmp_path)
    shell = ["bash", "-e", "-o", "pipefail", "-c", code]  # every command must succeed
    command = [sys.executable, "-c", code] if block.language == "python" else shell
    done = subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == 0, f"{block.name} failed:\n{done.stderr[-3000:]}"
    expected = block.expected_output
    if expected and real:
        assert done.stdout.splitlines() == expected, block.name


def test_ci_runs_the_readme_install_and_test_commands() -> None:
    [development] = [b for b in blocks() if b.section == "development" and b.language == "bash"]
    ci = (ROOT / ".ci" / "run").read_text()
    for command in development.code.strip().splitlines():
        assert command in ci.splitlines(), f".ci/run does not run {command!r}"


def test_options_table_lists_every_option_with_its_default_and_doc() -> None:
    from spladekit.options import OPTIONS

    text = README.read_text(encoding="utf-8")
    for name, option in OPTIONS.items():
        row = f"| `{name}` | `{option.default!r}` | {option.doc} |"
        assert row in text, f"README's options table lacks or misstates {name}: {row}"
