"""Build tiny SPLADE-shaped models in code: a WordPiece tokenizer and an ONNX masked-LM.

Used by the tests (offline by construction) and by CI to run the examples. Run as a script to
write a model folder: ``python tests/tiny_model.py OUT_DIR``.
"""

from __future__ import annotations

import json
import re
import string
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from tokenizers import Tokenizer, decoders, normalizers, pre_tokenizers, processors
from tokenizers.models import WordPiece

from support.documents import DOCUMENTS

SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
BASE_WORDS = (
    "the a an is was of to in on and it its for by from with moon lunar india indian mission "
    "rover lander space orbit launch launched surface chandra ##ya ##an third study what "
    "weather now ny"
).split()


def tiny_vocab(extra_words: list[str] | None = None) -> list[str]:
    """Specials, single characters (word-initial and ##), then whole words."""
    chars = list(string.ascii_lowercase + string.digits + string.punctuation)
    words = list(BASE_WORDS)
    # The words of the seed documents' file as the tiny vocabulary was first built from it
    # (its docstring and type hint included): the same vocabulary keeps every pinned number.
    words += (
        "the twelve documents of fastembed s splade page shared by the examples list str".split()
    )
    words += re.findall(r"[a-z]+", " ".join(DOCUMENTS).lower())
    words += extra_words or []
    vocab = SPECIAL_TOKENS + chars + ["##" + c for c in string.ascii_lowercase + string.digits]
    for word in words:
        if word not in vocab:
            vocab.append(word)
    return vocab


def build_tokenizer(vocab: list[str]) -> Tokenizer:
    tokenizer = Tokenizer(WordPiece({t: i for i, t in enumerate(vocab)}, unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=True)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.decoder = decoders.WordPiece()
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", vocab.index("[CLS]")), ("[SEP]", vocab.index("[SEP]"))],
    )
    tokenizer.add_special_tokens(SPECIAL_TOKENS)
    return tokenizer


def erf_gelu_nodes(x: str, out: str) -> list[onnx.NodeProto]:
    """``out = 0.5 x (1 + erf(x / √2))`` as a torch export writes it, constants as nodes."""
    nodes = []
    for name, value in (("sqrt2", np.sqrt(2.0)), ("one", 1.0), ("half", 0.5)):
        scalar = numpy_helper.from_array(np.array(value, dtype=np.float32))
        nodes.append(helper.make_node("Constant", [], [f"{out}/{name}"], value=scalar))
    return [
        *nodes,
        helper.make_node("Div", [x, f"{out}/sqrt2"], [f"{out}/div"]),
        helper.make_node("Erf", [f"{out}/div"], [f"{out}/erf"]),
        helper.make_node("Add", [f"{out}/erf", f"{out}/one"], [f"{out}/one_plus"]),
        helper.make_node("Mul", [x, f"{out}/one_plus"], [f"{out}/mul"]),
        helper.make_node("Mul", [f"{out}/mul", f"{out}/half"], [out]),
    ]


