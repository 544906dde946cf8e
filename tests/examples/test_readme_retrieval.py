"""The README's retrieval section runs as written, each block alone, against a tiny local model."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"
HUB_MODEL = "prithivida/Splade_PP_en_v1"


def _blocks() -> list[str]:
    text = README.read_text(encoding="utf-8")
    section = text.split("<!-- section: retrieval -->", 1)[1].split("<!-- section:", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, flags=re.S)


def test_the_section_has_its_blocks() -> None:
    blocks = _blocks()
    assert len(blocks) >= 3
    assert any("EnsembleRetriever" in b for b in blocks)
    assert any("QueryFusionRetriever" in b for b in blocks)
    assert all(HUB_MODEL in b for b in blocks)


@pytest.mark.parametrize("number", range(len(_blocks())))
def test_block_runs_as_written(number: int, tiny_model_dir: Path, tmp_path: Path) -> None:
    code = _blocks()[number].replace(HUB_MODEL, str(tiny_model_dir))
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", code],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
