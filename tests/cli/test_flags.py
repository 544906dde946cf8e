"""Encoder flags made from OPTIONS: the optimize level (a bool or 'fused') reads sensibly."""

from __future__ import annotations

import argparse

import pytest

from spladekit.cli.flags import add_encoder_flags, encoder_options


def parse(*args: str) -> dict[str, object]:
    parser = argparse.ArgumentParser()
    add_encoder_flags(parser)
    return encoder_options(parser.parse_args(list(args)))


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((), {}),
        (("--optimize",), {"optimize": True}),
        (("--optimize", "fused"), {"optimize": "fused"}),
        (("--optimize=fused", "--quantize", "int8"), {"optimize": "fused", "quantize": "int8"}),
        (("--optimize", "false"), {"optimize": False}),
        (("--optimize", "TRUE"), {"optimize": True}),
        (("--no-optimize",), {"optimize": False}),
    ],
)
def test_optimize_takes_no_value_a_level_or_no(
    args: tuple[str, ...], expected: dict[str, object]
) -> None:
    assert parse(*args) == expected


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--optimize", "fast"), "invalid choice 'fast' (choose true, false, fused)"),
        (("--no-optimize=fused",), "--no-optimize takes no value"),
    ],
)
def test_a_bad_optimize_flag_exits_naming_the_choices(
    args: tuple[str, ...], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as caught:
        parse(*args)
    assert caught.value.code == 2
    assert message in capsys.readouterr().err
