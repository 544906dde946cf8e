"""SpladeEncoder: text in, one SparseVector out per text, in order.

The path a text takes, one module per step::

    tokenization  text → token ids → segments (one per text, or windows of a long text)
    batching      segments sorted by length → padded batches within a token budget
    runtime       batch → (batch, tokens, vocab) logits on ONNX Runtime
    pooling       masked max over tokens → activation → pruning → SparseVector
"""

from __future__ import annotations

import itertools
import logging
import os
import warnings
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from spladekit.batching import plan_batches
from spladekit.errors import InputError, InputTypeError, ModelNotFoundError
from spladekit.hub import ModelFiles, locate_model
from spladekit.inference_free import QueryWeightTable
from spladekit.inputs import check_positive, check_text, check_texts
from spladekit.models import KNOWN_MODELS, Activation, LongDocuments
from spladekit.pooling import activate, sparsify
from spladekit.prepare import Quantize
from spladekit.runtime import OnnxMaskedLM
from spladekit.tokenization import TextTokenizer, TokenIds
from spladekit.vector import SparseVector

__all__ = ["DEFAULT_TOKEN_BUDGET", "SpladeEncoder"]

logger = logging.getLogger(__name__)

#: Padded tokens per ONNX run. Bounds the activations (and, for an unprepared model, the
#: ~125 MB of (batch, tokens, 30522) float32 logits) while keeping matrix multiplies large
#: enough to run at full speed: measured on BERT-base, 512-2048 run alike; 1024 keeps a
#: base-size encoder under 0.7 GB peak RSS at any batch_size (benchmarks/run.py).
DEFAULT_TOKEN_BUDGET = 1024
#: Texts tokenized and length-sorted together; bounds memory when streaming.
SORT_CHUNK = 1024
_DEFAULT_MAX_LENGTH = 512

Providers = Sequence[str | tuple[str, dict[str, Any]]] | None


@dataclass(frozen=True)
class ModelPath:
    """One transformer that turns token ids into SPLADE weights."""

    model: OnnxMaskedLM
    tokenizer: TextTokenizer
    activation: Activation = "log1p_relu"
    drop_special_tokens: bool = False

    @classmethod
    def load(
        cls,
        files: ModelFiles,
        *,
        max_length: int | None,
        providers: Providers,
        threads: int | None,
        optimize: bool = True,
        quantize: Quantize | None = None,
    ) -> ModelPath:
        """Load the tokenizer and ONNX session of a located model."""
        known = files.known
        stated = files.max_length()
        if max_length is not None and stated is not None and max_length > stated:
            msg = f"max_length must be at most {stated} (the model's limit in its config), got {max_length}"
            raise InputError(msg)
        limit = max_length or stated or (known.max_length if known else None)
        tokenizer = TextTokenizer.from_file(files.tokenizer, limit or _DEFAULT_MAX_LENGTH)
        model = OnnxMaskedLM(
            files.model,
            vocab_size=tokenizer.vocab_size,
            providers=providers,
            threads=threads,
            optimize=optimize,
            quantize=quantize,
        )
        return cls(
            model=model,
            tokenizer=tokenizer,
            activation=known.activation if known else "log1p_relu",
            drop_special_tokens=known.drop_special_tokens if known else False,
        )


