"""Shared fixtures: tiny models built in code, and the path to ../shared data."""

from __future__ import annotations

from pathlib import Path

import pytest

from support.tiny_model import write_model_folder

TESTS = Path(__file__).resolve().parent

SHARED_DATA = TESTS.parent.parent / "shared" / "data"


@pytest.fixture(scope="session", autouse=True)
def _prepared_model_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Prepared models (spladekit.prepare) go to a temporary cache, not the user's home."""
    import os

    os.environ["SPLADEKIT_CACHE"] = str(tmp_path_factory.mktemp("spladekit-cache"))


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Splade_PP_en_v1-shaped folder with a tiny tokenizer and ONNX graph (max 512 tokens)."""
    return write_model_folder(tmp_path_factory.mktemp("tiny") / "model")


@pytest.fixture(scope="session")
def short_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same kind of model with a 16-token limit, for truncation and window tests."""
    return write_model_folder(tmp_path_factory.mktemp("short") / "model", max_length=16, seed=1)


@pytest.fixture(scope="session")
def encoder(tiny_model_dir: Path):  # type: ignore[no-untyped-def]
    from spladekit import SpladeEncoder

    return SpladeEncoder.from_pretrained(tiny_model_dir)


#: The real trained SPLADE model (bert-tiny, MS MARCO), exported to ONNX, when ../shared has it.
REAL_MODEL = SHARED_DATA / "checkpoints" / "splade-tiny-onnx"


@pytest.fixture(scope="session")
def example_model(tiny_model_dir: Path) -> tuple[Path, bool]:
    """The model the examples run on: the real one where present, else the tiny built one.

    The second item says which, so tests assert real retrieval outcomes only on real weights.
    """
    if (REAL_MODEL / "model.onnx").is_file():
        return REAL_MODEL, True
    return tiny_model_dir, False


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data not found at {SHARED_DATA}")
    return SHARED_DATA
