"""spladekit: SPLADE sparse vectors on ONNX Runtime for LangChain and LlamaIndex pipelines.

Example:
    >>> from spladekit import SpladeEncoder
    >>> encoder = SpladeEncoder("prithivida/Splade_PP_en_v1")  # doctest: +SKIP
    >>> vectors = encoder.encode_documents(["Chandrayaan-3 landed near the lunar south pole."])  # doctest: +SKIP
    >>> evaluate(encoder, "scifact")["nDCG@10"]  # a BEIR folder  # doctest: +SKIP
"""

from spladekit.encoder import SpladeEncoder
from spladekit.errors import (
    IndexBusyError,
    IndexFormatError,
    InferenceError,
    InputError,
    InputTypeError,
    MissingDependencyError,
    ModelFormatError,
    ModelNotFoundError,
    SpladeError,
)
from spladekit.evaluation import EvaluationResult, evaluate
from spladekit.index import SparseIndex
from spladekit.vector import SparseVector

__version__ = "0.2.0.dev0"

__all__ = [
    "EvaluationResult",
    "IndexBusyError",
    "IndexFormatError",
    "InferenceError",
    "InputError",
    "InputTypeError",
    "MissingDependencyError",
    "ModelFormatError",
    "ModelNotFoundError",
    "SparseIndex",
    "SparseVector",
    "SpladeEncoder",
    "SpladeError",
    "__version__",
    "evaluate",
]
