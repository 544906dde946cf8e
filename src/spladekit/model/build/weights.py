"""What every architecture module reads: tensors by Hugging Face name, and config settings.

Errors name the checkpoint file and the tensor or setting, so a checkpoint of the wrong kind
(a ``BertModel`` without its masked-LM head, a config that disagrees with its weights) says
what is wrong instead of failing inside ONNX Runtime.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from spladekit.errors import ModelFormatError
from spladekit.model.build.safetensors import Checkpoint

__all__ = ["Head", "Settings", "Weights"]

#: Older checkpoints name layer-norm parameters gamma/beta (TF BERT's names).
_ALIASES = {"LayerNorm.weight": "LayerNorm.gamma", "LayerNorm.bias": "LayerNorm.beta"}


@dataclass(frozen=True)
class Head:
    """What the pooled head takes from an architecture: its input, decoder and bias."""

    hidden: str  # (batch, tokens, h) output of the MLM transform
    weight: npt.NDArray[np.float32]  # (h, vocab)
    bias: npt.NDArray[np.float32]  # (vocab,)


class Weights:
    """Float32 tensors of a checkpoint, looked up by name, with errors that name the file."""

    def __init__(self, checkpoint: Checkpoint) -> None:
        self.checkpoint = checkpoint
        self.where = str(checkpoint.path)

    def _resolve(self, name: str) -> str | None:
        if name in self.checkpoint:
            return name
        for new, old in _ALIASES.items():
            if name.endswith(new) and name[: -len(new)] + old in self.checkpoint:
                return name[: -len(new)] + old
        return None

    def get(self, name: str) -> npt.NDArray[np.float32]:
        """Tensor *name* (or its gamma/beta alias) as float32."""
        found = self._resolve(name)
        if found is None:
            msg = f"{self.where} has no tensor {name!r}, which this architecture needs"
            raise ModelFormatError(msg)
        return self.checkpoint.float32(found)

    def first(self, *names: str) -> npt.NDArray[np.float32]:
        """The first of *names* the checkpoint holds."""
        for name in names:
            if self._resolve(name) is not None:
                return self.get(name)
        msg = f"{self.where} has none of the tensors {', '.join(names)}"
        raise ModelFormatError(msg)

    def require_head(self, prefix: str) -> None:
        """Refuse a checkpoint without the masked-LM head SPLADE reads its vocabulary from."""
        if not any(n.startswith(f"{prefix}.") for n in self.checkpoint.names):
            msg = (
                f"{self.where} has no masked-LM head ({prefix}.*): it holds a bare encoder, "
                "not a …ForMaskedLM checkpoint; a SPLADE model needs its MLM head"
            )
            raise ModelFormatError(msg)

    def refuse_extra_layer(self, prefix: str, count: int) -> None:
        """Refuse a config stating fewer layers than the checkpoint holds."""
        if any(n.startswith(prefix) for n in self.checkpoint.names):
            msg = f"{self.where} holds more than the {count} layers its config.json states"
            raise ModelFormatError(msg)

    def decoder(
        self, name: str, table: npt.NDArray[np.float32], *, tied: object
    ) -> npt.NDArray[np.float32]:
        """The (h, vocab) vocabulary projection: the word table when tied, else *name*."""
        if tied is not False:  # transformers' default: tie_word_embeddings=True
            return np.transpose(table)
        weight = self.get(name)
        if weight.shape != table.shape:
            msg = f"{self.where}: {name} has shape {weight.shape}, the word table {table.shape}"
            raise ModelFormatError(msg)
        return np.transpose(weight)


class Settings:
    """config.json's values, read with transformers' defaults; errors name the file."""

    def __init__(self, values: dict[str, object], path: Path) -> None:
        self.values = values
        self.path = path

    def get(self, key: str, default: object) -> object:
        """The value of *key*, *default* when absent or null."""
        value = self.values.get(key)
        return default if value is None else value

    def int(self, key: str, default: int) -> int:
        """A non-negative integer setting."""
        value = self.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            msg = f"{self.path}: {key} must be a non-negative integer, got {value!r}"
            raise ModelFormatError(msg)
        return value

    def float(self, key: str, default: float) -> float:
        """A positive finite number setting (an epsilon)."""
        value = self.get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
            msg = f"{self.path}: {key} must be a positive number, got {value!r}"
            raise ModelFormatError(msg)
        return float(value)
