"""A static file server for benchmarks: fast enough never to be what is measured.

``modelcat.mirror`` is a thread per connection, fine for tests; here an asyncio server in
its own process answers with bodies cached in memory (re-read when a file's mtime or size
changes) and a listen backlog of 4096. The HTTP semantics are ``modelcat.mirror``'s own
functions: ETag (SHA-256 prefix) and Last-Modified on every answer, 304 for a matching
If-None-Match or, without one, an If-Modified-Since at or after the file's mtime.

``GET /__stats`` answers counters since start as JSON (requests, status counts,
conditional requests, body bytes, and wire bytes: bodies plus status lines and headers); it
is not counted itself. A harness reads it before and after a phase and takes the difference.

Run: ``python -m bench.server ROOT [--port 0]``; the first line on stdout is the base URL.
In Python: ``with BenchServer(root) as server: server.url("/llms.txt"); server.stats()``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import posixpath
import subprocess
import sys
import urllib.request
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import unquote

from aiohttp import web

from modelcat.mirror import content_type, entity_tag, http_date, not_modified

STATS_PATH = "/__stats"
BACKLOG = 4096


@dataclass(frozen=True, slots=True)
class _Entry:
    mtime_ns: int
    size: int
    body: bytes
    headers: dict[str, str]
    validators: dict[str, str]  # the headers a 304 carries, as the mirror's do


class Files:
    """Files under ``root`` with their validators, cached until the file changes."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.cache: dict[str, _Entry] = {}

    def get(self, url_path: str) -> _Entry | None:
        relative = posixpath.normpath(unquote(url_path)).lstrip("/")
        if relative.startswith("..") or relative in {"", "."}:
            return None
        path = os.path.join(self.root, relative)
        try:
            stat = os.stat(path)
        except OSError:
            return None
        cached = self.cache.get(relative)
        if cached and cached.mtime_ns == stat.st_mtime_ns and cached.size == stat.st_size:
            return cached
        try:
            with open(path, "rb") as handle:
                body = handle.read()
        except OSError:  # a directory, or gone since the stat
            return None
        validators = {"ETag": entity_tag(body), "Last-Modified": http_date(int(stat.st_mtime))}
        headers = {**validators, "Content-Type": content_type(relative)}
        entry = _Entry(stat.st_mtime_ns, stat.st_size, body, headers, validators)
        self.cache[relative] = entry
        return entry


class Stats:
    def __init__(self) -> None:
        self.requests = 0
        self.conditional = 0
        self.body_bytes = 0
        self.wire_bytes = 0  # status lines, headers and bodies
        self.status: Counter[int] = Counter()

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "conditional": self.conditional,
            "body_bytes": self.body_bytes,
            "wire_bytes": self.wire_bytes,
            "status": {str(code): count for code, count in sorted(self.status.items())},
        }


def make_handler(
    files: Files, stats: Stats
) -> Callable[[web.BaseRequest], Awaitable[web.StreamResponse]]:
    async def handle(request: web.BaseRequest) -> web.StreamResponse:
        if request.path == STATS_PATH:
            return web.json_response(stats.as_dict())
        stats.requests += 1
        if "If-None-Match" in request.headers or "If-Modified-Since" in request.headers:
            stats.conditional += 1
        entry = files.get(request.path) if request.method in {"GET", "HEAD"} else None
        if entry is None:
            response = web.Response(status=404, text="not found\n")
        elif not_modified(
            request.headers.get("If-None-Match"),
            request.headers.get("If-Modified-Since"),
            entry.headers["ETag"],
            entry.mtime_ns // 1_000_000_000,
        ):
            response = web.Response(status=304, headers=entry.validators)
        else:
            response = web.Response(body=entry.body, headers=entry.headers)
            stats.body_bytes += len(entry.body)
        # Send it here rather than on return, so that the headers aiohttp adds are known.
        await response.prepare(request)
        await response.write_eof()
        stats.status[response.status] += 1
        stats.wire_bytes += _head_size(response) + (response.body_length or 0)
        return response

    return handle


def _head_size(response: web.StreamResponse) -> int:
    """Bytes of the status line and headers as sent (HTTP/1.1, no header folding)."""
    status_line = len(f"HTTP/1.1 {response.status} {response.reason}\r\n")
    return status_line + sum(len(k) + len(v) + 4 for k, v in response.headers.items()) + 2


async def serve(root: Path, port: int) -> None:
    server = web.Server(make_handler(Files(root), Stats()), access_log=None)
    loop = asyncio.get_running_loop()
    listener = await loop.create_server(server, "127.0.0.1", port, backlog=BACKLOG)
    bound = listener.sockets[0].getsockname()[1]
    print(f"http://127.0.0.1:{bound}", flush=True)
    await listener.serve_forever()


class BenchServer:
    """``bench.server`` in a child process, so that it never competes for our own GIL."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.process: subprocess.Popen[str] | None = None
        self.base = ""

    def start(self) -> BenchServer:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.server", str(self.root)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        self.base = self.process.stdout.readline().strip()
        if not self.base.startswith("http://"):
            self.stop()
            raise RuntimeError(f"bench server did not start (said {self.base!r})")
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def url(self, path: str = "/llms.txt") -> str:
        return self.base + path

    def stats(self) -> dict[str, Any]:
        with urllib.request.urlopen(self.url(STATS_PATH), timeout=10) as response:
            return json.load(response)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)

    def __enter__(self) -> BenchServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve a mirror directory for benchmarks.")
    parser.add_argument("root", type=Path)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C when run by hand
        asyncio.run(serve(args.root, args.port))


if __name__ == "__main__":
    main()
