"""examples/llamaindex_qdrant_hybrid.py runs as written, sync and async, on a local model."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("llama_index.core")
pytest.importorskip("llama_index.vector_stores.qdrant")

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "llamaindex_qdrant_hybrid.py"


@pytest.mark.parametrize("how", ["--model", "SPLADEKIT_MODEL"])
def test_example_runs(tiny_model_dir: Path, how: str) -> None:
    env = {k: v for k, v in os.environ.items() if k != "SPLADEKIT_MODEL"}
    env["HF_HUB_OFFLINE"] = "1"
    args = [sys.executable, str(EXAMPLE)]
    if how == "--model":
        args += ["--model", str(tiny_model_dir)]
    else:
        env["SPLADEKIT_MODEL"] = str(tiny_model_dir)
    done = subprocess.run(
        args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    sync = lines[lines.index(next(x for x in lines if x.startswith("[sync] hybrid"))) :][1:4]
    asyn = lines[lines.index(next(x for x in lines if x.startswith("[async] hybrid"))) :][1:4]
    assert len(sync) == 3 and sync == asyn
    assert all(0.0 <= float(line.split()[0]) <= 1.0 for line in sync)
    assert "[sync] query engine: 3 source nodes" in done.stdout
    assert "[async] query engine: 3 source nodes" in done.stdout
    assert not math.isnan(float(sync[0].split()[0]))
