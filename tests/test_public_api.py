"""The public face, pinned: names, import weight, the model table."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import spladekit
from spladekit import SpladeEncoder

FRAMEWORKS = ("langchain", "llama_index", "qdrant_client", "pymilvus")


def test_all_is_pinned() -> None:
    assert spladekit.__all__ == [
        "EvaluationResult",
        "IndexBusyError",
        "IndexFormatError",
        "InferenceError",
        "InputError",
        "InputTypeError",
        "MissingDependencyError",
        "ModelFormatError",
        "ModelNotFoundError",
        "SparseIndex",
        "SparseVector",
        "SpladeEncoder",
        "SpladeError",
        "__version__",
        "evaluate",
    ]
    for name in spladekit.__all__:
        assert hasattr(spladekit, name)
    assert isinstance(spladekit.__version__, str) and spladekit.__version__.count(".") >= 2


def test_importing_spladekit_imports_no_framework() -> None:
    script = (
        "import json, sys, spladekit\n"
        "from spladekit import SparseIndex, SparseVector, SpladeEncoder, SpladeError\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    modules = json.loads(done.stdout)
    assert "spladekit" in modules  # the probe really imported it
    loaded = [m for m in modules if m.split(".")[0].startswith(FRAMEWORKS)]
    assert loaded == []


def test_list_models_has_fastembeds_fields_and_the_default_row() -> None:
    rows = SpladeEncoder.list_models()
    assert rows and all(isinstance(row, dict) for row in rows)
    fields = {
        "model",
        "sources",
        "model_file",
        "description",
        "license",
        "size_in_GB",
        "vocab_size",
    }
    for row in rows:
        assert fields <= set(row), row
        json.dumps(row)  # plain data, printable and serialisable
    default = rows[0]
    assert default["model"] == "prithivida/Splade_PP_en_v1"
    assert default["sources"] == {"hf": "Qdrant/Splade_PP_en_v1"}
    assert default["model_file"] == "model.onnx"
    assert default["license"] == "apache-2.0"
    assert default["size_in_GB"] == 0.532
    assert default["vocab_size"] == 30522
    assert len({row["model"] for row in rows}) == len(rows)


def test_list_models_returns_copies() -> None:
    rows = SpladeEncoder.list_models()
    rows[0]["sources"]["hf"] = "someone/else"
    rows[0]["model"] = "changed"
    fresh = SpladeEncoder.list_models()[0]
    assert fresh["model"] == "prithivida/Splade_PP_en_v1"
    assert fresh["sources"] == {"hf": "Qdrant/Splade_PP_en_v1"}


def test_default_model_of_from_pretrained_is_the_table_default() -> None:
    import inspect

    default = inspect.signature(SpladeEncoder.from_pretrained).parameters["model"].default
    assert default == SpladeEncoder.list_models()[0]["model"]


def test_every_error_is_importable_from_spladekit_and_in_the_tree() -> None:
    from spladekit import errors

    assert sorted(n for n in errors.__all__ if n != "require") == sorted(
        n for n in spladekit.__all__ if n.endswith("Error")
    )
    builtins = {
        "InputError": ValueError,
        "InputTypeError": TypeError,
        "ModelNotFoundError": OSError,
        "ModelFormatError": ValueError,
        "InferenceError": RuntimeError,
        "IndexFormatError": ValueError,
        "IndexBusyError": RuntimeError,
        "MissingDependencyError": ImportError,
    }
    for name, builtin in builtins.items():
        cls = getattr(spladekit, name)
        assert issubclass(cls, spladekit.SpladeError) and issubclass(cls, builtin)


def test_constructor_is_a_shortcut_for_from_pretrained(tiny_model_dir: Path) -> None:
    direct = SpladeEncoder(tiny_model_dir, top_k=5)
    loaded = SpladeEncoder.from_pretrained(tiny_model_dir, top_k=5)
    text = ["the lunar rover landed"]
    assert direct.encode_documents(text) == loaded.encode_documents(text)
    assert direct.top_k == 5 and direct.name == loaded.name == str(tiny_model_dir)


@pytest.mark.parametrize("bad", [None, 3, object()])
def test_constructor_refuses_what_is_not_a_model_name(bad: object) -> None:
    with pytest.raises(spladekit.InputTypeError, match="call SpladeEncoder.from_pretrained"):
        SpladeEncoder(bad)  # type: ignore[arg-type]


def test_unknown_encoder_option_names_the_closest(tiny_model_dir: Path) -> None:
    with pytest.raises(TypeError, match=r"unknown option 'top_kk' \(did you mean 'top_k'\?\)"):
        SpladeEncoder(tiny_model_dir, top_kk=3)  # type: ignore[call-arg]


@pytest.mark.parametrize("call", ["init", "from_pretrained"])
def test_old_name_or_path_keyword_still_works_with_a_warning(
    tiny_model_dir: Path, call: str
) -> None:
    load = SpladeEncoder if call == "init" else SpladeEncoder.from_pretrained
    with pytest.deprecated_call(match="pass the model as the first argument"):
        encoder = load(name_or_path=tiny_model_dir)  # type: ignore[call-arg]
    assert encoder.name == str(tiny_model_dir)
