"""The README quickstart (examples/quickstart.py) runs as written, on the real model when present."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
LANDING = "Chandrayaan-3 landed on the Moon's surface on 23rd August 2023"


def run_quickstart(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-W", "error", str(EXAMPLES / "quickstart.py"), *args],
        env={**os.environ, "HF_HUB_OFFLINE": "1", **env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_quickstart_runs_and_retrieves(example_model: tuple[Path, bool]) -> None:
    model, real = example_model
    out = run_quickstart({"SPLADEKIT_MODEL": str(model)})
    assert "'model': 'prithivida/Splade_PP_en_v1'" in out
    assert out.count("Token at index") == 5
    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.split() == ["token", "weight"])
    rows = lines[header + 1 : header + 11]  # explain(first, top_k=10), printed as a table
    assert len({len(row) for row in [lines[header], *rows]}) == 1  # aligned
    ranked = [line for line in lines if line.startswith("  #")]
    assert len(ranked) == 3
    if real:
        # real weights: "lunar" expands to "moons", a word the first document does not contain
        assert [row.split()[0] for row in rows][:2] == ["india", "lunar"]
        expansion = next(line for line in lines if line.startswith("expansion terms: "))
        assert "moons" in expansion.split(": ")[1].split(", ")
        assert "moon" not in "Chandrayaan-3 is India's third lunar mission".lower()
        # and the question about the landing finds the landing document first
        assert ranked[0].endswith(LANDING)


def test_quickstart_takes_the_model_argument(tiny_model_dir: Path) -> None:
    out = run_quickstart({}, "--model", str(tiny_model_dir))
    assert f"name='{tiny_model_dir}'" in out
