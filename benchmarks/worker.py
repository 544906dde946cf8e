"""One measurement in a fresh process: ``python worker.py '<json job>'`` prints one JSON line.

Each job runs in its own interpreter (spladekit's venv or fastembed's), so peak RSS is that
job's own, model load included, and neither library's imports touch the other. The job names
a tool (spladekit, fastembed, bare ONNX Runtime, or a MatMul probe) and what to time.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import load_corpus, sample_queries  # noqa: E402
from machine import peak_rss_mb  # noqa: E402

ROOFLINE_MODELS = Path(__file__).resolve().parent / ".cache" / "roofline"


def _save_vectors(path: str, vectors: list[tuple[np.ndarray, np.ndarray]]) -> None:
    sizes = np.array([len(i) for i, _ in vectors], dtype=np.int64)
    indices = np.concatenate([np.asarray(i, dtype=np.int64) for i, _ in vectors] or [np.zeros(0)])
    values = np.concatenate([np.asarray(v, dtype=np.float32) for _, v in vectors] or [np.zeros(0)])
    np.savez(path, sizes=sizes, indices=indices, values=values)


def _texts(job: dict[str, Any]) -> list[str]:
    corpus = load_corpus()
    picks = job["doc_ids"]
    return [corpus[i] for i in picks]


def _settle() -> None:
    """Wait for spladekit's huge-page move (~1.3 s after a BERT-base session is made): steady state."""
    module = sys.modules.get("spladekit.pipeline.huge_pages")  # other tools: nothing to wait for
    if module is None:
        return
    for thread in threading.enumerate():
        if thread.name == module.THREAD_NAME:
            thread.join()


def _spladekit(job: dict[str, Any]) -> tuple[Any, Any, Any]:
    from spladekit import SpladeEncoder

    options: dict[str, Any] = {"long_documents": "truncate", **job.get("options", {})}
    started = time.perf_counter()
    encoder = SpladeEncoder.from_pretrained(job["model"], **options)
    load_s = time.perf_counter() - started

    def docs(texts: list[str], batch_size: int) -> list[tuple[np.ndarray, np.ndarray]]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the truncation warning: fastembed truncates too
            vectors = encoder.encode_documents(texts, batch_size=batch_size)
        return [(v.indices, v.values) for v in vectors]

    def query(text: str) -> tuple[np.ndarray, np.ndarray]:
        vector = encoder.encode_query(text)
        return vector.indices, vector.values

    return docs, query, load_s


def _fastembed(job: dict[str, Any]) -> tuple[Any, Any, Any]:
    from fastembed import SparseTextEmbedding

    started = time.perf_counter()
    model = SparseTextEmbedding(
        model_name="prithivida/Splade_PP_en_v1",
        specific_model_path=job["model"],
        threads=job.get("threads"),
    )
    load_s = time.perf_counter() - started

    def docs(texts: list[str], batch_size: int) -> list[tuple[np.ndarray, np.ndarray]]:
        return [(e.indices, e.values) for e in model.embed(texts, batch_size=batch_size)]

    def query(text: str) -> tuple[np.ndarray, np.ndarray]:
        (e,) = list(model.query_embed(text))
        return e.indices, e.values

    return docs, query, load_s


def bare_feed(tokenizer: Any, names: set[str], text: str) -> dict[str, np.ndarray]:
    """One query's inputs for a session taking *names*, as the bare forward is fed them."""
    ids = np.array([tokenizer.encode(text).ids], dtype=np.int64)
    feed = {"input_ids": ids, "attention_mask": np.ones_like(ids)}
    if "token_type_ids" in names:
        feed["token_type_ids"] = np.zeros_like(ids)
    return feed


def _bare(job: dict[str, Any]) -> tuple[Any, Any, Any]:
    """ONNX Runtime as it loads a model by default, timing only ``run`` on one query's ids."""
    import onnxruntime as ort
    from tokenizers import Tokenizer

    started = time.perf_counter()
    session = ort.InferenceSession(
        str(Path(job["model"]) / "model.onnx"), providers=["CPUExecutionProvider"]
    )
    tokenizer = Tokenizer.from_file(str(Path(job["model"]) / "tokenizer.json"))
    load_s = time.perf_counter() - started
    names = {i.name for i in session.get_inputs()}

    def query(text: str) -> float:
        feed = bare_feed(tokenizer, names, text)
        begin = time.perf_counter()
        session.run(None, feed)
        return time.perf_counter() - begin

    return None, query, load_s


