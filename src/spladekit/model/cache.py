"""Where spladekit keeps what it makes from a model once (prepared and built graphs)."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["cache_root"]


def cache_root() -> Path:
    """``$SPLADEKIT_CACHE``, else ``$XDG_CACHE_HOME/spladekit``, else ``~/.cache/spladekit``."""
    env = os.environ.get("SPLADEKIT_CACHE")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "spladekit"
