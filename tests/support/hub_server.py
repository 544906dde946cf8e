"""A local stand-in for the Hugging Face Hub, so the real ``snapshot_download`` path runs offline.

It serves the endpoints huggingface_hub 2.4 calls for ``snapshot_download``:

- ``GET /api/models/{repo}[/revision/{rev}]``: repo info with ``sha`` and ``siblings``;
- ``GET /api/models/{repo}/tree/{rev}?recursive=True``: the file listing (one page);
- ``HEAD``/``GET /{repo}/resolve/{rev}/{path}``: file metadata (``X-Repo-Commit``, ``ETag``,
  ``Content-Length``) and bytes.

Unknown repos answer 404 with ``X-Error-Code: RepoNotFound`` (huggingface_hub turns that into
``RepositoryNotFoundError``); unknown files answer ``EntryNotFound``. Every request is logged in
:attr:`HubServer.requests` so tests can check which files were fetched, or that none were.

Example:
    >>> with HubServer({"org/model": {"a.txt": b"hi"}}) as hub:  # doctest: +SKIP
    ...     os.environ["HF_ENDPOINT"] = hub.url
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from urllib.parse import unquote, urlsplit


def git_blob_id(data: bytes) -> str:
    """The git object id of a file, which the Hub sends as the ETag of non-LFS files."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def folder_files(folder: Path) -> dict[str, bytes]:
    """Every file under *folder*, keyed by its POSIX path relative to it."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@dataclass(frozen=True)
class Request:
    """One request the server received."""

    method: str
    path: str


@dataclass
class HubServer:
    """A threaded HTTP server holding ``{repo_id: {path: bytes}}`` at one commit per repo."""

    repos: dict[str, dict[str, bytes]]
    requests: list[Request] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def commit(self, repo_id: str) -> str:
        """The (fake, stable) 40-hex commit sha of *repo_id*'s main branch."""
        return hashlib.sha1(repo_id.encode()).hexdigest()

    @property
    def url(self) -> str:
        """The endpoint to put in ``HF_ENDPOINT``."""
        assert self._server is not None, "server not started"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def fetched(self) -> list[str]:
        """Repo paths whose bytes were downloaded (GET on resolve), in request order."""
        return [
            r.path.split("/resolve/", 1)[1].split("/", 1)[1]
            for r in self.requests
            if r.method == "GET" and "/resolve/" in r.path
        ]

    def start(self) -> HubServer:
        """Listen on a free port of 127.0.0.1 in a daemon thread."""
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass  # the request log below is what tests read; keep stderr quiet

            def do_HEAD(self) -> None:
                hub._handle(self, send_body=False)

            def do_GET(self) -> None:
                hub._handle(self, send_body=True)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening; later connections are refused."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> HubServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # --- request handling --------------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler, *, send_body: bool) -> None:
        path = unquote(urlsplit(handler.path).path)
        with self._lock:
            self.requests.append(Request(handler.command, path))
        if path.startswith("/api/models/"):
            self._api(handler, path[len("/api/models/") :], send_body=send_body)
        elif "/resolve/" in path:
            repo_id, rest = path.lstrip("/").split("/resolve/", 1)
            revision, _, file = rest.partition("/")
            self._resolve(handler, repo_id, revision, file, send_body=send_body)
        else:
            self._error(handler, 404, "NotFound", f"no route for {path}")

    def _api(self, handler: BaseHTTPRequestHandler, rest: str, *, send_body: bool) -> None:
        for marker in ("/tree/", "/revision/"):
            if marker in rest:
                repo_id, _, revision = rest.partition(marker)
                break
        else:
            repo_id, marker, revision = rest, "/revision/", "main"
        files = self.repos.get(repo_id)
        if files is None:
            self._error(handler, 404, "RepoNotFound", f"Repository {repo_id} not found")
            return
        if not self._known_revision(repo_id, revision):
            self._error(handler, 404, "RevisionNotFound", f"Revision {revision} not found")
            return
        if marker == "/tree/":
            body: object = [
                {"type": "file", "path": p, "size": len(b), "oid": git_blob_id(b)}
                for p, b in sorted(files.items())
            ]
        else:
            body = {
                "id": repo_id,
                "modelId": repo_id,
                "sha": self.commit(repo_id),
                "private": False,
                "siblings": [{"rfilename": p} for p in sorted(files)],
            }
        self._send(handler, 200, json.dumps(body).encode(), "application/json", send_body)

    def _resolve(
        self,
        handler: BaseHTTPRequestHandler,
        repo_id: str,
        revision: str,
        file: str,
        *,
        send_body: bool,
    ) -> None:
        files = self.repos.get(repo_id)
        if files is None:
            self._error(handler, 404, "RepoNotFound", f"Repository {repo_id} not found")
            return
        if not self._known_revision(repo_id, revision):
            self._error(handler, 404, "RevisionNotFound", f"Revision {revision} not found")
            return
        data = files.get(file)
        if data is None:
            self._error(handler, 404, "EntryNotFound", f"{file} not found", repo_id=repo_id)
            return
        extra = {"X-Repo-Commit": self.commit(repo_id), "ETag": f'"{git_blob_id(data)}"'}
        self._send(handler, 200, data, "application/octet-stream", send_body, extra)

    def _known_revision(self, repo_id: str, revision: str) -> bool:
        return revision in ("main", self.commit(repo_id))

    def _error(
        self,
        handler: BaseHTTPRequestHandler,
        status: int,
        code: str,
        message: str,
        repo_id: str | None = None,
    ) -> None:
        extra = {"X-Error-Code": code, "X-Error-Message": message}
        if repo_id is not None:
            extra["X-Repo-Commit"] = self.commit(repo_id)
        body = json.dumps({"error": message}).encode()
        self._send(handler, status, body, "application/json", handler.command != "HEAD", extra)

    @staticmethod
    def _send(
        handler: BaseHTTPRequestHandler,
        status: int,
        body: bytes,
        content_type: str,
        send_body: bool,
        extra: dict[str, str] | None = None,
    ) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(body)))
        for name, value in (extra or {}).items():
            handler.send_header(name, value)
        handler.end_headers()
        if send_body:
            handler.wfile.write(body)
