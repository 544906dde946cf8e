"""Build BERT-shaped SPLADE ONNX models with random weights, laid out like Qdrant/Splade_PP_en_v1.

No real SPLADE weights are reachable here, so the benchmark builds its own: the exact shapes
of a BERT-base masked LM (12 layers, hidden 768, 12 heads, FFN 3072, vocabulary 30522, an
untied 768×30522 decoder, ~532 MB in fp32 like the Hub export) from standard ONNX ops only, so
any onnxruntime (fastembed's included) runs it. The graph follows the pattern a torch export
has (MatMul+Add projections, Reshape/Transpose heads, erf GELU, additive mask), so ONNX
Runtime's transformer optimizer recognises it as it would the real model.

The MLM bias is calibrated once on real passages so a ~100-token passage activates a few
hundred vocabulary entries, as a trained SPLADE model does; speed and memory depend on that.

    python benchmarks/build_model.py [--size base|tiny] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

BENCH = Path(__file__).resolve().parent
CACHE = BENCH / ".cache"
SHARED = BENCH.parent.parent / "shared" / "data"
BERT_TOKENIZER = SHARED / "bert-base-uncased" / "tokenizer.json"
FORMAT_VERSION = 3  # bump when the graph or calibration changes, so caches rebuild


@dataclass(frozen=True)
class Shape:
    layers: int
    hidden: int
    heads: int
    ffn: int
    vocab: int = 30522
    positions: int = 512


SIZES = {
    "base": Shape(layers=12, hidden=768, heads=12, ffn=3072),
    "tiny": Shape(layers=2, hidden=128, heads=2, ffn=512),
}
#: Active dimensions a ~100-token passage should get (real SPLADE++: ~100-400).
TARGET_ACTIVE = 220


class _Graph:
    """Collects nodes and initializers with unique names."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []
        self.count = 0

    def name(self, stem: str) -> str:
        self.count += 1
        return f"{stem}_{self.count}"

    def const(self, stem: str, value: np.ndarray) -> str:
        name = self.name(stem)
        self.inits.append(numpy_helper.from_array(value, name))
        return name

    def weight(self, stem: str, shape: tuple[int, ...], std: float = 0.02) -> str:
        return self.const(stem, self.rng.normal(0.0, std, shape).astype(np.float32))

    def op(self, op_type: str, inputs: list[str], stem: str | None = None, **attrs: object) -> str:
        out = self.name(stem or op_type.lower())
        self.nodes.append(helper.make_node(op_type, inputs, [out], name=out, **attrs))
        return out

    def linear(self, x: str, fan_in: int, fan_out: int, stem: str) -> str:
        w = self.weight(f"{stem}.weight", (fan_in, fan_out))
        b = self.const(f"{stem}.bias", self.rng.normal(0, 0.02, fan_out).astype(np.float32))
        return self.op("Add", [self.op("MatMul", [x, w]), b])

    def layer_norm(self, x: str, width: int, stem: str) -> str:
        gamma = self.const(f"{stem}.gamma", np.ones(width, dtype=np.float32))
        beta = self.const(f"{stem}.beta", np.zeros(width, dtype=np.float32))
        return self.op("LayerNormalization", [x, gamma, beta], axis=-1, epsilon=1e-12)

    def gelu(self, x: str) -> str:
        scaled = self.op("Div", [x, self.const("sqrt2", np.array(math.sqrt(2.0), np.float32))])
        erf = self.op("Erf", [scaled])
        one = self.op("Add", [erf, self.const("one", np.array(1.0, np.float32))])
        return self.op(
            "Mul", [self.op("Mul", [x, one]), self.const("half", np.array(0.5, np.float32))]
        )


