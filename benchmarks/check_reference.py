"""The encoder core's acceptance evidence, on the BERT-base-sized model and real abstracts.

1. Agreement: 200 SciFact abstracts encoded by spladekit (defaults: prepared model, sorted
   token-budgeted batches, pooling in the graph) against a naive reference — one plain ONNX
   Runtime run per text on the model as exported, log1p(relu(·)) on every token, then the max.
   Texts over 512 word pieces are cut to the model's limit on both sides
   (``long_documents="truncate"``), since the naive run cannot take more.
2. Memory: peak RSS (``/usr/bin/time -v``) of a fresh process encoding 256 abstracts with
   ``batch_size=256``.

    python benchmarks/check_reference.py [--docs 200] [--rss-docs 256]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from build_model import build_folder  # noqa: E402
from corpus import load_corpus  # noqa: E402


def reference(model: Path, texts: list[str]) -> list[tuple[np.ndarray, np.ndarray]]:
    import onnxruntime as ort
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(model / "tokenizer.json"))
    tokenizer.enable_truncation(512)
    session = ort.InferenceSession(str(model / "model.onnx"), providers=["CPUExecutionProvider"])
    out = []
    for text in texts:
        ids = np.array([tokenizer.encode(text).ids], dtype=np.int64)
        feed = {
            "input_ids": ids,
            "attention_mask": np.ones_like(ids),
            "token_type_ids": np.zeros_like(ids),
        }
        (logits,) = session.run(None, feed)
        weights = np.log1p(np.maximum(logits[0], 0.0)).max(axis=0)
        nonzero = np.flatnonzero(weights)
        out.append((nonzero, weights[nonzero]))
    return out


def agreement(model: Path, count: int) -> dict[str, object]:
    from spladekit import SpladeEncoder

    texts = load_corpus(limit=count)
    encoder = SpladeEncoder.from_pretrained(model, long_documents="truncate")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the truncation warning, expected here
        ours = encoder.encode_documents(texts)
    theirs = reference(model, texts)
    same = [np.array_equal(v.indices, i) for v, (i, _) in zip(ours, theirs, strict=True)]
    delta = max(
        float(np.abs(v.values - w).max(initial=0.0))
        for v, (_, w), s in zip(ours, theirs, same, strict=True)
        if s
    )
    lengths = [len(ids) + 2 for ids in encoder._documents.tokenizer.content_ids(texts)]
    return {
        "texts": len(texts),
        "over_limit": sum(n > 512 for n in lengths),
        "identical_index_sets": int(sum(same)),
        "max_abs_delta": delta,
        "median_active": float(np.median([len(v) for v in ours])),
    }


def rss_child(model: Path, count: int) -> None:
    from spladekit import SpladeEncoder

    texts = load_corpus(limit=count)
    encoder = SpladeEncoder.from_pretrained(model)
    vectors = encoder.encode_documents(texts, batch_size=256)
    print(json.dumps({"vectors": len(vectors)}))


def peak_rss(model: Path, count: int) -> float:
    """GB, as /usr/bin/time -v reports for a fresh process (model already prepared)."""
    command = [sys.executable, __file__, "--rss-child", "--rss-docs", str(count)]
    done = subprocess.run(
        ["/usr/bin/time", "-v", *command], capture_output=True, text=True, check=True
    )
    kb = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
    if kb is None:
        raise RuntimeError(done.stderr)
    return int(kb.group(1)) / 1024 / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=200)
    parser.add_argument("--rss-docs", type=int, default=256)
    parser.add_argument("--rss-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ.setdefault("SPLADEKIT_CACHE", str(BENCH / ".cache" / "spladekit"))
    model = build_folder("base")
    if args.rss_child:
        rss_child(model, args.rss_docs)
        return
    result = agreement(model, args.docs)
    result["peak_rss_gb_batch256"] = peak_rss(model, args.rss_docs)
    result["rss_docs"] = args.rss_docs
    print(json.dumps(result, indent=2))
    ok = (
        result["identical_index_sets"] == result["texts"]
        and float(result["max_abs_delta"]) <= 1e-5  # type: ignore[arg-type]
        and float(result["peak_rss_gb_batch256"]) <= 1.5  # type: ignore[arg-type]
    )
    print("PASS" if ok else "FAIL")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
