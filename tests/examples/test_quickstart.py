"""The README quickstart runs as written, against a tiny local model."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_quickstart_runs_against_a_local_model(tiny_model_dir: Path) -> None:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "SPLADEKIT_MODEL": str(tiny_model_dir)}
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / "quickstart.py")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "'model': 'prithivida/Splade_PP_en_v1'" in out
    assert out.count("Token at index") == 5
    assert "best match for the query" in out