def build_graph(shape: Shape, *, seed: int, mlm_bias: float) -> onnx.ModelProto:
    """The masked LM: embeddings, ``layers`` encoder blocks, MLM head → logits (b, s, vocab)."""
    g = _Graph(np.random.default_rng(seed))
    h, heads, head = shape.hidden, shape.heads, shape.hidden // shape.heads
    word = g.op("Gather", [g.weight("word_embeddings", (shape.vocab, h)), "input_ids"])
    seq = g.op("Gather", [g.op("Shape", ["input_ids"]), g.const("i1", np.array(1, np.int64))])
    positions = g.op(
        "Range", [g.const("i0", np.array(0, np.int64)), seq, g.const("i1", np.array(1, np.int64))]
    )
    pos = g.op("Gather", [g.weight("position_embeddings", (shape.positions, h)), positions])
    typ = g.op("Gather", [g.weight("token_type_embeddings", (2, h)), "token_type_ids"])
    x = g.layer_norm(g.op("Add", [g.op("Add", [word, pos]), typ]), h, "embeddings.LayerNorm")

    # Additive mask (b, 1, 1, s): 0 for tokens, a large negative number for padding.
    mask = g.op("Unsqueeze", ["attention_mask", g.const("axes", np.array([1, 2], np.int64))])
    mask = g.op("Cast", [mask], to=TensorProto.FLOAT)
    mask = g.op("Sub", [g.const("one", np.array(1.0, np.float32)), mask])
    mask = g.op("Mul", [mask, g.const("neg", np.array(-3.4028234663852886e38, np.float32))])

    split = g.const("heads_shape", np.array([0, 0, heads, head], np.int64))
    merge = g.const("merge_shape", np.array([0, 0, h], np.int64))
    scale = g.const("scale", np.array(math.sqrt(head), np.float32))
    for layer in range(shape.layers):
        stem = f"encoder.layer.{layer}"
        q = g.op("Reshape", [g.linear(x, h, h, f"{stem}.attention.self.query"), split])
        k = g.op("Reshape", [g.linear(x, h, h, f"{stem}.attention.self.key"), split])
        v = g.op("Reshape", [g.linear(x, h, h, f"{stem}.attention.self.value"), split])
        q = g.op("Transpose", [q], perm=[0, 2, 1, 3])
        k = g.op("Transpose", [k], perm=[0, 2, 3, 1])
        v = g.op("Transpose", [v], perm=[0, 2, 1, 3])
        scores = g.op("Add", [g.op("Div", [g.op("MatMul", [q, k]), scale]), mask])
        probs = g.op("Softmax", [scores], axis=-1)
        ctx = g.op("Transpose", [g.op("MatMul", [probs, v])], perm=[0, 2, 1, 3])
        ctx = g.op("Reshape", [ctx, merge])
        attn = g.linear(ctx, h, h, f"{stem}.attention.output.dense")
        x = g.layer_norm(g.op("Add", [attn, x]), h, f"{stem}.attention.output.LayerNorm")
        up = g.gelu(g.linear(x, h, shape.ffn, f"{stem}.intermediate.dense"))
        down = g.linear(up, shape.ffn, h, f"{stem}.output.dense")
        x = g.layer_norm(g.op("Add", [down, x]), h, f"{stem}.output.LayerNorm")

    t = g.gelu(g.linear(x, h, h, "cls.predictions.transform.dense"))
    t = g.layer_norm(t, h, "cls.predictions.transform.LayerNorm")
    decoder = g.weight("cls.predictions.decoder.weight", (h, shape.vocab), std=1.0 / math.sqrt(h))
    # A little spread per entry, as trained biases have: some terms activate more readily.
    bias = (mlm_bias + g.rng.normal(0.0, 0.25, shape.vocab)).astype(np.float32)
    logits = g.op("MatMul", [t, decoder])
    g.nodes.append(
        helper.make_node("Add", [logits, g.const("cls.predictions.bias", bias)], ["logits"])
    )
    ints = [
        helper.make_tensor_value_info(n, TensorProto.INT64, ["batch", "sequence"])
        for n in ("input_ids", "attention_mask", "token_type_ids")
    ]
    out = helper.make_tensor_value_info(
        "logits", TensorProto.FLOAT, ["batch", "sequence", shape.vocab]
    )
    graph = helper.make_graph(g.nodes, "splade_bert", ints, [out], g.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model


def _calibrate(model: onnx.ModelProto, tokenizer_path: Path, shape: Shape) -> float:
    """The bias shift that gives ~TARGET_ACTIVE active entries to ~100-token passages."""
    import onnxruntime as ort
    from tokenizers import Tokenizer

    from corpus import load_corpus  # type: ignore[import-not-found]

    tokenizer = Tokenizer.from_file(str(tokenizer_path))
    texts = [t for t in load_corpus(limit=400) if 80 <= len(tokenizer.encode(t).ids) <= 160][:6]
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    shifts = []
    for text in texts:
        ids = np.array([tokenizer.encode(text).ids], dtype=np.int64)
        (logits,) = session.run(
            ["logits"],
            {
                "input_ids": ids,
                "attention_mask": np.ones_like(ids),
                "token_type_ids": np.zeros_like(ids),
            },
        )
        pooled = np.sort(logits[0].max(axis=0))[::-1]
        shifts.append(-float(pooled[TARGET_ACTIVE]))
    return float(np.median(shifts))


def _tokenizer_files(folder: Path) -> Path:
    """Copy the real bert-base-uncased tokenizer when present, else build a stand-in."""
    target = folder / "tokenizer.json"
    if BERT_TOKENIZER.exists():
        shutil.copyfile(BERT_TOKENIZER, target)
        vocab_txt = BERT_TOKENIZER.with_name("vocab.txt")
        if vocab_txt.exists():
            shutil.copyfile(vocab_txt, folder / "vocab.txt")
    else:
        from corpus import fallback_tokenizer  # type: ignore[import-not-found]

        fallback_tokenizer(30522).save(str(target))
    special = {
        "unk_token": "[UNK]",
        "sep_token": "[SEP]",
        "pad_token": "[PAD]",
        "cls_token": "[CLS]",
        "mask_token": "[MASK]",
    }
    (folder / "special_tokens_map.json").write_text(json.dumps(special, indent=2))
    config = {
        **special,
        "do_lower_case": True,
        "model_max_length": 512,
        "tokenizer_class": "BertTokenizer",
    }
    (folder / "tokenizer_config.json").write_text(json.dumps(config, indent=2))
    return target


def build_folder(size: str = "base", out: Path | None = None, *, seed: int = 0) -> Path:
    """Write (or reuse) a model folder like Qdrant/Splade_PP_en_v1 and return its path."""
    shape = SIZES[size]
    folder = out or CACHE / f"splade-{size}"
    stamp = folder / ".built"
    key = f"{FORMAT_VERSION}:{size}:{seed}:{BERT_TOKENIZER.exists()}"
    if stamp.exists() and stamp.read_text() == key and (folder / "model.onnx").exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.iterdir():
        if old.is_file():
            old.unlink()
        else:
            shutil.rmtree(old)
    tokenizer = _tokenizer_files(folder)
    print(f"building {size} model ({shape}) in {folder} ...", file=sys.stderr)
    shift = _calibrate(build_graph(shape, seed=seed, mlm_bias=0.0), tokenizer, shape)
    model = build_graph(shape, seed=seed, mlm_bias=shift)
    onnx.checker.check_model(model)
    onnx.save(model, str(folder / "model.onnx"))
    config = {
        "architectures": ["BertForMaskedLM"],
        "model_type": "bert",
        "hidden_size": shape.hidden,
        "num_attention_heads": shape.heads,
        "num_hidden_layers": shape.layers,
        "intermediate_size": shape.ffn,
        "max_position_embeddings": shape.positions,
        "vocab_size": shape.vocab,
        "pad_token_id": 0,
        "type_vocab_size": 2,
        "note": "random weights built by spladekit's benchmarks/build_model.py",
    }
    (folder / "config.json").write_text(json.dumps(config, indent=2))
    stamp.write_text(key)
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="base")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    print(build_folder(args.size, args.out))


if __name__ == "__main__":
    sys.path.insert(0, str(BENCH))
    main()
