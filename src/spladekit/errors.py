"""The exceptions spladekit raises, drawn once.

Every error is a :class:`SpladeError`, and each also subclasses the builtin a caller would
naturally catch, so ``except ValueError`` keeps working in code that does not know spladekit::

    SpladeError
    ├── InputError (ValueError)            a text or option has the wrong value
    │   └── InputTypeError (TypeError)     a text or option has the wrong type
    ├── ModelNotFoundError (OSError)       no model files where we looked, or the Hub said no
    ├── ModelFormatError (ValueError)      the files exist but are not a usable SPLADE model
    ├── InferenceError (RuntimeError)      the model failed on a batch (names the batch)
    ├── IndexFormatError (ValueError)      a saved SparseIndex is truncated, tampered with or too new
    ├── IndexBusyError (RuntimeError)      a SparseIndex add/delete overlapped a search
    └── MissingDependencyError (ImportError)  an optional extra is not installed

All of them are importable from :mod:`spladekit`.
"""

from __future__ import annotations

__all__ = [
    "IndexBusyError",
    "IndexFormatError",
    "InferenceError",
    "InputError",
    "InputTypeError",
    "MissingDependencyError",
    "ModelFormatError",
    "ModelNotFoundError",
    "SpladeError",
    "require",
]


class SpladeError(Exception):
    """Base class of every error spladekit raises on purpose."""


class InputError(SpladeError, ValueError):
    """A text or an option has a value spladekit cannot use."""


class InputTypeError(InputError, TypeError):
    """A text or an option has the wrong type (a str where a list is expected, bytes, None)."""


class ModelNotFoundError(SpladeError, OSError):
    """The model's files are not on disk, not in the cache, or could not be fetched."""


class ModelFormatError(SpladeError, ValueError):
    """The model's files were found but do not form a usable SPLADE model."""


class InferenceError(SpladeError, RuntimeError):
    """ONNX Runtime failed while running a batch; the original error is chained."""


class IndexFormatError(SpladeError, ValueError):
    """A saved :class:`~spladekit.SparseIndex` is missing, truncated, altered or of an unknown version."""


class IndexBusyError(SpladeError, RuntimeError):
    """A :class:`~spladekit.SparseIndex` was changed while a search ran on it (or the reverse).

    Nothing was changed and nothing wrong was returned: retry once the other call is done, or
    keep writers and searches apart (searches alone may run in as many threads as you like).
    """


class MissingDependencyError(SpladeError, ImportError):
    """An optional integration was used without its extra installed."""


def require(module: str, extra: str) -> None:
    """Raise :class:`MissingDependencyError` naming the pip command when *module* is missing."""
    import importlib.util

    try:
        found = importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # find_spec imports the parents: "llama_index" itself may be absent
        found = False
    if not found:
        msg = (
            f"{module!r} is not installed; it comes with the {extra!r} extra: "
            f'pip install "spladekit[{extra}]"'
        )
        raise MissingDependencyError(msg, name=module)
