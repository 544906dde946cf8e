"""evaluate: the figures brute-force scoring gives, for each long-document policy; the result."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest

from spladekit import EvaluationResult, SpladeEncoder, evaluate
from spladekit.errors import InputError, InputTypeError
from spladekit.evaluation.metrics import mean_metrics

from support.beir import write_beir
from support.checks import QUERIES
from support.documents import DOCUMENTS

WORDS = "moon lunar india mission rover lander space orbit launch surface study weather".split()


def corpus() -> list[dict[str, str]]:
    rng = np.random.default_rng(7)
    rows = [{"_id": f"seed{i}", "title": "", "text": t} for i, t in enumerate(DOCUMENTS)]
    rows += [
        {"_id": f"long{i}", "title": "Mission", "text": " ".join(rng.choice(WORDS, n).tolist())}
        for i, n in enumerate((30, 45, 60, 8))
    ]
    return rows


QRELS = {
    "q0": {"seed6": 2, "seed0": 1, "long1": 1},
    "q1": {"seed5": 1, "long0": 2, "long2": 1, "seed0": 1},
    "q2": {"seed9": 2, "long3": 1},
}


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    queries = {f"q{i}": text for i, text in enumerate(QUERIES)} | {"unjudged": "moon"}
    return write_beir(tmp_path_factory.mktemp("beir") / "set", corpus(), queries, QRELS)


def brute_force(encoder: SpladeEncoder, policy: str) -> dict[str, dict[str, float]]:
    """Every document's score for every judged query: dot products, best window for MaxP."""
    rows = corpus()
    texts = [f"{r['title']} {r['text']}".strip() for r in rows]
    queries = encoder.encode_queries([QUERIES[int(q[1:])] for q in QRELS])
    if policy == "best-window":
        windows = encoder.encode_document_windows(texts)
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # truncation says so; not what is tested here
            windows = [[v] for v in encoder.encode_documents(texts)]
    run = {}
    for query_id, query in zip(QRELS, queries, strict=True):
        scores = {
            r["_id"]: max((query.dot(w) for w in ws), default=0.0)
            for r, ws in zip(rows, windows, strict=True)
        }
        run[query_id] = {doc: score for doc, score in scores.items() if score > 0}
    return run


@pytest.mark.parametrize("policy", ["truncate", "window", "best-window"])
def test_figures_are_brute_force_figures(short_model_dir: Path, dataset: Path, policy: str) -> None:
    encoder = SpladeEncoder(short_model_dir, long_documents=policy)  # type: ignore[arg-type]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = evaluate(encoder, dataset, k_values=(1, 3, 10))
        expected, per_query = mean_metrics(QRELS, brute_force(encoder, policy), (1, 3, 10))
    assert list(result.metrics) == list(expected)
    for name, value in expected.items():
        assert result[name] == pytest.approx(value, abs=1e-9), name
    assert result.per_query.keys() == per_query.keys() == QRELS.keys()
    assert result.queries == 3 and result.documents == 16
    long_ones = result.segments - result.documents
    assert (long_ones > 0) == (policy == "best-window")
    assert result.settings["long_documents"] == policy


def test_the_policies_really_differ_on_long_documents(short_model_dir: Path, dataset: Path) -> None:
    figures = {}
    for policy in ("truncate", "window", "best-window"):
        encoder = SpladeEncoder(short_model_dir, long_documents=policy)  # type: ignore[arg-type]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            figures[policy] = evaluate(encoder, dataset, k_values=(1, 3, 10)).per_query
    assert len({json.dumps(f, sort_keys=True) for f in figures.values()}) > 1


def test_result_prints_and_writes_json(
    encoder: SpladeEncoder, dataset: Path, tmp_path: Path
) -> None:
    result = evaluate(encoder, dataset, k_values=(10, 1))
    assert isinstance(result, EvaluationResult)
    assert list(result.metrics) == ["nDCG@1", "nDCG@10", "MRR@10", "Recall@1", "Recall@10"]
    assert result.documents_per_second > 0 and result.encode_seconds > 0
    assert result.peak_rss_bytes is None or result.peak_rss_bytes > 10_000_000
    text = str(result)
    assert "nDCG@10" in text and "3 queries, 16 documents" in text and "documents/s" in text
    written = tmp_path / "result.json"
    assert (
        json.loads(result.to_json(written)) == json.loads(written.read_text()) == result.to_dict()
    )
    data = result.to_dict()
    assert data["metrics"]["nDCG@10"] == result["nDCG@10"] and set(data["per_query"]) == set(QRELS)
    with pytest.raises(AttributeError):
        result.split = "dev"  # type: ignore[misc]


def test_a_document_named_like_its_query_is_not_a_hit(
    encoder: SpladeEncoder, tmp_path: Path
) -> None:
    """BEIR's ignore_identical_ids: on sets where queries are documents, a query finds itself."""
    root = write_beir(
        tmp_path / "self",
        [{"_id": "q0", "text": QUERIES[0]}, {"_id": "d1", "text": DOCUMENTS[6]}],
        {"q0": QUERIES[0]},
        {"q0": {"d1": 1}},
    )
    result = evaluate(encoder, root, k_values=(1,))
    assert result["nDCG@1"] == 1.0  # q0 itself would rank first


@pytest.mark.parametrize(
    ("k_values", "error", "message"),
    [
        ((), InputTypeError, "k_values must be a non-empty list"),
        ("10", InputTypeError, "k_values must be a non-empty list"),
        ((10, 0), InputError, r"k_values\[1\] must be a positive integer, got 0"),
        ((True,), InputError, r"k_values\[0\] must be a positive integer, got True"),
    ],
)
def test_bad_arguments(
    encoder: SpladeEncoder, dataset: Path, k_values: object, error: type, message: str
) -> None:
    with pytest.raises(error, match=message):
        evaluate(encoder, dataset, k_values=k_values)  # type: ignore[arg-type]


def test_needs_an_encoder_and_documents(encoder: SpladeEncoder, tmp_path: Path) -> None:
    with pytest.raises(InputTypeError, match="evaluate takes a SpladeEncoder, got str"):
        evaluate("model", tmp_path)  # type: ignore[arg-type]
    empty = write_beir(tmp_path / "empty", [], {"q": "moon"}, {"q": {"d": 1}})
    with pytest.raises(InputError, match="holds no documents"):
        evaluate(encoder, empty)