class SpladeEncoder:
    """Encode texts into SPLADE sparse vectors with ONNX Runtime on the CPU.

    Documents and queries may take different paths: by default both run the same model;
    an inference-free model looks query tokens up in a weight table; a two-encoder model runs
    a second, smaller ONNX model for queries.

    Example:
        >>> encoder = SpladeEncoder.from_pretrained("prithivida/Splade_PP_en_v1")  # doctest: +SKIP
        >>> [vector] = encoder.encode_documents(["The moon orbits the earth."])  # doctest: +SKIP
        >>> encoder.explain(vector, top_k=3)  # doctest: +SKIP
        [('moon', 2.31), ('orbit', 1.92), ('earth', 1.75)]
    """

    def __init__(
        self,
        documents: ModelPath,
        *,
        query_model: ModelPath | None = None,
        query_weights: QueryWeightTable | None = None,
        top_k: int | None = None,
        threshold: float = 0.0,
        token_budget: int = DEFAULT_TOKEN_BUDGET,
        long_documents: LongDocuments = "window",
        stride: int | None = None,
        name: str | None = None,
    ) -> None:
        check_positive("top_k", top_k, allow_none=True)
        check_positive("token_budget", token_budget, allow_none=False)
        if (
            isinstance(threshold, bool)
            or not isinstance(threshold, (int, float))
            or not 0 <= threshold < float("inf")  # NaN or inf would prune every weight
        ):
            msg = f"threshold must be a finite number >= 0, got {threshold!r}"
            raise InputError(msg)
        if long_documents not in ("window", "truncate"):
            msg = f"long_documents must be 'window' or 'truncate', got {long_documents!r}"
            raise InputError(msg)
        if query_model is not None and query_weights is not None:
            msg = "give either query_model or query_weights, not both"
            raise InputError(msg)
        window = documents.tokenizer.content_length
        stride = stride if stride is not None else max(1, (window * 3) // 4)
        check_positive("stride", stride, allow_none=False)
        if stride > window:
            msg = f"stride must be at most {window} (a window's text tokens) so no text is skipped, got {stride}"
            raise InputError(msg)
        self._documents = documents
        self._query_model = query_model
        self._query_weights = query_weights
        self.top_k = top_k
        self.threshold = float(threshold)
        self.token_budget = token_budget
        self.long_documents: LongDocuments = long_documents
        self.stride = stride
        self.name = name or documents.model.path.parent.name

    @classmethod
    def from_pretrained(
        cls,
        name_or_path: str | os.PathLike[str] = KNOWN_MODELS[0].model,
        *,
        revision: str | None = None,
        cache_dir: str | os.PathLike[str] | None = None,
        local_files_only: bool | None = None,
        providers: Providers = None,
        threads: int | None = None,
        max_length: int | None = None,
        model_file: str | None = None,
        query_model: str | os.PathLike[str] | None = None,
        top_k: int | None = None,
        threshold: float = 0.0,
        token_budget: int = DEFAULT_TOKEN_BUDGET,
        long_documents: LongDocuments = "window",
        stride: int | None = None,
        optimize: bool = True,
        quantize: Quantize | None = None,
    ) -> SpladeEncoder:
        """Load a model from a Hub repo id, a known model name, or a local folder.

        The folder (or repo) needs an ONNX masked-LM (``model.onnx``, ``onnx/model.onnx``, …)
        and ``tokenizer.json``. An ``idf.json`` beside them makes queries inference-free;
        *query_model* (a repo id or folder) gives queries a model of their own.
        ``local_files_only=None`` follows ``HF_HUB_OFFLINE``.

        ``optimize=True`` runs a copy of the model prepared once and cached (pooling inside
        the graph, memory-mapped weights; same vectors). ``quantize="int8"`` prepares a
        dynamically quantized copy instead: ~2× faster, close to but not equal to fp32
        (needs ``pip install "spladekit[int8]"``).
        """
        check_positive("max_length", max_length, allow_none=True)

        def locate(source: str | os.PathLike[str], file: str | None = None) -> ModelFiles:
            return locate_model(
                source,
                revision=revision,
                cache_dir=cache_dir,
                local_files_only=local_files_only,
                model_file=file,
            )

        def load(files: ModelFiles) -> ModelPath:
            return ModelPath.load(
                files,
                max_length=max_length,
                providers=providers,
                threads=threads,
                optimize=optimize,
                quantize=quantize,
            )

        files = locate(name_or_path, model_file)
        documents = load(files)
        query_source = query_model or (files.known.query_model if files.known else None)
        queries = load(locate(query_source)) if query_source is not None else None
        weights = None
        if queries is None and files.known is not None and files.known.query == "idf":
            if files.idf is None:
                msg = (
                    f"{files.known.model} encodes queries with idf.json, but {files.root} has none"
                )
                raise ModelNotFoundError(msg)
        if queries is None and files.idf is not None:
            skip = documents.tokenizer.special_ids
            weights = QueryWeightTable.from_file(files.idf, documents.tokenizer, skip_ids=skip)
        name = files.known.model if files.known else os.fspath(name_or_path)
        return cls(
            documents,
            query_model=queries,
            query_weights=weights,
            top_k=top_k,
            threshold=threshold,
            token_budget=token_budget,
            long_documents=long_documents,
            stride=stride,
            name=name,
        )

    @staticmethod
    def list_models() -> list[dict[str, Any]]:
        """The models spladekit knows facts about (any other ONNX SPLADE export loads too)."""
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
        if self._query_weights is not None:
            return "idf"
        return "query_model" if self._query_model is not None else "model"

    def __repr__(self) -> str:
        return (
            f"SpladeEncoder(name={self.name!r}, max_length={self.max_length}, "
            f"queries={self.query_mode!r}, threads={self._documents.model.threads})"
        )

    # --- documents -------------------------------------------------------------------------

    def encode_documents(
        self, texts: Sequence[str], *, batch_size: int | None = None, show_progress: bool = False
    ) -> list[SparseVector]:
        """One vector per document, in input order.

        *batch_size* caps the texts per model run; memory is bounded by the token budget
        whatever it is. Documents longer than the model's limit are split into overlapping
        windows and max-pooled (``long_documents="window"``) or cut with a warning
        (``"truncate"``). An empty or blank text gives an empty vector.
        """
        checked = check_texts(texts)
        check_positive("batch_size", batch_size, allow_none=True)
        return list(self._stream(checked, batch_size=batch_size, show_progress=show_progress))

    def embed(
        self, texts: Iterable[str], batch_size: int | None = None, *, show_progress: bool = False
    ) -> Iterator[SparseVector]:
        """Lazily encode any iterable of documents, in order (fastembed's ``embed``).

        Reads :data:`SORT_CHUNK` texts at a time, so a huge generator streams with bounded
        memory.
        """
        if isinstance(texts, (str, bytes)) or not isinstance(texts, Iterable):
            check_texts(texts)  # raises the right error now, not at the first next()
        check_positive("batch_size", batch_size, allow_none=True)
        return self._stream(texts, batch_size=batch_size, show_progress=show_progress)

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
                vectors = self._run_model(
                    self._documents,
                    chunk,
                    windows=self.long_documents == "window",
                    batch_size=batch_size,
                    offset=offset,
                )
                bar.update(len(chunk))
                offset += len(chunk)
                yield from vectors

    # --- queries ---------------------------------------------------------------------------

    def encode_queries(self, texts: Sequence[str]) -> list[SparseVector]:
        """One vector per query, in input order, on the query path of this model."""
        checked = check_texts(texts, "queries")
        if self._query_weights is not None:
            table = self._query_weights
            return [table.encode(ids) for ids in self._documents.tokenizer.content_ids(checked)]
        path = self._query_model or self._documents
        vectors: list[SparseVector] = []
        for start in range(0, len(checked), SORT_CHUNK):
            chunk = checked[start : start + SORT_CHUNK]
            vectors += self._run_model(path, chunk, windows=False, batch_size=None, offset=start)
        return vectors

    def encode_query(self, text: str) -> SparseVector:
        """The vector of one query."""
        check_text(text, None, "query")
        return self.encode_queries([text])[0]

    # --- shared path -----------------------------------------------------------------------

    def _run_model(
        self,
        path: ModelPath,
        texts: list[str],
        *,
        windows: bool,
        batch_size: int | None,
        offset: int,
    ) -> list[SparseVector]:
        tokenizer = path.tokenizer
        contents = tokenizer.content_ids(texts)
        results: list[SparseVector] = [SparseVector.empty()] * len(texts)
        segments: list[TokenIds] = []
        owners: list[int] = []
        truncated: list[str] = []
        for position, content in enumerate(contents):
            if content.size == 0:
                continue
            pieces = tokenizer.segments(content, windows=windows, stride=self.stride)
            if not windows and content.size > tokenizer.content_length:
                dropped = content.size - tokenizer.content_length
                truncated.append(f"text {offset + position} lost {dropped}")
            segments += pieces
            owners += [position] * len(pieces)
        if truncated:
            warnings.warn(
                f"{len(truncated)} text(s) exceeded the model's {tokenizer.max_length}-token "
                f"limit and were truncated ({', '.join(truncated[:10])} tokens"
                f"{', ...' if len(truncated) > 10 else ''}); use long_documents='window' "
                "to keep every token",
                UserWarning,
                stacklevel=4,
            )
        left = np.bincount(np.asarray(owners, dtype=np.int64), minlength=len(texts))
        merged: dict[int, npt.NDArray[np.float32]] = {}
        special = np.asarray(tokenizer.special_ids, dtype=np.int64)
        for batch in plan_batches(segments, token_budget=self.token_budget, max_rows=batch_size):
            pooled = path.model.pooled_logits(batch.input_ids, batch.attention_mask, batch.lengths)
            weights = activate(pooled, path.activation)
            if path.drop_special_tokens:
                weights[:, special] = 0.0
            for row, segment in enumerate(batch.segment_ids.tolist()):
                owner = owners[segment]
                left[owner] -= 1
                if owner in merged:
                    np.maximum(merged[owner], weights[row], out=merged[owner])
                elif left[owner] > 0:
                    merged[owner] = weights[row].copy()
                if left[owner] == 0:
                    final = merged.pop(owner, weights[row])
                    results[owner] = sparsify(final, top_k=self.top_k, threshold=self.threshold)
        return results

    # --- explain ---------------------------------------------------------------------------

    def explain(
        self, vector_or_text: SparseVector | str, top_k: int | None = None
    ) -> list[tuple[str, float]]:
        """The tokens behind a vector and their weights, highest first.

        A str is encoded as a document first. Expansion terms (words the text does not
        contain) show up here too: that is SPLADE at work.
        """
        check_positive("top_k", top_k, allow_none=True)
        if isinstance(vector_or_text, str):
            vector = self.encode_documents([vector_or_text])[0]
        elif isinstance(vector_or_text, SparseVector):
            vector = vector_or_text
        else:
            msg = f"explain takes a SparseVector or a str, got {type(vector_or_text).__name__}"
            raise InputTypeError(msg)
        order = np.argsort(-vector.values, kind="stable")[:top_k]
        tokenizer = self._documents.tokenizer
        return [
            (tokenizer.id_to_token(int(vector.indices[i])), float(vector.values[i]))
            for i in order.tolist()
        ]
