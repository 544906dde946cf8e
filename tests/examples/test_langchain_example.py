"""examples/langchain_qdrant_hybrid.py runs as written, on the real model when present (CI runs it)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("langchain_qdrant", reason="the qdrant extra is not installed")

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "langchain_qdrant_hybrid.py"


def run_example(*args: str, env: dict[str, str] | None = None) -> str:
    completed = subprocess.run(
        [sys.executable, "-W", "error", str(EXAMPLE), "--dense", "fake", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "HF_HUB_OFFLINE": "1", **(env or {})},
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    return completed.stdout


LANDING = "Chandrayaan-3 landed on the Moon's surface on 23rd August 2023"


def test_example_runs_with_model_argument(example_model: tuple[Path, bool]) -> None:
    model, real = example_model
    out = run_example("--model", str(model))
    assert f"sparse: {model}" in out
    for fusion in ("RRF ", "DBSF"):
        assert out.count(f"  {fusion} #1 ") == 3  # three queries, each fused both ways
    sparse = [line for line in out.splitlines() if line.startswith("  SPARSE #1 ")]
    assert len(sparse) == 3
    assert "Question: When did Chandrayaan-3 land on the Moon?" in out
    assert out.count("\n- ") == 2  # the retriever's two documents, formatted into the prompt
    if real:  # sparse mode on real weights ranks the landing document first
        assert sparse[0].endswith(f"When did Chandrayaan-3 land on the Moon? -> {LANDING}")
        assert "-> The mission used GSLV Mk III rocket for its launch" in sparse[1]


def test_example_reads_the_model_from_the_environment(tiny_model_dir: Path) -> None:
    out = run_example(env={"SPLADEKIT_MODEL": str(tiny_model_dir)})
    assert f"sparse: {tiny_model_dir}" in out
