"""Loading from the Hub through the real ``snapshot_download``, against a local stand-in Hub.

huggingface_hub reads ``HF_ENDPOINT``, ``HF_HUB_OFFLINE`` and ``HF_HOME`` into its constants at
import time, so each scenario loads the encoder in a fresh interpreter with its environment set;
the stand-in Hub (tests/hub_server.py) runs in this process and logs every request it gets.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from spladekit import SpladeEncoder
from spladekit._adapters import shapes

from support.hub_server import HubServer, folder_files
from support.tiny_checkpoint import write_checkpoint, write_router
from support.tiny_model import write_model_folder

TEXT = "Chandrayaan-3 is India's third lunar mission"
REPO = "someorg/tiny-splade"
QDRANT_REPO = "Qdrant/Splade_PP_en_v1"
ODD_REPO = "someorg/odd-layout"
BOTH_REPO = "someorg/both-layouts"
SUB_REPO = "someorg/onnx-subfolder"
WEIGHTS_REPO = "someorg/splade-weights"
PICKLE_REPO = "someorg/splade-pickle"
ROUTER_REPO = "someorg/splade-router"
#: What building a repo that holds only weights needs, and nothing more.
NEEDED_WEIGHTS = {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"}
#: Files weights-only repos carry that must never be downloaded.
WEIGHT_EXTRAS = {
    "pytorch_model.bin": b"p" * 500,
    "tf_model.h5": b"h" * 300,
    "flax_model.msgpack": b"f" * 300,
    "README.md": b"# splade weights\n",
}
#: What an encoder needs from a repo laid out like Qdrant/Splade_PP_en_v1, and nothing more.
NEEDED = {"model.onnx", "tokenizer.json", "config.json", "tokenizer_config.json"}
#: Files real repos carry beside the ONNX export that must never be downloaded.
EXTRAS = {
    "onnx/model_qint8.onnx": b"q" * 300,
    "onnx/model_quantized.onnx": b"u" * 300,
    "pytorch_model.bin": b"p" * 500,
    "model.safetensors": b"s" * 500,
    "README.md": b"# tiny splade\n",
}

LOAD_SCRIPT = """
import json, sys
from spladekit import SpladeEncoder
from spladekit._adapters import shapes
from spladekit.errors import SpladeError

options = json.loads(sys.argv[1])
try:
    encoder = SpladeEncoder.from_pretrained(options.pop("name"), **options)
except SpladeError as error:
    print(json.dumps({"error": type(error).__name__, "message": str(error)}))
else:
    [vector] = encoder.encode_documents([sys.argv[2]])
    print(json.dumps({
        "name": encoder.name,
        "model": str(encoder._documents.session.source),
        "vector": shapes.to_lists(vector),
    }))
