"""LlamaIndex adapters against the real LlamaIndex and an embedded Qdrant."""

from __future__ import annotations

import asyncio
import importlib
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("llama_index.core")
pytest.importorskip("llama_index.vector_stores.qdrant")

from llama_index.core import Settings, StorageContext, VectorStoreIndex  # noqa: E402
from llama_index.core.llms import MockLLM  # noqa: E402
from llama_index.core.schema import TextNode  # noqa: E402
from llama_index.vector_stores.qdrant import QdrantVectorStore  # noqa: E402
from llama_index.vector_stores.qdrant.utils import relative_score_fusion  # noqa: E402
from qdrant_client import QdrantClient  # noqa: E402

from spladekit import SparseVector, SpladeEncoder  # noqa: E402
from spladekit.errors import InputError, InputTypeError, MissingDependencyError  # noqa: E402
from spladekit.llama_index import (  # noqa: E402
    SpladeSparseEmbedding,
    hybrid_fusion,
    qdrant_sparse_functions,
)

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "llamaindex_qdrant_hybrid.py"
sys.path.insert(0, str(EXAMPLE.parent))

from llamaindex_qdrant_hybrid import HashingEmbedding  # noqa: E402

from chandrayaan import DOCUMENTS  # noqa: E402

QUERY = "When did Chandrayaan-3 land on the Moon?"


@pytest.fixture(autouse=True)
def offline_settings() -> None:
    """Nothing may reach for OpenAI: a mock LLM and an offline dense embedding."""
    Settings.llm = MockLLM(max_tokens=8)
    Settings.embed_model = HashingEmbedding()


def make_nodes() -> list[TextNode]:
    return [
        TextNode(text=text, id_=f"00000000-0000-0000-0000-{i:012d}")
        for i, text in enumerate(DOCUMENTS)
    ]


def qdrant_index(sparse: SpladeSparseEmbedding) -> tuple[VectorStoreIndex, QdrantVectorStore]:
    doc_fn, query_fn = qdrant_sparse_functions(sparse)
    store = QdrantVectorStore(
        "docs",
        client=QdrantClient(":memory:"),
        enable_hybrid=True,
        sparse_doc_fn=doc_fn,
        sparse_query_fn=query_fn,
        hybrid_fusion_fn=hybrid_fusion,
        index_doc_id=False,  # payload indexes only warn in local mode
    )
    index = VectorStoreIndex(
        make_nodes(), storage_context=StorageContext.from_defaults(vector_store=store)
    )
    return index, store


def brute_force(encoder: SpladeEncoder, query: str) -> list[tuple[int, float]]:
    """(document position, dot product) for every document sharing a term, best first."""
    q = encoder.encode_query(query)
    scores = [(i, q.dot(d)) for i, d in enumerate(encoder.encode_documents(DOCUMENTS))]
    return sorted((s for s in scores if s[1] > 0), key=lambda s: -s[1])


def assert_close(got: list[Any], expected: list[SparseVector]) -> None:
    """Equal up to float32 noise: ONNX sums differ slightly with batch composition."""
    assert len(got) == len(expected)
    for g, e in zip(got, expected, strict=True):
        g_dict = g if isinstance(g, dict) else g.to_dict()
        e_dict = e.to_dict()
        keys = g_dict.keys() | e_dict.keys()
        assert {k: g_dict.get(k, 0.0) for k in keys} == pytest.approx(
            {k: e_dict.get(k, 0.0) for k in keys}, abs=1e-5
        )


def position(node_id: str) -> int:
    return int(node_id.rsplit("-", 1)[1])


# --- SpladeSparseEmbedding ---------------------------------------------------------------


def test_embeddings_are_plain_dicts_equal_to_the_encoder(encoder: SpladeEncoder) -> None:
    sparse = SpladeSparseEmbedding(encoder=encoder)
    docs = sparse.get_text_embedding_batch(DOCUMENTS)
    expected = encoder.encode_documents(DOCUMENTS)
    assert_close(docs, expected)
    assert_close([sparse.get_text_embedding(DOCUMENTS[3])], [expected[3]])
    query = sparse.get_query_embedding(QUERY)
    assert query == encoder.encode_query(QUERY).to_dict()
    for vector in [*docs, query]:
        assert all(type(k) is int and type(v) is float for k, v in vector.items())
    assert asyncio.run(sparse.aget_query_embedding(QUERY)) == query
    assert_close([asyncio.run(sparse.aget_text_embedding(DOCUMENTS[3]))], [expected[3]])
    assert SpladeSparseEmbedding.class_name() == "SpladeSparseEmbedding"
    assert sparse.model_name == encoder.name


def count_calls(monkeypatch: pytest.MonkeyPatch, encoder: SpladeEncoder, method: str) -> list[int]:
    """Wrap the real encoder method; record the number of texts per call."""
    real = getattr(encoder, method)
    sizes: list[int] = []

    def counting(texts: list[str], **kwargs: Any) -> list[SparseVector]:
        sizes.append(len(texts))
        return real(texts, **kwargs)

    monkeypatch.setattr(encoder, method, counting)
    return sizes