def build_onnx_model(
    vocab_size: int,
    *,
    hidden: int = 16,
    max_positions: int = 512,
    seed: int = 0,
    bias: float = -2.5,
    output_vocab: int | None = None,
    output_rank: int = 3,
    with_token_types: bool = True,
    input_type: int = TensorProto.INT64,
    embedding_rows: int | None = None,
    ffn: int | None = None,
) -> onnx.ModelProto:
    """A masked-LM whose every token sees the whole (masked) text, like attention does.

    h = tok_emb[ids] + pos_emb[pos] + type_emb[types]; ctx = masked mean of h over tokens;
    logits = tanh(h + ctx) @ W + b. Padding must be masked, or a text's vector changes with
    its batch — the bug property tests look for. The options build broken or unusual variants
    (wrong vocab or rank of the output, no token_type_ids input, int32 inputs, an embedding
    table too short for the vocabulary, which fails at run time) for loader and error tests.
    *ffn* adds a feed-forward block of that inner width before the head, as a torch export
    writes one (MatMul + bias, erf GELU from Constant nodes, MatMul + bias, residual).
    """
    rng = np.random.default_rng(seed)
    out_vocab = output_vocab or vocab_size
    inits = [
        numpy_helper.from_array(
            rng.normal(0, 1, (embedding_rows or vocab_size, hidden)).astype(np.float32), "tok_emb"
        ),
        numpy_helper.from_array(
            rng.normal(0, 0.3, (max_positions, hidden)).astype(np.float32), "pos_emb"
        ),
        numpy_helper.from_array(rng.normal(0, 0.3, (2, hidden)).astype(np.float32), "type_emb"),
        numpy_helper.from_array(rng.normal(0, 0.7, (hidden, out_vocab)).astype(np.float32), "W"),
        numpy_helper.from_array((bias + rng.normal(0, 0.5, out_vocab)).astype(np.float32), "b"),
        numpy_helper.from_array(np.array([1], dtype=np.int64), "one"),
        numpy_helper.from_array(np.array(0, dtype=np.int64), "zero_s"),
        numpy_helper.from_array(np.array(1, dtype=np.int64), "one_s"),
        numpy_helper.from_array(np.array([-1], dtype=np.int64), "last_axis"),
    ]
    nodes = [
        helper.make_node("Gather", ["tok_emb", "input_ids"], ["tok"]),
        helper.make_node("Shape", ["input_ids"], ["shape"]),
        helper.make_node("Gather", ["shape", "one_s"], ["seq_len"]),
        helper.make_node("Range", ["zero_s", "seq_len", "one_s"], ["positions"]),
        helper.make_node("Gather", ["pos_emb", "positions"], ["pos"]),
        helper.make_node("Add", ["tok", "pos"], ["h0"]),
    ]
    if with_token_types:
        nodes += [
            helper.make_node("Gather", ["type_emb", "token_type_ids"], ["typ"]),
            helper.make_node("Add", ["h0", "typ"], ["h"]),
        ]
    else:
        nodes += [helper.make_node("Identity", ["h0"], ["h"])]
    nodes += [
        helper.make_node("Cast", ["attention_mask"], ["mask_f"], to=TensorProto.FLOAT),
        helper.make_node("Unsqueeze", ["mask_f", "last_axis"], ["mask3"]),
        helper.make_node("Mul", ["h", "mask3"], ["hm"]),
        helper.make_node("ReduceSum", ["hm", "one"], ["ctx_sum"], keepdims=1),
        helper.make_node("ReduceSum", ["mask3", "one"], ["count"], keepdims=1),
        helper.make_node("Div", ["ctx_sum", "count"], ["ctx"]),
        helper.make_node("Add", ["h", "ctx"], ["hc"]),
        helper.make_node("Tanh", ["hc"], ["ht"]),
    ]
    if ffn is not None:
        inits += [
            numpy_helper.from_array(rng.normal(0, 0.5, (hidden, ffn)).astype(np.float32), "W_up"),
            numpy_helper.from_array(rng.normal(0, 0.5, ffn).astype(np.float32), "b_up"),
            numpy_helper.from_array(rng.normal(0, 0.1, (ffn, hidden)).astype(np.float32), "W_dn"),
            numpy_helper.from_array(rng.normal(0, 0.1, hidden).astype(np.float32), "b_dn"),
        ]
        nodes += [
            helper.make_node("MatMul", ["ht", "W_up"], ["up_mm"]),
            helper.make_node("Add", ["b_up", "up_mm"], ["up"]),
            *erf_gelu_nodes("up", "gelu"),
            helper.make_node("MatMul", ["gelu", "W_dn"], ["dn_mm"]),
            helper.make_node("Add", ["dn_mm", "b_dn"], ["dn"]),
            helper.make_node("Add", ["dn", "ht"], ["hf"]),
        ]
    nodes.append(helper.make_node("MatMul", ["hf" if ffn is not None else "ht", "W"], ["proj"]))
    if output_rank == 3:
        nodes.append(helper.make_node("Add", ["proj", "b"], ["logits"]))
        out_shape: list[str | int] = ["batch", "sequence", out_vocab]
    else:
        nodes += [
            helper.make_node("Add", ["proj", "b"], ["logits3"]),
            helper.make_node("ReduceMax", ["logits3"], ["logits"], axes=[1], keepdims=0),
        ]
        out_shape = ["batch", out_vocab]
    inputs = [
        helper.make_tensor_value_info("input_ids", input_type, ["batch", "sequence"]),
        helper.make_tensor_value_info("attention_mask", input_type, ["batch", "sequence"]),
    ]
    if with_token_types:
        inputs.append(
            helper.make_tensor_value_info("token_type_ids", input_type, ["batch", "sequence"])
        )
    graph = helper.make_graph(
        nodes,
        "tiny_splade",
        inputs,
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, out_shape)],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def write_model_folder(
    folder: Path,
    *,
    seed: int = 0,
    model_file: str = "model.onnx",
    max_length: int = 512,
    tokenizer: bool = True,
    **model_options: object,
) -> Path:
    """A folder laid out like Qdrant/Splade_PP_en_v1: model.onnx, tokenizer.json, configs."""
    folder.mkdir(parents=True, exist_ok=True)
    vocab = tiny_vocab()
    if tokenizer:
        build_tokenizer(vocab).save(str(folder / "tokenizer.json"))
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n")
    config = {"model_type": "bert", "vocab_size": len(vocab), "max_position_embeddings": max_length}
    (folder / "config.json").write_text(json.dumps(config))
    (folder / "tokenizer_config.json").write_text(json.dumps({"model_max_length": max_length}))
    target = folder / model_file
    target.parent.mkdir(parents=True, exist_ok=True)
    model = build_onnx_model(len(vocab), seed=seed, max_positions=max_length, **model_options)  # type: ignore[arg-type]
    onnx.save(model, str(target))
    return folder


if __name__ == "__main__":
    out = write_model_folder(Path(sys.argv[1] if len(sys.argv) > 1 else "tiny-splade"))
    print(f"tiny SPLADE model written to {out}")
