"""The encoder's math, checked by properties against a naive reference, then pinned once.

The reference runs the ONNX model alone on each text (no padding, no batching, no spladekit
code): ``log1p(relu(logits))`` for every token, max over tokens, keep the nonzero entries.
Batched results may differ from it by float rounding (~1e-7), so index sets must be equal and
values within 1e-5.
"""

from __future__ import annotations

import random
import threading
import warnings
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
from onnx import TensorProto
from tokenizers import Tokenizer

from spladekit import SparseVector, SpladeEncoder
from spladekit import encoder as encoder_module
from spladekit.explanation import Explanation
from spladekit.pipeline import run as runtime_module

from support.documents import DOCUMENTS  # noqa: E402
from support.tiny_model import write_model_folder

TOLERANCE = 1e-5
LONG_TEXT = " ".join(DOCUMENTS)  # ~200 tiny-vocab tokens: fits 512, dwarfs the short texts
TEXTS = [*DOCUMENTS, "moon", "the lunar lander", LONG_TEXT, "India launched a rover"]


class Reference:
    """SPLADE computed the slow, obvious way: one text at a time, straight on ONNX Runtime."""

    def __init__(self, folder: Path, model_file: str = "model.onnx") -> None:
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.no_truncation()
        self.session = ort.InferenceSession(
            str(folder / model_file), providers=["CPUExecutionProvider"]
        )

    def encode(self, text: str) -> SparseVector:
        ids = self.tokenizer.encode(text).ids
        if len(ids) <= 2:  # only [CLS] [SEP]: a blank text has an empty vector (documented)
            return SparseVector.empty()
        feed = {}
        for meta in self.session.get_inputs():
            dtype = np.int32 if meta.type == "tensor(int32)" else np.int64
            row = {
                "input_ids": np.asarray([ids]),
                "attention_mask": np.ones((1, len(ids))),
                "token_type_ids": np.zeros((1, len(ids))),
            }[meta.name]
            feed[meta.name] = row.astype(dtype)
        (logits,) = self.session.run(None, feed)
        weights = np.log1p(np.maximum(logits[0], 0.0)).max(axis=0)
        nonzero = np.flatnonzero(weights)
        return SparseVector(nonzero, weights[nonzero])


@pytest.fixture(scope="module")
def reference(tiny_model_dir: Path) -> Reference:
    return Reference(tiny_model_dir)


def assert_close(got: SparseVector, want: SparseVector, tol: float = TOLERANCE) -> None:
    assert got.indices.tolist() == want.indices.tolist()
    if len(want):
        assert float(np.max(np.abs(got.values - want.values))) <= tol


def assert_all_close(got: Sequence[SparseVector], want: Sequence[SparseVector]) -> None:
    assert len(got) == len(want)
    for position, (g, w) in enumerate(zip(got, want, strict=True)):
        try:
            assert_close(g, w)
        except AssertionError as error:
            raise AssertionError(f"vector {position} differs from the reference") from error


# --- properties against the reference ----------------------------------------------------------


def test_matches_reference_one_vector_per_input_in_order(
    encoder: SpladeEncoder, reference: Reference
) -> None:
    got = encoder.encode_documents(TEXTS)
    assert len(got) == len(TEXTS)
    assert all(isinstance(v, SparseVector) for v in got)
    assert_all_close(got, [reference.encode(t) for t in TEXTS])
    assert len({v.indices.tobytes() for v in got}) == len(TEXTS)  # distinct texts, distinct vectors


@pytest.mark.parametrize("batch_size", [None, 1, 2, 3, 7, 64])
def test_vector_independent_of_batch_size(
    encoder: SpladeEncoder, reference: Reference, batch_size: int | None
) -> None:
    got = encoder.encode_documents(TEXTS, batch_size=batch_size)
    assert_all_close(got, [reference.encode(t) for t in TEXTS])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_vector_independent_of_order_and_neighbours(
    encoder: SpladeEncoder, reference: Reference, seed: int
) -> None:
    rng = random.Random(seed)
    texts = [rng.choice(TEXTS) for _ in range(25)]
    rng.shuffle(texts)
    got = encoder.encode_documents(texts, batch_size=rng.choice([None, 2, 5]))
    assert_all_close(got, [reference.encode(t) for t in texts])


