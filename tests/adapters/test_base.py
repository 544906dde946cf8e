"""Every adapter takes a model and exactly the encoder's options, or encoder=, the same way."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from spladekit import InputError, InputTypeError, SpladeEncoder
from spladekit.options import OPTIONS

pytest.importorskip("langchain_core")
pytest.importorskip("llama_index.core")
pytest.importorskip("langchain_qdrant")
pytest.importorskip("langchain_milvus")
pytest.importorskip("llama_index.vector_stores.milvus")


def _adapters() -> dict[str, Callable[..., Any]]:
    from spladekit import langchain, llama_index

    return {
        "SpladeQdrantSparseEmbeddings": langchain.SpladeQdrantSparseEmbeddings,
        "SpladeMilvusSparseEmbedding": langchain.SpladeMilvusSparseEmbedding,
        "SpladePineconeEncoder": langchain.SpladePineconeEncoder,
        "SpladeSparseEmbedding": llama_index.SpladeSparseEmbedding,
        "SpladeSparseEmbeddingFunction": llama_index.SpladeSparseEmbeddingFunction,
    }


ADAPTERS = [
    "SpladeQdrantSparseEmbeddings",
    "SpladeMilvusSparseEmbedding",
    "SpladePineconeEncoder",
    "SpladeSparseEmbedding",
    "SpladeSparseEmbeddingFunction",
]


@pytest.fixture(params=ADAPTERS)
def adapter(request: pytest.FixtureRequest) -> tuple[str, Callable[..., Any]]:
    name = request.param
    return name, _adapters()[name]


def test_options_are_the_encoders_own() -> None:
    """One definition: the encoder's option table is what every adapter checks against."""
    assert list(OPTIONS) == [
        "revision",
        "cache_dir",
        "local_files_only",
        "providers",
        "threads",
        "max_length",
        "model_file",
        "format",
        "query_model",
        "top_k",
        "threshold",
        "token_budget",
        "long_documents",
        "stride",
        "optimize",
        "quantize",
    ]


def test_a_model_and_options_load_an_encoder(
    adapter: tuple[str, Callable[..., Any]], tiny_model_dir: Path
) -> None:
    _, cls = adapter
    made = cls(tiny_model_dir, top_k=3, max_length=16)
    assert made.encoder.top_k == 3 and made.encoder.max_length == 16
    assert made.encoder.name == str(tiny_model_dir)


def test_unknown_option_names_the_closest_and_the_public_class(
    adapter: tuple[str, Callable[..., Any]], tiny_model_dir: Path
) -> None:
    name, cls = adapter
    with pytest.raises(
        TypeError, match=rf"{name} got an unknown option 'max_lenght' \(did you mean 'max_length'"
    ):
        cls(tiny_model_dir, max_lenght=16)


def test_a_bad_option_value_is_named(
    adapter: tuple[str, Callable[..., Any]], tiny_model_dir: Path
) -> None:
    _, cls = adapter
    with pytest.raises(InputError, match="top_k must be a positive integer or None, got 0"):
        cls(tiny_model_dir, top_k=0)


def test_encoder_is_shared_not_reloaded(
    adapter: tuple[str, Callable[..., Any]], encoder: SpladeEncoder, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, cls = adapter

    def no_loading(*args: object, **kwargs: object) -> None:
        raise AssertionError("a model must not load when encoder= is given")

    monkeypatch.setattr(SpladeEncoder, "__init__", no_loading)
    assert cls(encoder=encoder).encoder is encoder


def test_encoder_with_load_options_is_an_error(
    adapter: tuple[str, Callable[..., Any]], encoder: SpladeEncoder
) -> None:
    _, cls = adapter
    with pytest.raises(InputError, match="got encoder= together with top_k"):
        cls(encoder=encoder, top_k=3)
    with pytest.raises(InputError, match="got encoder= together with a model"):
        cls("some/model", encoder=encoder)


def test_encoder_must_be_a_splade_encoder(adapter: tuple[str, Callable[..., Any]]) -> None:
    _, cls = adapter
    with pytest.raises(InputTypeError, match="SpladeEncoder"):
        cls(encoder="prithivida/Splade_PP_en_v1")


@pytest.mark.parametrize("old", ["model_name", "model_name_or_path", "name_or_path"])
def test_old_model_keywords_still_work_with_a_warning(
    adapter: tuple[str, Callable[..., Any]], tiny_model_dir: Path, old: str
) -> None:
    _, cls = adapter
    with pytest.deprecated_call(match="pass the model as the first argument"):
        made = cls(**{old: tiny_model_dir})
    assert made.encoder.name == str(tiny_model_dir)


def test_model_given_twice_is_an_error(
    adapter: tuple[str, Callable[..., Any]], tiny_model_dir: Path
) -> None:
    _, cls = adapter
    with pytest.raises(InputTypeError, match="got the model twice"):
        cls(tiny_model_dir, model_name=tiny_model_dir)


def test_an_encoder_in_the_model_slot_still_works_with_a_warning(
    adapter: tuple[str, Callable[..., Any]], encoder: SpladeEncoder
) -> None:
    _, cls = adapter
    with pytest.deprecated_call(match="encoder=encoder"):
        made = cls(encoder)
    assert made.encoder is encoder


@pytest.mark.parametrize("bad", [0, -1, True, 2.5])
@pytest.mark.parametrize(
    "name", ["SpladeQdrantSparseEmbeddings", "SpladeMilvusSparseEmbedding", "SpladePineconeEncoder"]
)
def test_langchain_batch_size_is_validated(encoder: SpladeEncoder, bad: object, name: str) -> None:
    with pytest.raises(InputError, match="batch_size must be a positive integer"):
        _adapters()[name](encoder=encoder, batch_size=bad)


@pytest.mark.parametrize("bad", [0, 4096, True, 2.5])
def test_llama_index_embed_batch_size_is_validated(encoder: SpladeEncoder, bad: object) -> None:
    with pytest.raises(
        InputError, match="embed_batch_size must be (a positive integer|at most 2048)"
    ):
        _adapters()["SpladeSparseEmbedding"](encoder=encoder, embed_batch_size=bad)
