"""Fuse: a prepared export → the same graph on ONNX Runtime's fused transformer kernels.

ONNX Runtime's own session optimizer fuses only GELU (``BiasGelu``) and the attention scale
(``FusedMatMul``) in a BERT export; the rest of a layer — the three Q/K/V projections, the
head reshapes and transposes, the masked softmax, the bias + residual + layer norm — runs as
dozens of small ops. Its transformer optimizer (``onnxruntime.transformers.optimizer``, the
Python fusions, no session) recognises those patterns as torch exports write them and puts in
``Attention`` and ``BiasGelu``. That is what runs here, once, on a prepared copy (graphs built
from safetensors emit the same ops directly: :mod:`spladekit.model.build.layers`). Its
``SkipLayerNormalization`` is left out, as in the session
(:data:`~spladekit.pipeline.run.DISABLED_FUSIONS`): slower on the CPU than the bias and
residual adds and the ``LayerNormalization`` it would replace (fused documents/s ~2 % higher
without it, paired on the BERT-base benchmark model), and ``Attention`` fuses from a
``LayerNormalization`` just as well.

Pattern matching is the optimizer's, so every fused graph is checked before it is kept: both
graphs run a probe batch, and unless the fused one's vector weights are within
:data:`TOLERANCE` of the exact one's, the exact graph is written instead (with a warning).
The prepared copy runs q, k and v as one MatMul (:mod:`spladekit.model.pack`), a pattern the
optimizer does not know, so they are split back into three first. The optimizer reads the
additive mask only as two ``Unsqueeze`` steps (``mask[:, None, None,
:]`` as torch writes it); an export that unsqueezes both axes at once (one ``Unsqueeze``, axes
``[1, 2]``) is first rewritten to two — the same tensor — so its attention fuses too.
``EmbedLayerNormalization`` is left out: ONNX Runtime 1.32 aborts the process running it on
these graphs, and the embedding sum it would fuse is ~0.1 % of a forward pass.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import helper, numpy_helper

from spladekit.model import graph
from spladekit.model.pack import unpack_projections
from spladekit.pipeline.run import POOLED_OUTPUT, ort_session

__all__ = ["FUSED_OPS", "TOLERANCE", "fuse_graph", "fused_ops", "split_unsqueezes"]

logger = logging.getLogger(__name__)

#: Fused kernels a fused graph may hold (``com.microsoft`` domain).
FUSED_OPS = ("Attention", "BiasGelu", "FastGelu")
#: Largest difference in a vector weight (``relu`` of a pooled logit) a fused graph may make.
TOLERANCE = 1e-4


def fused_ops(model: onnx.ModelProto) -> dict[str, int]:
    """How many of each fused kernel *model* holds."""
    counts = dict.fromkeys(FUSED_OPS, 0)
    for node in model.graph.node:
        if node.domain == graph.FUSED_DOMAIN and node.op_type in counts:
            counts[node.op_type] += 1
    return counts


def fuse_graph(exact: Path, folder: Path) -> None:
    """Write ``folder/model.onnx``: the pooled graph *exact* on fused kernels (checked)."""
    model = graph.load_graph(exact)
    try:
        fused = _optimize(model)
    except Exception as error:  # noqa: BLE001  (any failure of the optimizer leaves exact)
        logger.warning("%s: ONNX Runtime's transformer optimizer failed (%s)", exact, error)
        fused = None
    if fused is not None and not any(fused_ops(fused).values()):
        logger.info("%s: no transformer pattern to fuse; keeping the exact graph", exact)
        fused = None
    if fused is not None:
        folder.mkdir(parents=True, exist_ok=True)
        graph.write_model(fused, folder)
        difference = _difference(exact, folder / "model.onnx")
        if difference <= TOLERANCE:
            logger.info("fused %s: %s (max |Δ| %.1e)", exact, fused_ops(fused), difference)
            return
        logger.warning(
            "%s: the fused graph differs from the exact one by %.1e (> %.0e); keeping exact",
            exact,
            difference,
            TOLERANCE,
        )
        for written in folder.iterdir():
            written.unlink()
    graph.write_model(graph.load_graph(exact), folder)


def split_unsqueezes(model: onnx.ModelProto) -> int:
    """Rewrite each ``Unsqueeze`` of axes ``[1, 2]`` in *model* as two (axis 1, then 2).

    Returns how many were split. The result is the same tensor; only the pattern changes.
    """
    constants = {t.name: t for t in model.graph.initializer}
    nodes: list[onnx.NodeProto] = []
    split = 0
    for node in model.graph.node:
        axes = (
            constants.get(node.input[1])
            if node.op_type == "Unsqueeze" and len(node.input) == 2
            else None
        )
        if axes is None or numpy_helper.to_array(axes).tolist() != [1, 2]:
            nodes.append(node)
            continue
        split += 1
        stem = node.name or node.output[0]
        first, one, two = f"{stem}/axis1_out", f"{stem}/axis1", f"{stem}/axis2"
        for name, axis in ((one, 1), (two, 2)):
            model.graph.initializer.append(
                numpy_helper.from_array(np.array([axis], np.int64), name)
            )
        nodes.append(helper.make_node("Unsqueeze", [node.input[0], one], [first], name=first))
        nodes.append(helper.make_node("Unsqueeze", [first, two], list(node.output), name=stem))
    if split:
        del model.graph.node[:]
        model.graph.node.extend(nodes)
    return split


def _optimize(model: onnx.ModelProto) -> onnx.ModelProto:
    """The transformer optimizer's Python fusions on *model* (no session, no shape inference)."""
    from onnxruntime.transformers.fusion_options import FusionOptions
    from onnxruntime.transformers.optimizer import optimize_model

    unpack_projections(model)  # the optimizer matches q, k and v as three MatMuls
    split_unsqueezes(model)
    options = FusionOptions("bert")
    options.enable_shape_inference = False  # it needs sympy; the fusions used here do not
    options.enable_embed_layer_norm = False  # see the module docstring
    options.enable_gelu_approximation = False  # FastGelu for erf GELU would change vectors
    options.enable_skip_layer_norm = False  # see the module docstring
    options.enable_bias_skip_layer_norm = False
    with _quiet_optimizer():
        optimized = optimize_model(
            model,
            model_type="bert",
            num_heads=0,  # read from the graph's head reshapes
            hidden_size=0,
            optimization_options=options,
            opt_level=0,  # the Python fusions only; the session optimizer runs at load
        )
    result: onnx.ModelProto = optimized.model
    # The optimizer adds com.microsoft nodes but not always the domain's opset import; ONNX
    # Runtime loads such a graph, the quantizer's shape inference does not (int8 of fused).
    if not any(o.domain == graph.FUSED_DOMAIN for o in result.opset_import) and any(
        n.domain == graph.FUSED_DOMAIN for n in result.graph.node
    ):
        result.opset_import.append(helper.make_opsetid(graph.FUSED_DOMAIN, 1))
    return result


