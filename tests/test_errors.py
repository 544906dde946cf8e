"""Bad input and broken models give typed spladekit errors that name the problem.

Every error is a :class:`SpladeError` and also the builtin a caller would catch
(``TypeError`` / ``ValueError`` / ``OSError``); none is a bare numpy or ONNX traceback.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import onnx
import pytest
from onnx import TensorProto

from spladekit import SpladeEncoder, SpladeError
from spladekit.errors import (
    InputError,
    InputTypeError,
    MissingDependencyError,
    ModelFormatError,
    ModelNotFoundError,
    require,
)

from support.tiny_model import write_model_folder


def test_error_tree() -> None:
    assert issubclass(InputError, SpladeError) and issubclass(InputError, ValueError)
    assert issubclass(InputTypeError, InputError) and issubclass(InputTypeError, TypeError)
    assert issubclass(ModelNotFoundError, SpladeError) and issubclass(ModelNotFoundError, OSError)
    assert issubclass(ModelFormatError, SpladeError) and issubclass(ModelFormatError, ValueError)
    assert issubclass(MissingDependencyError, SpladeError)
    assert issubclass(MissingDependencyError, ImportError)


def test_require_names_the_pip_command() -> None:
    require("json", "core")  # present: no error
    with pytest.raises(MissingDependencyError, match=r'pip install "spladekit\[qdrant\]"') as info:
        require("spladekit_no_such_module", "qdrant")
    assert info.value.name == "spladekit_no_such_module"


# --- texts ---------------------------------------------------------------------------------------

BAD_TEXTS: list[tuple[str, Callable[[SpladeEncoder], Any], str]] = [
    ("None", lambda e: e.encode_documents(None), r"texts must be a list of str, got NoneType"),
    ("int list", lambda e: e.encode_documents(3), r"texts must be a list of str, got int"),
    ("item", lambda e: e.encode_documents(["a", "b", 3]), r"texts\[2\] must be a str, got int"),
    ("None item", lambda e: e.encode_documents(["a", None]), r"texts\[1\] .*NoneType"),
    ("bytes item", lambda e: e.encode_documents(["a", b"b"]), r"texts\[1\] .*bytes.*decode"),
    ("bytes", lambda e: e.encode_documents(b"abc"), r"texts must be a list of str, got bytes"),
    ("bare str", lambda e: e.encode_documents("abc"), r"got a single str.*character by character"),
    ("query str", lambda e: e.encode_queries("abc"), r"queries must be a list of str.*single str"),
    (
        "query item",
        lambda e: e.encode_queries(["a", 1.5]),
        r"queries\[1\] must be a str, got float",
    ),
    ("query None", lambda e: e.encode_query(None), r"query must be a str, got NoneType"),
    ("query list", lambda e: e.encode_query(["a"]), r"query must be a str, got list"),
    ("query bytes", lambda e: e.encode_query(b"a"), r"query must be a str, got bytes"),
    ("embed str", lambda e: e.embed("abc"), r"single str"),
    ("embed None", lambda e: e.embed(None), r"texts must be a list of str, got NoneType"),
    ("explain int", lambda e: e.explain(3), r"explain takes a SparseVector or a str, got int"),
]


@pytest.mark.parametrize(
    ("call", "message"), [c[1:] for c in BAD_TEXTS], ids=[c[0] for c in BAD_TEXTS]
)
def test_bad_texts_raise_input_type_error(
    encoder: SpladeEncoder, call: Callable[[SpladeEncoder], Any], message: str
) -> None:
    with pytest.raises(InputTypeError, match=message) as info:
        call(encoder)
    assert isinstance(info.value, TypeError)
    assert isinstance(info.value, ValueError)  # InputTypeError is an InputError too


def test_embed_names_the_position_of_a_bad_item_in_a_later_chunk(encoder: SpladeEncoder) -> None:
    def texts() -> Iterator[object]:
        yield from ["moon"] * 1500
        yield 42

    stream = encoder.embed(texts())  # type: ignore[arg-type]
    with pytest.raises(InputTypeError, match=r"texts\[1500\] must be a str, got int"):
        list(stream)


def test_bad_item_fails_before_any_model_run(
    encoder: SpladeEncoder, monkeypatch: pytest.MonkeyPatch
) -> None:
    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("the model ran before the input was checked")

    monkeypatch.setattr(encoder._documents.session, "logits", forbidden)
    monkeypatch.setattr(encoder._documents.session, "pooled_logits", forbidden)
    with pytest.raises(InputTypeError, match=r"texts\[2\]"):
        encoder.encode_documents(["a", "b", None])


# --- options -------------------------------------------------------------------------------------

BAD_CALL_OPTIONS: list[tuple[str, Callable[[SpladeEncoder], Any], str]] = [
    (
        "batch_size=0",
        lambda e: e.encode_documents(["a"], batch_size=0),
        r"batch_size must be a positive integer or None, got 0",
    ),
    ("batch_size=-2", lambda e: e.encode_documents(["a"], batch_size=-2), r"batch_size .* got -2"),
    (
        "batch_size=2.0",
        lambda e: e.encode_documents(["a"], batch_size=2.0),
        r"batch_size .* got 2\.0",
    ),
    (
        "batch_size=True",
        lambda e: e.encode_documents(["a"], batch_size=True),
        r"batch_size .* got True",
    ),
    ("embed batch_size=0", lambda e: e.embed(["a"], batch_size=0), r"batch_size .* got 0"),
    (
        "explain top_k=0",
        lambda e: e.explain("a", top_k=0),
        r"top_k must be a positive integer or None, got 0",
    ),
]


@pytest.mark.parametrize(
    ("call", "message"), [c[1:] for c in BAD_CALL_OPTIONS], ids=[c[0] for c in BAD_CALL_OPTIONS]
)
def test_bad_call_options_raise_input_error(
    encoder: SpladeEncoder, call: Callable[[SpladeEncoder], Any], message: str
) -> None:
    with pytest.raises(InputError, match=message) as info:
        call(encoder)
    assert isinstance(info.value, ValueError)


BAD_LOAD_OPTIONS: list[tuple[dict[str, Any], str]] = [
    ({"top_k": 0}, r"top_k must be a positive integer or None, got 0"),
    ({"top_k": -1}, r"top_k .* got -1"),
    ({"top_k": 1.5}, r"top_k .* got 1\.5"),
    ({"threshold": -1}, r"threshold must be a finite number >= 0, got -1"),
    ({"threshold": float("nan")}, r"threshold .* got nan"),
    ({"threshold": float("inf")}, r"threshold .* got inf"),
    ({"threshold": "0.1"}, r"threshold .* got '0\.1'"),
    ({"max_length": 0}, r"max_length must be a positive integer or None, got 0"),
    ({"max_length": 2}, r"max_length must exceed the 2 special tokens, got 2"),
    ({"max_length": 1000}, r"max_length must be at most 512 .* got 1000"),
    ({"stride": 0}, r"stride must be a positive integer or None, got 0"),
    ({"stride": -3}, r"stride .* got -3"),
    ({"stride": 511}, r"stride must be at most 510 .* got 511"),
    ({"max_length": 16, "stride": 15}, r"stride must be at most 14 .* got 15"),
    (
        {"long_documents": "cut"},
        r"long_documents must be 'truncate' or 'window' or 'best-window', got 'cut'",
    ),
    ({"token_budget": 0}, r"token_budget must be a positive integer, got 0"),
    ({"threads": 0}, r"threads must be a positive integer or None, got 0"),
    (
        {"providers": ["CUDAExecutionProvidr"]},
        r"unknown ONNX Runtime provider\(s\) \['CUDAExecutionProvidr'\]; this build has",
    ),
]


@pytest.mark.parametrize(
    ("options", "message"), BAD_LOAD_OPTIONS, ids=[str(o) for o, _ in BAD_LOAD_OPTIONS]
)
def test_bad_load_options_raise_input_error(
    tiny_model_dir: Path, options: dict[str, Any], message: str
) -> None:
    with pytest.raises(InputError, match=message) as info:
        SpladeEncoder.from_pretrained(tiny_model_dir, **options)
    assert isinstance(info.value, ValueError)


def test_edge_options_that_are_valid(tiny_model_dir: Path) -> None:
    edge = SpladeEncoder.from_pretrained(
        tiny_model_dir, max_length=3, stride=1, top_k=1, long_documents="window"
    )
    assert edge.max_length == 3
    assert len(edge.encode_documents(["the moon rover"])[0]) == 1
    assert SpladeEncoder.from_pretrained(tiny_model_dir, max_length=512, stride=510).stride == 510
    cpu = [("CPUExecutionProvider", {})]
    assert SpladeEncoder.from_pretrained(tiny_model_dir, providers=cpu, threads=1).encode_query(
        "moon"
    )


@pytest.mark.parametrize("name", [None, 3, b"/tmp/model", ["a"]])
def test_bad_model_name_type(name: object) -> None:
    with pytest.raises(InputTypeError, match="takes a model name or folder"):
        SpladeEncoder.from_pretrained(name)  # type: ignore[arg-type]


# --- broken models -------------------------------------------------------------------------------


def test_missing_path_is_model_not_found(tmp_path: Path) -> None:
    for missing in (str(tmp_path / "nope"), "./no-such-model-folder", "~/no/such/model"):
        with pytest.raises(ModelNotFoundError, match="does not exist") as info:
            SpladeEncoder.from_pretrained(missing)
        assert isinstance(info.value, OSError)


def test_a_file_instead_of_a_folder(tiny_model_dir: Path) -> None:
    with pytest.raises(ModelNotFoundError, match="is a file; pass the folder"):
        SpladeEncoder.from_pretrained(tiny_model_dir / "model.onnx")


def test_folder_without_tokenizer(tmp_path: Path) -> None:
    folder = write_model_folder(tmp_path / "m", tokenizer=False)
    with pytest.raises(ModelNotFoundError, match=r"no tokenizer\.json in .*found .*model\.onnx"):
        SpladeEncoder.from_pretrained(folder)


def test_folder_without_onnx_lists_what_was_looked_for_and_found(tmp_path: Path) -> None:
    folder = write_model_folder(tmp_path / "m", model_file="weights/splade.onnx")
    with pytest.raises(ModelNotFoundError) as info:
        SpladeEncoder.from_pretrained(folder)
    message = str(info.value)
    assert "looked for model.onnx, onnx/model.onnx" in message
    assert "weights/splade.onnx" in message.split("found", 1)[1]
    assert "model_file=" in message


def test_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelNotFoundError, match="found no files"):
        SpladeEncoder.from_pretrained(tmp_path / "empty")


def test_missing_model_file_option(tiny_model_dir: Path) -> None:
    with pytest.raises(ModelNotFoundError, match=r"looked for other\.onnx; found .*model\.onnx"):
        SpladeEncoder.from_pretrained(tiny_model_dir, model_file="other.onnx")


def test_broken_onnx_file(tmp_path: Path) -> None:
    folder = write_model_folder(tmp_path / "m")
    (folder / "model.onnx").write_bytes(b"this is not a protobuf")
    with pytest.raises(ModelFormatError, match=r"cannot read ONNX model .*model\.onnx") as info:
        SpladeEncoder.from_pretrained(folder)
    assert isinstance(info.value, ValueError)
    assert info.value.__cause__ is not None  # the protobuf DecodeError, chained
    with pytest.raises(ModelFormatError, match=r"ONNX Runtime cannot load .*model\.onnx"):
        SpladeEncoder.from_pretrained(folder, optimize=False)  # run as exported: ORT reads it


@pytest.mark.parametrize("content", ['{"version": "1.0", "model": 3}', '{"version": "1.', "\udcff"])
def test_broken_tokenizer_file(tmp_path: Path, content: str) -> None:
    folder = write_model_folder(tmp_path / "m")
    (folder / "tokenizer.json").write_text(content, errors="surrogateescape")
    with pytest.raises(ModelFormatError, match=r"cannot read tokenizer .*tokenizer\.json") as info:
        SpladeEncoder.from_pretrained(folder)
    assert info.value.__cause__ is not None


def test_output_that_is_not_token_logits(tmp_path: Path) -> None:
    folder = write_model_folder(tmp_path / "m", output_rank=2)
    with pytest.raises(ModelFormatError, match=r"\(batch, tokens, vocab\).*got .*\['batch', 210\]"):
        SpladeEncoder.from_pretrained(folder)


def test_output_vocab_that_does_not_match_the_tokenizer(tmp_path: Path) -> None:
    folder = write_model_folder(tmp_path / "m", output_vocab=100)
    with pytest.raises(ModelFormatError, match="100 vocabulary entries but the tokenizer has 210"):
        SpladeEncoder.from_pretrained(folder)


def test_unreadable_config_is_refused_naming_the_file(tmp_path: Path) -> None:
    # A config.json that is not JSON is a damaged download: its max length (and with it every
    # vector of a long text) would silently change if we fell back to defaults.
    folder = write_model_folder(tmp_path / "m", max_length=64)
    (folder / "config.json").write_text("not json")
    with pytest.raises(ModelFormatError, match=r"config\.json: it is not valid JSON"):
        SpladeEncoder.from_pretrained(folder)


def test_tokenizer_config_that_is_not_an_object_is_refused(tmp_path: Path) -> None:
    folder = write_model_folder(tmp_path / "m", max_length=64)
    (folder / "tokenizer_config.json").write_text("[]")
    with pytest.raises(ModelFormatError, match=r"tokenizer_config\.json"):
        SpladeEncoder.from_pretrained(folder)


def _rewired(folder: Path, rename: dict[str, str], float_inputs: bool = False) -> Path:
    """Rewrite the folder's model.onnx with renamed (or float-typed) inputs."""
    model = onnx.load(str(folder / "model.onnx"))
    for node in model.graph.node:
        node.input[:] = [rename.get(name, name) for name in node.input]
    for graph_input in model.graph.input:
        graph_input.name = rename.get(graph_input.name, graph_input.name)
        if float_inputs and graph_input.name == "attention_mask":
            graph_input.type.tensor_type.elem_type = TensorProto.FLOAT
    onnx.save(model, str(folder / "model.onnx"))
    return folder