"""


@pytest.fixture(scope="module")
def model_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    return folder_files(write_model_folder(tmp_path_factory.mktemp("hubmodel") / "m"))


@pytest.fixture(scope="module")
def other_model(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """Another valid ONNX file (other weights): a second copy must not dedupe to the first blob."""
    folder = write_model_folder(tmp_path_factory.mktemp("hubmodel") / "m", seed=5)
    return (folder / "model.onnx").read_bytes()


@pytest.fixture(scope="module")
def local_vector(tiny_model_dir: Path) -> tuple[list[int], list[float]]:
    """The vector the same tiny model gives when loaded from a local folder."""
    return shapes.to_lists(
        SpladeEncoder.from_pretrained(tiny_model_dir).encode_documents([TEXT])[0]
    )


@pytest.fixture(scope="module")
def weight_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    return folder_files(write_checkpoint(tmp_path_factory.mktemp("hubweights") / "m", seed=31))


@pytest.fixture(scope="module")
def router_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    folder, _ = write_router(tmp_path_factory.mktemp("hubrouter") / "m", seed=32)
    return folder_files(folder)


@pytest.fixture
def hub(
    model_files: dict[str, bytes],
    other_model: bytes,
    weight_files: dict[str, bytes],
    router_files: dict[str, bytes],
) -> Iterator[HubServer]:
    odd = {k: v for k, v in model_files.items() if k != "model.onnx"}
    odd["weights/splade.onnx"] = model_files["model.onnx"]
    repos = {
        REPO: {**model_files, **EXTRAS},
        QDRANT_REPO: {**model_files, "onnx/model.onnx": other_model, **EXTRAS},
        ODD_REPO: odd,
        # Exports often carry the same model twice (root and onnx/): fetch one, not both.
        BOTH_REPO: {**model_files, "onnx/model.onnx": other_model, **EXTRAS},
        SUB_REPO: {
            **{k: v for k, v in model_files.items() if k != "model.onnx"},
            "onnx/model.onnx": model_files["model.onnx"],
            "onnx/model_optimized.onnx": other_model,
            **EXTRAS,
        },
        # Safetensors repos: weights only (built), and weights beside an export.
        WEIGHTS_REPO: {**weight_files, **WEIGHT_EXTRAS, "onnx/model.onnx": other_model},
        PICKLE_REPO: {
            **{k: v for k, v in weight_files.items() if k != "model.safetensors"},
            "pytorch_model.bin": b"p" * 500,
        },
        ROUTER_REPO: {
            **router_files,
            "document_0_MLMTransformer/pytorch_model.bin": b"p" * 500,
            "document_0_MLMTransformer/onnx/model.onnx": other_model,
            "query_0_SparseStaticEmbedding/pytorch_model.bin": b"p" * 500,
        },
    }
    with HubServer(repos) as server:
        yield server


def load(
    hub_url: str, home: Path, name: str, *, offline: bool = False, **options: Any
) -> dict[str, Any]:
    """Load *name* in a fresh interpreter pointed at the stand-in Hub; return what it printed."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGINGFACE_"))}
    env.update(
        HF_ENDPOINT=hub_url,
        HF_HOME=str(home),
        HF_HUB_DISABLE_TELEMETRY="1",
        HF_HUB_DISABLE_PROGRESS_BARS="1",
        HF_HUB_OFFLINE="1" if offline else "0",
        NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
    )
    done = subprocess.run(
        [sys.executable, "-c", LOAD_SCRIPT, json.dumps({"name": name, **options}), TEXT],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def requested_files(hub: HubServer) -> set[str]:
    """Repo paths asked about (HEAD) or fetched (GET)."""
    return {
        r.path.split("/resolve/", 1)[1].split("/", 1)[1]
        for r in hub.requests
        if "/resolve/" in r.path
    }


def resolve_requests(hub: HubServer) -> list[str]:
    """Repo-API and file requests (huggingface_hub's best-effort side calls left out)."""
    return [r.path for r in hub.requests if "/resolve/" in r.path or "/api/models/" in r.path]


def test_download_fetches_only_the_needed_files(
    hub: HubServer, tmp_path: Path, local_vector: tuple[list[int], list[float]]
) -> None:
    cache = tmp_path / "cache"
    result = load(hub.url, tmp_path / "home", REPO, cache_dir=str(cache))
    assert "error" not in result, result
    assert result["name"] == REPO
    assert result["vector"] == [list(x) for x in local_vector]
    assert set(hub.fetched()) == NEEDED
    assert len(hub.fetched()) == len(NEEDED)  # each file once
    assert requested_files(hub) == NEEDED  # not even a HEAD for the extras
    snapshot = Path(result["model"]).parent
    assert snapshot.is_relative_to(cache / "models--someorg--tiny-splade" / "snapshots")
    assert not (tmp_path / "home" / "hub").exists()  # cache_dir was honoured


def test_known_model_name_resolves_to_its_onnx_repo(hub: HubServer, tmp_path: Path) -> None:
    result = load(hub.url, tmp_path / "home", "prithivida/Splade_PP_en_v1")
    assert "error" not in result, result
    assert result["name"] == "prithivida/Splade_PP_en_v1"
    requested = resolve_requests(hub)
    assert requested and all(QDRANT_REPO in path for path in requested)
    assert set(hub.fetched()) == NEEDED
    assert Path(result["model"]).is_relative_to(
        tmp_path / "home" / "hub" / "models--Qdrant--Splade_PP_en_v1"
    )


def test_model_file_replaces_the_known_models_file(hub: HubServer, tmp_path: Path) -> None:
    result = load(
        hub.url, tmp_path / "home", "prithivida/Splade_PP_en_v1", model_file="onnx/model.onnx"
    )
    assert "error" not in result, result
    assert result["model"].endswith("onnx/model.onnx")
    assert set(hub.fetched()) == NEEDED - {"model.onnx"} | {"onnx/model.onnx"}


def test_filled_cache_works_with_the_server_stopped(
    hub: HubServer, tmp_path: Path, local_vector: tuple[list[int], list[float]]
) -> None:
    home = tmp_path / "home"
    first = load(hub.url, home, REPO)
    assert "error" not in first, first
    url = hub.url
    hub.stop()
    cached = load(url, home, REPO, local_files_only=True)
    assert cached.get("vector") == [list(x) for x in local_vector], cached
    assert cached["model"] == first["model"]
    # Not told to stay offline, a refused connection still falls back to the cache.
    fallback = load(url, home, REPO)
    assert fallback.get("model") == first["model"], fallback


def test_hf_hub_offline_makes_no_request_and_uses_the_cache(hub: HubServer, tmp_path: Path) -> None:
    home = tmp_path / "home"
    first = load(hub.url, home, REPO)
    assert "error" not in first, first
    hub.requests.clear()
    offline = load(hub.url, home, REPO, offline=True)
    assert offline.get("model") == first["model"], offline
    assert hub.requests == []


def test_unknown_repo_is_model_not_found(hub: HubServer, tmp_path: Path) -> None:
    result = load(hub.url, tmp_path / "home", "someorg/no-such-model")
    assert result["error"] == "ModelNotFoundError"
    assert "'someorg/no-such-model'" in result["message"]
    assert "RepositoryNotFoundError" in result["message"]
    assert hub.fetched() == []


def test_not_cached_while_offline_is_model_not_found(hub: HubServer, tmp_path: Path) -> None:
    for extra in ({"offline": True}, {"local_files_only": True}):
        result = load(hub.url, tmp_path / "home", REPO, **extra)
        assert result["error"] == "ModelNotFoundError"
        assert f"'{REPO}'" in result["message"]
        assert "local cache" in result["message"]
    assert hub.requests == []


def test_unknown_revision_is_model_not_found(hub: HubServer, tmp_path: Path) -> None:
    result = load(hub.url, tmp_path / "home", REPO, revision="v9")
    assert result["error"] == "ModelNotFoundError"
    assert "revision v9" in result["message"]


def test_nonstandard_layout_lists_what_was_looked_for_and_found(
    hub: HubServer, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    result = load(hub.url, home, ODD_REPO)
    assert result["error"] == "ModelNotFoundError"
    message = result["message"]
    assert "looked for model.onnx, onnx/model.onnx" in message
    assert "tokenizer.json" in message.split("found", 1)[1]
    assert "weights/splade.onnx" in message  # the repo's ONNX file is named, so the fix is clear
    assert "model_file=" in message
    hub.requests.clear()
    fixed = load(hub.url, home, ODD_REPO, model_file="weights/splade.onnx")
    assert "error" not in fixed, fixed
    assert hub.fetched() == ["weights/splade.onnx"]  # the rest was already cached


@pytest.mark.parametrize(
    ("repo", "model_file"), [(BOTH_REPO, "model.onnx"), (SUB_REPO, "onnx/model.onnx")]
)
def test_only_the_first_layout_present_is_fetched(
    hub: HubServer,
    tmp_path: Path,
    repo: str,
    model_file: str,
    local_vector: tuple[list[int], list[float]],
) -> None:
    home = tmp_path / "home"
    result = load(hub.url, home, repo)
    assert "error" not in result, result
    assert result["model"].endswith(model_file)
    assert result["vector"] == [list(x) for x in local_vector]
    assert set(hub.fetched()) == NEEDED - {"model.onnx"} | {model_file}
    assert len(hub.fetched()) == len(NEEDED)
    hub.requests.clear()
    offline = load(hub.url, home, repo, offline=True)  # the cache is complete for what we use
    assert offline.get("model") == result["model"], offline
    assert hub.requests == []


def test_a_weights_repo_builds_fetching_only_what_it_needs(
    hub: HubServer, tmp_path: Path, weight_files: dict[str, bytes]
) -> None:
    folder = tmp_path / "local"
    for name, data in weight_files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    expected = shapes.to_lists(SpladeEncoder(folder).encode_documents([TEXT])[0])
    home = tmp_path / "home"
    result = load(hub.url, home, WEIGHTS_REPO, format="safetensors")
    assert "error" not in result, result
    assert result["vector"] == [list(x) for x in expected]
    assert set(hub.fetched()) == NEEDED_WEIGHTS  # no .bin, no .h5, no onnx/
    assert len(hub.fetched()) == len(NEEDED_WEIGHTS)
    assert requested_files(hub) == NEEDED_WEIGHTS
    # A second load from the filled cache, offline by flag: no request, nothing built again.
    hub.requests.clear()
    offline = load(hub.url, home, WEIGHTS_REPO, offline=True, format="safetensors")
    assert offline.get("model") == result["model"], offline
    assert hub.requests == []


def test_a_filled_weights_cache_works_with_the_server_stopped(
    hub: HubServer, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    first = load(hub.url, home, WEIGHTS_REPO, format="safetensors")
    assert "error" not in first, first
    url = hub.url
    hub.stop()
    cached = load(url, home, WEIGHTS_REPO, local_files_only=True, format="safetensors")
    assert cached.get("vector") == first["vector"], cached


def test_auto_prefers_the_export_and_never_fetches_the_weights(
    hub: HubServer, tmp_path: Path
) -> None:
    result = load(hub.url, tmp_path / "home", WEIGHTS_REPO)
    assert "error" not in result, result
    assert result["model"].endswith("onnx/model.onnx")
    assert set(hub.fetched()) == NEEDED_WEIGHTS - {"model.safetensors"} | {"onnx/model.onnx"}


def test_a_pickle_only_repo_is_refused_without_downloading_the_pickle(
    hub: HubServer, tmp_path: Path
) -> None:
    result = load(hub.url, tmp_path / "home", PICKLE_REPO)
    assert result["error"] == "ModelFormatError", result
    assert "pytorch_model.bin" in result["message"] and "never loads" in result["message"]
    assert "model.safetensors" in result["message"]
    assert "pytorch_model.bin" not in requested_files(hub)


def test_a_router_repo_fetches_its_modules_and_not_their_pickles(
    hub: HubServer, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    result = load(hub.url, home, ROUTER_REPO, format="safetensors")
    assert "error" not in result, result
    needed = {
        "modules.json",
        "router_config.json",
        "document_0_MLMTransformer/config.json",
        "document_0_MLMTransformer/model.safetensors",
        "document_0_MLMTransformer/tokenizer.json",
        "document_0_MLMTransformer/tokenizer_config.json",
        "document_1_SpladePooling/config.json",
        "query_0_SparseStaticEmbedding/config.json",
        "query_0_SparseStaticEmbedding/model.safetensors",
    }
    assert set(hub.fetched()) == needed  # no pickles, no export, no query tokenizer
    assert len(hub.fetched()) == len(needed)
    hub.requests.clear()
    offline = load(hub.url, home, ROUTER_REPO, offline=True, format="safetensors")
    assert offline.get("vector") == result["vector"], offline
    assert hub.requests == []
    # Left to choose, the same repo runs the MLM module's export instead of its weights.
    hub.requests.clear()
    auto = load(hub.url, tmp_path / "other-home", ROUTER_REPO)
    assert auto["model"].endswith("document_0_MLMTransformer/onnx/model.onnx"), auto
    swapped = needed - {"document_0_MLMTransformer/model.safetensors"}
    assert set(hub.fetched()) == swapped | {"document_0_MLMTransformer/onnx/model.onnx"}
