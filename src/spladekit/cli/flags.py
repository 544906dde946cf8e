"""The encoder's flags, made from :data:`spladekit.options.OPTIONS` — never listed by hand.

Each option marked ``cli`` becomes ``--name-with-dashes`` (or its ``flag``) with its doc as
help: ``Literal`` types become choices, ``int`` and ``float`` are parsed as such, a ``bool``
becomes ``--flag`` / ``--no-flag``, and a ``bool`` or ``Literal`` level (``optimize``) becomes
``--flag`` / ``--flag LEVEL`` / ``--no-flag``. Flags not given are not passed at all, so the encoder's
own defaults apply; values are checked by the encoder, whose one-line error the command
line prints.
"""

from __future__ import annotations

import argparse
import logging
import os
import types
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

from spladekit.encoder import SpladeEncoder
from spladekit.options import OPTIONS, EncoderOptions
from spladekit.pipeline.tokenize import TruncationWarning

__all__ = ["add_encoder_flags", "encoder_options", "load_encoder", "truncation_summary"]

logger = logging.getLogger("spladekit.cli")


def _members(hint: Any) -> list[Any]:
    """The types of a union (``X | None`` → [X]), None left out; a plain type alone."""
    if get_origin(hint) in (Union, types.UnionType):
        return [m for m in get_args(hint) if m is not type(None)]
    return [hint]


def _describe(name: str, hint: Any) -> dict[str, Any]:
    """Keywords of argparse for one option's type: choices, a parser, or a boolean flag."""
    members = _members(hint)
    literals = [value for m in members if get_origin(m) is Literal for value in get_args(m)]
    if bool in members and len(members) == 2 and literals:
        return {"action": _LevelAction, "choices": literals}
    if literals and len(literals) == sum(len(get_args(m)) for m in members):
        return {"choices": literals, "metavar": "{" + ",".join(map(str, literals)) + "}"}
    if members == [bool]:
        return {"action": argparse.BooleanOptionalAction}
    if members == [int]:
        return {"type": int, "metavar": "N"}
    if members == [float]:
        return {"type": float, "metavar": "X"}
    if all(m is str or (get_origin(m) or m) is os.PathLike for m in members):
        return {"type": str}
    msg = f"option {name} has a type the command line cannot parse: {hint!r}"
    raise TypeError(msg)


class _LevelAction(argparse.Action):
    """``--flag`` (True), ``--flag LEVEL`` (one of *choices*, or true / false), ``--no-flag``."""

    def __init__(
        self, option_strings: list[str], dest: str, choices: list[str], **kwargs: Any
    ) -> None:
        self.levels = list(choices)
        names = [*option_strings]
        names += ["--no-" + o[2:] for o in option_strings if o.startswith("--")]
        kwargs["metavar"] = "{" + ",".join(["true", "false", *self.levels]) + "}"
        super().__init__(names, dest, nargs="?", **kwargs)

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        if option_string is not None and option_string.startswith("--no-"):
            if values is not None:
                parser.error(f"{option_string} takes no value")
            setattr(namespace, self.dest, False)
            return
        if values is None or str(values).lower() == "true":
            setattr(namespace, self.dest, True)
        elif str(values).lower() == "false":
            setattr(namespace, self.dest, False)
        elif values in self.levels:
            setattr(namespace, self.dest, values)
        else:
            shown = ", ".join(["true", "false", *self.levels])
            parser.error(f"argument {option_string}: invalid choice {values!r} (choose {shown})")


def add_encoder_flags(parser: argparse.ArgumentParser, *, skip: tuple[str, ...] = ()) -> None:
    """Add a flag per command-line option of the encoder to *parser*, in one titled group."""
    hints = get_type_hints(EncoderOptions, include_extras=True)
    group = parser.add_argument_group(
        "encoder options", "as SpladeEncoder(model, **options); unset flags keep its defaults"
    )
    for name, option in OPTIONS.items():
        if not option.cli or name in skip:
            continue
        kind = _describe(name, get_args(hints[name])[0])
        shown = "" if option.default is None else f" [default: {option.default}]"
        group.add_argument(
            option.flag or "--" + name.replace("_", "-"),
            dest=name,
            default=argparse.SUPPRESS,
            help=f"{option.doc}{shown}".replace("%", "%%"),
            **kind,
        )


def encoder_options(args: argparse.Namespace) -> dict[str, Any]:
    """The encoder options given on the command line (only those: the rest keep defaults)."""
    given = vars(args)
    return {name: given[name] for name in OPTIONS if name in given}


def load_encoder(args: argparse.Namespace) -> SpladeEncoder:
    """The encoder of ``args.model`` with the options given as flags."""
    return SpladeEncoder(args.model, **encoder_options(args))


@contextmanager
def truncation_summary(what: str = "documents") -> Iterator[list[int]]:
    """Collect the encoder's truncation warnings into one line logged at the end.

    The encoder warns once per chunk of texts, naming positions inside that chunk; a command
    reading a whole file wants one total instead. Other warnings pass through unchanged.
    """
    cut: list[int] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            yield cut
        finally:
            for record in caught:
                if isinstance(record.message, TruncationWarning):
                    cut.append(len(record.message.truncated))
                else:
                    warnings.warn_explicit(
                        record.message, record.category, record.filename, record.lineno
                    )
    if cut:
        logger.warning(
            "%d %s longer than the model's limit were truncated to it "
            "(--long-documents window or best-window reads every token)",
            sum(cut),
            what,
        )
