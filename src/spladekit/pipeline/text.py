"""Step 1, text: the texts a caller passes are checked before any model work.

Bad input never surfaces as a numpy or ONNX traceback, and a list error names the position of
the offending item in the caller's list.
"""

from __future__ import annotations

from collections.abc import Iterable

from spladekit.errors import InputTypeError

__all__ = ["check_text", "check_texts"]


def check_texts(texts: object, what: str = "texts") -> list[str]:
    """A list of str, or an InputTypeError naming the first bad item and its position.

    A bare str is refused: iterating it would encode the text character by character.
    """
    if isinstance(texts, bytes):
        msg = f"{what} must be a list of str, got bytes; decode it and wrap it in a list"
        raise InputTypeError(msg)
    if isinstance(texts, str):
        msg = (
            f"{what} must be a list of str, got a single str; wrap one text in a list "
            "(or use encode_query for a single query) so it is not encoded character by character"
        )
        raise InputTypeError(msg)
    if not isinstance(texts, Iterable):
        msg = f"{what} must be a list of str, got {type(texts).__name__}"
        raise InputTypeError(msg)
    checked = list(texts)
    for position, text in enumerate(checked):
        check_text(text, position, what)
    return checked


def check_text(text: object, position: int | None, what: str) -> None:
    """Refuse a non-str text, naming where it sat (``texts[2]``) and how to fix bytes."""
    if isinstance(text, str):
        return
    where = f"{what}[{position}]" if position is not None else what
    hint = " (decode bytes first, e.g. text.decode('utf-8'))" if isinstance(text, bytes) else ""
    msg = f"{where} must be a str, got {type(text).__name__}{hint}"
    raise InputTypeError(msg)
