"""README.md's code blocks, as the README test runs them.

A fenced block is run unless the line before it says ``<!-- readme-test: skip (why) -->``;
``text`` blocks are pictures, not code. Inside a python block, lines ``# > ...`` are the output
the lines above print, and the test compares them when the real model is present (``# > `` is
how ruff format writes a ``#>`` comment, so that is the form the README keeps).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"

_FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)
_SKIP = re.compile(r"<!-- readme-test: skip \((.+?)\) -->\s*$")
_SECTION = re.compile(r"<!-- section: ([\w-]+) -->")


@dataclass(frozen=True)
class Block:
    """One fenced block: where it is, its language, its code and why it is not run (if so)."""

    section: str
    line: int
    language: str
    code: str
    skip: str | None

    @property
    def name(self) -> str:
        return f"{self.section}:{self.line}:{self.language or 'plain'}"

    @property
    def expected_output(self) -> list[str]:
        return [line[4:] for line in self.code.splitlines() if line.startswith("# > ")]


def blocks(text: str | None = None) -> list[Block]:
    """Every fenced block of the README, in order."""
    text = README.read_text(encoding="utf-8") if text is None else text
    found = []
    for match in _FENCE.finditer(text):
        before = text[: match.start()]
        line = before.count("\n") + 1
        previous = before.rstrip("\n").rsplit("\n", 1)[-1]
        skip = _SKIP.search(previous)
        sections = _SECTION.findall(before)
        found.append(
            Block(
                section=sections[-1] if sections else "top",
                line=line,
                language=match.group(1),
                code=match.group(2),
                skip=skip.group(1) if skip else None,
            )
        )
    return found
