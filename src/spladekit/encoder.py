"""SpladeEncoder: text in, one SparseVector out per text, in order.

The facade over :mod:`spladekit.model` (getting a runnable model) and
:mod:`spladekit.pipeline` (the steps a text takes: text → tokenize → batch → run → pool).
"""

from __future__ import annotations

import itertools
import logging
import os
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from spladekit.errors import InputError, InputTypeError
from spladekit.explanation import Explanation
from spladekit.model.catalog import KNOWN_MODELS
from spladekit.model.load import DEFAULT_MODEL, LoadedModel, ModelSet, load_models
from spladekit.options import EncoderOptions, check_positive, model_argument, resolve_options
from spladekit.pipeline.batch import plan_batches
from spladekit.pipeline.pool import TextPool, activate
from spladekit.pipeline.text import check_stream, check_text, check_texts
from spladekit.pipeline.tokenize import Segments, warn_truncated
from spladekit.vector import SparseVector

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = ["SORT_CHUNK", "SpladeEncoder"]

logger = logging.getLogger(__name__)

#: Texts tokenized and length-sorted together; bounds memory when streaming.
SORT_CHUNK = 1024


class SpladeEncoder:
    """Encode texts into SPLADE sparse vectors with ONNX Runtime on the CPU.

    ``SpladeEncoder(model, **options)`` and ``SpladeEncoder.from_pretrained(model, **options)``
    are the same call: *model* is a Hub repo id, a known model name or a local folder, and the
    options are those of :class:`~spladekit.options.EncoderOptions`. Documents and queries may
    take different paths: by default both run the same model; an inference-free model looks
    query tokens up in a weight table; a two-encoder model runs a second model for queries.

    Example:
        >>> encoder = SpladeEncoder("prithivida/Splade_PP_en_v1")  # doctest: +SKIP
        >>> [vector] = encoder.encode_documents(["The moon orbits the earth."])  # doctest: +SKIP
        >>> encoder.explain(vector, top_k=3)  # doctest: +SKIP
        [('moon', 2.31), ('orbit', 1.92), ('earth', 1.75)]
    """

    def __init__(
        self, model: str | os.PathLike[str] = DEFAULT_MODEL, **options: Unpack[EncoderOptions]
    ) -> None:
        given: dict[str, Any] = dict(options)
        model = model_argument(model, given, type(self).__name__, default=DEFAULT_MODEL)
        if not isinstance(model, (str, os.PathLike)):
            msg = (
                f"SpladeEncoder takes a model name or folder (str or path), got "
                f"{type(model).__name__}; call SpladeEncoder.from_pretrained('name-or-folder', ...)"
            )
            raise InputTypeError(msg)
        settings = resolve_options(given, type(self).__name__)
        self._setup(load_models(model, settings), settings)

    @classmethod
    def from_pretrained(
        cls, model: str | os.PathLike[str] = DEFAULT_MODEL, **options: Unpack[EncoderOptions]
    ) -> SpladeEncoder:
        """Load a model from a Hub repo id, a known model name, or a local folder.

        The folder (or repo) needs ``tokenizer.json`` and a masked LM: an ONNX export
        (``model.onnx``, ``onnx/model.onnx``, …) or ``model.safetensors`` with its
        ``config.json`` (BERT, RoBERTa, XLM-RoBERTa, DistilBERT), whose graph is built once
        without torch; ``format=`` picks one when a repo has both. sentence-transformers
        folders (``modules.json``) load too. An ``idf.json`` beside them makes queries inference-free;
        ``query_model=`` (a repo id or folder) gives queries a model of their own.
        ``local_files_only=None`` follows ``HF_HUB_OFFLINE``. Every option is described in
        :class:`~spladekit.options.EncoderOptions`.

        ``optimize=True`` runs a copy of the model prepared once and cached (pooling inside
        the graph, memory-mapped weights; same vectors). ``quantize="int8"`` prepares a
        dynamically quantized copy instead: faster, close to but not equal to fp32.
        """
        given: dict[str, Any] = dict(options)
        model = model_argument(model, given, "SpladeEncoder.from_pretrained", default=DEFAULT_MODEL)
        return cls(model, **given)

    @classmethod
    def _from_models(cls, models: ModelSet, **options: Any) -> SpladeEncoder:
        """An encoder over models already loaded (tests and tools that build them by hand)."""
        encoder = cls.__new__(cls)
        encoder._setup(models, resolve_options(options, "SpladeEncoder"))
        return encoder

    def _setup(self, models: ModelSet, settings: EncoderOptions) -> None:
        window = models.documents.tokenizer.content_length
        stride = settings["stride"]
        stride = stride if stride is not None else max(1, (window * 3) // 4)
        if stride > window:
            msg = f"stride must be at most {window} (a window's text tokens) so no text is skipped, got {stride}"
            raise InputError(msg)
        if models.query_model is not None and models.query_weights is not None:
            msg = "give either a query model or query weights, not both"
            raise InputError(msg)
        self._models = models
        self._documents = models.documents
        self.top_k = settings["top_k"]
        self.threshold = float(settings["threshold"])
        self.token_budget = settings["token_budget"]
        self.long_documents = settings["long_documents"]
        self.quantize = settings["quantize"]
        self.stride = stride
        self.name = models.name

    @staticmethod
    def list_models() -> list[dict[str, Any]]:
        """The models spladekit knows facts about (any other SPLADE model loads too)."""
        return [known.describe() for known in KNOWN_MODELS]

    @property
    def vocab_size(self) -> int:
        """Size of the vocabulary the vectors index into."""
        return self._documents.tokenizer.vocab_size

    @property
    def max_length(self) -> int:
        """Tokens per model input, special tokens included."""
        return self._documents.tokenizer.max_length

    @property
    def query_mode(self) -> str:
        """How queries are encoded: ``model``, ``query_model`` or ``idf`` (inference-free)."""
        if self._models.query_weights is not None:
            return "idf"
        return "query_model" if self._models.query_model is not None else "model"

    def __repr__(self) -> str:
        return (
            f"SpladeEncoder(name={self.name!r}, max_length={self.max_length}, "
            f"queries={self.query_mode!r}, threads={self._documents.session.threads})"
        )

    # --- documents -------------------------------------------------------------------------

    def encode_documents(
        self, texts: Sequence[str], *, batch_size: int | None = None, show_progress: bool = False
    ) -> list[SparseVector]:
        """One vector per document, in input order.

        *batch_size* caps the texts per model run; memory is bounded by the token budget
        whatever it is. Documents longer than the model's limit are cut to it with a warning
        (``long_documents="truncate"``, the default) or split into overlapping windows and
        max-pooled (``"window"``). ``"best-window"`` has no one vector per document: it
        raises here, use :meth:`encode_document_windows`. An empty or blank text gives an
        empty vector.
        """
        checked = check_texts(texts)
        check_positive("batch_size", batch_size, allow_none=True)
        self._one_vector_per_document("encode_documents")
        return list(self._stream(checked, batch_size=batch_size, show_progress=show_progress))

    def embed(
        self, texts: Iterable[str], batch_size: int | None = None, *, show_progress: bool = False
    ) -> Iterator[SparseVector]:
        """Lazily encode any iterable of documents, in order (fastembed's ``embed``).

        Reads :data:`SORT_CHUNK` texts at a time, so a huge generator streams with bounded
        memory.
        """
        stream = check_stream(texts)  # a wrong container fails now, not at the first next()
        check_positive("batch_size", batch_size, allow_none=True)
        self._one_vector_per_document("embed")
        return self._stream(stream, batch_size=batch_size, show_progress=show_progress)

    def _one_vector_per_document(self, method: str) -> None:
        if self.long_documents == "best-window":
            msg = (
                f"{method} gives one vector per document, and long_documents='best-window' "
                "scores a document by its best window, which needs one entry per window: use "
                "encode_document_windows (with spladekit.index.WindowIndex), or "
                "long_documents='truncate' or 'window' for one vector per document"
            )
            raise InputError(msg)

    def _stream(
        self, texts: Iterable[str], *, batch_size: int | None, show_progress: bool
    ) -> Iterator[SparseVector]:
        from tqdm.auto import tqdm

        total = len(texts) if isinstance(texts, Sequence) else None
        iterator = iter(texts)
        offset = 0
        with tqdm(total=total, disable=not show_progress, unit="doc") as bar:
            while chunk := list(itertools.islice(iterator, SORT_CHUNK)):
                for position, text in enumerate(chunk):
                    check_text(text, offset + position, "texts")
                vectors = self._run(
                    self._documents,
                    chunk,
                    windows=self.long_documents == "window",
                    batch_size=batch_size,
                    offset=offset,
                    what="texts",
                )
                bar.update(len(chunk))
                offset += len(chunk)
                yield from vectors

    def encode_document_windows(
        self, texts: Sequence[str], *, batch_size: int | None = None, show_progress: bool = False
    ) -> list[list[SparseVector]]:
        """Each document's window vectors, in input order: ``[[window, ...], ...]``.

        A document within the model's limit has one window (the vector
        :meth:`encode_documents` gives it); a longer one has the overlapping windows
        ``long_documents="window"`` would max-pool, each pruned on its own; an empty text
        has none. This is what scoring a document by its best window needs
        (``long_documents="best-window"``: :class:`~spladekit.index.WindowIndex`,
        :func:`spladekit.evaluate`), whatever this encoder's own ``long_documents``.
        """
        from tqdm.auto import tqdm

        checked = check_texts(texts)
        check_positive("batch_size", batch_size, allow_none=True)
        grouped: list[list[SparseVector]] = []
        with tqdm(total=len(checked), disable=not show_progress, unit="doc") as bar:
            for start in range(0, len(checked), SORT_CHUNK):
                chunk = checked[start : start + SORT_CHUNK]
                grouped += self._run_windows(chunk, batch_size=batch_size, offset=start)
                bar.update(len(chunk))
        return grouped

    # --- queries ---------------------------------------------------------------------------

    def encode_queries(self, texts: Sequence[str]) -> list[SparseVector]:
        """One vector per query, in input order, on the query path of this model."""
        checked = check_texts(texts, "queries")
        table = self._models.query_weights
        if table is not None:
            ids = self._documents.tokenizer.content_ids(checked, what="queries")
            return [table.encode(row) for row in ids]
        model = self._models.query_model or self._documents
        vectors: list[SparseVector] = []
        for start in range(0, len(checked), SORT_CHUNK):
            chunk = checked[start : start + SORT_CHUNK]
            vectors += self._run(
                model, chunk, windows=False, batch_size=None, offset=start, what="queries"
            )
        return vectors

    def encode_query(self, text: str) -> SparseVector:
        """The vector of one query."""
        check_text(text, None, "query")
        return self.encode_queries([text])[0]

    # --- the pipeline ----------------------------------------------------------------------

    def _run(
        self,
        model: LoadedModel,
        texts: list[str],
        *,
        windows: bool,
        batch_size: int | None,
        offset: int,
        what: str,
    ) -> list[SparseVector]:
        """Tokenize → batch → run → pool: one vector per text of *texts*, in order.

        *offset* is where *texts* start in the caller's list, so errors name its positions.
        """
        segments = self._segment(model, texts, windows=windows, offset=offset, what=what)
        pool = TextPool(segments.owners, len(texts), top_k=self.top_k, threshold=self.threshold)
        self._fill(model, segments, pool, batch_size)
        return pool.vectors

    def _run_windows(
        self, texts: list[str], *, batch_size: int | None, offset: int
    ) -> list[list[SparseVector]]:
        """Like :meth:`_run` for documents, keeping each window's vector apart."""
        model = self._documents
        segments = self._segment(model, texts, windows=True, offset=offset, what="texts")
        count = len(segments.ids)
        pool = TextPool(range(count), count, top_k=self.top_k, threshold=self.threshold)
        self._fill(model, segments, pool, batch_size)
        grouped: list[list[SparseVector]] = [[] for _ in texts]
        for owner, vector in zip(segments.owners, pool.vectors, strict=True):
            grouped[owner].append(vector)
        return grouped

    def _segment(
        self, model: LoadedModel, texts: list[str], *, windows: bool, offset: int, what: str
    ) -> Segments:
        tokenizer = model.tokenizer
        segments = tokenizer.segment_texts(
            texts, windows=windows, stride=self.stride, offset=offset, what=what
        )
        warn_truncated(
            segments.truncated, offset=offset, max_length=tokenizer.max_length, stacklevel=5
        )
        return segments

    def _fill(
        self, model: LoadedModel, segments: Segments, pool: TextPool, batch_size: int | None
    ) -> None:
        """Run every segment through the model, in token-budgeted batches, into *pool*."""
        drop = np.asarray(
            model.tokenizer.special_ids if model.drop_special_tokens else [], np.int64
        )
        for batch in plan_batches(
            segments.ids, token_budget=self.token_budget, max_rows=batch_size
        ):
            pooled = model.session.pooled_logits(
                batch.input_ids, batch.attention_mask, batch.lengths
            )
            pool.add(batch.segment_ids, activate(pooled, model.activation, drop))

    # --- explain ---------------------------------------------------------------------------

    def explain(self, vector_or_text: SparseVector | str, top_k: int | None = None) -> Explanation:
        """The tokens behind a vector and their weights, highest first.

        A str is encoded as a document first (a long one under ``"window"`` or
        ``"best-window"`` shows every window's tokens, max-pooled). Expansion terms (words the
        text does not contain) show up here too: that is SPLADE at work. The
        :class:`~spladekit.explanation.Explanation` is a list of ``(token, weight)`` pairs
        that prints as a table and shows weight bars in a notebook.
        """
        check_positive("top_k", top_k, allow_none=True)
        if isinstance(vector_or_text, str):
            check_text(vector_or_text, None, "text")
            [vector] = self._run(
                self._documents,
                [vector_or_text],
                windows=self.long_documents != "truncate",
                batch_size=None,
                offset=0,
                what="texts",
            )
        elif isinstance(vector_or_text, SparseVector):
            vector = vector_or_text
        else:
            msg = f"explain takes a SparseVector or a str, got {type(vector_or_text).__name__}"
            raise InputTypeError(msg)
        if len(vector) and int(vector.indices[-1]) >= self.vocab_size:  # indices are sorted
            msg = (
                f"the vector holds token id {int(vector.indices[-1])}, outside this model's "
                f"vocabulary of {self.vocab_size}; was it made by another model?"
            )
            raise InputError(msg)
        order = np.argsort(-vector.values, kind="stable")[:top_k]
        tokenizer = self._documents.tokenizer
        return Explanation(
            (tokenizer.id_to_token(int(vector.indices[i])), float(vector.values[i]))
            for i in order.tolist()
        )
