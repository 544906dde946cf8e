"""The one boundary where spladekit reads a model's small files (JSON, text).

Whatever is wrong with such a file — unreadable, not UTF-8, not JSON, ``NaN`` or ``Infinity``
where JSON has no such number, the wrong shape — becomes a
:class:`~spladekit.errors.ModelFormatError` that names the file, chained to the original error;
an invalid file is never quietly ignored. (ONNX graphs are read in
:mod:`spladekit.model.graph`, safetensors in :mod:`spladekit.model.build.safetensors`, with the
same rule.)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from spladekit.errors import ModelFormatError

__all__ = ["optional_json_object", "read_json", "read_json_object", "read_text"]


def read_text(path: Path, what: str = "file") -> str:
    """The UTF-8 text of *path*."""
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        msg = f"cannot read {what} {path}: {type(error).__name__}: {error}"
        raise ModelFormatError(msg) from error


def _no_constant(name: str) -> Any:
    msg = f"{name} is not a JSON number"
    raise ValueError(msg)


def read_json(path: Path, what: str = "file") -> Any:
    """The JSON value in *path* (strict: ``NaN``, ``Infinity`` and ``-Infinity`` refused)."""
    text = read_text(path, what)
    try:
        return json.loads(text, parse_constant=_no_constant)
    except ValueError as error:  # json.JSONDecodeError is a ValueError
        msg = f"cannot read {what} {path}: it is not valid JSON: {error}"
        raise ModelFormatError(msg) from error


def read_json_object(path: Path, what: str = "file") -> dict[str, Any]:
    """The JSON object in *path*; any other JSON value is a ModelFormatError."""
    data = read_json(path, what)
    if not isinstance(data, dict):
        msg = f"{what} {path} must hold a JSON object, got {type(data).__name__}"
        raise ModelFormatError(msg)
    return data


def optional_json_object(path: Path, what: str = "file") -> dict[str, Any] | None:
    """:func:`read_json_object`, or None when there is no such file (an invalid one raises)."""
    if not path.is_file():
        return None
    return read_json_object(path, what)
