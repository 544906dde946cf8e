"""The index benchmark's jobs, one engine per fresh process: ``python benchmarks/index_jobs.py JOB``.

Each job builds (or loads) one engine over one corpus of ``index_data.py`` and prints a JSON
line: build or load time, memory, latency, and the top-10 ids it returned. The driver is
``index_bench.py``.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from index_data import CACHE, Csr, from_csr, postings_per_query, scifact, synthetic  # noqa: E402

EXPONENT = 0.92  # index_data.py: the Zipf exponent whose postings per query match SciFact's
#: A competitor is stopped once it has loaded this many documents and its rate so far
#: projects the whole corpus past the limit (or when the limit itself is reached).
PROBE_DOCS = 20_000
TOP = 10


# --- measuring -------------------------------------------------------------------------------


def _status(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def reset_peak() -> float:
    """Reset the peak-RSS counter (Linux) and return the current RSS in MB."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass
    return _status("VmRSS")


@contextmanager
def normal_priority() -> Iterator[None]:
    """Run a timed section at nice 0 although the job was started niced (needs root).

    The benchmark is run under ``nice`` to spare others on a shared machine, but a niced
    process's latency measures the scheduler, not the engine; the timed sections are short.
    """
    before = os.getpriority(os.PRIO_PROCESS, 0)
    try:
        os.setpriority(os.PRIO_PROCESS, 0, 0)
    except OSError:  # not permitted: time it niced
        pass
    try:
        yield
    finally:
        os.setpriority(os.PRIO_PROCESS, 0, before)


def latencies(search: Any, queries: list[Any], rounds: int) -> dict[str, float]:
    """p50/p95 (ms) of one query at a time: the round with the lowest p50."""
    best: np.ndarray | None = None
    for _ in range(rounds):
        times = []
        with normal_priority():
            for query in queries:
                start = time.perf_counter()
                search(query)
                times.append(time.perf_counter() - start)
        found = np.array(times) * 1e3
        if best is None or np.median(found) < np.median(best):
            best = found
    assert best is not None
    return {"p50_ms": float(np.median(best)), "p95_ms": float(np.percentile(best, 95))}


def corpus(name: str, smoke: bool) -> tuple[Csr, Csr]:
    if name == "scifact":
        data = scifact()
        queries = data["queries"]
        docs = data["docs"]
        assert isinstance(queries, tuple) and isinstance(docs, tuple)
        if smoke:
            queries = (queries[0][:41], queries[1][: queries[0][40]], queries[2][: queries[0][40]])
        return docs, queries
    count = 20_000 if smoke else 1_000_000
    return synthetic(count, 150, seed=1, exponent=EXPONENT), synthetic(
        200, 40, seed=2, exponent=EXPONENT
    )


def brute_force_top(docs: Csr, queries: Csr, chunk: int = 100_000) -> list[list[int]]:
    """float64 top-10 document positions per query (ties to the lower position).

    Scores documents *chunk* at a time, so the 1M set needs ~150 MB of scratch per query.
    """
    indptr, indices, values = docs
    count = len(indptr) - 1
    out = []
    for a, b in zip(queries[0][:-1].tolist(), queries[0][1:].tolist(), strict=True):
        dense = np.zeros(int(indices.max()) + 1)
        dense[queries[1][a:b]] = queries[2][a:b]
        scores = np.empty(count)
        for first in range(0, count, chunk):
            last = min(count, first + chunk)
            lo, hi = int(indptr[first]), int(indptr[last])
            rows = np.repeat(np.arange(last - first), np.diff(indptr[first : last + 1]))
            products = values[lo:hi].astype(np.float64) * dense[indices[lo:hi]]
            scores[first:last] = np.bincount(rows, weights=products, minlength=last - first)
        order = np.lexsort((np.arange(scores.size), -scores))[:TOP]
        out.append([int(i) for i in order if scores[i] > 0])
    return out


# --- the engines -------------------------------------------------------------------------------


def job_spladekit(job: dict[str, Any]) -> dict[str, Any]:
    from spladekit import SparseIndex

    docs, queries = corpus(job["corpus"], job["smoke"])
    vectors, query_vectors = from_csr(docs), from_csr(queries)
    before = reset_peak()
    start = time.perf_counter()
    index = SparseIndex()
    index.add(list(range(len(vectors))), vectors)
    build_s = time.perf_counter() - start
    peak = _status("VmHWM") - before
    timing = latencies(lambda q: index.search(q, TOP), query_vectors, job["rounds"])
    batch = []
    for _ in range(job["rounds"]):
        start = time.perf_counter()
        hits = index.search_many(query_vectors, TOP)
        batch.append(time.perf_counter() - start)
    path = CACHE / f"index-{job['corpus']}.spladeidx"
    start = time.perf_counter()
    index.save(path)
    save_s = time.perf_counter() - start
    loads = {}
    with normal_priority():
        for verify in (False, True):
            start = time.perf_counter()
            loaded = SparseIndex.load(path, mmap=True, verify=verify)
            loads[f"load_mmap_verify_{verify}_s"] = time.perf_counter() - start
        start = time.perf_counter()
        first = loaded.search(query_vectors[0], TOP)
        loads["first_query_after_load_ms"] = (time.perf_counter() - start) * 1e3
    assert first == hits[0]
    start = time.perf_counter()
    SparseIndex.load(path, mmap=False, verify=True)
    loads["load_read_verify_s"] = time.perf_counter() - start
    file_bytes = path.stat().st_size
    path.unlink()
    segment = index._state.segments[0]
    result = {
        "documents": len(vectors),
        "queries": len(query_vectors),
        "postings": int(len(docs[1])),
        "postings_per_query_over_n": postings_per_query(docs, queries),
        "build_s": build_s,
        "build_peak_rss_mb": peak,
        "index_nbytes": index.nbytes,
        "file_bytes": file_bytes,
        "dense_rows": int(segment.dense_terms.size),
        "save_s": save_s,
        **loads,
        **timing,
        "search_many_s": min(batch),
        "hits": [[int(i) for i, _ in row] for row in hits],
    }
    checked = len(query_vectors) if job["corpus"] == "scifact" else 20
    few = (queries[0][: checked + 1], queries[1], queries[2])
    result["brute_force"] = brute_force_top(docs, few)
    return result


