"""spladekit.llama_index: a missing package names its extra, and Milvus loads only when asked."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

from spladekit.errors import MissingDependencyError

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("hidden", ["llama_index.core", "llama_index"])
def test_missing_extra_names_the_pip_command(monkeypatch: pytest.MonkeyPatch, hidden: str) -> None:
    monkeypatch.delitem(sys.modules, "spladekit.llama_index")
    for name in [m for m in sys.modules if m == hidden or m.startswith(hidden + ".")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, hidden, None)  # what an uninstalled package looks like
    with pytest.raises(MissingDependencyError, match=r'pip install "spladekit\[llama-index\]"'):
        importlib.import_module("spladekit.llama_index")


def test_imports_stay_lazy() -> None:
    code = (
        "import sys, spladekit\n"
        "assert not [m for m in sys.modules if m.startswith('llama_index')], 'core'\n"
        "import spladekit.llama_index\n"
        "assert 'pymilvus' not in sys.modules, 'milvus loaded eagerly'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, timeout=120)
