"""The loopback servers speak the same HTTP: the tests' and the demo's ``MirrorServer`` and the
benchmark's ``bench.server`` (an asyncio server in a process of its own) answer every request
alike, from the same validators, content types and 304 rule (``modelcat.mirror``)."""

from __future__ import annotations

import email.utils
import os
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from modelcat.mirror import MirrorServer

MTIME = 1_780_000_000


@contextmanager
def serving(kind: str, root: Path) -> Iterator[str]:
    """The base URL of a server of ``kind`` on ``root``."""
    if kind == "mirror":
        with MirrorServer(root) as server:
            yield server.url("")
    else:
        pytest.importorskip("aiohttp")
        from bench.server import BenchServer

        with BenchServer(root) as server:
            yield server.url("")


def get(url: str, **headers: str) -> tuple[int, str | None, str | None, bytes]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            answer = response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        answer = error.code, error.headers, b""
    status, head, body = answer
    return status, head.get("Content-Type"), head.get("ETag"), body


def exchange(base: str) -> list[tuple[int, str | None, str | None, bytes]]:
    """A first fetch, then every kind of conditional request and a missing page."""
    status, _, etag, body = first = get(base + "/llms/a.md")
    assert (status, body) == (200, b"# A\n")
    at = email.utils.formatdate(MTIME, usegmt=True)
    before = email.utils.formatdate(MTIME - 60, usegmt=True)
    return [
        first,
        get(base + "/llms.txt"),
        get(base + "/llms/a.md", **{"If-None-Match": etag}),
        get(base + "/llms/a.md", **{"If-None-Match": '"other", ' + etag}),
        get(base + "/llms/a.md", **{"If-None-Match": '"other"'}),
        get(base + "/llms/a.md", **{"If-Modified-Since": at}),
        get(base + "/llms/a.md", **{"If-Modified-Since": before}),
        get(base + "/llms/a.md", **{"If-None-Match": '"other"', "If-Modified-Since": at}),
        get(base + "/llms/a.md", **{"If-Modified-Since": "not a date"}),
        (get(base + "/llms/missing.md")[0], None, None, b""),
    ]


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "llms").mkdir()
    (tmp_path / "llms.txt").write_text("- [A](/llms/a.md)\n")
    (tmp_path / "llms" / "a.md").write_text("# A\n")
    for path in (tmp_path / "llms.txt", tmp_path / "llms" / "a.md"):
        os.utime(path, (MTIME, MTIME))
    return tmp_path


def test_the_mirror_answers_conditional_requests(root: Path) -> None:
    with serving("mirror", root) as base:
        statuses = [answer[0] for answer in exchange(base)]
    assert statuses == [200, 200, 304, 304, 200, 304, 200, 200, 200, 404]


def test_the_bench_server_answers_every_request_as_the_mirror_does(root: Path) -> None:
    with serving("mirror", root) as base:
        mirror = exchange(base)
    with serving("bench", root) as base:
        bench = exchange(base)
    assert bench == mirror
    assert mirror[0][1] == "text/markdown; charset=utf-8"
    assert mirror[1][1] == "text/plain; charset=utf-8"
