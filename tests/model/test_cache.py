"""Cache entries vouch for themselves: damage is found, warned about and rebuilt, never run.

Each load runs in a fresh interpreter: a file is checked once per process, so a test that
damaged a file and loaded again in the same process would not be what a user does.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from spladekit.model.cache import cached_graph
from spladekit.model.manifest import MANIFEST, damage, write_manifest

from support.tiny_checkpoint import write_checkpoint
from support.tiny_model import write_model_folder

#: Encodes the seed documents in a fresh process; prints the vectors (JSON) and the warnings.
ENCODE = """
import json, sys, warnings
from spladekit import SpladeEncoder
from support.documents import DOCUMENTS
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    encoder = SpladeEncoder(sys.argv[1])
    vectors = [v.to_dict() for v in encoder.encode_documents(DOCUMENTS)]
print(json.dumps({
    "vectors": vectors,
    "graph": str(encoder._documents.session.path),
    "warnings": [f"{w.category.__name__}: {w.message}" for w in caught],
}))
"""


def encode(folder: Path, cache: Path) -> dict[str, object]:
    env = {
        **os.environ,
        "SPLADEKIT_CACHE": str(cache),
        "PYTHONPATH": os.pathsep.join([str(Path(__file__).resolve().parents[1]), *sys.path]),
    }
    done = subprocess.run(
        [sys.executable, "-c", ENCODE, str(folder)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout)
    return result


@pytest.fixture(params=["export", "safetensors"])
def model(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    if request.param == "export":
        return write_model_folder(tmp_path / "export", seed=11)
    return write_checkpoint(tmp_path / "weights", seed=12)


def corrupt_middle(path: Path, size: int = 64) -> None:
    """Overwrite *size* bytes in the middle of *path* with other bytes, keeping its length."""
    with path.open("r+b") as file:
        file.seek(path.stat().st_size // 2)
        old = file.read(size)
        file.seek(path.stat().st_size // 2)
        file.write(bytes((b + 1) % 256 for b in old))


def test_a_damaged_weights_file_is_found_warned_about_and_rebuilt(
    model: Path, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    fresh = encode(model, cache)
    assert fresh["warnings"] == []
    graph = Path(str(fresh["graph"]))
    data = graph.with_name("model.onnx.data")
    assert data.stat().st_size > 1000  # the weights really live in the side file
    corrupt_middle(data)
    again = encode(model, cache)
    assert any("DamagedCacheWarning" in w and "rebuilding" in w for w in again["warnings"])  # type: ignore[union-attr]
    assert again["vectors"] == fresh["vectors"]  # identical to a fresh load, bit for bit
    assert damage(graph.parent) is None  # the rebuilt entry is whole
    third = encode(model, cache)
    assert third["warnings"] == [] and third["vectors"] == fresh["vectors"]


@pytest.mark.parametrize(
    "harm",
    [
        "truncate weights",
        "truncate graph",
        "garble graph",
        "drop manifest",
        "garble manifest",
        "extra file",
    ],
)
def test_every_kind_of_damage_is_rebuilt(tmp_path: Path, harm: str) -> None:
    model = write_model_folder(tmp_path / "export", seed=13)
    cache = tmp_path / "cache"
    fresh = encode(model, cache)
    entry = Path(str(fresh["graph"])).parent
    if harm == "truncate weights":
        data = (entry / "model.onnx.data").read_bytes()
        (entry / "model.onnx.data").write_bytes(data[: len(data) // 3])
    elif harm == "truncate graph":
        (entry / "model.onnx").write_bytes((entry / "model.onnx").read_bytes()[:100])
    elif harm == "garble graph":  # same size: only the bytes tell (ONNX Runtime fails on it)
        graph = bytearray((entry / "model.onnx").read_bytes())
        graph[10:200] = bytes(190)
        (entry / "model.onnx").write_bytes(bytes(graph))
    elif harm == "drop manifest":  # what a crash between writing and renaming could leave
        (entry / MANIFEST).unlink()
    elif harm == "garble manifest":
        (entry / MANIFEST).write_text("{not json")
    else:
        (entry / "stray.bin").write_bytes(b"x")
    assert damage(entry) is not None
    again = encode(model, cache)
    assert any("DamagedCacheWarning" in w for w in again["warnings"])  # type: ignore[union-attr]
    assert again["vectors"] == fresh["vectors"]
    assert damage(entry) is None


def test_two_processes_preparing_at_once_both_end_with_a_good_entry(tmp_path: Path) -> None:
    model = write_model_folder(tmp_path / "export", seed=14)
    cache = tmp_path / "cache"
    env = {
        **os.environ,
        "SPLADEKIT_CACHE": str(cache),
        "PYTHONPATH": os.pathsep.join([str(Path(__file__).resolve().parents[1]), *sys.path]),
    }
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", ENCODE, str(model)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    results = []
    for run in runs:
        out, err = run.communicate(timeout=300)
        assert run.returncode == 0, err
        results.append(json.loads(out))
    assert results[0]["vectors"] == results[1]["vectors"]
    assert all(r["warnings"] == [] for r in results)
    entries = [p for p in (cache / "prepared").iterdir() if not p.name.startswith(".")]
    assert len(entries) == 1 and damage(entries[0]) is None
    assert not [p for p in (cache / "prepared").iterdir() if p.name.startswith(".partial")]


def test_an_interrupted_make_leaves_no_entry(tmp_path: Path) -> None:
    def crash(folder: Path) -> None:
        (folder / "model.onnx").write_bytes(b"half a graph")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        cached_graph(tmp_path, "key", crash)
    assert list(tmp_path.iterdir()) == []


def test_the_manifest_catches_a_single_flipped_bit_anywhere(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    (tmp_path / "model.onnx.data").write_bytes(rng.bytes(3 << 20))
    (tmp_path / "model.onnx").write_bytes(b"graph")
    write_manifest(tmp_path)
    assert damage(tmp_path) is None
    data = bytearray((tmp_path / "model.onnx.data").read_bytes())
    data[1_234_567] ^= 0x10
    (tmp_path / "model.onnx.data").write_bytes(bytes(data))
    assert "model.onnx.data has changed" in str(damage(tmp_path))
