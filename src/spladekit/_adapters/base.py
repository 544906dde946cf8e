"""What every framework adapter shares: one encoder, taken or loaded, run off the event loop.

The LangChain and LlamaIndex modules are thin: each takes an existing
:class:`~spladekit.SpladeEncoder` (``encoder=``, shared and never reloaded) or loads one from a
model name and the encoder's own options (:class:`~spladekit.options.EncoderOptions`), calls
it, and converts through :mod:`spladekit._adapters.shapes`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import warnings
import weakref
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from spladekit.encoder import SpladeEncoder
from spladekit.errors import InputError, InputTypeError
from spladekit.model.load import DEFAULT_MODEL
from spladekit.options import check_positive, model_argument, resolve_options
from spladekit.vector import SparseVector

__all__ = ["EncoderHolder", "in_thread", "take_encoder"]

logger = logging.getLogger(__name__)

_T = TypeVar("_T")
_R = TypeVar("_R")

Model = str | os.PathLike[str]


def take_encoder(
    owner: str, model: object, encoder: object, options: dict[str, Any], *, stacklevel: int = 2
) -> SpladeEncoder:
    """Take a shared encoder, or load one from *model* and the encoder's *options*.

    An unknown option is a ``TypeError`` naming the closest valid one (fastembed's
    LlamaIndex adapter silently drops ``max_length``); options next to ``encoder=`` are an
    error, since they could not affect it. A ``SpladeEncoder`` passed as the model (the first
    positional argument of the LlamaIndex adapter until 0.2) still works, with a warning
    (attributed *stacklevel* frames above this function: the adapter's caller).
    """
    model = model_argument(model, options, owner, default=None, stacklevel=stacklevel + 1)
    if isinstance(model, SpladeEncoder):
        warnings.warn(
            f"{owner}(encoder) is deprecated and goes away in spladekit 0.3; pass "
            f"{owner}(encoder=encoder)",
            DeprecationWarning,
            stacklevel=stacklevel + 1,
        )
        if encoder is not None:
            msg = f"{owner} got two encoders: as the first argument and as encoder="
            raise InputTypeError(msg)
        model, encoder = None, model
    resolve_options(options, owner)  # unknown or bad options fail here, with owner's name
    if encoder is None:
        if model is not None and not isinstance(model, (str, os.PathLike)):
            msg = f"{owner}: the model must be a Hub repo id or a folder (str or path), got {type(model).__name__}"
            raise InputTypeError(msg)
        logger.debug("%s loads %s", owner, model or "the default model")
        return SpladeEncoder(model if model is not None else DEFAULT_MODEL, **options)
    if not isinstance(encoder, SpladeEncoder):
        msg = f"{owner}: encoder must be a SpladeEncoder, got {type(encoder).__name__}"
        raise InputTypeError(msg)
    if model is not None or options:
        given = ["a model"] * (model is not None) + list(options)
        msg = (
            f"{owner} got encoder= together with {', '.join(given)}; those only apply when "
            "loading a model, so pass either an existing encoder or a model and its options"
        )
        raise InputError(msg)
    return encoder


#: One encode at a time per event loop. ONNX Runtime already spreads one encode over every
#: core; LlamaIndex's ``aget_text_embedding_batch`` gathers a coroutine per batch, and without
#: this each would take a pool thread and all of them would fight the loop for the CPU.
_TURNS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary()
)


async def in_thread(function: Callable[[_T], _R], argument: _T) -> _R:
    """Run a blocking encode in a worker thread, one at a time per event loop.

    The loop keeps running meanwhile; waiting encodes wait as coroutines, not as pool threads.
    """
    loop = asyncio.get_running_loop()
    turn = _TURNS.get(loop)
    if turn is None:
        turn = _TURNS[loop] = asyncio.Semaphore(1)
    async with turn:
        return await asyncio.to_thread(function, argument)


class EncoderHolder:
    """A plain (non-pydantic) adapter's encoder and document batch size.

    Subclasses call :meth:`_hold` from their ``__init__`` with the caller's arguments.
    """

    _encoder: SpladeEncoder
    batch_size: int | None

    def _hold(
        self,
        model: object,
        encoder: object,
        options: dict[str, Any],
        batch_size: int | None = None,
    ) -> None:
        check_positive("batch_size", batch_size, allow_none=True)
        self.batch_size = batch_size
        self._encoder = take_encoder(type(self).__name__, model, encoder, options, stacklevel=3)

    @property
    def encoder(self) -> SpladeEncoder:
        """The encoder behind this adapter (shared when it was passed in)."""
        return self._encoder

    def _encode_documents(self, texts: Sequence[str]) -> list[SparseVector]:
        return self._encoder.encode_documents(texts, batch_size=self.batch_size)

    def _encode_query(self, text: str) -> SparseVector:
        if not isinstance(text, str):
            msg = f"the query must be a str, got {type(text).__name__}"
            raise InputTypeError(msg)
        return self._encoder.encode_query(text)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(encoder={self._encoder.name!r})"
