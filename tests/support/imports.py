"""The import graph of src/spladekit, read from the source (ast), and its layers.

Run as a script to print it: ``python tests/support/imports.py``.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"

#: Layers, lowest first: a module may import only from its own layer or below.
LAYERS: list[tuple[str, ...]] = [
    ("spladekit.errors",),
    ("spladekit.options", "spladekit.vector", "spladekit.files", "spladekit.explanation"),
    ("spladekit.pipeline",),
    ("spladekit.model",),
    ("spladekit.encoder", "spladekit.index", "spladekit.arrow"),
    ("spladekit.evaluation",),
    ("spladekit._adapters",),
    ("spladekit.langchain", "spladekit.llama_index", "spladekit.ray"),
    ("spladekit.cli", "spladekit.__main__", "spladekit"),
]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> set[str]:
    """spladekit modules *path* imports (``from spladekit.x import y`` names x, or x.y if a module)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("spladekit")}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if not node.module.startswith("spladekit"):
                continue
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                found.add(candidate if _is_module(candidate) else node.module)
    return found


def _is_module(name: str) -> bool:
    relative = Path(*name.split("."))
    return (SRC / relative).with_suffix(".py").is_file() or (
        SRC / relative / "__init__.py"
    ).is_file()


def graph() -> dict[str, set[str]]:
    """Module → the spladekit modules it imports (itself excluded)."""
    edges: dict[str, set[str]] = {}
    for path in sorted((SRC / "spladekit").rglob("*.py")):
        name = module_name(path)
        edges[name] = {m for m in imports_of(path) if m != name}
    return edges


def layer(name: str) -> int:
    best = -1
    for rank, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if name == prefix or name.startswith(prefix + "."):
                best = rank if prefix != "spladekit" or best < 0 else best
    if best < 0:
        msg = f"{name} is in no layer of tests/support/imports.py"
        raise KeyError(msg)
    return best


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Every import cycle (as a path that comes back to its start), found by depth-first search."""
    found: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                found.append([*stack[stack.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node)
    return found


def upward(edges: dict[str, set[str]]) -> list[tuple[str, str]]:
    """Imports that point up the layers (from a lower module to a higher one)."""
    return [(a, b) for a, bs in edges.items() for b in sorted(bs) if layer(b) > layer(a)]


if __name__ == "__main__":
    edges = graph()
    for name in sorted(edges, key=lambda n: (layer(n), n)):
        print(f"L{layer(name)} {name:34} -> {', '.join(sorted(edges[name])) or '-'}")
    print(f"cycles: {cycles(edges) or 'none'}")
    print(f"upward imports: {upward(edges) or 'none'}")
    sys.exit(1 if cycles(edges) or upward(edges) else 0)