def test_model_with_unexpected_inputs(tmp_path: Path) -> None:
    folder = _rewired(write_model_folder(tmp_path / "m"), {"attention_mask": "input_mask"})
    with pytest.raises(
        ModelFormatError,
        match=r"not a masked-LM with inputs input_ids, attention_mask.*it takes \['input_ids', 'input_mask', 'token_type_ids'\]",
    ):
        SpladeEncoder.from_pretrained(folder)


def test_model_with_float_inputs(tmp_path: Path) -> None:
    folder = _rewired(write_model_folder(tmp_path / "m"), {}, float_inputs=True)
    with pytest.raises(ModelFormatError, match=r"input attention_mask must be int64 or int32"):
        SpladeEncoder.from_pretrained(folder)


def test_a_failing_model_run_is_an_inference_error_naming_the_batch(tmp_path: Path) -> None:
    from spladekit import InferenceError

    # Token ids past the embedding table's 40 rows make ONNX Runtime fail inside the run.
    folder = write_model_folder(tmp_path / "short-table", embedding_rows=40)
    encoder = SpladeEncoder(folder)
    assert encoder.encode_documents(["a"])  # ids under 40 run fine
    with pytest.raises(InferenceError, match=r"failed on a batch of shape \(1, \d+\)") as info:
        encoder.encode_documents(["the lunar mission"])
    assert isinstance(info.value, RuntimeError) and info.value.__cause__ is not None
    assert str(folder / "model.onnx") in str(info.value)