@contextlib.contextmanager
def _quiet_optimizer() -> Iterator[None]:
    """Keep the optimizer's progress notes out of the caller's log (debug level here).

    Its modules log to loggers named after themselves (it puts its folder on ``sys.path``),
    and warn that the shape inference turned off above is off.
    """
    import onnxruntime.transformers

    folder = Path(onnxruntime.transformers.__file__).parent
    names = ["onnxruntime.transformers", *(p.stem for p in folder.glob("*.py"))]
    loggers = [logging.getLogger(name) for name in names]
    levels = [log.level for log in loggers]
    for log in loggers:
        log.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for log, level in zip(loggers, levels, strict=True):
            log.setLevel(level)


def _difference(exact: Path, fused: Path) -> float:
    """Max |Δ| of ``relu(pooled_logits)`` between the two graphs on a padded probe batch.

    Both run in spladekit's kind of session (:func:`~spladekit.pipeline.run.ort_session`), so
    the check sees the graphs as they will run (but on 4 KiB pages: the same numbers, and
    sessions this short would not gain from the move).
    """
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    outputs = []
    for path in (exact, fused):
        session = ort_session(path, options, ["CPUExecutionProvider"], huge_pages=False)
        outputs.append(session.run([POOLED_OUTPUT], _probe(session))[0])
        del session
    return float(np.abs(np.maximum(outputs[0], 0) - np.maximum(outputs[1], 0)).max())


def _probe(session: Any) -> dict[str, np.ndarray]:
    """Two right-padded rows of random ids (9 and 5 tokens) within the vocabulary."""
    vocab = session.get_outputs()[0].shape[-1]
    vocab = vocab if isinstance(vocab, int) else 100
    ids = np.random.default_rng(0).integers(1, vocab, size=(2, 9), dtype=np.int64)
    mask = np.ones_like(ids)
    mask[1, 5:] = 0
    ids[1, 5:] = 0
    feed = {"input_ids": ids, "attention_mask": mask}
    if "token_type_ids" in {i.name for i in session.get_inputs()}:
        feed["token_type_ids"] = np.zeros_like(ids)
    return feed
