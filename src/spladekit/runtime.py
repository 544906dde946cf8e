"""Where token ids become logits: the ONNX Runtime session, its threads and its I/O checks."""

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

    The session is created once; ``InferenceSession.run`` is thread-safe, so one instance
    serves every thread of the process.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        vocab_size: int,
        providers: Sequence[str | tuple[str, dict[str, Any]]] | None = None,
        threads: int | None = None,
    ) -> None:
        if threads is not None and (not isinstance(threads, int) or threads < 1):
            msg = f"threads must be a positive integer or None, got {threads!r}"
            raise InputError(msg)
        names = [p if isinstance(p, str) else p[0] for p in providers or ()]
        unknown = [n for n in names if n not in ort.get_all_providers()]
        if unknown:  # ONNX Runtime would only warn and quietly run on the CPU
            msg = f"unknown ONNX Runtime provider(s) {unknown}; this build has {ort.get_available_providers()}"
            raise InputError(msg)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or available_cpus()
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        try:
            self.session = ort.InferenceSession(
                str(path),
                sess_options=options,
                providers=list(providers) if providers else ["CPUExecutionProvider"],
            )
        except Exception as error:  # onnxruntime raises its own untyped Fail/InvalidGraph
            msg = f"ONNX Runtime cannot load {path}: {error}"
            raise ModelFormatError(msg) from error
        self.path = Path(path)
        self.threads = options.intra_op_num_threads
        self._input_dtypes = self._check_inputs()
        self._output = self._check_output(vocab_size)
        self.vocab_size = vocab_size

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
        chosen = next((o for o in outputs if o.name == "logits"), outputs[0])
        shape = chosen.shape
        if chosen.type != "tensor(float)" or len(shape) != 3:
            msg = (
                f"{self.path}: output {chosen.name!r} must be float32 logits of shape "
                f"(batch, tokens, vocab), got {chosen.type} of shape {shape}"
            )
            raise ModelFormatError(msg)
        if isinstance(shape[2], int) and shape[2] != vocab_size:
            msg = (
                f"{self.path}: logits have {shape[2]} vocabulary entries but the tokenizer "
                f"has {vocab_size}; the model and tokenizer.json do not belong together"
            )
            raise ModelFormatError(msg)
        return str(chosen.name)

    def logits(
        self, input_ids: npt.NDArray[np.int64], attention_mask: npt.NDArray[np.int64]
    ) -> npt.NDArray[np.float32]:
        """Run one padded batch; returns (batch, tokens, vocab) float32 logits."""
        feed: dict[str, npt.NDArray[Any]] = {
            _ID_INPUT: input_ids.astype(self._input_dtypes[_ID_INPUT], copy=False),
            _MASK_INPUT: attention_mask.astype(self._input_dtypes[_MASK_INPUT], copy=False),
        }
        if _TYPE_INPUT in self._input_dtypes:
            feed[_TYPE_INPUT] = np.zeros_like(input_ids, dtype=self._input_dtypes[_TYPE_INPUT])
        try:
            (logits,) = self.session.run([self._output], feed)
        except Exception as error:  # ONNX Runtime's own exception types are not importable API
            msg = f"the ONNX model failed on a batch of shape {input_ids.shape}: {error}"
            raise SpladeError(msg) from error
        if logits.ndim != 3 or logits.shape[:2] != input_ids.shape:
            msg = f"{self.path}: expected logits of shape {(*input_ids.shape, 'vocab')}, got {logits.shape}"
            raise ModelFormatError(msg)
        if logits.shape[2] != self.vocab_size:
            msg = (
                f"{self.path}: logits have {logits.shape[2]} vocabulary entries but the "
                f"tokenizer has {self.vocab_size}"
            )
            raise ModelFormatError(msg)
        return np.asarray(logits, dtype=np.float32)
