"""Explanation: what ``SpladeEncoder.explain`` returns — tokens and weights, highest first.

It is a ``list`` of ``(token, weight)`` pairs, so code that iterates it, indexes it or compares
it with a list keeps working; it only adds two ways to look at it: ``print(explanation)`` gives
an aligned plain-text table (what ``spladekit explain`` prints), and a notebook shows
:meth:`Explanation._repr_html_`, a self-contained HTML table with a bar per weight. The HTML
carries no script and no stylesheet link (inline styles only), and every token is escaped:
a vocabulary is data, and may well hold ``<script>``.

Example:
    >>> explanation = Explanation([("moon", 2.0), ("<b>", 0.5)])
    >>> explanation == [("moon", 2.0), ("<b>", 0.5)]
    True
    >>> print(explanation)
    token  weight
    moon   2.0000
    <b>    0.5000
    >>> "&lt;b&gt;" in explanation._repr_html_()
    True
"""

from __future__ import annotations

import html
from collections.abc import Iterable

__all__ = ["Explanation"]

_BAR_COLOUR = "#4c78a8"


class Explanation(list[tuple[str, float]]):
    """``(token, weight)`` pairs, highest weight first, that render as a table.

    A plain list in every other respect (``==`` a list of tuples, slicing gives a list).
    """

    def __init__(self, pairs: Iterable[tuple[str, float]] = ()) -> None:
        super().__init__((str(token), float(weight)) for token, weight in pairs)

    @property
    def tokens(self) -> list[str]:
        """The tokens, in order."""
        return [token for token, _ in self]

    @property
    def weights(self) -> list[float]:
        """The weights, in order."""
        return [weight for _, weight in self]

    def table(self, *, digits: int = 4) -> str:
        """Aligned plain text: a ``token  weight`` header, then one row per token."""
        cells = [(token, f"{weight:.{digits}f}") for token, weight in self]
        token_width = max([len("token"), *(len(t) for t, _ in cells)])
        weight_width = max([len("weight"), *(len(w) for _, w in cells)])
        lines = [f"{'token':<{token_width}}  {'weight':>{weight_width}}"]
        lines += [f"{t:<{token_width}}  {w:>{weight_width}}" for t, w in cells]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()

    def _repr_html_(self) -> str:
        """A self-contained HTML table: escaped tokens, weights, and a bar scaled to the largest."""
        largest = max((weight for _, weight in self), default=0.0)
        rows = []
        for token, weight in self:
            share = 100.0 * weight / largest if largest > 0 else 0.0
            bar = (
                f'<div style="background:{_BAR_COLOUR};height:0.8em;width:{share:.1f}%;'
                'min-width:1px"></div>'
            )
            rows.append(
                f'<tr><td style="text-align:left;font-family:monospace">{html.escape(token)}</td>'
                f'<td style="text-align:right">{weight:.4f}</td>'
                f'<td style="width:12em">{bar}</td></tr>'
            )
        caption = f"{len(self)} token{'s' if len(self) != 1 else ''}"
        return (
            '<table class="spladekit-explanation">'
            f"<caption>{caption}</caption>"
            "<thead><tr><th>token</th><th>weight</th><th></th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>"
        )
