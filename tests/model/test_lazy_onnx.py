"""The onnx package (seconds to import) loads only when a graph is made, never for a cached one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from support.tiny_checkpoint import write_checkpoint
from support.tiny_model import write_model_folder

SCRIPT = """
import json, sys
import spladekit
imported = "onnx" in sys.modules
encoder = spladekit.SpladeEncoder(sys.argv[1])
encoder.encode_documents(["the moon"])
print(json.dumps({"on_import": imported, "after_load": "onnx" in sys.modules}))
"""


def run(folder: Path, cache: Path) -> dict[str, bool]:
    env = {**os.environ, "SPLADEKIT_CACHE": str(cache)}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(folder)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    result: dict[str, bool] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_onnx_is_imported_to_make_a_graph_and_not_to_load_a_cached_one(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    for folder in (write_model_folder(tmp_path / "export"), write_checkpoint(tmp_path / "weights")):
        assert run(folder, cache) == {"on_import": False, "after_load": True}  # made here
        assert run(folder, cache) == {"on_import": False, "after_load": False}  # cached
