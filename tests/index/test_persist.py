"""save / load: same answers with and without mmap; damaged files fail with IndexFormatError."""

from __future__ import annotations

import json
import mmap as mmap_module
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest

from spladekit import IndexFormatError, SparseIndex, SparseVector
from spladekit.index import build, persist

from support.vectors import BruteForce, assert_same_ranking, random_vectors


@pytest.fixture(scope="module")
def documents() -> list[SparseVector]:
    return random_vectors(800, 80, seed=11)


@pytest.fixture(scope="module")
def queries() -> list[SparseVector]:
    return random_vectors(12, 25, seed=12)


@pytest.fixture()
def saved(tmp_path: Path, documents: list[SparseVector]) -> Path:
    index = SparseIndex()
    index.add([f"doc-{i}" for i in range(len(documents))], documents)
    path = tmp_path / "scifact.spladeidx"
    index.save(path)
    return path


@pytest.mark.parametrize("mmap", [True, False])
def test_loaded_index_answers_like_the_saved_one(
    tmp_path: Path, documents: list[SparseVector], queries: list[SparseVector], mmap: bool
) -> None:
    ids = [f"doc-{i}" for i in range(len(documents))]
    index = SparseIndex()
    index.add(ids[:500], documents[:500])
    index.add(ids[500:], documents[500:])
    index.delete(ids[::10])
    path = tmp_path / "index.bin"
    index.save(path)
    loaded = SparseIndex.load(path, mmap=mmap)
    assert len(loaded) == len(index) == 720
    assert loaded.ids == index.ids
    kept = [i for i in range(len(documents)) if i % 10]
    brute = BruteForce([ids[i] for i in kept], [documents[i] for i in kept])
    for query in queries:
        assert loaded.search(query, 15) == index.search(query, 15)
        assert_same_ranking(loaded.search(query, 15), brute.top(query, 15))
    assert loaded.search_many(queries, 5) == index.search_many(queries, 5)
    docs = loaded._state.segments[0].docs
    assert not docs.flags.writeable
    root = docs
    while isinstance(root, np.ndarray) and root.base is not None:
        root = root.base
    if isinstance(root, memoryview):
        root = root.obj
    assert isinstance(root, mmap_module.mmap) is mmap


def test_a_loaded_index_takes_adds_and_deletes(saved: Path, documents: list[SparseVector]) -> None:
    loaded = SparseIndex.load(saved)
    loaded.delete(["doc-0", "doc-1"])
    loaded.add(["new"], [documents[0]])
    assert "doc-0" not in loaded and "new" in loaded
    hits = loaded.search(documents[0], 3)
    assert hits[0][0] == "new"
    with pytest.raises(ValueError, match="already in the index"):
        loaded.add(["doc-5"], [documents[5]])


def test_int_ids_and_dense_rows_survive_a_round_trip(tmp_path: Path) -> None:
    documents = random_vectors(build.MIN_DENSE_DOCUMENTS + 100, 40, seed=13, exponent=1.2)
    index = SparseIndex()
    index.add(list(range(0, 2 * len(documents), 2)), documents)
    assert index._state.segments[0].dense_terms.size > 0
    path = tmp_path / "ints.bin"
    index.save(path)
    loaded = SparseIndex.load(path, mmap=True)
    for query in random_vectors(5, 30, seed=14, exponent=1.2):
        got = loaded.search(query, 10)
        assert got == index.search(query, 10)
        assert all(type(i) is int for i, _ in got)


def test_empty_index_round_trips_and_takes_any_id_kind(tmp_path: Path) -> None:
    path = tmp_path / "empty.bin"
    SparseIndex().save(path)
    loaded = SparseIndex.load(path)
    assert len(loaded) == 0 and loaded.search(SparseVector([1], [1.0])) == []
    loaded.add([3], [SparseVector([1], [1.0])])
    assert loaded.search(SparseVector([1], [1.0])) == [(3, 1.0)]


def test_save_replaces_a_file_atomically(saved: Path) -> None:
    index = SparseIndex()
    index.add(["only"], [SparseVector([4], [1.0])])
    index.save(saved)
    assert SparseIndex.load(saved).ids == ["only"]
    assert [p.name for p in saved.parent.iterdir()] == [saved.name]  # no temporary left


def test_the_header_is_documented_json(saved: Path) -> None:
    raw = saved.read_bytes()
    magic, version, crc, length = struct.unpack("<8sIIQ", raw[:24])
    assert magic == b"SPLADEIX" and version == 1
    header = json.loads(raw[24 : 24 + length])
    assert zlib.crc32(raw[24 : 24 + length]) == crc
    assert header["format"] == "spladekit.SparseIndex" and header["documents"] == 800
    assert header["file_bytes"] == len(raw) and header["id_kind"] == "str"
    assert set(header["arrays"]) == {
        "terms", "offsets", "docs", "values", "dense_terms", "dense", "id_offsets", "id_bytes",
    }  # fmt: skip
    for entry in header["arrays"].values():
        assert entry["offset"] % 64 == 0


