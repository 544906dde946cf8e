"""Step 4, run: a padded batch of token ids → (batch, vocab) max-pooled logits on ONNX Runtime.

The graph it runs is chosen by :mod:`spladekit.model.load`: normally a prepared or built graph
whose output ``pooled_logits`` is already max-pooled over tokens; a model that could not be
prepared runs as exported, and its (batch, tokens, vocab) logits are pooled here with
:func:`~spladekit.pipeline.pool.masked_max` — the same numbers either way.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import onnxruntime as ort
from onnxruntime.capi import onnxruntime_pybind11_state as ort_state

from spladekit.errors import InferenceError, InputError, ModelFormatError
from spladekit.options import Providers
from spladekit.pipeline.huge_pages import on_huge_pages
from spladekit.pipeline.pool import masked_max

__all__ = [
    "DISABLED_FUSIONS",
    "ORT_ERRORS",
    "POOLED_OUTPUT",
    "MaskedLMSession",
    "available_cpus",
    "ort_session",
]

#: The output of a graph that pools inside the model: (batch, vocab) max over real tokens.
POOLED_OUTPUT = "pooled_logits"
#: What ONNX Runtime raises: its own exception types, which derive from Exception directly.
ORT_ERRORS: tuple[type[Exception], ...] = tuple(
    value
    for value in vars(ort_state).values()
    if isinstance(value, type) and issubclass(value, Exception)
)

_ID_INPUT = "input_ids"
_MASK_INPUT = "attention_mask"
_TYPE_INPUT = "token_type_ids"
_DTYPES = {"tensor(int64)": np.int64, "tensor(int32)": np.int32}
#: Session fusions left out, by measurement. ONNX Runtime 1.32's CPU SkipLayerNormalization is
#: slower than the Add + Add + LayerNormalization it replaces (AMD EPYC, AVX-512, 2 threads:
#: 50 against 20 µs at 20×768, 2.1 against 0.47 ms at 1024×768); without the fusion int8 runs
#: ~6 % faster per query and ~7 % per document batch (paired, alternating). The exact fp32
#: graph never gets the fusion (its bias adds stay apart), so its vectors are unchanged.
DISABLED_FUSIONS = ("SkipLayerNormFusion",)


def ort_session(
    path: str | Path,
    options: Any,
    providers: list[Any],
    *,
    huge_pages: bool | Literal["now"] = True,
) -> Any:
    """An ONNX Runtime session on *path* as spladekit runs graphs.

    Without DISABLED_FUSIONS, and its packed weights moved onto huge pages in the background
    (:mod:`~spladekit.pipeline.huge_pages`; ``"now"``: before returning, False: not at all —
    both only to measure that lever).
    """

    def make() -> Any:
        return ort.InferenceSession(
            str(path),
            sess_options=options,
            providers=providers,
            disabled_optimizers=list(DISABLED_FUSIONS),
        )

    if not huge_pages:
        return make()
    return on_huge_pages(make, background=huge_pages != "now")


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


def check_providers(providers: Providers) -> list[str | tuple[str, dict[str, Any]]]:
    """The providers to pass ONNX Runtime; an unknown name is an error, not a quiet CPU run."""
    names = [p if isinstance(p, str) else p[0] for p in providers or ()]
    unknown = [n for n in names if n not in ort.get_all_providers()]
    if unknown:  # ONNX Runtime would only warn and quietly run on the CPU
        msg = f"unknown ONNX Runtime provider(s) {unknown}; this build has {ort.get_available_providers()}"
        raise InputError(msg)
    return list(providers) if providers else ["CPUExecutionProvider"]


class MaskedLMSession:
    """One ONNX Runtime session: ``(input_ids, attention_mask[, token_type_ids])`` → logits.

    Created once; ``InferenceSession.run`` is thread-safe, so one instance serves every thread
    of the process. *source* is the model as exported, when *path* is a prepared copy of it:
    :meth:`logits` runs that (for references and tests; the encoder never needs it).
    """

    def __init__(
        self,
        path: str | Path,
        *,
        vocab_size: int,
        providers: Providers = None,
        threads: int | None = None,
        source: Path | None = None,
    ) -> None:
        self.path = Path(path)
        self.source = source or self.path
        self.threads = threads or available_cpus()
        self.providers = providers
        self.vocab_size = vocab_size
        self.session = self._session(check_providers(providers))
        self._input_dtypes = self._check_inputs()
        self._output = self._check_output(vocab_size)
        self.pooled = self._output == POOLED_OUTPUT
        self._plain: MaskedLMSession | None = None

    def _session(self, providers: list[str | tuple[str, dict[str, Any]]]) -> Any:
        options = ort.SessionOptions()
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Shapes change with every batch, so a memory pattern keyed by shape is never reused.
        options.enable_mem_pattern = False
        try:
            return ort_session(self.path, options, providers)
        except ORT_ERRORS as error:
            msg = f"ONNX Runtime cannot load {self.path}: {error}"
            raise ModelFormatError(msg) from error

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
        if not outputs:
            msg = f"{self.path} has no outputs: it is not a masked-LM export"
            raise ModelFormatError(msg)
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
        except ORT_ERRORS as error:
            ran = f" (prepared copy {self.path})" if self.path != self.source else ""
            msg = f"the model {self.source}{ran} failed on a batch of shape {shape}: {error}"
            raise InferenceError(msg) from error
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
        """Run one padded batch on the model as exported: (batch, tokens, vocab) float32.

        When this session runs a pooled graph, a second session on :attr:`source` is made on
        first use.
        """
        if self.pooled:
            if self.source == self.path:
                msg = (
                    f"{self.path} pools inside the graph and has no token logits to give "
                    "(it was built from weights, with no export behind it)"
                )
                raise ModelFormatError(msg)
            if self._plain is None:
                self._plain = MaskedLMSession(
                    self.source,
                    vocab_size=self.vocab_size,
                    providers=self.providers,
                    threads=self.threads,
                )
            return self._plain.logits(input_ids, attention_mask)
        logits = self._run(self._feed(input_ids, attention_mask), input_ids.shape)
        if logits.ndim != 3 or logits.shape[:2] != input_ids.shape:
            msg = f"{self.path}: expected logits of shape {(*input_ids.shape, 'vocab')}, got {logits.shape}"
            raise ModelFormatError(msg)
        return logits
