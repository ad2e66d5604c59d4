"""Serve a directory of mirror pages on 127.0.0.1, the way the real site serves them.

Used by ``make demo``, the tests and the benchmark. Unlike ``python -m http.server`` it
keeps a deep listen backlog (the stdlib's 5 drops connections at 32+ concurrent clients),
speaks HTTP/1.1 keep-alive, sends both validators (ETag and Last-Modified) and answers
conditional requests with 304. Tests add faults through ``MirrorServer.faults``: a callable
that may answer a request itself.

The HTTP semantics (validators, content types, when a conditional request is answered 304)
are the module functions below, which ``bench.server`` serves too: the benchmark's server
is an asyncio one in a process of its own, so that serving is never what it measures.
"""

from __future__ import annotations

import email.utils
import hashlib
import mimetypes
import threading
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from urllib.parse import unquote, urlsplit

# A fault hook gets the handler and the request path; it returns True if it answered.
FaultHook = Callable[["MirrorHandler", str], bool]


def entity_tag(body: bytes) -> str:
    """A body's ETag: a quoted SHA-256 prefix, strong (the bytes, not the meaning)."""
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def http_date(mtime: int) -> str:
    return email.utils.formatdate(mtime, usegmt=True)


def content_type(name: str) -> str:
    """What a mirror file is served as: markdown for ``.md``, else by its extension; UTF-8."""
    guessed = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return f"{'text/markdown' if name.endswith('.md') else guessed}; charset=utf-8"


def not_modified(
    if_none_match: str | None, if_modified_since: str | None, etag: str | None, mtime: int
) -> bool:
    """Whether a conditional GET is answered 304: a matching If-None-Match (when the file is
    served with an ``etag``) or, without one, an If-Modified-Since at or after ``mtime``."""
    if etag is not None and if_none_match:
        return etag in [tag.strip() for tag in if_none_match.split(",")] or (
            if_none_match.strip() == "*"
        )
    if if_modified_since:
        try:
            return mtime <= email.utils.parsedate_to_datetime(if_modified_since).timestamp()
        except (TypeError, ValueError):
            return False
    return False


class MirrorHandler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        path = unquote(urlsplit(self.path).path)
        self.server.record(path, self.headers)
        hook = self.server.faults
        if hook is not None and hook(self, path):
            return
        file = self.server.resolve(path)
        if file is None:
            self.answer(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain")
            return
        body = file.read_bytes()
        etag = entity_tag(body) if self.server.send_etag else None
        mtime = int(file.stat().st_mtime)
        headers = {"Last-Modified": http_date(mtime)}
        if etag is not None:
            headers["ETag"] = etag
        conditions = self.headers.get("If-None-Match"), self.headers.get("If-Modified-Since")
        if not_modified(*conditions, etag, mtime):
            self.answer(HTTPStatus.NOT_MODIFIED, b"", None, headers)
            return
        self.answer(HTTPStatus.OK, body, content_type(file.name), headers)

    def answer(
        self,
        status: int,
        body: bytes,
        content_type: str | None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if status != HTTPStatus.NOT_MODIFIED:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        with self.server.lock:
            self.server.bytes_sent += len(body)
        if body:
            self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the request log is ``MirrorServer.requests``."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024

    def __init__(self, root: Path, send_etag: bool, port: int) -> None:
        super().__init__(("127.0.0.1", port), MirrorHandler)
        self.root = root.resolve()
        self.send_etag = send_etag
        self.faults: FaultHook | None = None
        self.lock = threading.Lock()
        self.requests: list[str] = []
        self.conditional = 0
        self.bytes_sent = 0

    def record(self, path: str, headers: object) -> None:
        with self.lock:
            self.requests.append(path)
            get = getattr(headers, "get", lambda _name: None)
            if get("If-None-Match") or get("If-Modified-Since"):
                self.conditional += 1

    def resolve(self, path: str) -> Path | None:
        file = (self.root / path.lstrip("/")).resolve()
        if not file.is_relative_to(self.root) or not file.is_file():
            return None
        return file


class MirrorServer:
    """``with MirrorServer(root) as server: server.url("/llms.txt")``

    ``port`` 0 (the default) takes a free port; another one raises ``OSError`` if taken.
    """

    def __init__(self, root: Path, *, send_etag: bool = True, port: int = 0) -> None:
        self._server = _Server(Path(root), send_etag, port)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def faults(self) -> FaultHook | None:
        return self._server.faults

    @faults.setter
    def faults(self, hook: FaultHook | None) -> None:
        self._server.faults = hook

    @property
    def requests(self) -> list[str]:
        """Paths requested so far, in order."""
        with self._server.lock:
            return list(self._server.requests)

    @property
    def conditional_requests(self) -> int:
        return self._server.conditional

    @property
    def bytes_sent(self) -> int:
        return self._server.bytes_sent

    def url(self, path: str = "/llms.txt") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def start(self) -> MirrorServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> MirrorServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