def test_token_budget_does_not_change_vectors(tiny_model_dir: Path, reference: Reference) -> None:
    small = SpladeEncoder.from_pretrained(tiny_model_dir, token_budget=16)
    assert_all_close(small.encode_documents(TEXTS), [reference.encode(t) for t in TEXTS])


def test_same_vector_alone_and_in_any_batch(encoder: SpladeEncoder) -> None:
    alone = [encoder.encode_documents([t])[0] for t in TEXTS]
    together = encoder.encode_documents(TEXTS)
    reversed_ = encoder.encode_documents(TEXTS[::-1])[::-1]
    assert_all_close(together, alone)
    assert_all_close(reversed_, alone)


def _short_beside_long(encoder: SpladeEncoder) -> tuple[SparseVector, SparseVector]:
    alone = encoder.encode_documents(["moon"])[0]
    beside = encoder.encode_documents([LONG_TEXT, "moon"], batch_size=2)[1]
    return alone, beside


def test_pooling_ignores_padding(encoder: SpladeEncoder) -> None:
    alone, beside = _short_beside_long(encoder)
    assert_close(beside, alone)


def test_padding_check_catches_a_pooling_that_ignores_the_mask(
    tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check above must fail on a wrong pooling: max over every position, padding included.

    (The prepared graph's own masking has the same mutation test in test_prepare.py.)
    """

    def unmasked_max(logits: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        return logits.max(axis=1)

    plain = SpladeEncoder.from_pretrained(tiny_model_dir, optimize=False)
    monkeypatch.setattr(runtime_module, "masked_max", unmasked_max)
    alone, beside = _short_beside_long(plain)
    with pytest.raises(AssertionError):
        assert_close(beside, alone)


def test_empty_list_gives_empty_list(encoder: SpladeEncoder) -> None:
    assert encoder.encode_documents([]) == []
    assert encoder.encode_queries([]) == []
    assert list(encoder.embed([])) == []


def test_inputs_are_not_mutated(encoder: SpladeEncoder) -> None:
    texts = ["  The Moon  ", "rover", ""]
    before = list(texts)
    as_tuple = tuple(texts)
    encoder.encode_documents(texts)
    encoder.encode_queries(texts)
    encoder.encode_documents(as_tuple)
    assert texts == before


@pytest.mark.parametrize("blank", ["", " ", "\n\t  ", "\u3000"])
def test_blank_text_gives_empty_vector(encoder: SpladeEncoder, blank: str) -> None:
    vectors = encoder.encode_documents(["moon", blank, "rover"])
    assert len(vectors[1]) == 0
    assert len(vectors[0]) > 0 and len(vectors[2]) > 0
    assert len(encoder.encode_query(blank)) == 0


def test_queries_use_the_document_model_by_default(
    encoder: SpladeEncoder, reference: Reference
) -> None:
    assert encoder.query_mode == "model"
    queries = ["what is the moon", "india rover", ""]
    assert_all_close(encoder.encode_queries(queries), [reference.encode(q) for q in queries])
    assert_close(encoder.encode_query("india rover"), reference.encode("india rover"))


def test_show_progress_changes_nothing_but_stderr(
    encoder: SpladeEncoder, capsys: pytest.CaptureFixture[str]
) -> None:
    quiet = encoder.encode_documents(TEXTS)
    assert capsys.readouterr().err == ""
    shown = encoder.encode_documents(TEXTS, show_progress=True)
    assert f"{len(TEXTS)}/{len(TEXTS)}" in capsys.readouterr().err
    assert_all_close(shown, quiet)


# --- pruning -----------------------------------------------------------------------------------


@pytest.mark.parametrize("top_k", [1, 5, 20])
def test_top_k_keeps_the_largest_weights(
    tiny_model_dir: Path, reference: Reference, top_k: int
) -> None:
    pruned = SpladeEncoder.from_pretrained(tiny_model_dir, top_k=top_k)
    for text in TEXTS:
        full = reference.encode(text)
        got = pruned.encode_documents([text])[0]
        assert len(got) == min(top_k, len(full))
        kept = full.to_dict()
        assert set(got.to_dict()) <= set(kept)
        # every dropped weight is at most the smallest kept one
        dropped = [w for i, w in kept.items() if i not in got.to_dict()]
        if dropped:
            assert max(dropped) <= float(got.values.min()) + TOLERANCE
        assert got.indices.tolist() == sorted(got.indices.tolist())


def test_threshold_drops_small_weights(tiny_model_dir: Path, reference: Reference) -> None:
    threshold = 0.5
    pruned = SpladeEncoder.from_pretrained(tiny_model_dir, threshold=threshold)
    for text in TEXTS:
        full = reference.encode(text).to_dict()
        got = pruned.encode_documents([text])[0].to_dict()
        # entries within float noise of the threshold may go either way
        assert {i for i, w in full.items() if w > threshold + TOLERANCE} <= set(got)
        assert set(got) <= {i for i, w in full.items() if w > threshold - TOLERANCE}
        assert all(w > threshold for w in got.values())


# --- embed ---------------------------------------------------------------------------------------


def test_embed_streams_a_generator_in_order(encoder: SpladeEncoder, reference: Reference) -> None:
    texts = TEXTS * 3
    got = list(encoder.embed(t for t in texts))
    assert_all_close(got, [reference.encode(t) for t in texts])
    got_small = list(encoder.embed(iter(texts), batch_size=2))
    assert_all_close(got_small, got)


def test_embed_is_lazy(encoder: SpladeEncoder) -> None:
    pulled = 0
    total = 3 * encoder_module.SORT_CHUNK

    def generate() -> Iterator[str]:
        nonlocal pulled
        for i in range(total):
            pulled += 1
            yield f"moon {i}"

    stream = encoder.embed(generate())
    assert pulled == 0  # nothing runs before the first vector is asked for
    first = next(stream)
    assert isinstance(first, SparseVector)
    assert 0 < pulled <= encoder_module.SORT_CHUNK < total
    assert next(stream) == encoder.encode_documents(["moon 1"])[0]


# --- explain -------------------------------------------------------------------------------------


def test_explain_lists_tokens_highest_first(encoder: SpladeEncoder) -> None:
    vector = encoder.encode_documents([DOCUMENTS[0]])[0]
    explained = encoder.explain(vector)
    assert len(explained) == len(vector)
    weights = [w for _, w in explained]
    assert weights == sorted(weights, reverse=True)
    assert all(isinstance(t, str) and type(w) is float for t, w in explained)
    by_token = dict(explained)
    for index, value in vector.to_dict().items():
        token = encoder._documents.tokenizer.id_to_token(index)
        assert by_token[token] == pytest.approx(value)
    assert encoder.explain(vector, top_k=3) == explained[:3]
    assert encoder.explain(DOCUMENTS[0], top_k=3) == explained[:3]  # a str is encoded first
    assert encoder.explain(SparseVector.empty()) == []
    assert isinstance(explained, Explanation) and isinstance(explained, list)


# --- pinned numbers ------------------------------------------------------------------------------


def test_pinned_numbers_of_the_first_seed_document(encoder: SpladeEncoder) -> None:
    """Caught here if the math (activation, pooling, special tokens) changes by accident."""
    vector = encoder.encode_documents([DOCUMENTS[0]])[0]
    assert DOCUMENTS[0] == "Chandrayaan-3 is India's third lunar mission"
    assert len(vector) == 96
    top = encoder.explain(vector, top_k=3)
    assert [t for t, _ in top] == ["success", "to", "dhawan"]
    assert [w for _, w in top] == pytest.approx([1.4791316, 1.4382054, 1.4241545], abs=1e-5)
    assert float(vector.values.sum()) == pytest.approx(63.538, abs=1e-3)


# --- long documents ------------------------------------------------------------------------------


def test_truncate_warns_how_many_tokens_were_dropped(short_model_dir: Path) -> None:
    cut = SpladeEncoder.from_pretrained(short_model_dir, long_documents="truncate")
    reference = Reference(short_model_dir)
    long_text = "the moon " * 20  # 40 tokens; 14 fit beside [CLS] and [SEP]
    with pytest.warns(UserWarning, match=r"16-token limit.*lost 26 tokens") as record:
        long_vec, short_vec = cut.encode_documents([long_text, "moon"])
    assert len(record) == 1
    assert "text 0" in str(record[0].message)
    head = "the moon " * 7  # exactly the 14 tokens kept
    assert_close(long_vec, reference.encode(head))
    assert_close(short_vec, reference.encode("moon"))


def test_windows_do_not_warn(short_model_dir: Path) -> None:
    windowed = SpladeEncoder.from_pretrained(short_model_dir, long_documents="window")
    assert windowed.long_documents == "window"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        vectors = windowed.encode_documents(["the moon " * 20, LONG_TEXT])
    assert all(len(v) > 0 for v in vectors)


def test_queries_are_truncated_without_windows(short_model_dir: Path) -> None:
    cut = SpladeEncoder.from_pretrained(short_model_dir)
    reference = Reference(short_model_dir)
    with pytest.warns(UserWarning, match="lost 26 tokens"):
        query = cut.encode_query("the moon " * 20)
    assert_close(query, reference.encode("the moon " * 7))


# --- model variants ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "options",
    [
        {"with_token_types": False},
        {"input_type": TensorProto.INT32},
        {"input_type": TensorProto.INT32, "with_token_types": False},
    ],
    ids=["no-token-types", "int32", "int32-no-token-types"],
)
def test_graph_variants_match_their_reference(tmp_path: Path, options: dict[str, object]) -> None:
    folder = write_model_folder(tmp_path / "variant", seed=3, **options)
    variant = SpladeEncoder.from_pretrained(folder)
    reference = Reference(folder)
    assert_all_close(
        variant.encode_documents(TEXTS, batch_size=4), [reference.encode(t) for t in TEXTS]
    )


def test_onnx_subfolder_layout_loads(tmp_path: Path, reference: Reference) -> None:
    folder = write_model_folder(tmp_path / "layout", model_file="onnx/model.onnx")
    assert not (folder / "model.onnx").exists()
    loaded = SpladeEncoder.from_pretrained(folder)
    assert loaded._documents.session.source == folder / "onnx" / "model.onnx"
    assert_all_close(loaded.encode_documents(TEXTS), [reference.encode(t) for t in TEXTS])


def test_model_file_option_picks_a_nonstandard_path(tmp_path: Path) -> None:
    folder = write_model_folder(tmp_path / "custom", model_file="weights/splade.onnx")
    loaded = SpladeEncoder.from_pretrained(folder, model_file="weights/splade.onnx")
    reference = Reference(folder, "weights/splade.onnx")
    assert_close(loaded.encode_documents([DOCUMENTS[1]])[0], reference.encode(DOCUMENTS[1]))


# --- threads -------------------------------------------------------------------------------------


def test_four_threads_at_once_match_sequential(encoder: SpladeEncoder) -> None:
    rng = random.Random(4)
    jobs = [rng.sample(TEXTS, k=len(TEXTS)) for _ in range(8)]
    sequential = [encoder.encode_documents(job, batch_size=3) for job in jobs]
    barrier = threading.Barrier(4)

    def run(number: int) -> list[SparseVector]:
        if number < 4:  # the first four start together, so the runs really overlap
            barrier.wait(timeout=30)
        return encoder.encode_documents(jobs[number], batch_size=3)

    with ThreadPoolExecutor(max_workers=4) as pool:
        concurrent = list(pool.map(run, range(len(jobs))))
    for got, want in zip(concurrent, sequential, strict=True):
        assert_all_close(got, want)
