"""Explanation: a list of (token, weight) pairs that prints as a table and renders as HTML."""

from __future__ import annotations

import html.parser
import re

from spladekit.explanation import Explanation

PAIRS = [("moon", 2.5), ("<script>alert(1)</script>", 1.25), ("a&b\"'", 0.5)]


def test_it_is_the_list_it_always_was() -> None:
    shown = Explanation(PAIRS)
    assert shown == PAIRS and PAIRS == shown
    assert isinstance(shown, list)
    assert shown[:2] == PAIRS[:2] and dict(shown)["moon"] == 2.5
    assert [t for t, _ in shown] == shown.tokens and shown.weights == [2.5, 1.25, 0.5]
    assert repr(shown) == repr(PAIRS)  # a REPL shows what it showed before
    assert Explanation() == []


def test_terminal_table_is_aligned() -> None:
    lines = str(Explanation([("moon", 2.5), ("lunar", 1.0), ("##ya", 0.25)])).splitlines()
    assert lines == [
        "token  weight",
        "moon   2.5000",
        "lunar  1.0000",
        "##ya   0.2500",
    ]
    assert str(Explanation()) == "token  weight"


class _Collector(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.cells: list[str] = []
        self.attributes: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes += attrs

    def handle_data(self, data: str) -> None:
        self.cells.append(data)


def test_html_escapes_every_token_and_holds_no_script_or_remote_style() -> None:
    page = Explanation(PAIRS)._repr_html_()
    assert "<script" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "a&amp;b&quot;&#x27;" in page
    parsed = _Collector()
    parsed.feed(page)
    assert set(parsed.tags) <= {"table", "caption", "thead", "tbody", "tr", "th", "td", "div"}
    assert {name for name, _ in parsed.attributes} <= {"style", "class"}
    assert not re.search(r"url\(|@import|https?:|<link|<style", page)
    assert "<script>alert(1)</script>" in parsed.cells  # the text a reader sees, unchanged
    assert "3 tokens" in parsed.cells


def test_html_bars_scale_to_the_largest_weight() -> None:
    page = Explanation([("moon", 2.0), ("lunar", 1.0), ("tiny", 0.0001)])._repr_html_()
    widths = [float(w) for w in re.findall(r"width:([0-9.]+)%", page)]
    assert widths == [100.0, 50.0, 0.0]
    assert "1 token<" in Explanation([("moon", 1.0)])._repr_html_()
    assert "<tbody></tbody>" in Explanation()._repr_html_()
