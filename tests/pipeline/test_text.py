"""Step 1: only ordered containers of valid str are taken, and errors name the caller's positions."""

from __future__ import annotations

import random
from collections import OrderedDict

import numpy as np
import pytest

from spladekit import InputError, InputTypeError, SparseVector, SpladeEncoder, SpladeError

from support.documents import DOCUMENTS

SURROGATE = "lunar \ud800 mission"


@pytest.mark.parametrize(
    ("texts", "message"),
    [
        ({"a": "moon"}, r"got a dict: it would be encoded as its keys"),
        (OrderedDict(a="moon"), r"got a OrderedDict: it would be encoded as its keys"),
        ({"moon", "lunar"}, r"got a set, which has no order"),
        (frozenset({"moon"}), r"got a frozenset, which has no order"),
        ((t for t in ["moon"]), r"got generator; wrap it in list"),
        (iter(["moon"]), r"got list_iterator; wrap it in list"),
        (np.array([["a", "b"]]), r"must be a 1-D array of str, got shape \(1, 2\)"),
        (np.array([1, 2]), r"texts\[0\] must be a str, got int"),
    ],
)
def test_containers_that_break_one_vector_per_text_in_order_are_refused(
    encoder: SpladeEncoder, texts: object, message: str
) -> None:
    with pytest.raises(InputTypeError, match=message):
        encoder.encode_documents(texts)  # type: ignore[arg-type]


def test_sequences_and_numpy_arrays_of_str_are_taken(encoder: SpladeEncoder) -> None:
    want = encoder.encode_documents(DOCUMENTS[:3])
    assert encoder.encode_documents(tuple(DOCUMENTS[:3])) == want
    assert encoder.encode_documents(np.array(DOCUMENTS[:3])) == want
    assert encoder.encode_documents(np.array(DOCUMENTS[:3], dtype=object)) == want
    assert encoder.encode_queries(np.array(DOCUMENTS[:2])) == encoder.encode_queries(DOCUMENTS[:2])


def test_embed_streams_iterators_but_refuses_dicts_and_sets(encoder: SpladeEncoder) -> None:
    assert list(encoder.embed(t for t in DOCUMENTS[:2])) == encoder.encode_documents(DOCUMENTS[:2])
    for bad in ({"a": "moon"}, {"moon"}):
        with pytest.raises(InputTypeError, match="it would be encoded as its keys|has no order"):
            encoder.embed(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("position", [0, 3])
def test_a_lone_surrogate_is_an_input_error_naming_its_position(
    encoder: SpladeEncoder, position: int
) -> None:
    texts = list(DOCUMENTS[:4])
    texts[position] = SURROGATE
    with pytest.raises(InputError, match=rf"texts\[{position}\] = .* not valid Unicode") as info:
        encoder.encode_documents(texts)
    assert isinstance(info.value.__cause__, TypeError)  # the tokenizer's own refusal, chained
    with pytest.raises(InputError, match=rf"queries\[{position}\] .* not valid Unicode"):
        encoder.encode_queries(texts)
    with pytest.raises(InputError, match=r"query\[0\]|queries\[0\]"):
        encoder.encode_query(SURROGATE)


def test_positions_count_from_the_callers_list_across_streaming_chunks(
    encoder: SpladeEncoder,
) -> None:
    from spladekit.encoder import SORT_CHUNK

    texts = ["moon"] * (SORT_CHUNK + 7)
    texts[SORT_CHUNK + 5] = SURROGATE
    with pytest.raises(InputError, match=rf"texts\[{SORT_CHUNK + 5}\]"):
        list(encoder.embed(iter(texts)))
    texts[SORT_CHUNK + 5] = None  # type: ignore[call-overload]
    with pytest.raises(InputTypeError, match=rf"texts\[{SORT_CHUNK + 5}\] must be a str"):
        list(encoder.embed(iter(texts)))


def test_explain_of_an_index_outside_the_vocabulary_is_an_input_error(
    encoder: SpladeEncoder,
) -> None:
    alien = SparseVector([3, encoder.vocab_size + 10], [1.0, 2.0])
    with pytest.raises(InputError, match=r"token id \d+, outside this model's vocabulary"):
        encoder.explain(alien)
    assert encoder.explain(SparseVector([3], [1.0]))  # inside: fine


def _random_text(rng: random.Random) -> str:
    kind = rng.randrange(3)
    if kind == 0:  # random code points, surrogates included
        return "".join(chr(rng.randrange(0x110000)) for _ in range(rng.randrange(0, 40)))
    if kind == 1:  # random bytes read the way a careless file reader would
        raw = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 60)))
        return raw.decode("utf-8", errors="surrogateescape")
    return rng.choice(DOCUMENTS) + " " + chr(rng.randrange(0x80, 0x3000))


def test_fuzz_random_unicode_and_bytes_give_vectors_or_splade_errors(
    encoder: SpladeEncoder,
) -> None:
    rng = random.Random(15)
    seen = {"vectors": 0, "errors": 0}
    for _ in range(60):
        texts = [_random_text(rng) for _ in range(rng.randrange(1, 6))]
        try:
            vectors = encoder.encode_documents(texts)
        except SpladeError:
            seen["errors"] += 1
            continue
        assert len(vectors) == len(texts)
        seen["vectors"] += 1
    assert seen["vectors"] and seen["errors"]  # both outcomes happened
