"""Every encoder option, once: its name, type, default, check and one-line doc.

:class:`EncoderOptions` is the single definition. ``SpladeEncoder(...)``,
``SpladeEncoder.from_pretrained(...)``, every LangChain and LlamaIndex adapter and the command
line take their options from it (``**options: Unpack[EncoderOptions]``), so adding an option is
one edit here. Each key's ``Annotated`` metadata is an :class:`Option` holding the rest.

Example:
    >>> resolve_options({"top_k": 64}, "SpladeEncoder")["top_k"]
    64
    >>> resolve_options({"top_kk": 64}, "SpladeEncoder")
    Traceback (most recent call last):
    ...
    spladekit.errors.InputTypeError: SpladeEncoder got an unknown option 'top_kk' (did you mean 'top_k'?); ...
"""

from __future__ import annotations

import difflib
import math
import os
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any, Literal, NamedTuple, TypedDict, get_args, get_type_hints

from spladekit.errors import InputError, InputTypeError

__all__ = [
    "OPTIONS",
    "EncoderOptions",
    "LongDocuments",
    "ModelFormat",
    "Optimize",
    "Option",
    "Providers",
    "Quantize",
    "check_positive",
    "model_argument",
    "resolve_options",
]

#: ONNX Runtime execution providers: names, or ``(name, provider options)`` pairs.
Providers = Sequence[str | tuple[str, dict[str, Any]]] | None
#: What to do with a document longer than the model's limit.
LongDocuments = Literal["truncate", "window", "best-window"]
#: Quantized copies the prepared model can be made as.
Quantize = Literal["int8"]
#: Which files a model loads from: an ONNX export, safetensors weights, or whichever is there.
ModelFormat = Literal["auto", "onnx", "safetensors"]
#: What runs: the graph as exported (False), the prepared one (True), or the prepared one on
#: ONNX Runtime's fused transformer kernels ("fused").
Optimize = bool | Literal["fused"]


def check_positive(name: str, value: object, *, allow_none: bool) -> None:
    """Refuse anything but a positive int (bools too), saying the rule and the value."""
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        msg = f"{name} must be a positive integer{' or None' if allow_none else ''}, got {value!r}"
        raise InputError(msg)


def _positive(name: str, value: object) -> None:
    check_positive(name, value, allow_none=False)


def _positive_or_none(name: str, value: object) -> None:
    check_positive(name, value, allow_none=True)


def _text_or_none(name: str, value: object) -> None:
    if value is not None and not isinstance(value, str):
        msg = f"{name} must be a str or None, got {type(value).__name__}"
        raise InputTypeError(msg)


def _path_or_none(name: str, value: object) -> None:
    if value is not None and not isinstance(value, (str, os.PathLike)):
        msg = f"{name} must be a str, a path or None, got {type(value).__name__}"
        raise InputTypeError(msg)


def _flag(name: str, value: object) -> None:
    if not isinstance(value, bool):
        msg = f"{name} must be True or False, got {value!r}"
        raise InputTypeError(msg)


def _flag_or_none(name: str, value: object) -> None:
    if value is not None:
        _flag(name, value)


def _finite_non_negative(name: str, value: object) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not (math.isfinite(value) and value >= 0)  # NaN or inf would prune every weight
    ):
        msg = f"{name} must be a finite number >= 0, got {value!r}"
        raise InputError(msg)


def _optimize_level(name: str, value: object) -> None:
    if isinstance(value, bool) or value == "fused":
        return
    msg = f"{name} must be True, False or 'fused', got {value!r}"
    raise (InputError if isinstance(value, str) else InputTypeError)(msg)  # 0 and 1 are no levels


def _one_of(*choices: object) -> Callable[[str, object], None]:
    def check(name: str, value: object) -> None:
        if value not in choices:
            shown = " or ".join(repr(c) for c in choices)
            msg = f"{name} must be {shown}, got {value!r}"
            raise InputError(msg)

    return check


def _providers(name: str, value: object) -> None:
    if value is None:
        return
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        msg = f"{name} must be a list of provider names (or (name, options) pairs), got {value!r}"
        raise InputTypeError(msg)
    for position, item in enumerate(value):
        ok = isinstance(item, str) or (
            isinstance(item, tuple)
            and len(item) == 2
            and isinstance(item[0], str)
            and isinstance(item[1], dict)
        )
        if not ok:
            msg = f"{name}[{position}] must be a provider name or a (name, options) pair, got {item!r}"
            raise InputTypeError(msg)


class Option(NamedTuple):
    """What one option is besides its name and type."""

    default: Any
    doc: str
    check: Callable[[str, Any], None]
    #: The command line exposes it as ``--name-with-dashes`` (a list of providers has no
    #: useful flag form).
    cli: bool = True
    #: The flag's name when it is not ``--name-with-dashes``.
    flag: str | None = None


