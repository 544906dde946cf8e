"""spladekit.langchain: each class loads on first use, and a missing package names its extra."""

from __future__ import annotations

import sys
from typing import Any

import pytest

from spladekit.errors import MissingDependencyError

pytest.importorskip("langchain_core", reason="the langchain extra is not installed")

from spladekit import langchain as splade_lc  # noqa: E402

# --- lazy imports and the missing-extra message ----------------------------------------------


@pytest.mark.parametrize(
    ("name", "package", "command"),
    [
        (
            "SpladeQdrantSparseEmbeddings",
            "langchain_qdrant",
            'pip install "spladekit[langchain,qdrant]"',
        ),
        (
            "SpladeMilvusSparseEmbedding",
            "langchain_milvus",
            'pip install "spladekit[langchain,milvus]"',
        ),
    ],
)
def test_missing_store_package_names_pip_command(
    monkeypatch: Any, name: str, package: str, command: str
) -> None:
    # sys.modules[name] = None makes Python treat the package as not installed.
    monkeypatch.setitem(sys.modules, package, None)
    monkeypatch.delitem(sys.modules, f"spladekit.langchain.{package.split('_')[1]}", raising=False)
    with pytest.raises(MissingDependencyError) as caught:
        getattr(splade_lc, name)
    assert command in str(caught.value)
    assert isinstance(caught.value, ImportError)


def test_missing_langchain_core_names_pip_command(monkeypatch: Any) -> None:
    monkeypatch.setitem(sys.modules, "langchain_core", None)
    monkeypatch.delitem(sys.modules, "spladekit.langchain")
    with pytest.raises(ImportError, match=r'pip install "spladekit\[langchain\]"'):
        import spladekit.langchain  # noqa: F401


def test_unknown_attribute_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="SpladeNothing"):
        splade_lc.SpladeNothing  # noqa: B018


def test_the_01_name_of_the_qdrant_class_still_works() -> None:
    with pytest.deprecated_call(match="SpladeQdrantSparseEmbeddings"):
        old = splade_lc.SpladeSparseEmbeddings
    assert old is splade_lc.SpladeQdrantSparseEmbeddings