def matmul_model(k: int, n: int) -> Path:
    """A one-MatMul graph with a random (k, n) weight, written once by spladekit's venv.

    fastembed's venv has no onnx package, and its documents jobs probe the roofline too.
    """
    path = ROOFLINE_MODELS / f"matmul-{k}x{n}.onnx"
    if not path.exists():
        from onnx import TensorProto, helper, numpy_helper

        rng = np.random.default_rng(k * n)
        weight = numpy_helper.from_array(rng.normal(size=(k, n)).astype(np.float32), "w")
        graph = helper.make_graph(
            [helper.make_node("MatMul", ["x", "w"], ["y"])],
            "mm",
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["m", k])],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["m", n])],
            [weight],
        )
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
        model.ir_version = 8
        path.parent.mkdir(parents=True, exist_ok=True)
        staged = path.with_suffix(".part")
        staged.write_bytes(model.SerializeToString())
        staged.replace(path)
    return path


#: The longest a sustained probe runs (s): the AMD EPYC's MatMul rate settled within ~30 s.
SUSTAIN_CAP_S = 60.0


def _probe(seconds: float | None = None) -> float:
    """The roofline (GFLOP/s) measured now, in a child process: its memory is not this job's.

    Without *seconds*, the best of short runs (a burst); with, the median rate of one MatMul
    run back to back for that long (what the CPU keeps up under load).
    """
    job: dict[str, Any] = (
        {"kind": "roofline", "repeats": 6}
        if seconds is None
        else {"kind": "sustained", "seconds": seconds}
    )
    done = subprocess.run(
        [sys.executable, __file__, json.dumps(job)],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(json.loads(done.stdout.strip().splitlines()[-1])["gflops"])


def _matmul_session(m: int, k: int, n: int, rng: np.random.Generator) -> tuple[Any, np.ndarray]:
    """A session on the (k, n) MatMul graph and an (m, k) input, run once (warm)."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(matmul_model(k, n)), providers=["CPUExecutionProvider"])
    x = rng.normal(size=(m, k)).astype(np.float32)
    session.run(None, {"x": x})
    return session, x


def _roofline(job: dict[str, Any]) -> dict[str, Any]:
    """Best GFLOP/s of ONNX Runtime MatMul at BERT-base shapes (2048 tokens × 768 → 3072).

    A documents job runs it too (:func:`_probe`), just before and just after its timing: this
    machine's speed drifts by a quarter over minutes (other guests), so a share of the roofline
    means most against a roofline measured in the same minute.
    """
    rng = np.random.default_rng(0)
    best: dict[str, float] = {}
    for m, k, n in [(2048, 768, 3072), (2048, 3072, 768), (2048, 768, 768)]:
        session, x = _matmul_session(m, k, n, rng)
        for _ in range(2):
            session.run(None, {"x": x})
        times = []
        for _ in range(job.get("repeats", 12)):
            begin = time.perf_counter()
            session.run(None, {"x": x})
            times.append(time.perf_counter() - begin)
        best[f"{m}x{k}x{n}"] = 2 * m * k * n / min(times) / 1e9
    return {"gflops": max(best.values()), "shapes": best}


def _sustained(job: dict[str, Any]) -> dict[str, Any]:
    """The median GFLOP/s of the probe's first MatMul, run back to back for ``job["seconds"]``.

    A burst probe catches the CPU rested: on the AMD EPYC a MatMul run without pause fell
    from ~150 to ~100 GFLOP/s within 30 s, and a documents job runs 20-190 s.
    """
    m, k, n = 2048, 768, 3072
    seconds = job["seconds"]
    session, x = _matmul_session(m, k, n, np.random.default_rng(0))
    rates: list[float] = []
    started = time.perf_counter()
    while time.perf_counter() - started < seconds or len(rates) < 3:
        begin = time.perf_counter()
        session.run(None, {"x": x})
        rates.append(2 * m * k * n / (time.perf_counter() - begin) / 1e9)
    return {"gflops": float(np.median(rates)), "best_gflops": max(rates), "runs": len(rates)}


def _overhead(job: dict[str, Any]) -> dict[str, Any]:
    """Share of encode time spent outside ONNX Runtime (tokenize, batch, pool, convert)."""
    from spladekit import SpladeEncoder

    encoder = SpladeEncoder.from_pretrained(job["model"], long_documents="truncate")
    model = encoder._documents.session  # spladekit's MaskedLMSession
    inside = [0.0]
    session = model.session  # its ONNX Runtime session

    class Timed:
        def __getattr__(self, name: str) -> Any:
            return getattr(session, name)

        def run(self, *args: Any, **kwargs: Any) -> Any:
            begin = time.perf_counter()
            try:
                return session.run(*args, **kwargs)
            finally:
                inside[0] += time.perf_counter() - begin

    model.session = Timed()
    texts = _texts(job)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        encoder.encode_documents(texts[:8])
        best = None
        for _ in range(3):
            inside[0] = 0.0
            started = time.perf_counter()
            encoder.encode_documents(texts, batch_size=job["batch_size"])
            total = time.perf_counter() - started
            share = 100 * (total - inside[0]) / total
            if best is None or total < best[0]:
                best = (total, share, inside[0])
    assert best is not None
    return {
        "docs": len(texts),
        "seconds": best[0],
        "onnx_seconds": best[2],
        "overhead_pct": best[1],
        "docs_per_s": len(texts) / best[0],
        "peak_rss_mb": peak_rss_mb(),
    }


def _prepare(job: dict[str, Any]) -> dict[str, Any]:
    """Prepare or build (once, cached) the graph spladekit will load; its one-time cost."""
    from spladekit import SpladeEncoder

    started = time.perf_counter()
    encoder = SpladeEncoder.from_pretrained(job["model"], **job.get("options", {}))
    return {
        "seconds": time.perf_counter() - started,
        "path": str(encoder._documents.session.path),
        "peak_rss_mb": peak_rss_mb(),
    }


def run(job: dict[str, Any]) -> dict[str, Any]:
    if job["kind"] == "prepare":
        return _prepare(job)
    if job["kind"] == "roofline":
        return _roofline(job)
    if job["kind"] == "sustained":
        return _sustained(job)
    if job["kind"] == "overhead":
        return _overhead(job)
    make = {"spladekit": _spladekit, "fastembed": _fastembed, "bare": _bare}[job["kind"]]
    docs, query, load_s = make(job)
    result: dict[str, Any] = {"load_s": load_s}
    if job["mode"] == "docs":
        texts = _texts(job)
        docs(texts[:4], job["batch_size"])  # warm-up: first-run allocations
        _settle()
        probes = [_probe()] if job.get("probe") else []
        started = time.perf_counter()
        vectors = docs(texts, job["batch_size"])
        seconds = time.perf_counter() - started
        if probes:
            # Straight on from the job, as long as it ran: the rate the CPU kept up meanwhile.
            result["sustained_gflops"] = _probe(min(seconds, SUSTAIN_CAP_S))
            probes.append(_probe())
            result["probe_gflops"] = max(probes)  # the faster minute: a conservative share
        result.update(docs=len(texts), seconds=seconds, docs_per_s=len(texts) / seconds)
        if job.get("save"):
            _save_vectors(job["save"], vectors)
    elif job["mode"] == "queries":
        queries = sample_queries(job["queries"] + 3)
        for text in queries[:3]:  # warm-up on other queries: no result is reused below
            query(text)
        _settle()
        times, vectors = [], []
        for text in queries[3:]:
            begin = time.perf_counter()
            out = query(text)
            elapsed = time.perf_counter() - begin
            times.append(out if isinstance(out, float) else elapsed)
            if not isinstance(out, float):
                vectors.append(out)
        ms = np.array(times) * 1000
        result.update(
            queries=len(times),
            p50_ms=float(np.percentile(ms, 50)),
            p95_ms=float(np.percentile(ms, 95)),
        )
        if job.get("save") and vectors:
            _save_vectors(job["save"], vectors)
    import onnxruntime

    result["peak_rss_mb"] = peak_rss_mb()
    result["onnxruntime"] = onnxruntime.__version__
    return result


if __name__ == "__main__":
    job = json.loads(sys.argv[1])
    print(json.dumps(run(job)))
