"""The loopback mirror server (``modelcat.demo.mirror``): the one server the demo, the tests and the
benchmark serve through, in this process or in one of its own (``python -m modelcat.demo.mirror``).
"""

from __future__ import annotations

import email.utils
import json
import os
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from bench.server import STATS_PATH, MirrorProcess
from modelcat.demo.mirror import MirrorHandler, MirrorServer

MTIME = 1_780_000_000


def get(url: str, **headers: str) -> tuple[int, str | None, str | None, bytes]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            answer = response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        answer = error.code, error.headers, b""
    status, head, body = answer
    return status, head.get("Content-Type"), head.get("ETag"), body


def raw(port: int, target: str, **headers: str) -> bytes:
    """Every byte the server sends for one request, as written (no client normalizing)."""
    lines = [f"GET {target} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        chunks = []
        while chunk := connection.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def status_of(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


@pytest.fixture
def root(tmp_path: Path) -> Path:
    root = tmp_path / "mirror"
    (root / "llms").mkdir(parents=True)
    (root / "llms.txt").write_text("- [A](/llms/a.md)\n")
    (root / "llms" / "a.md").write_text("# A\n")
    for path in (root / "llms.txt", root / "llms" / "a.md"):
        os.utime(path, (MTIME, MTIME))
    return root


def test_the_mirror_answers_conditional_requests(root: Path) -> None:
    with MirrorServer(root) as server:
        base = server.url("")
        status, content_type, etag, body = get(base + "/llms/a.md")
        assert (status, content_type, body) == (200, "text/markdown; charset=utf-8", b"# A\n")
        assert etag is not None
        at = email.utils.formatdate(MTIME, usegmt=True)
        before = email.utils.formatdate(MTIME - 60, usegmt=True)
        statuses = [
            get(base + "/llms.txt")[0],
            get(base + "/llms/a.md", **{"If-None-Match": etag})[0],
            get(base + "/llms/a.md", **{"If-None-Match": '"other", ' + etag})[0],
            get(base + "/llms/a.md", **{"If-None-Match": "*"})[0],
            get(base + "/llms/a.md", **{"If-None-Match": '"other"'})[0],
            get(base + "/llms/a.md", **{"If-Modified-Since": at})[0],
            get(base + "/llms/a.md", **{"If-Modified-Since": before})[0],
            # If-None-Match decides when both are sent: the tag differs, so the page is sent.
            get(base + "/llms/a.md", **{"If-None-Match": '"other"', "If-Modified-Since": at})[0],
            get(base + "/llms/a.md", **{"If-Modified-Since": "not a date"})[0],
            get(base + "/llms/missing.md")[0],
        ]
        assert get(base + "/llms.txt")[1] == "text/plain; charset=utf-8"
    assert statuses == [200, 304, 304, 304, 200, 304, 200, 200, 200, 404]


def test_without_etags_it_revalidates_by_date_alone(root: Path) -> None:
    with MirrorServer(root, send_etag=False) as server:
        status, _, etag, _ = get(server.url("/llms/a.md"))
        at = email.utils.formatdate(MTIME, usegmt=True)
        revalidated = get(
            server.url("/llms/a.md"), **{"If-None-Match": "*", "If-Modified-Since": at}
        )
    assert (status, etag, revalidated[0]) == (200, None, 304)


def test_a_changed_file_is_served_anew_not_from_memory(root: Path) -> None:
    page = root / "llms" / "a.md"
    with MirrorServer(root) as server:
        _, _, first_tag, first = get(server.url("/llms/a.md"))
        page.write_text("# A, edited\n")
        os.utime(page, (MTIME + 60, MTIME + 60))
        revalidated = get(server.url("/llms/a.md"), **{"If-None-Match": first_tag or ""})
        page.unlink()
        gone = get(server.url("/llms/a.md"))
    assert first == b"# A\n"
    assert revalidated[0] == 200
    assert revalidated[3] == b"# A, edited\n"
    assert revalidated[2] not in {None, first_tag}
    assert gone[0] == 404


@pytest.mark.parametrize(
    "target",
    [
        "/",
        "/llms",
        "/../outside.md",
        "/llms/../../outside.md",
        "/%2e%2e/outside.md",
        "../outside.md",
        "/llms/a%00.md",
        "/link.md",
    ],
)
def test_nothing_outside_the_root_is_served(root: Path, target: str) -> None:
    (root.parent / "outside.md").write_text("secret\n")
    (root / "link.md").symlink_to(root.parent / "outside.md")
    with MirrorServer(root) as server:
        answer = raw(server.port, target)
        after = get(server.url("/llms/a.md"))  # and it still serves
    assert status_of(answer) == 404
    assert b"secret" not in answer
    assert after[0] == 200


def test_its_counters_add_up_to_what_it_sent(root: Path) -> None:
    with MirrorServer(root, stats_path=STATS_PATH) as server:
        first = raw(server.port, "/llms/a.md")
        etag = next(
            line.split(b":", 1)[1].strip().decode()
            for line in first.split(b"\r\n")
            if line.lower().startswith(b"etag:")
        )
        answers = [
            raw(server.port, "/llms.txt"),
            raw(server.port, "/llms/a.md", If_None_Match=etag),
            raw(server.port, "/llms/missing.md"),
        ]
        stats = json.loads(raw(server.port, STATS_PATH).partition(b"\r\n\r\n")[2])
        # Reading the counters moves none of them, not even the wire bytes of its answer.
        again = json.loads(raw(server.port, STATS_PATH).partition(b"\r\n\r\n")[2])
        requests = server.requests
    sent = len(answers[0]) + len(answers[1]) + len(answers[2])
    assert requests == ["/llms/a.md", "/llms.txt", "/llms/a.md", "/llms/missing.md"]
    assert [status_of(a) for a in [first, *answers]] == [200, 200, 304, 404]
    assert stats["requests"] == 4  # the counters' own path is not counted
    assert stats["conditional"] == 1
    assert stats["status"] == {"200": 2, "304": 1, "404": 1}
    body = first.partition(b"\r\n\r\n")[2]
    assert stats["body_bytes"] == len(body) + len("- [A](/llms/a.md)\n") + len("not found\n")
    assert sent > stats["body_bytes"] - len(body)
    assert stats["wire_bytes"] == len(first) + sent
    assert again == stats


def test_answers_are_not_held_back_for_a_delayed_ack(root: Path) -> None:
    """A response is two writes (head, body): with Nagle on, each keep-alive request waited
    ~40 ms for the client's delayed ACK (10k pages took 14 s instead of 3)."""
    seen: list[int] = []

    def look(handler: MirrorHandler, path: str) -> bool:
        seen.append(handler.connection.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
        return False

    with MirrorServer(root) as server:
        server.faults = look
        assert get(server.url("/llms/a.md"))[0] == 200
    assert seen
    assert all(seen)


def test_run_on_its_own_it_prints_its_url_and_serves_until_stopped(root: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "modelcat.demo.mirror", str(root)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        assert url.endswith("/llms.txt")
        status, _, _, body = get(url)
        assert (status, body) == (200, b"- [A](/llms/a.md)\n")
        # Without --stats-path the counters are not served: the path is a missing page.
        assert get(url.removesuffix("/llms.txt") + STATS_PATH)[0] == 404
    finally:
        process.terminate()
    assert process.wait(timeout=10) != 0  # stopped by the signal, not exited on its own


def test_the_benchmark_serves_through_it_in_a_process_of_its_own(root: Path) -> None:
    with MirrorProcess(root) as server:
        assert server.pid != os.getpid()
        before = server.stats()
        assert get(server.url("/llms/a.md"))[3] == b"# A\n"
        after = server.stats()
    assert after["requests"] - before["requests"] == 1
    assert after["status"]["200"] - before["status"].get("200", 0) == 1
    assert after["body_bytes"] - before["body_bytes"] == len(b"# A\n")
