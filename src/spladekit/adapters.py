"""What every framework adapter shares: one encoder, taken or loaded, run off the event loop.

The LangChain and LlamaIndex modules are thin: they take an existing
:class:`~spladekit.SpladeEncoder` (shared, never reloaded) or load one from a model name and
``from_pretrained`` options, call it, and convert through :mod:`spladekit.wire`.
"""

from __future__ import annotations

import asyncio
import difflib
import inspect
import logging
import os
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from spladekit.encoder import SpladeEncoder
from spladekit.errors import InputError, InputTypeError

__all__ = ["ENCODER_OPTIONS", "in_thread", "resolve_encoder"]

logger = logging.getLogger(__name__)

_T = TypeVar("_T")
_R = TypeVar("_R")

#: ``SpladeEncoder.from_pretrained``'s keyword options and their defaults, read from its
#: signature so every adapter accepts exactly what the encoder accepts.
ENCODER_OPTIONS: dict[str, Any] = {
    name: parameter.default
    for name, parameter in inspect.signature(SpladeEncoder.from_pretrained).parameters.items()
    if parameter.kind is inspect.Parameter.KEYWORD_ONLY
}


def resolve_encoder(
    encoder: SpladeEncoder | None,
    model: str | os.PathLike[str] | None,
    options: Mapping[str, Any],
    owner: str,
    model_param: str = "model_name",
) -> SpladeEncoder:
    """Take a shared encoder, or load one from *model* and ``from_pretrained`` *options*.

    Unknown options are rejected by name (fastembed's LlamaIndex adapter silently drops
    ``max_length``), and so are load options next to an existing encoder, which they could
    not affect. *model_param* is what the caller's signature calls the model argument.
    """
    unknown = [name for name in options if name not in ENCODER_OPTIONS]
    if unknown:
        close = difflib.get_close_matches(unknown[0], list(ENCODER_OPTIONS), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        msg = (
            f"{owner} got unknown option {unknown[0]!r}{hint}; it takes encoder= or a model "
            f"plus SpladeEncoder.from_pretrained options: {', '.join(ENCODER_OPTIONS)}"
        )
        raise InputTypeError(msg)  # a TypeError, as Python raises for an unknown keyword
    if isinstance(model, SpladeEncoder):
        msg = f"{owner}: pass an existing SpladeEncoder as encoder=..., not as the model"
        raise InputTypeError(msg)
    if encoder is None:
        logger.debug("%s loads %s", owner, model or "the default model")
        if model is None:
            return SpladeEncoder.from_pretrained(**options)
        return SpladeEncoder.from_pretrained(model, **options)
    if not isinstance(encoder, SpladeEncoder):
        msg = f"{owner}: encoder must be a SpladeEncoder, got {type(encoder).__name__}"
        raise InputTypeError(msg)
    if model is not None or options:
        given = [model_param] * (model is not None) + list(options)
        msg = (
            f"{owner} got encoder= together with {', '.join(given)}; those only apply when "
            "loading a model, so pass either an existing encoder or a model and its options"
        )
        raise InputError(msg)
    return encoder


async def in_thread(function: Callable[[_T], _R], argument: _T) -> _R:
    """Run a blocking encode in a worker thread (the encoder is thread-safe)."""
    return await asyncio.to_thread(function, argument)
