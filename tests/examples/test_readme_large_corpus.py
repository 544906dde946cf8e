"""The README's "Encoding a large corpus" Python block runs as written, on the tiny model."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"
HUB_MODEL = "prithivida/Splade_PP_en_v1"


def section_blocks(name: str) -> list[str]:
    text = README.read_text(encoding="utf-8")
    start = text.index(f"<!-- section: {name} -->")
    end = text.find("<!-- section:", start + 1)
    return re.findall(r"```python\n(.*?)```", text[start:end], flags=re.DOTALL)


def test_the_ray_block_runs_and_reads_its_vectors_back(
    tmp_path: Path, tiny_model_dir: Path
) -> None:
    pytest.importorskip("ray.data", reason="the ray extra is not installed")
    [block] = section_blocks("large-corpus")
    assert HUB_MODEL in block
    script = block.replace(HUB_MODEL, str(tiny_model_dir))
    # Then check what the block left behind: three rows, the empty text with an empty vector.
    script += (
        "\nassert table.column_names == ['id', 'text', 'indices', 'values'], table.column_names\n"
        "assert len(vectors['d3']) == 0 and len(vectors['d1']) > 0\n"
        "print(sorted(vectors))\n"
    )
    done = subprocess.run(
        [
            sys.executable,
            "-W",
            "error",
            "-W",
            "ignore::DeprecationWarning:ray.data.context",
            "-c",
            script,
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "['d1', 'd2', 'd3']" in done.stdout
