"""Serve a directory of mirror pages on 127.0.0.1, the way the real site serves them.

The one loopback server of the project: ``make demo``, the tests and ``make bench`` all serve
through it. Unlike ``python -m http.server`` it keeps a deep listen backlog (the stdlib's 5
drops connections at 32+ concurrent clients), speaks HTTP/1.1 keep-alive with Nagle off (a
response is two writes, head and body; with Nagle on, every keep-alive request waited ~40 ms
for a delayed ACK), sends both validators (ETag and Last-Modified), answers conditional
requests with 304, and keeps bodies in memory until their file changes. Tests add faults
through ``MirrorServer.faults``: a callable that may answer a request itself.

Run it on its own (the benchmark does, so that serving never shares a process with what it
measures): ``python -m modelcat.demo.mirror ROOT [--port 0] [--stats-path /__stats]``. The first
line it prints is the index URL; with ``--stats-path``, a GET of that path answers
``MirrorServer.stats()`` as JSON and is not counted itself.
"""

from __future__ import annotations

import argparse
import contextlib
import email.utils
import hashlib
import json
import mimetypes
import os
import posixpath
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO
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


@dataclass(frozen=True, slots=True)
class _File:
    mtime_ns: int
    size: int
    body: bytes
    etag: str
    last_modified: str
    content_type: str

    @property
    def mtime(self) -> int:
        return self.mtime_ns // 1_000_000_000


class _Files:
    """The files under ``root`` by URL path, read once and again only when one changes."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.inside = os.path.join(self.root, "")  # the root's path with a separator after
        self.cache: dict[str, _File] = {}

    def get(self, url_path: str) -> _File | None:
        relative = posixpath.normpath(url_path).lstrip("/")
        if relative in {"", ".", ".."} or relative.startswith("../"):
            return None
        path = os.path.join(self.root, relative)
        try:
            stat = os.stat(path)
        except (OSError, ValueError):  # missing, or a NUL in the path
            return None
        cached = self.cache.get(relative)
        if cached and (cached.mtime_ns, cached.size) == (stat.st_mtime_ns, stat.st_size):
            return cached
        if not os.path.realpath(path).startswith(self.inside):
            return None  # a link out of the root
        try:
            with open(path, "rb") as handle:
                body = handle.read()
        except OSError:  # a directory, or gone since the stat
            return None
        file = _File(
            stat.st_mtime_ns,
            stat.st_size,
            body,
            entity_tag(body),
            http_date(stat.st_mtime_ns // 1_000_000_000),
            content_type(relative),
        )
        self.cache[relative] = file  # one dict store: safe across the handler threads
        return file


class _CountedWriter:
    """A connection's writer that counts the bytes it sends (status lines, heads, bodies)."""

    def __init__(self, writer: BinaryIO, server: _Server) -> None:
        self._writer = writer
        self._server = server
        self.counting = True  # off while the counters' own answer is sent

    def write(self, data: bytes) -> int:
        if self.counting:
            with self._server.lock:
                self._server.wire_bytes += len(data)
        return self._writer.write(data)

    @property
    def closed(self) -> bool:
        return self._writer.closed

    def flush(self) -> None:
        self._writer.flush()

    def close(self) -> None:
        self._writer.close()


class MirrorHandler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    wfile: _CountedWriter  # type: ignore[assignment]

    def setup(self) -> None:
        super().setup()
        raw: BinaryIO = self.__dict__["wfile"]  # the socket's file, as the base class made it
        self.wfile = _CountedWriter(raw, self.server)

    def do_GET(self) -> None:
        path = unquote(urlsplit(self.path).path)
        if path == self.server.stats_path:
            body = json.dumps(self.server.stats()).encode()
            self.answer(HTTPStatus.OK, body, "application/json", counted=False)
            return
        self.server.record(path, self.headers)
        hook = self.server.faults
        if hook is not None and hook(self, path):
            return
        file = self.server.files.get(path)
        if file is None:
            self.answer(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain")
            return
        etag = file.etag if self.server.send_etag else None
        headers = {"Last-Modified": file.last_modified}
        if etag is not None:
            headers["ETag"] = etag
        conditions = self.headers.get("If-None-Match"), self.headers.get("If-Modified-Since")
        if not_modified(*conditions, etag, file.mtime):
            self.answer(HTTPStatus.NOT_MODIFIED, b"", None, headers)
            return
        self.answer(HTTPStatus.OK, file.body, file.content_type, headers)

    def answer(
        self,
        status: int,
        body: bytes,
        content_type: str | None,
        headers: dict[str, str] | None = None,
        *,
        counted: bool = True,
    ) -> None:
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if status != HTTPStatus.NOT_MODIFIED:
            self.send_header("Content-Length", str(len(body)))
        if counted:
            self.server.count(status, len(body))
        self.wfile.counting = counted
        self.end_headers()
        if body:
            self.wfile.write(body)
        self.wfile.counting = True

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the request log is ``MirrorServer.requests``."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024

    def __init__(self, root: Path, send_etag: bool, port: int, stats_path: str | None) -> None:
        super().__init__(("127.0.0.1", port), MirrorHandler)
        self.files = _Files(root)
        self.send_etag = send_etag
        self.stats_path = stats_path
        self.faults: FaultHook | None = None
        self.lock = threading.Lock()
        self.requests: list[str] = []
        self.conditional = 0
        self.status: Counter[int] = Counter()
        self.body_bytes = 0
        self.wire_bytes = 0

    def record(self, path: str, headers: Any) -> None:
        with self.lock:
            self.requests.append(path)
            if headers.get("If-None-Match") or headers.get("If-Modified-Since"):
                self.conditional += 1

    def count(self, status: int, body_bytes: int) -> None:
        with self.lock:
            self.status[status] += 1
            self.body_bytes += body_bytes

    def stats(self) -> dict[str, Any]:
        with self.lock:
            return {
                "requests": len(self.requests),
                "conditional": self.conditional,
                "status": {str(code): n for code, n in sorted(self.status.items())},
                "body_bytes": self.body_bytes,
                "wire_bytes": self.wire_bytes,
            }


class MirrorServer:
    """``with MirrorServer(root) as server: server.url("/llms.txt")``

    ``port`` 0 (the default) takes a free port; another one raises ``OSError`` if taken.
    """

    def __init__(
        self,
        root: Path,
        *,
        send_etag: bool = True,
        port: int = 0,
        stats_path: str | None = None,
    ) -> None:
        self._server = _Server(Path(root), send_etag, port, stats_path)
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
        """Body bytes answered so far (heads and the stats path not counted)."""
        return self._server.body_bytes

    def stats(self) -> dict[str, Any]:
        """Counters since start: requests, conditional ones, answers by status, body bytes
        and wire bytes (bodies plus status lines and heads, as sent)."""
        return self._server.stats()

    def url(self, path: str = "/llms.txt") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def start(self) -> MirrorServer:
        """Serve in a thread of its own (``stop`` ends it)."""
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in this thread until interrupted."""
        self._server.serve_forever()

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


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve a mirror directory on 127.0.0.1.")
    parser.add_argument("root", type=Path)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--stats-path", help="A path that answers the server's counters.")
    args = parser.parse_args()
    server = MirrorServer(args.root, port=args.port, stats_path=args.stats_path)
    print(server.url(), flush=True)
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C when run by hand
        server.serve_forever()


if __name__ == "__main__":
    main()