@pytest.mark.parametrize("keep", [0, 10, 30, 200, -1])
@pytest.mark.parametrize("verify", [True, False])
def test_a_truncated_file_is_refused(saved: Path, keep: int, verify: bool) -> None:
    raw = saved.read_bytes()
    saved.write_bytes(raw[:keep])
    with pytest.raises(IndexFormatError, match="not a usable spladekit index"):
        SparseIndex.load(saved, verify=verify)


def test_a_file_with_bytes_appended_is_refused(saved: Path) -> None:
    with saved.open("ab") as out:
        out.write(b"\0" * 64)
    with pytest.raises(IndexFormatError, match="truncated or appended"):
        SparseIndex.load(saved)


def _flip(path: Path, offset: int) -> None:
    raw = bytearray(path.read_bytes())
    raw[offset] ^= 0x40
    path.write_bytes(bytes(raw))


def _array_offset(path: Path, name: str) -> int:
    raw = path.read_bytes()
    (length,) = struct.unpack("<Q", raw[16:24])
    entry = json.loads(raw[24 : 24 + length])["arrays"][name]
    return int(entry["offset"]) + int(entry["nbytes"]) // 2


@pytest.mark.parametrize("name", ["values", "docs", "terms", "offsets", "id_bytes"])
def test_a_changed_array_byte_is_caught_by_its_checksum(saved: Path, name: str) -> None:
    _flip(saved, _array_offset(saved, name))
    with pytest.raises(IndexFormatError, match=f"array '{name}' does not match its CRC-32"):
        SparseIndex.load(saved, mmap=True)
    with pytest.raises(IndexFormatError, match="CRC-32"):
        SparseIndex.load(saved, mmap=False)


def test_a_changed_header_byte_is_caught(saved: Path) -> None:
    _flip(saved, 40)
    with pytest.raises(IndexFormatError, match="header's CRC-32"):
        SparseIndex.load(saved, verify=False)


def test_wrong_magic_newer_version_and_a_missing_file(saved: Path, tmp_path: Path) -> None:
    raw = bytearray(saved.read_bytes())
    saved.write_bytes(b"NOTANIDX" + bytes(raw[8:]))
    with pytest.raises(IndexFormatError, match="does not start with"):
        SparseIndex.load(saved)
    raw[8:12] = struct.pack("<I", persist.VERSION + 1)
    saved.write_bytes(bytes(raw))
    with pytest.raises(IndexFormatError, match="newer than this spladekit reads"):
        SparseIndex.load(saved)
    with pytest.raises(IndexFormatError, match="not a file"):
        SparseIndex.load(tmp_path / "nothing.bin")
    assert issubclass(IndexFormatError, ValueError)


def test_arrays_that_do_not_fit_together_are_refused(tmp_path: Path) -> None:
    # A well-formed file (valid CRCs) whose arrays contradict each other: hand-written.
    path = tmp_path / "forged.bin"
    arrays = {
        "terms": np.array([1, 2], np.int64),
        "offsets": np.array([0, 1, 3], np.int64),
        "docs": np.array([0, 5, 1], np.int32),  # document 5 of 2
        "values": np.array([1.0, 1.0, 1.0], np.float32),
        "dense_terms": np.empty(0, np.int64),
        "dense": np.empty((0, 2), np.float32),
        "ids": np.array([1, 2], np.int64),
    }
    persist.write(path, {"documents": 2, "id_kind": "int"}, arrays)
    with pytest.raises(IndexFormatError, match="out of range"):
        SparseIndex.load(path)
    arrays["offsets"] = np.array([0, 2, 2], np.int64)
    persist.write(path, {"documents": 2, "id_kind": "int"}, arrays)
    with pytest.raises(IndexFormatError, match="offsets"):
        SparseIndex.load(path, verify=False)


def test_checksums_cover_every_block_of_a_large_array(
    tmp_path: Path, documents: list[SparseVector], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(persist, "_CRC_BLOCK", 256)  # many blocks per array
    index = SparseIndex()
    index.add(list(range(len(documents))), documents)
    path = tmp_path / "blocks.bin"
    index.save(path)
    raw = path.read_bytes()
    (length,) = struct.unpack("<Q", raw[16:24])
    entry = json.loads(raw[24 : 24 + length])["arrays"]["values"]
    assert len(entry["crc32"]) == -(-entry["nbytes"] // 256) > 10
    assert SparseIndex.load(path).search(documents[3], 5) == index.search(documents[3], 5)
    _flip(path, entry["offset"] + entry["nbytes"] - 3)  # inside the last block
    with pytest.raises(IndexFormatError, match="array 'values' does not match its CRC-32"):
        SparseIndex.load(path)
