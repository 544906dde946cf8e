"""The catalog: the models spladekit has facts about — data, not code paths.

Any other Hub repo or local folder with an ONNX masked-LM model and ``tokenizer.json`` loads
too; this table only adds the facts a folder cannot tell (licence, size, which file to fetch,
how the model wants its logits activated and its queries encoded).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from spladekit.pipeline.pool import Activation

__all__ = ["DEFAULT_MODEL", "KNOWN_MODELS", "KnownModel", "find_known_model"]

QuerySide = Literal["model", "idf", "query_model"]


@dataclass(frozen=True)
class KnownModel:
    """Facts about one published SPLADE model.

    ``activation`` is how logits become weights: ``log1p_relu`` is SPLADE's log(1 + relu(x));
    ``log1p_log1p_relu`` applies log1p once more (OpenSearch doc-v3 models). ``query`` says how
    queries are encoded: by the same model, by an ``idf.json`` token-weight table
    (inference-free), or by a second model (``query_model``, a Hub repo or folder).
    ``drop_special_tokens`` zeroes [CLS]/[SEP]/... weights, as OpenSearch's cards do.
    """

    model: str
    sources: dict[str, str]
    model_file: str
    description: str
    license: str
    size_in_GB: float  # noqa: N815  (fastembed's field name, kept for users who port code)
    vocab_size: int
    activation: Activation = "log1p_relu"
    query: QuerySide = "model"
    query_model: str | None = None
    drop_special_tokens: bool = False
    max_length: int = 512
    additional_files: tuple[str, ...] = field(default_factory=tuple)

    @property
    def hf_repo(self) -> str:
        """The Hub repository that holds the ONNX export."""
        return self.sources["hf"]

    def describe(self) -> dict[str, Any]:
        """The row ``SpladeEncoder.list_models()`` shows (the fields fastembed's page lists)."""
        row = asdict(self)
        row["additional_files"] = list(self.additional_files)
        return row


KNOWN_MODELS: tuple[KnownModel, ...] = (
    KnownModel(
        model="prithivida/Splade_PP_en_v1",
        sources={"hf": "Qdrant/Splade_PP_en_v1"},
        model_file="model.onnx",
        description=(
            "Independent Implementation of SPLADE++ Model for English. "
            "Sparse, BERT vocabulary (30522), max 512 tokens."
        ),
        license="apache-2.0",
        size_in_GB=0.532,
        vocab_size=30522,
    ),
    # OpenSearch inference-free models: documents through the transformer, queries through
    # idf.json. Their cards zero the special tokens' weights; doc-v3 applies log1p twice.
    KnownModel(
        model="opensearch-project/opensearch-neural-sparse-encoding-doc-v2-mini",
        sources={"hf": "opensearch-project/opensearch-neural-sparse-encoding-doc-v2-mini"},
        model_file="onnx/model.onnx",
        description=(
            "Inference-free sparse retriever (23M, MiniLM): documents by model, queries by "
            "idf.json lookup. BEIR avg nDCG@10 0.497."
        ),
        license="apache-2.0",
        size_in_GB=0.09,
        vocab_size=30522,
        query="idf",
        drop_special_tokens=True,
    ),
    KnownModel(
        model="opensearch-project/opensearch-neural-sparse-encoding-doc-v2-distill",
        sources={"hf": "opensearch-project/opensearch-neural-sparse-encoding-doc-v2-distill"},
        model_file="onnx/model.onnx",
        description=(
            "Inference-free sparse retriever (67M, DistilBERT): documents by model, queries by "
            "idf.json lookup. BEIR avg nDCG@10 0.504."
        ),
        license="apache-2.0",
        size_in_GB=0.27,
        vocab_size=30522,
        query="idf",
        drop_special_tokens=True,
    ),
    KnownModel(
        model="opensearch-project/opensearch-neural-sparse-encoding-doc-v3-distill",
        sources={"hf": "opensearch-project/opensearch-neural-sparse-encoding-doc-v3-distill"},
        model_file="onnx/model.onnx",
        description=(
            "Inference-free sparse retriever (67M, DistilBERT), weights log1p(log1p(relu)): "
            "documents by model, queries by idf.json lookup. BEIR avg nDCG@10 0.517."
        ),
        license="apache-2.0",
        size_in_GB=0.27,
        vocab_size=30522,
        activation="log1p_log1p_relu",
        query="idf",
        drop_special_tokens=True,
    ),
    KnownModel(
        model="opensearch-project/opensearch-neural-sparse-encoding-doc-v3-gte",
        sources={"hf": "opensearch-project/opensearch-neural-sparse-encoding-doc-v3-gte"},
        model_file="onnx/model.onnx",
        description=(
            "Inference-free sparse retriever (133M, GTE), weights log1p(log1p(relu)): "
            "documents by model, queries by idf.json lookup. BEIR avg nDCG@10 0.546."
        ),
        license="apache-2.0",
        size_in_GB=0.55,
        vocab_size=30522,
        activation="log1p_log1p_relu",
        query="idf",
        drop_special_tokens=True,
    ),
    # efficient-SPLADE: a large document encoder paired with a small query encoder.
    KnownModel(
        model="naver/efficient-splade-VI-BT-large-doc",
        sources={"hf": "naver/efficient-splade-VI-BT-large-doc"},
        model_file="onnx/model.onnx",
        description=(
            "efficient-SPLADE VI-BT document encoder (BERT-large); queries go through "
            "naver/efficient-splade-VI-BT-large-query (BERT-base)."
        ),
        license="cc-by-nc-sa-4.0",
        size_in_GB=1.34,
        vocab_size=30522,
        query="query_model",
        query_model="naver/efficient-splade-VI-BT-large-query",
    ),
)

DEFAULT_MODEL = KNOWN_MODELS[0].model


def find_known_model(name: str) -> KnownModel | None:
    """The table entry whose model name or Hub source is *name* (case-insensitive), if any."""
    wanted = name.lower()
    for known in KNOWN_MODELS:
        if wanted == known.model.lower() or wanted == known.hf_repo.lower():
            return known
    return None