def _load_in_batches(add: Any, docs: Csr, batch: int, limit_s: float) -> tuple[int, float]:
    """Add documents in batches until all are in, or the load would pass *limit_s*.

    Stops early once PROBE_DOCS are in and the rate so far projects past the limit; returns
    (documents loaded, seconds).
    """
    indptr, indices, values = docs
    count = len(indptr) - 1
    start = time.perf_counter()
    done = 0
    while done < count:
        end = min(count, done + batch)
        add(done, end, indptr, indices, values)
        done = end
        elapsed = time.perf_counter() - start
        projected = elapsed * count / done
        if elapsed > limit_s or (done >= PROBE_DOCS and done < count and projected > limit_s):
            break
    return done, time.perf_counter() - start


def job_qdrant(job: dict[str, Any]) -> dict[str, Any]:
    from qdrant_client import QdrantClient, models

    docs, queries = corpus(job["corpus"], job["smoke"])
    client = QdrantClient(":memory:")
    client.create_collection(
        "bench", vectors_config={}, sparse_vectors_config={"s": models.SparseVectorParams()}
    )

    def add(a: int, b: int, indptr: Any, indices: Any, values: Any) -> None:
        points = [
            models.PointStruct(
                id=i,
                vector={
                    "s": models.SparseVector(
                        indices=indices[indptr[i] : indptr[i + 1]].tolist(),
                        values=values[indptr[i] : indptr[i + 1]].tolist(),
                    )
                },
            )
            for i in range(a, b)
        ]
        client.upsert("bench", points, wait=True)

    loaded, load_s = _load_in_batches(add, docs, 1000, job["limit_s"])
    n_queries = min(job["queries"], len(queries[0]) - 1)
    query_vectors = [
        models.SparseVector(
            indices=queries[1][a:b].tolist(), values=queries[2][a:b].astype(float).tolist()
        )
        for a, b in zip(
            queries[0][:n_queries].tolist(), queries[0][1 : n_queries + 1].tolist(), strict=True
        )
    ]

    def search(q: Any) -> list[int]:
        points = client.query_points("bench", query=q, using="s", limit=TOP).points
        return [int(p.id) for p in points]

    timing = latencies(search, query_vectors, 1)
    return {
        "documents": len(docs[0]) - 1,
        "loaded": loaded,
        "load_s": load_s,
        **timing,
        "hits": [search(q) for q in query_vectors] if loaded == len(docs[0]) - 1 else [],
    }


def _remove(path: Path) -> None:
    """Delete a Milvus Lite database (a folder in milvus-lite 3, a file before)."""
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def job_milvus(job: dict[str, Any]) -> dict[str, Any]:
    from pymilvus import DataType, MilvusClient

    docs, queries = corpus(job["corpus"], job["smoke"])
    path = CACHE / f"milvus-{job['corpus']}.db"
    _remove(path)
    try:  # Milvus Lite's server inherits the client's nice: run the whole job at nice 0
        os.setpriority(os.PRIO_PROCESS, 0, 0)
    except OSError:
        pass
    client = MilvusClient(str(path))
    schema = client.create_schema(auto_id=False)
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
    index = client.prepare_index_params()
    index.add_index(field_name="sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="IP")
    client.create_collection("bench", schema=schema, index_params=index)

    def add(a: int, b: int, indptr: Any, indices: Any, values: Any) -> None:
        rows = [
            {
                "id": i,
                "sparse": dict(
                    zip(
                        indices[indptr[i] : indptr[i + 1]].tolist(),
                        values[indptr[i] : indptr[i + 1]].tolist(),
                        strict=True,
                    )
                ),
            }
            for i in range(a, b)
        ]
        client.insert("bench", rows)

    loaded, load_s = _load_in_batches(add, docs, 2000, job["limit_s"])
    start = time.perf_counter()
    client.flush("bench")
    client.load_collection("bench")
    load_s += time.perf_counter() - start
    n_queries = min(job["queries"], len(queries[0]) - 1)
    query_dicts = [
        dict(zip(queries[1][a:b].tolist(), queries[2][a:b].tolist(), strict=True))
        for a, b in zip(
            queries[0][:n_queries].tolist(), queries[0][1 : n_queries + 1].tolist(), strict=True
        )
    ]
    params = {"metric_type": "IP", "params": {"drop_ratio_search": 0.0}}

    def search(q: Any) -> list[int]:
        found = client.search(
            "bench", data=[q], anns_field="sparse", limit=TOP, search_params=params
        )
        return [int(hit["id"]) for hit in found[0]]

    timing = latencies(search, query_dicts, 2)
    hits = [search(q) for q in query_dicts] if loaded == len(docs[0]) - 1 else []
    client.close()
    _remove(path)
    return {
        "documents": len(docs[0]) - 1,
        "loaded": loaded,
        "load_s": load_s,
        **timing,
        "hits": hits,
    }


JOBS = {"spladekit": job_spladekit, "qdrant": job_qdrant, "milvus": job_milvus}


if __name__ == "__main__":
    job = json.loads(sys.argv[1])
    print(json.dumps(JOBS[job["engine"]](job)))
