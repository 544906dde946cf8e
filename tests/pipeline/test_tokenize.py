"""Where text becomes token ids: special tokens, segments (truncation and windows), lookups."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from tokenizers import Tokenizer

from spladekit.errors import InputError, ModelFormatError
from spladekit.pipeline.tokenize import TextTokenizer

FIRST_DOCUMENT = "Chandrayaan-3 is India's third lunar mission"
BERT_PIECES = [
    "[CLS]",
    "chandra",
    "##ya",
    "##an",
    "-",
    "3",
    "is",
    "india",
    "'",
    "s",
    "third",
    "lunar",
    "mission",
    "[SEP]",
]


@pytest.fixture(scope="module")
def bert_tokenizer_file(shared_data: Path) -> Path:
    path = shared_data / "bert-base-uncased" / "tokenizer.json"
    if not path.is_file():
        pytest.skip(f"bert-base-uncased tokenizer not found at {path}")
    return path


@pytest.fixture(scope="module")
def tiny(tiny_model_dir: Path) -> TextTokenizer:
    return TextTokenizer.from_file(tiny_model_dir / "tokenizer.json", max_length=512)


def test_bert_pieces_with_the_tokenizers_library(bert_tokenizer_file: Path) -> None:
    tokenizer = Tokenizer.from_file(str(bert_tokenizer_file))
    assert tokenizer.encode(FIRST_DOCUMENT).tokens == BERT_PIECES


def test_bert_pieces_through_spladekit(bert_tokenizer_file: Path) -> None:
    tokenizer = TextTokenizer.from_file(bert_tokenizer_file, max_length=512)
    [content] = tokenizer.content_ids([FIRST_DOCUMENT])
    [segment] = tokenizer.segments(content, windows=True, stride=100)
    assert [tokenizer.id_to_token(int(i)) for i in segment] == BERT_PIECES
    assert segment.dtype == np.int64
    assert tokenizer.vocab_size == 30522
    assert tokenizer.token_to_id("lunar") == int(segment[BERT_PIECES.index("lunar")])
    assert tokenizer.special_ids == [0, 100, 101, 102, 103]  # [PAD] [UNK] [CLS] [SEP] [MASK]


def test_tiny_tokenizer_is_bert_shaped(tiny: TextTokenizer) -> None:
    [content] = tiny.content_ids([FIRST_DOCUMENT])
    [segment] = tiny.segments(content, windows=False, stride=1)
    pieces = [tiny.id_to_token(int(i)) for i in segment]
    # the tiny vocab holds the seed documents' words whole, so "chandrayaan" is one piece
    assert pieces == ["[CLS]", "chandrayaan", *BERT_PIECES[4:]]
    assert [tiny.id_to_token(int(i)) for i in tiny.content_ids(["Chandrayan"])[0]] == [
        "chandra",
        "##ya",
        "##n",
    ]


def test_special_tokens_wrap_each_segment_not_the_text(tiny: TextTokenizer) -> None:
    [content] = tiny.content_ids(["the moon"])
    assert [tiny.id_to_token(int(i)) for i in content] == ["the", "moon"]
    wrapped = tiny.wrap(content)
    assert [tiny.id_to_token(int(i)) for i in wrapped] == ["[CLS]", "the", "moon", "[SEP]"]
    assert tiny.content_length == 510


def test_blank_texts_have_no_content_ids(tiny: TextTokenizer) -> None:
    assert [c.size for c in tiny.content_ids(["", "   ", "\n", "moon"])] == [0, 0, 0, 1]


def test_tokenizer_settings_in_the_file_are_overridden(tiny_model_dir: Path) -> None:
    raw = Tokenizer.from_file(str(tiny_model_dir / "tokenizer.json"))
    raw.enable_truncation(max_length=4)
    raw.enable_padding(length=32)
    tokenizer = TextTokenizer(raw, max_length=512)
    [content] = tokenizer.content_ids(["the moon " * 10])
    assert content.size == 20  # neither cut to 4 nor padded to 32


def _windows(tokenizer: TextTokenizer, n: int, stride: int) -> list[list[int]]:
    content = np.arange(1000, 1000 + n, dtype=np.int64)
    return [s.tolist() for s in tokenizer.segments(content, windows=True, stride=stride)]


def test_windows_cover_every_token_and_fit(tiny_model_dir: Path) -> None:
    tokenizer = TextTokenizer.from_file(tiny_model_dir / "tokenizer.json", max_length=8)
    cls, sep = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    size = tokenizer.content_length
    assert size == 6
    for n in (1, 6, 7, 12, 13, 29):
        for stride in (1, 3, 6):
            windows = _windows(tokenizer, n, stride)
            assert all(w[0] == cls and w[-1] == sep and len(w) <= 8 for w in windows)
            covered = sorted({t for w in windows for t in w[1:-1]})
            assert covered == list(range(1000, 1000 + n))
            if n > size:
                assert all(len(w) == 8 for w in windows)
                starts = [w[1] - 1000 for w in windows]
                assert starts[0] == 0 and starts[-1] == n - size
                assert all(0 < b - a <= stride for a, b in zip(starts, starts[1:], strict=False))


def test_truncation_keeps_the_head(tiny_model_dir: Path) -> None:
    tokenizer = TextTokenizer.from_file(tiny_model_dir / "tokenizer.json", max_length=8)
    content = np.arange(1000, 1020, dtype=np.int64)
    [segment] = tokenizer.segments(content, windows=False, stride=3)
    assert segment[1:-1].tolist() == list(range(1000, 1006))


def test_unknown_ids_get_a_placeholder(tiny: TextTokenizer) -> None:
    assert tiny.id_to_token(10**6) == "<id 1000000>"
    assert tiny.token_to_id("no-such-token") is None


def test_max_length_must_leave_room_for_text(tiny_model_dir: Path) -> None:
    with pytest.raises(InputError, match="max_length must exceed the 2 special tokens, got 2"):
        TextTokenizer.from_file(tiny_model_dir / "tokenizer.json", max_length=2)


def test_unreadable_tokenizer_is_a_format_error(tmp_path: Path) -> None:
    path = tmp_path / "tokenizer.json"
    path.write_text("{ not json")
    with pytest.raises(ModelFormatError, match="cannot read tokenizer"):
        TextTokenizer.from_file(path, max_length=512)