class EncoderOptions(TypedDict, total=False):
    """The keyword options of ``SpladeEncoder``, ``from_pretrained`` and every adapter."""

    revision: Annotated[
        str | None,
        Option(None, "Hub revision (branch, tag or commit) of the model", _text_or_none),
    ]
    cache_dir: Annotated[
        str | os.PathLike[str] | None,
        Option(None, "huggingface_hub cache folder (default: its own)", _path_or_none),
    ]
    local_files_only: Annotated[
        bool | None,
        Option(
            None,
            "never touch the network (None follows HF_HUB_OFFLINE)",
            _flag_or_none,
            flag="--offline",
        ),
    ]
    providers: Annotated[
        Providers,
        Option(None, "ONNX Runtime execution providers (default: the CPU)", _providers, cli=False),
    ]
    threads: Annotated[
        int | None,
        Option(
            None, "intra-op threads (default: the CPUs this process may use)", _positive_or_none
        ),
    ]
    max_length: Annotated[
        int | None,
        Option(
            None,
            "tokens per model input, special tokens included (default: the model's limit)",
            _positive_or_none,
        ),
    ]
    model_file: Annotated[
        str | None,
        Option(None, "the ONNX file inside the folder, when not in a usual place", _text_or_none),
    ]
    format: Annotated[
        ModelFormat,
        Option(
            "auto",
            "'onnx' (an export), 'safetensors' (build the graph from the weights) or 'auto' "
            "(the export when there is one)",
            _one_of("auto", "onnx", "safetensors"),
        ),
    ]
    query_model: Annotated[
        str | os.PathLike[str] | None,
        Option(None, "a second model (repo id or folder) that encodes queries", _path_or_none),
    ]
    top_k: Annotated[
        int | None,
        Option(None, "keep only the k largest weights of each vector", _positive_or_none),
    ]
    threshold: Annotated[
        float,
        Option(0.0, "drop weights at or below this value", _finite_non_negative),
    ]
    token_budget: Annotated[
        int,
        # 1024 padded tokens per run: on BERT-base 512-1536 run alike (within 3 %; 2048 is
        # 8 % and 4096 14 % slower on an AVX-512 Xeon, 96 SciFact documents), and 1024 keeps
        # a base-size encoder under 0.7 GB peak RSS at any batch_size (benchmarks/run.py).
        # Re-measured on an AMD EPYC with AVX-512 VNNI (2026-12-04, exact graph, whole passes
        # over 96 documents alternating, median time per pass against 1024's:
        # benchmarks/token_budget.py and two runs of its prototype): 512 1.06x, 768
        # 0.99-1.01x, 1536 1.02-1.05x, 2048 1.07x; on a newer EPYC with AVX-VNNI (2026-12-05):
        # 512 0.99x, 768 1.01x, 1536 1.02x. Nothing beats 1024 by more than a run's noise.
        Option(1024, "padded tokens per model run (bounds memory)", _positive),
    ]
    long_documents: Annotated[
        LongDocuments,
        # 'truncate' scored best on SciFact with a real model (README, Quality): max-pooling
        # windows inflates long documents; scoring each by its best window roughly ties.
        Option(
            "truncate",
            "over-long documents: 'truncate' (the first max_length tokens), 'window' "
            "(overlapping windows max-pooled into one vector) or 'best-window' (each window "
            "its own vector, a document scored by its best: WindowIndex, evaluate)",
            _one_of("truncate", "window", "best-window"),
        ),
    ]
    stride: Annotated[
        int | None,
        Option(
            None,
            "text tokens between window starts (default: three quarters of a window)",
            _positive_or_none,
        ),
    ]
    optimize: Annotated[
        Optimize,
        Option(
            True,
            "run the prepared graph (pooling inside the model, same vectors); 'fused': on "
            "ONNX Runtime's fused transformer kernels too (vectors within 1e-4)",
            _optimize_level,
        ),
    ]
    quantize: Annotated[
        Quantize | None,
        Option(
            None,
            "'int8': a dynamically quantized copy of the fused graph (faster, close to fp32)",
            _one_of(None, "int8"),
        ),
    ]


def _read_options() -> dict[str, Option]:
    hints = get_type_hints(EncoderOptions, include_extras=True)
    return {name: get_args(hint)[1] for name, hint in hints.items()}


#: Every option's :class:`Option`, in definition order.
OPTIONS: Mapping[str, Option] = _read_options()


def resolve_options(given: Mapping[str, object], owner: str) -> EncoderOptions:
    """Every option, checked, with defaults filled in for those not given.

    An unknown name is an :class:`~spladekit.errors.InputTypeError` (a ``TypeError``, as
    Python raises for an unknown keyword) naming *owner* and the closest valid option.
    """
    for name in given:
        if name not in OPTIONS:
            close = difflib.get_close_matches(name, list(OPTIONS), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            msg = f"{owner} got an unknown option {name!r}{hint}; its options are: {', '.join(OPTIONS)}"
            raise InputTypeError(msg)
    resolved: dict[str, Any] = {}
    for name, option in OPTIONS.items():
        value = given.get(name, option.default)
        option.check(name, value)
        resolved[name] = value
    return resolved  # type: ignore[return-value]  # every key of EncoderOptions is set


#: Earlier spellings of the model argument, accepted with a DeprecationWarning until 0.3.
LEGACY_MODEL_KEYWORDS = ("name_or_path", "model_name_or_path", "model_name")


def model_argument(
    model: object, options: dict[str, Any], owner: str, *, default: object, stacklevel: int = 2
) -> Any:
    """The model argument, taking (and removing from *options*) a deprecated spelling of it.

    The model is the first positional argument everywhere; ``name_or_path=``,
    ``model_name_or_path=`` and ``model_name=`` still work for one release, with a warning
    attributed *stacklevel* frames above the caller of this function.
    """
    for old in LEGACY_MODEL_KEYWORDS:
        if old not in options:
            continue
        value = options.pop(old)
        if model is not default and model is not None:
            msg = f"{owner} got the model twice: as the first argument and as {old}="
            raise InputTypeError(msg)
        warnings.warn(
            f"{owner}({old}=...) is deprecated and goes away in spladekit 0.3; pass the model "
            f"as the first argument: {owner}({value!r}, ...)",
            DeprecationWarning,
            stacklevel=stacklevel + 1,
        )
        model = value
    return model