def test_batch_is_one_encoder_call_per_embed_batch(
    encoder: SpladeEncoder, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = encoder.encode_documents(DOCUMENTS[:7])
    sizes = count_calls(monkeypatch, encoder, "encode_documents")
    sparse = SpladeSparseEmbedding(encoder=encoder, embed_batch_size=3)
    assert_close(sparse.get_text_embedding_batch(DOCUMENTS[:7]), expected)
    assert sizes == [3, 3, 1]
    sizes.clear()
    assert_close(asyncio.run(sparse.aget_text_embedding_batch(DOCUMENTS[:7])), expected)
    assert sorted(sizes) == [1, 3, 3]


def test_qdrant_functions_use_document_and_query_paths(
    encoder: SpladeEncoder, monkeypatch: pytest.MonkeyPatch
) -> None:
    doc_sizes = count_calls(monkeypatch, encoder, "encode_documents")
    query_sizes = count_calls(monkeypatch, encoder, "encode_queries")
    doc_fn, query_fn = qdrant_sparse_functions(encoder)
    indices, values = doc_fn(DOCUMENTS[:2])
    assert (doc_sizes, query_sizes) == ([2], [])
    assert_close(
        [SparseVector(i, v) for i, v in zip(indices, values, strict=True)],
        encoder.encode_documents(DOCUMENTS[:2]),
    )
    doc_sizes.clear()
    [q_indices], [q_values] = query_fn([QUERY])
    assert (doc_sizes, query_sizes) == ([], [1])
    assert SparseVector(q_indices, q_values) == encoder.encode_query(QUERY)
    assert all(type(i) is int for i in q_indices) and all(type(v) is float for v in q_values)


# --- QdrantVectorStore -------------------------------------------------------------------


def test_qdrant_stores_the_encoders_vectors(encoder: SpladeEncoder) -> None:
    _, store = qdrant_index(SpladeSparseEmbedding(encoder=encoder))
    ids = [node.node_id for node in make_nodes()]
    points = store.client.retrieve("docs", ids=ids, with_vectors=True)
    stored = {p.id: p.vector[store.sparse_vector_name] for p in points}
    for node_id, expected in zip(ids, encoder.encode_documents(DOCUMENTS), strict=True):
        got = stored[node_id]
        assert_close([SparseVector(got.indices, got.values)], [expected])


def test_qdrant_sparse_mode_ranks_by_dot_product(encoder: SpladeEncoder) -> None:
    index, _ = qdrant_index(SpladeSparseEmbedding(encoder=encoder))
    expected = brute_force(encoder, QUERY)
    retriever = index.as_retriever(
        vector_store_query_mode="sparse", similarity_top_k=12, sparse_top_k=12
    )
    hits = retriever.retrieve(QUERY)
    assert [position(h.node.node_id) for h in hits] == [i for i, _ in expected]
    assert [h.score for h in hits] == pytest.approx([s for _, s in expected], rel=1e-5)


@pytest.mark.parametrize(("top_k", "sparse_top_k"), [(3, 5), (1, 1), (5, 1), (1, 12)])
def test_qdrant_hybrid_scores_stay_in_unit_interval(
    encoder: SpladeEncoder, top_k: int, sparse_top_k: int
) -> None:
    index, store = qdrant_index(SpladeSparseEmbedding(encoder=encoder))
    retriever = index.as_retriever(
        vector_store_query_mode="hybrid",
        similarity_top_k=top_k,
        sparse_top_k=sparse_top_k,
        alpha=0.5,
    )
    hits = retriever.retrieve(QUERY)
    assert hits
    assert all(0.0 <= h.score <= 1.0 for h in hits)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    # LlamaIndex's default keeps raw dot products when a list has one hit; ours does not.
    store.set_query_functions(*qdrant_sparse_functions(encoder), relative_score_fusion)
    if sparse_top_k == 1:  # the tiny model's dot products are ~80
        assert max(h.score for h in retriever.retrieve(QUERY)) > 1.0


def test_qdrant_hybrid_alpha_extremes(encoder: SpladeEncoder) -> None:
    index, _ = qdrant_index(SpladeSparseEmbedding(encoder=encoder))
    sparse_order = [i for i, _ in brute_force(encoder, QUERY)]

    def ranked(alpha: float, mode: str = "hybrid") -> list[int]:
        retriever = index.as_retriever(
            vector_store_query_mode=mode, similarity_top_k=4, sparse_top_k=4, alpha=alpha
        )
        return [position(h.node.node_id) for h in retriever.retrieve(QUERY)]

    assert ranked(0.0)[:3] == sparse_order[:3]  # alpha 0: sparse only (its top 4 score > 0)
    assert ranked(1.0)[:3] == ranked(1.0, "default")[:3]  # alpha 1: dense only


def test_qdrant_async_retrieve_matches_sync(encoder: SpladeEncoder) -> None:
    from qdrant_client import AsyncQdrantClient

    sparse = SpladeSparseEmbedding(encoder=encoder)
    index, _ = qdrant_index(sparse)
    options: dict[str, Any] = {
        "vector_store_query_mode": "hybrid",
        "similarity_top_k": 3,
        "sparse_top_k": 5,
        "alpha": 0.5,
    }
    sync_hits = index.as_retriever(**options).retrieve(QUERY)

    async def run() -> list[Any]:
        doc_fn, query_fn = qdrant_sparse_functions(sparse)
        store = QdrantVectorStore(
            "docs",
            aclient=AsyncQdrantClient(":memory:"),
            enable_hybrid=True,
            sparse_doc_fn=doc_fn,
            sparse_query_fn=query_fn,
            hybrid_fusion_fn=hybrid_fusion,
            index_doc_id=False,
        )
        aindex = VectorStoreIndex(
            [], storage_context=StorageContext.from_defaults(vector_store=store), use_async=True
        )
        await aindex.ainsert_nodes(make_nodes())
        return await aindex.as_retriever(**options).aretrieve(QUERY)

    async_hits = asyncio.run(run())
    assert [h.node.node_id for h in async_hits] == [h.node.node_id for h in sync_hits]
    assert [h.score for h in async_hits] == pytest.approx([h.score for h in sync_hits])


# --- construction ------------------------------------------------------------------------


def test_encoder_is_shared_not_reloaded(
    encoder: SpladeEncoder, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_loading(*args: Any, **kwargs: Any) -> SpladeEncoder:
        raise AssertionError("the shared encoder was reloaded")

    monkeypatch.setattr(SpladeEncoder, "from_pretrained", no_loading)
    sparse = SpladeSparseEmbedding(encoder=encoder, embed_batch_size=4)
    assert sparse.encoder is encoder
    doc_fn, _ = qdrant_sparse_functions(sparse)
    assert doc_fn(["moon"])[0][0] == encoder.encode_documents(["moon"])[0].indices.tolist()


def test_model_name_and_options_reach_from_pretrained(tiny_model_dir: Path) -> None:
    sparse = SpladeSparseEmbedding(model_name=str(tiny_model_dir), max_length=16, top_k=3)
    assert sparse.encoder.max_length == 16
    assert sparse.model_name == str(tiny_model_dir)
    assert len(sparse.get_text_embedding(DOCUMENTS[7])) <= 3


def test_constructor_rejects_bad_options(encoder: SpladeEncoder, tiny_model_dir: Path) -> None:
    with pytest.raises(
        InputTypeError, match=r"unknown option 'max_lenght' \(did you mean 'max_length'"
    ):
        SpladeSparseEmbedding(model_name=str(tiny_model_dir), max_lenght=128)
    with pytest.raises(InputError, match="encoder= together with model_name, threads"):
        SpladeSparseEmbedding(encoder=encoder, model_name="x", threads=1)
    with pytest.raises(InputTypeError, match="must be a SpladeEncoder, got str"):
        SpladeSparseEmbedding(encoder="prithivida/Splade_PP_en_v1")  # type: ignore[arg-type]
    for bad in (0, 4096, True, 2.5):
        with pytest.raises(InputError, match="embed_batch_size must be an integer from 1"):
            SpladeSparseEmbedding(encoder=encoder, embed_batch_size=bad)
    with pytest.raises(InputTypeError, match="expected a SpladeEncoder or SpladeSparseEmbedding"):
        qdrant_sparse_functions("model")  # type: ignore[arg-type]


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


# --- the example -------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["--model", "SPLADEKIT_MODEL"])
def test_example_runs(tiny_model_dir: Path, how: str) -> None:
    env = {k: v for k, v in os.environ.items() if k != "SPLADEKIT_MODEL"}
    env["HF_HUB_OFFLINE"] = "1"
    args = [sys.executable, str(EXAMPLE)]
    if how == "--model":
        args += ["--model", str(tiny_model_dir)]
    else:
        env["SPLADEKIT_MODEL"] = str(tiny_model_dir)
    done = subprocess.run(
        args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    sync = lines[lines.index(next(x for x in lines if x.startswith("[sync] hybrid"))) :][1:4]
    asyn = lines[lines.index(next(x for x in lines if x.startswith("[async] hybrid"))) :][1:4]
    assert len(sync) == 3 and sync == asyn
    assert all(0.0 <= float(line.split()[0]) <= 1.0 for line in sync)
    assert "[sync] query engine: 3 source nodes" in done.stdout
    assert "[async] query engine: 3 source nodes" in done.stdout
    assert not math.isnan(float(sync[0].split()[0]))


def test_readme_snippet_runs(tiny_model_dir: Path) -> None:
    """The README's LlamaIndex snippet runs as written (with the tiny model's path swapped in)."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("<!-- section: llama-index -->")[1].split("<!-- section:")[0]
    code = section.split("```python\n")[1].split("```")[0]
    assert '"prithivida/Splade_PP_en_v1"' in code
    code = code.replace('"prithivida/Splade_PP_en_v1"', repr(str(tiny_model_dir)))
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 2 and all(0.0 <= float(line.split()[0]) <= 1.0 for line in lines)
