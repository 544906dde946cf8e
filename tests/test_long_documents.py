"""Long documents: truncation (the default), windows max-pooled, or windows kept apart."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

from spladekit import SparseVector, SpladeEncoder
from spladekit.errors import InputError
from spladekit.pipeline.tokenize import TruncationWarning

WORDS = "moon lunar india mission rover lander space orbit launch surface study weather".split()


def long_text(n_words: int, seed: int = 0) -> str:
    rng = np.random.default_rng(seed)
    return " ".join(rng.choice(WORDS, n_words).tolist())


def window_weights(encoder: SpladeEncoder, text: str) -> list[np.ndarray]:
    """Reference: run the model on each window alone and activate: one dense row per window."""
    path = encoder._documents
    tokenizer = path.tokenizer
    [content] = tokenizer.content_ids([text])
    windows = tokenizer.segments(content, windows=True, stride=encoder.stride)
    rows = []
    for ids in windows:
        logits = path.session.logits(ids[None, :], np.ones((1, ids.size), dtype=np.int64))[0]
        rows.append(np.log1p(np.maximum(logits, 0)).max(axis=0))
    return rows


def sparse(weights: np.ndarray) -> SparseVector:
    nz = np.flatnonzero(weights > 0)
    return SparseVector(nz, weights[nz])


def window_by_window(encoder: SpladeEncoder, text: str) -> SparseVector:
    """Reference: each window alone, then the max across windows."""
    return sparse(np.max(window_weights(encoder, text), axis=0))


def each_window(encoder: SpladeEncoder, text: str) -> list[SparseVector]:
    """Reference: each window alone, kept apart."""
    return [sparse(row) for row in window_weights(encoder, text)]


def assert_close(a: SparseVector, b: SparseVector) -> None:
    np.testing.assert_array_equal(a.indices, b.indices)
    np.testing.assert_allclose(a.values, b.values, atol=1e-5, rtol=0)


@pytest.fixture(scope="module")
def short(short_model_dir: Path) -> SpladeEncoder:
    return SpladeEncoder.from_pretrained(short_model_dir, long_documents="window")


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
    windowed = SpladeEncoder.from_pretrained(short_model_dir, long_documents="window")
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
    windowed = SpladeEncoder.from_pretrained(short_model_dir, long_documents="window")
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
    tight = SpladeEncoder.from_pretrained(short_model_dir, token_budget=16, long_documents="window")
    roomy = SpladeEncoder.from_pretrained(
        short_model_dir, token_budget=4096, long_documents="window"
    )
    texts = [long_text(n, seed=n) for n in (50, 3, 90)]
    for a, b in zip(tight.encode_documents(texts), roomy.encode_documents(texts), strict=True):
        assert_close(a, b)


def test_queries_are_never_windowed(short: SpladeEncoder) -> None:
    text = long_text(60)
    with pytest.warns(UserWarning, match="truncated"):
        [query] = short.encode_queries([text])
    [document] = short.encode_documents([text])
    assert query != document


def test_truncation_is_the_default(short_model_dir: Path) -> None:
    default = SpladeEncoder.from_pretrained(short_model_dir)
    explicit = SpladeEncoder.from_pretrained(short_model_dir, long_documents="truncate")
    assert default.long_documents == "truncate"
    text = long_text(40)
    with pytest.warns(TruncationWarning, match=r"text 1 lost \d+ tokens") as caught:
        [_, cut] = default.encode_documents(["moon", text])
    [record] = [w for w in caught if isinstance(w.message, TruncationWarning)]
    assert isinstance(record.message, TruncationWarning)
    [(position, lost)] = record.message.truncated
    [content] = default._documents.tokenizer.content_ids([text])
    assert position == 1 and lost == content.size - default._documents.tokenizer.content_length
    with pytest.warns(TruncationWarning):
        [alone] = explicit.encode_documents([text])
    assert_close(alone, cut)


def test_document_windows_are_the_windows_the_other_policies_combine(
    short_model_dir: Path,
) -> None:
    windowed = SpladeEncoder.from_pretrained(short_model_dir, long_documents="window")
    truncating = SpladeEncoder.from_pretrained(short_model_dir, long_documents="truncate")
    texts = [long_text(50, seed=1), "the moon orbit", "", long_text(30, seed=2)]
    grouped = truncating.encode_document_windows(texts)
    assert [len(g) for g in grouped][1:3] == [1, 0] and len(grouped[0]) >= 3
    pooled = windowed.encode_documents(texts)
    with pytest.warns(TruncationWarning):
        cut = truncating.encode_documents(texts)
    for windows, whole, head in zip(grouped, pooled, cut, strict=True):
        if not windows:
            assert len(whole) == len(head) == 0
            continue
        assert_close(windows[0], head)  # the first window is the truncated text
        merged: dict[int, float] = {}
        for vector in windows:
            for index, value in vector.to_dict().items():
                merged[index] = max(merged.get(index, 0.0), value)
        assert_close(whole, SparseVector.from_dict(merged))  # "window" max-pools them
    alone = each_window(windowed, texts[0])
    assert len(alone) == len(grouped[0])
    for mine, reference in zip(grouped[0], alone, strict=True):
        assert_close(mine, reference)


def test_document_windows_are_pruned_one_by_one(short_model_dir: Path) -> None:
    pruned = SpladeEncoder.from_pretrained(short_model_dir, top_k=3)
    [windows] = pruned.encode_document_windows([long_text(60)])
    assert len(windows) > 1 and all(len(w) == 3 for w in windows)


def test_best_window_has_no_one_vector_per_document(short_model_dir: Path) -> None:
    best = SpladeEncoder.from_pretrained(short_model_dir, long_documents="best-window")
    with pytest.raises(InputError, match="encode_document_windows"):
        best.encode_documents(["the moon"])
    with pytest.raises(InputError, match="encode_document_windows"):
        best.embed(["the moon"])
    [[window]] = best.encode_document_windows(["the moon"])
    assert (
        window == SpladeEncoder.from_pretrained(short_model_dir).encode_documents(["the moon"])[0]
    )
    windowed = SpladeEncoder.from_pretrained(short_model_dir, long_documents="window")
    text = long_text(60)
    shown = best.explain(text)  # every window's tokens, as "window" pools them
    assert shown == windowed.explain(windowed.encode_documents([text])[0])


@pytest.mark.parametrize("stride", [0, 15, -1])
def test_stride_must_fit_a_window(short_model_dir: Path, stride: int) -> None:
    with pytest.raises(InputError, match="stride"):
        SpladeEncoder.from_pretrained(short_model_dir, stride=stride)


def test_long_documents_option_is_checked(short_model_dir: Path) -> None:
    with pytest.raises(InputError, match="long_documents"):
        SpladeEncoder.from_pretrained(short_model_dir, long_documents="chunk")  # type: ignore[arg-type]
