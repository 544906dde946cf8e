"""``spladekit models``: the models spladekit has facts about, as a table (or JSON).

Any other SPLADE export loads too; this lists what the catalog knows (size, licence, how
queries are encoded), the same rows as ``SpladeEncoder.list_models()``.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from spladekit.encoder import SpladeEncoder

__all__ = ["add_parser", "run", "table"]

_COLUMNS = (("model", "model"), ("size_in_GB", "GB"), ("query", "queries"), ("license", "license"))


def add_parser(commands: Any) -> None:
    """Register ``models`` on the subcommand parser."""
    parser = commands.add_parser(
        "models",
        help="list the known models",
        description="The models spladekit knows facts about (any other SPLADE export loads too).",
    )
    parser.add_argument("--json", action="store_true", help="print the rows as JSON instead")
    parser.set_defaults(run=run)


def table(rows: list[dict[str, Any]]) -> str:
    """Aligned columns: model, size, how queries are encoded, licence."""
    cells = [[str(row[key]) for key, _ in _COLUMNS] for row in rows]
    header = [title for _, title in _COLUMNS]
    widths = [max(len(c[i]) for c in [header, *cells]) for i in range(len(header))]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip()]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Print the table."""
    rows = SpladeEncoder.list_models()
    print(json.dumps(rows, indent=2) if args.json else table(rows))
    return 0
