"""Step 1, text: the texts a caller passes are checked before any model work.

Bad input never surfaces as a numpy, tokenizer or ONNX traceback, and an error names the
position of the offending item in the caller's own list (across batches and streaming chunks).
One input in, one vector out, in order: so only ordered containers of ``str`` are taken — a
``dict`` would be encoded as its keys and a ``set`` in no particular order.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence, Set
from typing import Any

from spladekit.errors import InputError, InputTypeError

__all__ = ["check_encodable", "check_stream", "check_text", "check_texts", "unencodable"]

_SHOWN = 40  # characters of a text quoted in an error


def _refuse_container(texts: object, what: str, wanted: str) -> None:
    if isinstance(texts, bytes):
        msg = f"{what} must be {wanted}, got bytes; decode it and wrap it in a list"
        raise InputTypeError(msg)
    if isinstance(texts, str):
        msg = (
            f"{what} must be {wanted}, got a single str; wrap one text in a list "
            "(or use encode_query for a single query) so it is not encoded character by character"
        )
        raise InputTypeError(msg)
    if isinstance(texts, Mapping):
        msg = (
            f"{what} must be {wanted}, got a {type(texts).__name__}: it would be encoded as its "
            "keys; pass list(d.values()) or list(d.keys()) to say which"
        )
        raise InputTypeError(msg)
    if isinstance(texts, Set):
        msg = (
            f"{what} must be {wanted}, got a {type(texts).__name__}, which has no order, so "
            "vectors could not be matched to texts; pass a list (e.g. sorted(texts))"
        )
        raise InputTypeError(msg)


def check_texts(texts: object, what: str = "texts") -> list[str]:
    """A list of str from a list, tuple, other Sequence or 1-D numpy array of str.

    Anything else — a bare str, bytes, a dict, a set, an iterator, None — is an
    :class:`~spladekit.errors.InputTypeError`, and so is a non-str item, named by position.
    """
    wanted = "a list of str"
    _refuse_container(texts, what, wanted)
    if type(texts).__module__ == "numpy" and hasattr(texts, "tolist"):
        if getattr(texts, "ndim", None) != 1:
            msg = f"{what} must be a 1-D array of str, got shape {getattr(texts, 'shape', '?')}"
            raise InputTypeError(msg)
        texts = texts.tolist()
    if not isinstance(texts, Sequence):
        hint = "; wrap it in list(...)" if isinstance(texts, Iterable) else ""
        msg = f"{what} must be {wanted}, got {type(texts).__name__}{hint}"
        raise InputTypeError(msg)
    checked = list(texts)
    for position, text in enumerate(checked):
        check_text(text, position, what)
    return checked


def check_stream(texts: object, what: str = "texts") -> Iterable[Any]:
    """Any ordered iterable of texts, for streaming; its items are checked as they come."""
    _refuse_container(texts, what, "a list of str")
    if not isinstance(texts, Iterable):
        msg = f"{what} must be a list of str, got {type(texts).__name__}"
        raise InputTypeError(msg)
    return texts


def check_text(text: object, position: int | None, what: str) -> None:
    """Refuse a non-str text, naming where it sat (``texts[2]``) and how to fix bytes."""
    if isinstance(text, str):
        return
    where = f"{what}[{position}]" if position is not None else what
    hint = " (decode bytes first, e.g. text.decode('utf-8'))" if isinstance(text, bytes) else ""
    msg = f"{where} must be a str, got {type(text).__name__}{hint}"
    raise InputTypeError(msg)


def unencodable(texts: Sequence[str], *, offset: int, what: str) -> InputError | None:
    """The error for the first text that is not valid Unicode (a lone surrogate), if any.

    Such text comes from badly decoded bytes (``errors="surrogateescape"``); no tokenizer can
    take it. Checked only after the tokenizer refused a batch, so valid text pays nothing.
    """
    for position, text in enumerate(texts):
        if text.isascii():
            continue
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as error:
            bad = text[error.start : error.end]
            shown = text if len(text) <= _SHOWN else text[:_SHOWN] + "..."
            msg = (
                f"{what}[{offset + position}] = {shown!r} holds {bad!r} at character "
                f"{error.start}, which is not valid Unicode (a lone surrogate, e.g. from bytes "
                "decoded with errors='surrogateescape'); decode the source with "
                "errors='replace' or drop such characters"
            )
            return InputError(msg)
    return None


def check_encodable(texts: Sequence[str], what: str = "texts") -> None:
    """Raise :func:`unencodable`'s error now, for callers that split a list into batches.

    An adapter whose framework batches the texts itself checks the whole list first, so a
    bad text is named by its position in the caller's list, not in one batch.
    """
    found = unencodable(texts, offset=0, what=what)
    if found is not None:
        raise found
