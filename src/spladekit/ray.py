"""SPLADE over a Ray Data ``Dataset``: one encoder per actor, vectors as Arrow columns.

Encoding is the expensive half of SPLADE, and Ray Data already schedules actor pools over a
cluster, streams Parquet in and out, and retries failed nodes, so this module adds only what
Ray cannot know: how to load the encoder once per actor, which column holds the text, and how a
vector becomes the ``indices`` / ``values`` columns of :mod:`spladekit.arrow` (the layout the
``spladekit encode`` command writes too).

Batches are Arrow tables (``batch_format="pyarrow"``): the text column is read once
into the list the tokenizer takes anyway, the vectors go out as two list columns built from one
offsets array, and every other column passes through untouched (zero-copy). Pandas or NumPy
batches would turn each row's vector into a Python object on the way out.

Ray is imported only when a function here runs (``pip install "spladekit[ray]"``).

Example:
    >>> import ray  # doctest: +SKIP
    >>> from spladekit.ray import encode_dataset  # doctest: +SKIP
    >>> ds = ray.data.read_parquet("corpus/")  # doctest: +SKIP
    >>> encode_dataset(ds, "prithivida/Splade_PP_en_v1", id_column="id").write_parquet("out/")  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from spladekit.arrow import INDICES, VALUES, with_vectors
from spladekit.encoder import SpladeEncoder
from spladekit.errors import InputError, InputTypeError, require
from spladekit.options import check_positive, resolve_options

if TYPE_CHECKING:
    import pyarrow as pa
    from ray.data import Dataset
    from typing_extensions import Unpack

    from spladekit.options import EncoderOptions

__all__ = ["SpladeBatchEncoder", "encode_dataset"]

logger = logging.getLogger(__name__)

#: Rows per ``map_batches`` call of :func:`encode_dataset`: enough texts for the encoder to
#: sort by length and fill its token budget, few enough that a pool of actors shares a block.
DEFAULT_BATCH_SIZE = 256


def _ray() -> Any:
    """Ray, or MissingDependencyError naming the extra that brings it."""
    require("ray", "ray")
    require("ray.data", "ray")
    import ray

    return ray


def _actor_resources() -> Mapping[str, float]:
    """The resources Ray reserved for the current actor ({} outside a Ray worker)."""
    import sys

    if "ray" not in sys.modules:  # never start Ray just to ask: a plain process has none
        return {}
    import ray

    if not ray.is_initialized():
        return {}
    context: Any = ray.get_runtime_context()  # get_assigned_resources is untyped
    try:
        resources: Mapping[str, float] = context.get_assigned_resources()
    except Exception:  # noqa: BLE001 - a driver or an odd Ray build: fall back to the default
        logger.debug("no assigned resources here", exc_info=True)
        return {}
    return resources


class SpladeBatchEncoder:
    """A Ray Data callable class: each actor loads one encoder and encodes its batches.

    Give it to ``Dataset.map_batches`` with an actor pool and ``batch_format="pyarrow"``;
    the constructor's arguments go in ``fn_constructor_kwargs``. *model* is a Hub repo id or
    a folder every node can read; *options* are any :class:`~spladekit.options.EncoderOptions`.
    ``threads`` defaults to the CPUs Ray reserved for the actor (``num_cpus``), not the
    machine's, so actors sharing a node do not oversubscribe it.

    Each batch gets ``indices`` (``list<int32>``) and ``values`` (``list<float32>``) columns
    (replaced if present); its other columns pass through. An empty text gives an empty
    vector. A null or non-str text raises :class:`~spladekit.errors.InputTypeError` naming the
    row by *id_column* (by its place in the batch when no id column is given).

    Example:
        >>> ds.map_batches(  # doctest: +SKIP
        ...     SpladeBatchEncoder,
        ...     compute=ray.data.ActorPoolStrategy(size=4),
        ...     num_cpus=2,  # threads per actor
        ...     batch_size=256,
        ...     batch_format="pyarrow",
        ...     fn_constructor_kwargs={"model": "prithivida/Splade_PP_en_v1", "id_column": "id"},
        ... )
    """

    def __init__(
        self,
        model: str | os.PathLike[str],
        *,
        text_column: str = "text",
        id_column: str | None = None,
        **options: Unpack[EncoderOptions],
    ) -> None:
        _column_name("text_column", text_column, allow_none=False)
        _column_name("id_column", id_column, allow_none=True)
        given: dict[str, Any] = dict(options)
        resources = _actor_resources()
        if given.get("threads") is None and resources.get("CPU"):
            given["threads"] = max(1, int(resources["CPU"]))
        if resources.get("GPU") and given.get("providers") is None:
            logger.warning(
                "this actor holds %s GPU(s) but runs on the CPU: pass "
                "providers=['CUDAExecutionProvider', 'CPUExecutionProvider'] (onnxruntime-gpu)",
                resources["GPU"],
            )
        self.text_column = text_column
        self.id_column = id_column
        self.encoder = SpladeEncoder(model, **given)
        logger.info("actor %d loaded %r", os.getpid(), self.encoder)

    def __call__(self, batch: pa.Table | Mapping[str, Any] | Any) -> pa.Table:
        """The batch with its vectors: ``indices`` and ``values`` columns after the others."""
        table = _as_table(batch)
        texts = self._texts(table)
        return with_vectors(table, self.encoder.encode_documents(texts))

    def _texts(self, table: pa.Table) -> list[str]:
        """The text column as a list of str, or an error naming the first bad row."""
        import pyarrow as pa

        for role, name in (("text_column", self.text_column), ("id_column", self.id_column)):
            if name is not None and name not in table.column_names:
                msg = (
                    f"{role} {name!r} is not a column of the dataset; its columns are "
                    f"{table.column_names} (pass {role}=...)"
                )
                raise InputError(msg)
        column = table.column(self.text_column)
        kind = column.type
        if pa.types.is_dictionary(kind):
            kind = kind.value_type
        textual = pa.types.is_string(kind) or pa.types.is_large_string(kind)
        textual = textual or getattr(pa.types, "is_string_view", lambda _: False)(kind)
        if not textual and not pa.types.is_null(kind) and table.num_rows:
            hint = " (decode bytes first)" if pa.types.is_binary(kind) else ""
            msg = (
                f"{self._row(table, 0)}: the text column {self.text_column!r} must hold str, "
                f"got Arrow type {column.type}{hint}"
            )
            raise InputTypeError(msg)
        if column.null_count:
            nulls = column.is_null().to_numpy(zero_copy_only=False).nonzero()[0]
            more = f" ({len(nulls) - 1} more in this batch)" if len(nulls) > 1 else ""
            msg = (
                f"{self._row(table, int(nulls[0]))} has no text: {self.text_column!r} is None "
                f"(null){more}; every row needs a str (an empty str gives an empty vector)"
            )
            raise InputTypeError(msg)
        texts: list[str] = column.to_pylist()
        return texts

    def _row(self, table: pa.Table, position: int) -> str:
        """How an error names a row: by its id, else by its place in the batch."""
        if self.id_column is None:
            return f"row {position} of a batch of {table.num_rows} (pass id_column= to name rows by id)"
        return f"row {self.id_column}={table.column(self.id_column)[position].as_py()!r}"


def _column_name(role: str, name: object, *, allow_none: bool) -> None:
    if (name is None and allow_none) or (isinstance(name, str) and name):
        if name in (INDICES, VALUES):
            msg = f"{role} cannot be {name!r}: that column receives the vectors"
            raise InputError(msg)
        return
    msg = f"{role} must be a column name (a non-empty str){' or None' if allow_none else ''}, got {name!r}"
    raise InputTypeError(msg)


def _as_table(batch: object) -> pa.Table:
    """A pyarrow.Table from what ``map_batches`` passes (pyarrow, or pandas / NumPy batches)."""
    import pyarrow as pa

    if isinstance(batch, pa.Table):
        return batch
    if isinstance(batch, Mapping):  # batch_format="numpy": {column: ndarray}
        return pa.table({name: pa.array(list(values)) for name, values in batch.items()})
    if type(batch).__module__.startswith("pandas"):  # batch_format="pandas"
        return pa.Table.from_pandas(batch, preserve_index=False)
    msg = f"SpladeBatchEncoder takes a pyarrow.Table batch (map_batches(..., batch_format='pyarrow')), got {type(batch).__name__}"
    raise InputTypeError(msg)


def encode_dataset(
    ds: Dataset,
    model: str | os.PathLike[str],
    *,
    text_column: str = "text",
    id_column: str | None = None,
    actors: int | None = None,
    threads_per_actor: int = 1,
    batch_size: int = DEFAULT_BATCH_SIZE,
    num_gpus: float | None = None,
    **options: Unpack[EncoderOptions],
) -> Dataset:
    """*ds* with ``indices`` / ``values`` columns: SPLADE vectors of *text_column*, lazily.

    One :class:`SpladeBatchEncoder` per actor, each holding ``threads_per_actor`` CPUs (its
    ONNX Runtime threads) and, with *num_gpus*, that share of a GPU (give
    ``providers=["CUDAExecutionProvider"]`` too). ``actors=None`` lets Ray Data grow the pool
    while CPUs are free; an int fixes it. *batch_size* is rows per call; the encoder still cuts
    each call into token-budgeted runs (``token_budget=``). Nothing runs until the dataset is
    consumed (``write_parquet``, ``materialize``, ``iter_batches``); a bad row then fails the
    job with an error naming it by *id_column*.
    """
    ray = _ray()
    _column_name("text_column", text_column, allow_none=False)
    _column_name("id_column", id_column, allow_none=True)
    check_positive("actors", actors, allow_none=True)
    check_positive("threads_per_actor", threads_per_actor, allow_none=False)
    check_positive("batch_size", batch_size, allow_none=False)
    if num_gpus is not None and (
        isinstance(num_gpus, bool) or not isinstance(num_gpus, (int, float)) or num_gpus <= 0
    ):
        msg = f"num_gpus must be a number > 0 or None, got {num_gpus!r}"
        raise InputError(msg)
    if "threads" in options:
        msg = "encode_dataset sets each actor's threads from threads_per_actor; pass threads_per_actor= instead of threads="
        raise InputTypeError(msg)
    if not isinstance(model, (str, os.PathLike)):
        msg = (
            f"encode_dataset takes a model name or folder (str or path), got {type(model).__name__}"
        )
        raise InputTypeError(msg)
    resolve_options(options, "encode_dataset")  # a typo fails here, not inside every actor
    pool = (
        ray.data.ActorPoolStrategy(min_size=1, max_size=None)
        if actors is None
        else ray.data.ActorPoolStrategy(size=actors)
    )
    result: Dataset = ds.map_batches(
        SpladeBatchEncoder,
        compute=pool,
        batch_size=batch_size,
        batch_format="pyarrow",
        num_cpus=threads_per_actor,
        num_gpus=num_gpus,
        fn_constructor_kwargs={
            "model": os.fspath(model),
            "text_column": text_column,
            "id_column": id_column,
            **options,
        },
        udf_modifying_row_count=False,  # one vector per row: limit() can run before the encoder
    )
    return result
