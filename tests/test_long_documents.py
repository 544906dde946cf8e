"""Long documents: overlapping windows, max-pooled, instead of silent truncation."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

from spladekit import SparseVector, SpladeEncoder
from spladekit.errors import InputError

WORDS = "moon lunar india mission rover lander space orbit launch surface study weather".split()


def long_text(n_words: int, seed: int = 0) -> str:
    rng = np.random.default_rng(seed)
    return " ".join(rng.choice(WORDS, n_words).tolist())


def window_by_window(encoder: SpladeEncoder, text: str) -> SparseVector:
    """Reference: run the model on each window alone, activate, then max across windows."""
    path = encoder._documents
    tokenizer = path.tokenizer
    [content] = tokenizer.content_ids([text])
    windows = tokenizer.segments(content, windows=True, stride=encoder.stride)
    pooled = np.zeros(encoder.vocab_size, dtype=np.float32)
    for ids in windows:
        logits = path.session.logits(ids[None, :], np.ones((1, ids.size), dtype=np.int64))[0]
        weights = np.log1p(np.maximum(logits, 0)).max(axis=0)
        pooled = np.maximum(pooled, weights)
    nz = np.flatnonzero(pooled > 0)
    return SparseVector(nz, pooled[nz])


def assert_close(a: SparseVector, b: SparseVector) -> None:
    np.testing.assert_array_equal(a.indices, b.indices)
    np.testing.assert_allclose(a.values, b.values, atol=1e-5, rtol=0)


@pytest.fixture(scope="module")
def short(short_model_dir: Path) -> SpladeEncoder:
    return SpladeEncoder.from_pretrained(short_model_dir)


def test_windows_cover_every_token_of_a_text_three_times_the_limit(short: SpladeEncoder) -> None:
    text = long_text(3 * short.max_length)
    [content] = short._documents.tokenizer.content_ids([text])
    assert content.size >= 3 * short.max_length
    windows = short._documents.tokenizer.segments(content, windows=True, stride=short.stride)
    assert len(windows) >= 3
    assert all(w.size <= short.max_length for w in windows)
    covered = np.concatenate([w[1:-1] for w in windows])
    assert set(covered.tolist()) == set(content.tolist())

    [vector] = short.encode_documents([text])
    assert_close(vector, window_by_window(short, text))


def test_windows_differ_from_truncation_and_keep_the_tail(short_model_dir: Path) -> None:
    windowed = SpladeEncoder.from_pretrained(short_model_dir)
    truncating = SpladeEncoder.from_pretrained(short_model_dir, long_documents="truncate")
    head = "moon moon moon moon moon moon moon moon moon moon moon moon moon moon"
    text = head + " weather weather weather"
    with pytest.warns(UserWarning, match=r"text 0 lost 3"):
        [cut] = truncating.encode_documents([text])
    [full] = windowed.encode_documents([text])
    weather = windowed._documents.tokenizer.token_to_id("weather")
    assert weather is not None
    assert weather in full.to_dict()
    assert full != cut


def test_short_text_is_unchanged_by_the_window_option(short_model_dir: Path) -> None:
    windowed = SpladeEncoder.from_pretrained(short_model_dir)
    truncating = SpladeEncoder.from_pretrained(short_model_dir, long_documents="truncate")
    texts = ["the moon orbit", "india lunar mission rover", ""]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert windowed.encode_documents(texts) == truncating.encode_documents(texts)


def test_order_and_batch_invariance_with_windows(short: SpladeEncoder) -> None:
    texts = [long_text(n, seed=n) for n in (5, 40, 2, 70, 13, 1, 33)]
    alone = [short.encode_documents([t])[0] for t in texts]
    for batch_size in (None, 1, 2, 5):
        together = short.encode_documents(texts, batch_size=batch_size)
        for a, b in zip(alone, together, strict=True):
            assert_close(a, b)
    rng = np.random.default_rng(3)
    order = rng.permutation(len(texts))
    shuffled = short.encode_documents([texts[i] for i in order])
    for position, i in enumerate(order.tolist()):
        assert_close(shuffled[position], alone[i])


def test_windows_share_batches_within_a_small_token_budget(short_model_dir: Path) -> None:
    tight = SpladeEncoder.from_pretrained(short_model_dir, token_budget=16)
    roomy = SpladeEncoder.from_pretrained(short_model_dir, token_budget=4096)
    texts = [long_text(n, seed=n) for n in (50, 3, 90)]
    for a, b in zip(tight.encode_documents(texts), roomy.encode_documents(texts), strict=True):
        assert_close(a, b)


def test_queries_are_never_windowed(short: SpladeEncoder) -> None:
    text = long_text(60)
    with pytest.warns(UserWarning, match="truncated"):
        [query] = short.encode_queries([text])
    [document] = short.encode_documents([text])
    assert query != document


@pytest.mark.parametrize("stride", [0, 15, -1])
def test_stride_must_fit_a_window(short_model_dir: Path, stride: int) -> None:
    with pytest.raises(InputError, match="stride"):
        SpladeEncoder.from_pretrained(short_model_dir, stride=stride)


def test_long_documents_option_is_checked(short_model_dir: Path) -> None:
    with pytest.raises(InputError, match="long_documents"):
        SpladeEncoder.from_pretrained(short_model_dir, long_documents="chunk")  # type: ignore[arg-type]
