"""The house rules a newcomer relies on: imports point one way, modules stay small and documented."""

from __future__ import annotations

import ast

from support.imports import SRC, cycles, graph, upward


def test_no_import_cycles() -> None:
    assert cycles(graph()) == []


def test_imports_point_down_the_layers() -> None:
    assert upward(graph()) == []


def test_the_core_never_imports_a_framework_or_the_adapters() -> None:
    core = ("spladekit.encoder", "spladekit.pipeline", "spladekit.model", "spladekit.options")
    for name, imported in graph().items():
        if name.startswith(core):
            assert not [m for m in imported if m.startswith("spladekit._adapters")], name


def test_every_module_is_small_and_says_what_it_is_for() -> None:
    for path in sorted((SRC / "spladekit").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        assert text.count("\n") <= 420, f"{path.relative_to(SRC)} has {text.count(chr(10))} lines"
        assert ast.get_docstring(ast.parse(text)), f"{path.relative_to(SRC)} has no docstring"


def test_the_package_is_typed() -> None:
    assert (SRC / "spladekit" / "py.typed").is_file()
