"""examples/llamaindex_qdrant_hybrid.py runs as written, sync and async, on the real model when present."""

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


LANDING = "Chandrayaan-3 landed on the Moon's surface on 23rd August 2023"


@pytest.mark.parametrize("how", ["--model", "SPLADEKIT_MODEL"])
def test_example_runs(example_model: tuple[Path, bool], how: str) -> None:
    model, real = example_model
    env = {k: v for k, v in os.environ.items() if k != "SPLADEKIT_MODEL"}
    env["HF_HUB_OFFLINE"] = "1"
    args = [sys.executable, str(EXAMPLE)]
    if how == "--model":
        args += ["--model", str(model)]
    else:
        env["SPLADEKIT_MODEL"] = str(model)
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
    start = lines.index(next(x for x in lines if x.startswith("[sync] sparse retrieve")))
    sparse = lines[start + 1 : start + 4]
    assert len(sparse) == 3 and all(float(line.split()[0]) > 0 for line in sparse)
    if real:  # sparse mode on real weights ranks the landing document first, hybrid too
        assert sparse[0].endswith(LANDING[:72]) and sync[0].endswith(LANDING[:72])
