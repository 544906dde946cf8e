"""Step 2, tokenize: text becomes token ids, then model inputs (itself, its head, or windows).

Texts are tokenized without special tokens; the model's own prefix/suffix (``[CLS]`` …
``[SEP]`` for BERT) is added per segment. That way one code path gives a short text its usual
ids, cuts an over-long text, or splits it into overlapping windows that each fit the model.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt
from tokenizers import Tokenizer

from spladekit.errors import InputError, ModelFormatError
from spladekit.files import read_text
from spladekit.pipeline.text import unencodable

__all__ = ["Segments", "TextTokenizer", "TokenIds", "TruncationWarning", "warn_truncated"]

TokenIds = npt.NDArray[np.int64]

_PROBE_TEXT = "spladekit probe text"


@dataclass
class Segments:
    """The model inputs of a list of texts: each segment's ids and the text it belongs to."""

    ids: list[TokenIds] = field(default_factory=list)
    owners: list[int] = field(default_factory=list)
    #: ``(position, tokens dropped)`` of each text cut to the model's limit.
    truncated: list[tuple[int, int]] = field(default_factory=list)


class TextTokenizer:
    """A HF ``tokenizers`` tokenizer set up for SPLADE encoding."""

    def __init__(self, tokenizer: Tokenizer, max_length: int) -> None:
        tokenizer.no_truncation()
        tokenizer.no_padding()
        self._tokenizer = tokenizer
        bare = tokenizer.encode(_PROBE_TEXT, add_special_tokens=False).ids
        full = tokenizer.encode(_PROBE_TEXT, add_special_tokens=True).ids
        start = _find_subsequence(full, bare)
        if not bare or start < 0:
            msg = "the tokenizer's special-token template does not wrap the text it encodes"
            raise ModelFormatError(msg)
        self._prefix = np.asarray(full[:start], dtype=np.int64)
        self._suffix = np.asarray(full[start + len(bare) :], dtype=np.int64)
        n_special = self._prefix.size + self._suffix.size
        if max_length <= n_special:
            msg = f"max_length must exceed the {n_special} special tokens, got {max_length}"
            raise InputError(msg)
        self.max_length = max_length

    @classmethod
    def from_file(cls, path: str | Path, max_length: int) -> TextTokenizer:
        """Load ``tokenizer.json``; an unreadable or broken file raises :class:`ModelFormatError`."""
        text = read_text(Path(path), "tokenizer")
        try:
            json.loads(text)  # names a damaged file before the tokenizer's untyped error can
        except ValueError as error:
            msg = f"cannot read tokenizer {path}: it is not valid JSON: {error}"
            raise ModelFormatError(msg) from error
        try:
            tokenizer = Tokenizer.from_str(text)
        except Exception as error:
            if type(error) is not Exception:  # tokenizers raises bare Exceptions; others are bugs
                raise
            msg = f"cannot read tokenizer {path}: HF tokenizers cannot load it: {error}"
            raise ModelFormatError(msg) from error
        return cls(tokenizer, max_length)

    @property
    def vocab_size(self) -> int:
        """Number of token ids, added tokens included."""
        return int(self._tokenizer.get_vocab_size(with_added_tokens=True))

    @property
    def content_length(self) -> int:
        """How many text tokens fit in one model input beside the special tokens."""
        return self.max_length - self._prefix.size - self._suffix.size

    def content_ids(
        self, texts: Sequence[str], *, offset: int = 0, what: str = "texts"
    ) -> list[TokenIds]:
        """Token ids of each text without special tokens (empty for blank text).

        Text that is not valid Unicode is an InputError naming ``what[offset + i]``.
        """
        try:
            encodings = self._tokenizer.encode_batch(list(texts), add_special_tokens=False)
        except TypeError as error:  # what tokenizers raises for a lone surrogate
            found = unencodable(texts, offset=offset, what=what)
            if found is None:
                raise
            raise found from error
        return [np.asarray(e.ids, dtype=np.int64) for e in encodings]

    def wrap(self, content: TokenIds) -> TokenIds:
        """Add the model's special tokens around one segment of text tokens."""
        return np.concatenate((self._prefix, content, self._suffix))

    def segments(self, content: TokenIds, *, windows: bool, stride: int) -> list[TokenIds]:
        """Model inputs for one text: itself, its head (truncation), or overlapping windows.

        Windows hold :attr:`content_length` text tokens each and start *stride* tokens apart,
        so consecutive windows share ``content_length - stride`` tokens of context.
        """
        size = self.content_length
        if content.size <= size:
            return [self.wrap(content)]
        if not windows:
            return [self.wrap(content[:size])]
        starts = list(range(0, content.size - size, stride)) + [content.size - size]
        return [self.wrap(content[s : s + size]) for s in starts]

    def segment_texts(
        self, texts: Sequence[str], *, windows: bool, stride: int, offset: int, what: str
    ) -> Segments:
        """Tokenize *texts* into model inputs; a blank text gets no segment at all."""
        out = Segments()
        for position, content in enumerate(self.content_ids(texts, offset=offset, what=what)):
            if content.size == 0:
                continue
            pieces = self.segments(content, windows=windows, stride=stride)
            if not windows and content.size > self.content_length:
                out.truncated.append((position, content.size - self.content_length))
            out.ids += pieces
            out.owners += [position] * len(pieces)
        return out

    @property
    def special_ids(self) -> list[int]:
        """Ids of the tokenizer's special tokens ([CLS], [SEP], [PAD], [UNK], [MASK] for BERT)."""
        decoder = self._tokenizer.get_added_tokens_decoder()
        return sorted(int(i) for i, token in decoder.items() if token.special)

    def id_to_token(self, token_id: int) -> str:
        """The vocabulary entry of *token_id* (``[UNK]``-style placeholder if unknown)."""
        token = self._tokenizer.id_to_token(token_id)
        return token if token is not None else f"<id {token_id}>"

    def token_to_id(self, token: str) -> int | None:
        """The id of a vocabulary entry, or None."""
        token_id = self._tokenizer.token_to_id(token)
        return int(token_id) if token_id is not None else None


def _find_subsequence(haystack: list[int], needle: list[int]) -> int:
    for start in range(len(haystack) - len(needle) + 1):
        if haystack[start : start + len(needle)] == needle:
            return start
    return -1


class TruncationWarning(UserWarning):
    """Texts were cut to the model's limit; ``truncated`` holds ``(position, tokens lost)``.

    A UserWarning, so the usual filters apply; the command line reads ``truncated`` to sum
    the cuts up once instead of echoing one warning per chunk.
    """

    def __init__(self, message: str, truncated: list[tuple[int, int]]) -> None:
        super().__init__(message)
        self.truncated = truncated


def warn_truncated(
    truncated: list[tuple[int, int]], *, offset: int, max_length: int, stacklevel: int
) -> None:
    """One warning naming the texts cut to the model's limit (positions from *offset*)."""
    if not truncated:
        return
    shown = ", ".join(f"text {offset + p} lost {n}" for p, n in truncated[:10])
    message = (
        f"{len(truncated)} text(s) exceeded the model's {max_length}-token limit and were "
        f"truncated ({shown} tokens{', ...' if len(truncated) > 10 else ''}); "
        "long_documents='window' or 'best-window' keep every token"
    )
    at = [(offset + position, lost) for position, lost in truncated]
    warnings.warn(TruncationWarning(message, at), stacklevel=stacklevel + 1)
