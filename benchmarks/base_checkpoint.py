"""The benchmark's BERT-base-sized model as a Hugging Face checkpoint: the same weights, safetensors.

``build_model.py`` writes random BERT-base weights as an ONNX export (benchmarks/.cache/
splade-base/model.onnx). This reads that export back and saves the very same tensors under
``BertForMaskedLM``'s names as ``model.safetensors`` + ``config.json`` + the tokenizer, in
benchmarks/.cache/splade-base-safetensors, so a graph spladekit builds from the weights can be
set beside the export it was never made from. MatMul weights are stored (in, out) in the
export and (out, in) in a torch checkpoint; the decoder is untied, like the export's.

    python benchmarks/base_checkpoint.py [--size base|tiny]
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import struct
import sys
from pathlib import Path

import numpy as np

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from build_model import CACHE, build_folder  # noqa: E402

#: Export initializer stems (before build_model's "_<n>" suffix) that are not BERT parameters.
_GRAPH_CONSTANTS = {
    "sqrt2",
    "one",
    "half",
    "i0",
    "i1",
    "axes",
    "neg",
    "heads_shape",
    "merge_shape",
    "scale",
}


def hf_name(stem: str) -> str:
    """build_model's tensor stem → the BertForMaskedLM parameter name."""
    if stem in ("word_embeddings", "position_embeddings", "token_type_embeddings"):
        return f"bert.embeddings.{stem}.weight"
    name = stem.replace("LayerNorm.gamma", "LayerNorm.weight").replace(
        "LayerNorm.beta", "LayerNorm.bias"
    )
    return name if name.startswith("cls.") else f"bert.{name}"


def checkpoint_tensors(export: Path) -> dict[str, np.ndarray]:
    """The export's parameters under HF names, in torch layout."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(export))
    tensors: dict[str, np.ndarray] = {}
    for tensor in model.graph.initializer:
        stem = re.sub(r"_\d+$", "", tensor.name)
        if stem in _GRAPH_CONSTANTS:
            continue
        array = numpy_helper.to_array(tensor)
        name = hf_name(stem)
        if name.endswith(".weight") and array.ndim == 2 and "embeddings" not in name:
            array = array.T  # MatMul (in, out) → nn.Linear (out, in); decoder (h, V) → (V, h)
        tensors[name] = np.ascontiguousarray(array, dtype=np.float32)
    return tensors


def write_safetensors(path: Path, tensors: dict[str, np.ndarray]) -> None:
    """The safetensors format: 8-byte header length, JSON header, then the bytes."""
    header: dict[str, object] = {"__metadata__": {"format": "pt"}}
    offset = 0
    for name, array in tensors.items():
        header[name] = {
            "dtype": "F32",
            "shape": list(array.shape),
            "data_offsets": [offset, offset + array.nbytes],
        }
        offset += array.nbytes
    encoded = json.dumps(header).encode()
    encoded += b" " * (-len(encoded) % 8)
    with path.open("wb") as file:
        file.write(struct.pack("<Q", len(encoded)) + encoded)
        for array in tensors.values():
            file.write(array.tobytes())


def build_checkpoint(size: str = "base") -> Path:
    """Write (or reuse) the checkpoint folder of the benchmark model of *size*."""
    export = build_folder(size)
    folder = CACHE / f"splade-{size}-safetensors"
    stamp = folder / ".from"
    key = f"{(export / '.built').read_text()}|{(export / 'model.onnx').stat().st_mtime_ns}"
    if stamp.exists() and stamp.read_text() == key:
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    tensors = checkpoint_tensors(export / "model.onnx")
    expected = {
        "bert.embeddings.word_embeddings.weight",
        "cls.predictions.decoder.weight",
        "cls.predictions.bias",
    }
    missing = expected - tensors.keys()
    if missing:
        raise SystemExit(f"the export lacks {sorted(missing)}: build_model.py changed?")
    write_safetensors(folder / "model.safetensors", tensors)
    config = json.loads((export / "config.json").read_text())
    config.update(
        hidden_act="gelu",
        layer_norm_eps=1e-12,
        tie_word_embeddings=False,
        note="build_model.py's random weights, read back from its ONNX export",
    )
    (folder / "config.json").write_text(json.dumps(config, indent=2))
    for name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt"):
        if (export / name).exists():
            shutil.copyfile(export / name, folder / name)
    stamp.write_text(key)
    print(f"wrote {len(tensors)} tensors to {folder}", file=sys.stderr)
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", choices=["base", "tiny"], default="base")
    print(build_checkpoint(parser.parse_args().size))


if __name__ == "__main__":
    main()
