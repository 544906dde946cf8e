"""Where token ids become logits: the ONNX Runtime session, its threads and its I/O checks.

By default the session runs a prepared copy of the model (see ``prepare``) whose output is
already max-pooled over tokens, (batch, vocab); a model that cannot be prepared runs as
exported and is pooled in numpy (``pooling.masked_max``) — the same numbers either way.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import onnxruntime as ort

from spladekit.errors import InputError, ModelFormatError, SpladeError
from spladekit.pooling import masked_max
from spladekit.prepare import POOLED_OUTPUT, Quantize, prepare_model

__all__ = ["OnnxMaskedLM", "available_cpus"]

logger = logging.getLogger(__name__)

_ID_INPUT = "input_ids"
_MASK_INPUT = "attention_mask"
_TYPE_INPUT = "token_type_ids"
_DTYPES = {"tensor(int64)": np.int64, "tensor(int32)": np.int32}


def available_cpus() -> int:
    """CPUs this process may really use: its affinity mask, capped by a cgroup v2 quota."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()[:2]
        if quota != "max":
            cpus = min(cpus, max(1, int(int(quota) // int(period))))
    except (OSError, ValueError):
        pass
    return max(1, cpus)


class OnnxMaskedLM:
    """An ONNX masked-LM: ``(input_ids, attention_mask[, token_type_ids])`` → logits.

    ``optimize`` (default) runs the prepared copy, whose output is already pooled over tokens;
    ``quantize="int8"`` runs its int8 copy. The session is created once; ``InferenceSession.run`` is thread-safe, so one instance
    serves every thread of the process.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        vocab_size: int,
        providers: Sequence[str | tuple[str, dict[str, Any]]] | None = None,
        threads: int | None = None,
        optimize: bool = True,
        quantize: Quantize | None = None,
    ) -> None:
        if threads is not None and (
            isinstance(threads, bool) or not isinstance(threads, int) or threads < 1
        ):
            msg = f"threads must be a positive integer or None, got {threads!r}"
            raise InputError(msg)
        names = [p if isinstance(p, str) else p[0] for p in providers or ()]
        unknown = [n for n in names if n not in ort.get_all_providers()]
        if unknown:  # ONNX Runtime would only warn and quietly run on the CPU
            msg = f"unknown ONNX Runtime provider(s) {unknown}; this build has {ort.get_available_providers()}"
            raise InputError(msg)
        if quantize not in (None, "int8"):
            msg = f"quantize must be None or 'int8', got {quantize!r}"
            raise InputError(msg)
        self.source = Path(path)
        self.threads = threads or available_cpus()
        self.providers = providers
        self.prepared: Path | None = None  # the prepared copy the session runs, if any
        self.session = self._load(providers, optimize=optimize, quantize=quantize)
        self.path = self.source
        self._input_dtypes = self._check_inputs()
        self._output = self._check_output(vocab_size)
        self.pooled = self._output == POOLED_OUTPUT
        self._plain: OnnxMaskedLM | None = None
        self.vocab_size = vocab_size

    def _options(self) -> ort.SessionOptions:
        options = ort.SessionOptions()
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Shapes change with every batch, so a memory pattern keyed by shape is never reused.
        options.enable_mem_pattern = False
        return options

    def _session(
        self, model: Path, providers: Sequence[str | tuple[str, dict[str, Any]]] | None
    ) -> Any:
        try:
            return ort.InferenceSession(
                str(model),
                sess_options=self._options(),
                providers=list(providers) if providers else ["CPUExecutionProvider"],
            )
        except Exception as error:  # onnxruntime raises its own untyped Fail/InvalidGraph
            msg = f"ONNX Runtime cannot load {model}: {error}"
            raise ModelFormatError(msg) from error

    def _load(
        self,
        providers: Sequence[str | tuple[str, dict[str, Any]]] | None,
        *,
        optimize: bool,
        quantize: Quantize | None,
    ) -> Any:
        """A session on the prepared model, or on the model as exported when it cannot be prepared."""
        if not optimize and quantize is None:
            return self._session(self.source, providers)
        try:
            prepared = prepare_model(self.source, quantize=quantize)
            session = self._session(prepared, providers)
        except (ModelFormatError, OSError, ValueError) as error:
            if quantize is not None:
                raise
            logger.warning(
                "running %s as exported: it could not be prepared (%s)", self.source, error
            )
            return self._session(self.source, providers)
        self.prepared = prepared
        return session

    def _check_inputs(self) -> dict[str, type[np.integer[Any]]]:
        inputs = {i.name: i for i in self.session.get_inputs()}
        missing = [n for n in (_ID_INPUT, _MASK_INPUT) if n not in inputs]
        unknown = [n for n in inputs if n not in (_ID_INPUT, _MASK_INPUT, _TYPE_INPUT)]
        if missing or unknown:
            msg = (
                f"{self.path} is not a masked-LM with inputs input_ids, attention_mask"
                f"[, token_type_ids]: it takes {sorted(inputs)}"
            )
            raise ModelFormatError(msg)
        dtypes: dict[str, type[np.integer[Any]]] = {}
        for name, meta in inputs.items():
            if meta.type not in _DTYPES:
                msg = f"{self.path}: input {name} must be int64 or int32, got {meta.type}"
                raise ModelFormatError(msg)
            dtypes[name] = _DTYPES[meta.type]
        return dtypes

    def _check_output(self, vocab_size: int) -> str:
        outputs = self.session.get_outputs()
        names = [o.name for o in outputs]
        chosen = (
            outputs[names.index(POOLED_OUTPUT if POOLED_OUTPUT in names else "logits")]
            if (POOLED_OUTPUT in names or "logits" in names)
            else outputs[0]
        )
        shape = chosen.shape
        rank = 2 if chosen.name == POOLED_OUTPUT else 3
        if chosen.type != "tensor(float)" or len(shape) != rank:
            msg = (
                f"{self.path}: output {chosen.name!r} must be float32 logits of shape "
                f"(batch, tokens, vocab), got {chosen.type} of shape {shape}"
            )
            raise ModelFormatError(msg)
        if isinstance(shape[-1], int) and shape[-1] != vocab_size:
            msg = (
                f"{self.path}: logits have {shape[-1]} vocabulary entries but the tokenizer "
                f"has {vocab_size}; the model and tokenizer.json do not belong together"
            )
            raise ModelFormatError(msg)
        return str(chosen.name)

    def _feed(
        self, input_ids: npt.NDArray[np.int64], attention_mask: npt.NDArray[np.int64]
    ) -> dict[str, npt.NDArray[Any]]:
        feed: dict[str, npt.NDArray[Any]] = {
            _ID_INPUT: input_ids.astype(self._input_dtypes[_ID_INPUT], copy=False),
            _MASK_INPUT: attention_mask.astype(self._input_dtypes[_MASK_INPUT], copy=False),
        }
        if _TYPE_INPUT in self._input_dtypes:
            feed[_TYPE_INPUT] = np.zeros_like(input_ids, dtype=self._input_dtypes[_TYPE_INPUT])
        return feed

    def _run(
        self, feed: dict[str, npt.NDArray[Any]], shape: tuple[int, ...]
    ) -> npt.NDArray[np.float32]:
        try:
            (out,) = self.session.run([self._output], feed)
        except Exception as error:  # ONNX Runtime's own exception types are not importable API
            msg = f"the ONNX model failed on a batch of shape {shape}: {error}"
            raise SpladeError(msg) from error
        if out.shape[-1] != self.vocab_size:
            msg = (
                f"{self.path}: logits have {out.shape[-1]} vocabulary entries but the "
                f"tokenizer has {self.vocab_size}"
            )
            raise ModelFormatError(msg)
        return np.asarray(out, dtype=np.float32)

    def pooled_logits(
        self,
        input_ids: npt.NDArray[np.int64],
        attention_mask: npt.NDArray[np.int64],
        lengths: npt.NDArray[np.int64],
    ) -> npt.NDArray[np.float32]:
        """Max over each row's real tokens of the raw logits: (batch, vocab) float32.

        Right-padded rows only (``lengths[b]`` real tokens, then padding), as batching makes.
        """
        if not self.pooled:
            return masked_max(self.logits(input_ids, attention_mask), lengths)
        pooled = self._run(self._feed(input_ids, attention_mask), input_ids.shape)
        if pooled.shape != (input_ids.shape[0], self.vocab_size):
            msg = f"{self.path}: expected pooled logits of shape {(input_ids.shape[0], self.vocab_size)}, got {pooled.shape}"
            raise ModelFormatError(msg)
        return pooled

    def logits(
        self, input_ids: npt.NDArray[np.int64], attention_mask: npt.NDArray[np.int64]
    ) -> npt.NDArray[np.float32]:
        """Run one padded batch; returns (batch, tokens, vocab) float32 logits.

        The encoder never needs these (it calls :meth:`pooled_logits`); they come from the
        model as exported, on a second session made on first use — for references and tests.
        """
        if self.pooled:
            if self._plain is None:
                self._plain = OnnxMaskedLM(
                    self.source,
                    vocab_size=self.vocab_size,
                    providers=self.providers,
                    threads=self.threads,
                    optimize=False,
                )
            return self._plain.logits(input_ids, attention_mask)
        logits = self._run(self._feed(input_ids, attention_mask), input_ids.shape)
        if logits.ndim != 3 or logits.shape[:2] != input_ids.shape:
            msg = f"{self.path}: expected logits of shape {(*input_ids.shape, 'vocab')}, got {logits.shape}"
            raise ModelFormatError(msg)
        return logits
