"""Fault-tolerant crawling (issue #3): every fault is injected by the real loopback server and
observed through the real ``modelcat refresh`` command and the catalog it publishes.

A refresh costs seconds of process start-up, so the faults of a single run share one crawl
of the demo mirror (``site``) and each test reads its own slice of it; the incremental cases
need two runs of their own.
"""

from __future__ import annotations

import json
import shutil
import socket
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from crawler.settings import RETRY_TIMES
from modelcat.demo import DEMO_MIRROR
from modelcat.demo.mirror import MirrorHandler, MirrorServer
from tests.support import SEED_PAGE, query, refresh

# A fault answers one request in the mirror's place and returns True, or returns False to
# let the mirror answer after all (e.g. after a delay).
Fault = Callable[[MirrorHandler], bool]

TIMEOUT = 1  # DOWNLOAD_TIMEOUT of the shared crawl, seconds
SIZE_CAP = 64 * 1024  # DOWNLOAD_MAXSIZE of the shared crawl: the index (~18 KB) fits under it
RETRY_AFTER = 1  # seconds a 429 asks the crawler to wait


def status(code: int, headers: dict[str, str] | None = None) -> Fault:
    def answer(handler: MirrorHandler) -> bool:
        handler.answer(code, f"{code}\n".encode(), "text/plain", headers)
        return True

    return answer


def serve(body: bytes, content_type: str) -> Fault:
    def answer(handler: MirrorHandler) -> bool:
        handler.answer(200, body, content_type)
        return True

    return answer


def redirect(code: int, location: str) -> Fault:
    return status(code, {"Location": location})


def delay(seconds: float) -> Fault:
    def wait(_handler: MirrorHandler) -> bool:
        time.sleep(seconds)
        return False

    return wait


def hang(handler: MirrorHandler) -> bool:
    """Say nothing until the crawler has given up waiting, then hang up."""
    time.sleep(TIMEOUT + 0.5)
    handler.close_connection = True
    return True


def drop(handler: MirrorHandler) -> bool:
    """Promise a body, send part of it, then close the connection."""
    handler.send_response(200)
    handler.send_header("Content-Type", "text/markdown; charset=utf-8")
    handler.send_header("Content-Length", "10000")
    handler.end_headers()
    handler.wfile.write(b"---\ncontent_type: model-detail-page\n")
    handler.close_connection = True
    handler.connection.shutdown(socket.SHUT_RDWR)
    return True


class Faults:
    """A ``MirrorServer.faults`` hook: a path's n-th request gets the n-th fault of its script,
    the last one repeating; None lets the mirror answer. Remembers when each path was asked."""

    def __init__(self, scripts: dict[str, list[Fault | None]]) -> None:
        self.scripts = scripts
        self.lock = threading.Lock()
        self.times: dict[str, list[float]] = defaultdict(list)

    def __call__(self, handler: MirrorHandler, path: str) -> bool:
        with self.lock:
            self.times[path].append(time.monotonic())
            attempt = len(self.times[path]) - 1
        script = self.scripts.get(path)
        if not script:
            return False
        fault = script[min(attempt, len(script) - 1)]
        return fault is not None and fault(handler)


def model_page(model_id: str, generated_at: str = "2026-03-27T06:53:30.752Z") -> str:
    """A model page like the mirror's, for a model of our own."""
    return (
        SEED_PAGE.read_text(encoding="utf-8")
        .replace("gpt-4.1-mini-2025-04-14", model_id)
        .replace("2026-03-27T06:53:30.752Z", generated_at)
    )


def pages(data_dir: Path) -> dict[str, dict[str, Any]]:
    """The published ``pages`` table by URL path (every URL crawled is on one host)."""
    columns = ["url", "final_url", "http_status", "outcome", "content_type", "error", "retries"]
    rows = query(data_dir, f"SELECT {', '.join(columns)}, fetched_at FROM pages")
    return {
        urlsplit(row[0]).path: dict(zip([*columns, "fetched_at"], row, strict=True)) for row in rows
    }


def models(data_dir: Path) -> dict[str, str]:
    """model_id -> page path of the published ``models`` table."""
    rows = query(data_dir, "SELECT model_id, page_url FROM models")
    return {model_id: urlsplit(url).path for model_id, url in rows}


def run_files(data_dir: Path) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(summary.json, crawl_stats.json) of every run, oldest first."""
    return [
        (
            json.loads((run / "summary.json").read_text()),
            json.loads(run.joinpath("crawl_stats.json").read_text()),
        )
        for run in sorted((data_dir / "runs").iterdir())
    ]


# The shared crawl: the demo mirror plus the pages below, with faults on some of its pages.
M = "/llms/models/"
# A login wall: HTML, and a meta refresh that must not be followed in the page's stead.
LOGIN_HTML = (
    b'<!doctype html><html><head><meta http-equiv="refresh" content="0; url=/login">'
    b"</head><body>Sign in</body></html>"
)
OLD, NEW = "2026-01-01T00:00:00Z", "2026-06-01T00:00:00Z"
# Files the mirror gains: path -> body.
FILES: dict[str, bytes] = {
    M + "new-home.md": model_page("new-home").encode(),
    M + "private/secret.md": model_page("secret").encode(),
    M + "empty.md": b"",
    # A stray Latin-1 byte in an otherwise fine model page.
    M + "bad-utf8.md": model_page("bad-utf8").encode().replace(b"Overview\n", b"Overview\n\xe9"),
    M + "nul.md": model_page("nul").encode() + b"\x00",
    M + "huge.md": (model_page("huge") + "padding " * SIZE_CAP).encode(),
    "/llms/notes.md": b"# Release notes\n\nNo front matter, so no content type.\n",
    "/llms/blog/launch.md": b'---\ncontent_type: "blog-post"\n---\n# Launch\n',
    # Two pairs of pages claiming one Model ID; in each the newer page has the larger URL.
    M + "dup-a-1.md": model_page("dup-a", OLD).encode(),
    M + "dup-a-2.md": model_page("dup-a", NEW).encode(),
    M + "dup-b-1.md": model_page("dup-b", OLD).encode(),
    M + "dup-b-2.md": model_page("dup-b", NEW).encode(),
}
ROBOTS = "User-agent: *\nDisallow: /llms/models/private/\n"
ELSEWHERE = M + "elsewhere.md"  # a model page on a second server
# Links the index gains; {other} is the second server's port. new-home.md is reached only
# through a redirect.
LINKS = [
    *(path for path in FILES if path != M + "new-home.md"),
    M + "alias-o3-mini.md",
    M + "old-name.md",
    M + "gone.md",
    M + "leaves.md",
    M + "leaves-by-port.md",
    "http://127.0.0.1:{other}" + ELSEWHERE,
    "http://localhost:{other}" + ELSEWHERE,
]
DELAY = TIMEOUT / 2  # decides which of two concurrent requests answers last; no timeout


def scripts(other: int) -> dict[str, list[Fault | None]]:
    return {
        M + "o3.md": [status(500), status(503), None],
        M + "o3-pro.md": [status(429, {"Retry-After": str(RETRY_AFTER)}), None],
        M + "o1-pro.md": [status(500)],
        M + "o4-mini.md": [hang, None],
        M + "o4-mini-deep-research.md": [drop, None],
        M + "o3-deep-research.md": [drop],
        M + "claude-opus-5.md": [serve(LOGIN_HTML, "text/html; charset=utf-8")],
        M + "alias-o3-mini.md": [redirect(301, M + "o3-mini.md")],
        M + "old-name.md": [redirect(302, M + "new-home.md")],
        # Off the site by host name, and by port alone.
        M + "leaves.md": [redirect(302, f"http://localhost:{other}{ELSEWHERE}")],
        M + "leaves-by-port.md": [redirect(302, f"http://127.0.0.1:{other}{ELSEWHERE}")],
        # dup-a: the newer page answers last; dup-b: the newer page answers first.
        M + "dup-a-2.md": [delay(DELAY)],
        M + "dup-b-1.md": [delay(DELAY)],
    }


@dataclass
class Site:
    """What the shared crawl left: the published catalog, the run's files, the servers' logs."""

    data_dir: Path
    origin: str  # of the mirror
    requests: Counter[str]  # path -> times the mirror was asked for it
    times: dict[str, list[float]]  # path -> when it was asked (monotonic seconds)
    elsewhere: list[str]  # paths the second server was asked for
    elsewhere_port: int
    summary: dict[str, Any]
    stats: dict[str, Any]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    root = tmp_path_factory.mktemp("faults")
    mirror, other = root / "mirror", root / "elsewhere"
    shutil.copytree(DEMO_MIRROR, mirror)
    for path, body in [*FILES.items(), ("/robots.txt", ROBOTS.encode())]:
        (mirror / path.lstrip("/")).parent.mkdir(parents=True, exist_ok=True)
        (mirror / path.lstrip("/")).write_bytes(body)
    (other / ELSEWHERE.lstrip("/")).parent.mkdir(parents=True)
    (other / ELSEWHERE.lstrip("/")).write_text(model_page("elsewhere"))
    data_dir = root / "data"
    with MirrorServer(mirror) as server, MirrorServer(other) as elsewhere:
        with (mirror / "llms.txt").open("a") as index:
            index.writelines(f"- [x]({link.format(other=elsewhere.port)})\n" for link in LINKS)
        server.faults = faults = Faults(scripts(elsewhere.port))
        settings = {"DOWNLOAD_TIMEOUT": TIMEOUT, "DOWNLOAD_MAXSIZE": SIZE_CAP}
        result = refresh(server, data_dir, *(f"--set={k}={v}" for k, v in settings.items()))
    assert result.returncode == 0, result.stdout + result.stderr
    [(summary, stats)] = run_files(data_dir)
    return Site(
        data_dir,
        server.url(""),
        Counter(server.requests),
        faults.times,
        elsewhere.requests,
        elsewhere.port,
        summary,
        stats,
    )


def outcomes(site: Site, paths: list[str]) -> list[tuple[Any, ...]]:
    """(path, times requested, outcome, http_status, retries, error) of each path."""
    rows = pages(site.data_dir)
    fields = ("outcome", "http_status", "retries", "error")
    return [(path, site.requests[path], *(rows[path][f] for f in fields)) for path in paths]


def test_server_errors_are_retried_with_backoff(site: Site) -> None:
    expected = [
        # path, times requested, outcome, http_status, retries, error
        (M + "o3.md", 3, "model", 200, 2, None),  # 500, 503, then the page
        (M + "o3-pro.md", 2, "model", 200, 1, None),  # 429, then the page
        (M + "o1-pro.md", 1 + RETRY_TIMES, "failed", 500, RETRY_TIMES, "HTTP 500"),
    ]
    assert outcomes(site, [row[0] for row in expected]) == expected
    # The backoff base is 10 ms: only the 429's Retry-After explains a wait this long.
    first, second = site.times[M + "o3-pro.md"]
    assert second - first >= RETRY_AFTER
    published = models(site.data_dir)
    assert (published.get("o3"), published.get("o3-pro")) == (M + "o3.md", M + "o3-pro.md")
    assert "o1-pro" not in published
    failed = {"url": site.origin + M + "o1-pro.md", "outcome": "failed", "error": "HTTP 500"}
    assert failed in site.summary["failed_pages"]


def test_timeouts_and_dropped_connections_are_retried(site: Site) -> None:
    lost = "ResponseDataLossError"
    expected = [
        (M + "o4-mini.md", 2, "model", 200, 1, None),  # timed out once
        (M + "o4-mini-deep-research.md", 2, "model", 200, 1, None),  # dropped once
        (M + "o3-deep-research.md", 1 + RETRY_TIMES, "failed", None, RETRY_TIMES, lost),
    ]
    assert outcomes(site, [row[0] for row in expected]) == expected
    retried = {k.rsplit(".", 1)[1]: v for k, v in site.stats.items() if "reason_count/scrapy" in k}
    assert retried == {"DownloadTimeoutError": 1, lost: 1 + RETRY_TIMES}
    published = models(site.data_dir)
    assert {"o4-mini", "o4-mini-deep-research"} <= published.keys()
    assert "o3-deep-research" not in published


def test_redirects_are_followed_and_a_model_reached_twice_counts_once(site: Site) -> None:
    rows = pages(site.data_dir)
    redirects = [
        # redirecting path, status, its target: linked from the index too, or only from here
        (M + "alias-o3-mini.md", 301, M + "o3-mini.md"),
        (M + "old-name.md", 302, M + "new-home.md"),
    ]
    for path, code, target in redirects:
        row = rows[path]
        assert (row["outcome"], row["http_status"], row["final_url"]) == (
            "redirected",
            code,
            site.origin + target,
        )
        # The target is a page of its own, fetched once however many URLs lead to it.
        assert (rows[target]["outcome"], site.requests[target]) == ("model", 1)
    counts = query(
        site.data_dir,
        "SELECT model_id, page_url, count(*) OVER (PARTITION BY model_id) FROM models "
        "WHERE model_id IN ('o3-mini', 'new-home')",
    )
    assert sorted(counts) == [
        ("new-home", site.origin + M + "new-home.md", 1),
        ("o3-mini", site.origin + M + "o3-mini.md", 1),
    ]
    # The same page twice is no conflict between pages.
    assert site.summary["quality_issues_by_kind"]["duplicate_model_id"] == 2  # the dup-* pairs
    # A meta refresh is no redirect: the login wall is judged as it stands.
    assert site.requests["/login"] == 0


def test_missing_pages_are_failures_not_models(site: Site) -> None:
    assert outcomes(site, [M + "gone.md"]) == [(M + "gone.md", 1, "failed", 404, 0, "HTTP 404")]
    assert M + "gone.md" not in models(site.data_dir).values()


def test_robots_txt_is_obeyed(site: Site) -> None:
    secret = M + "private/secret.md"
    assert site.requests["/robots.txt"] == 1
    reason = "IgnoreRequest: Forbidden by robots.txt"
    assert outcomes(site, [secret]) == [(secret, 0, "disallowed", None, 0, reason)]
    assert "secret" not in models(site.data_dir)


def test_other_hosts_are_never_requested(site: Site) -> None:
    # Neither its two links (one by host name, one by port) nor the two redirects there, nor
    # its robots.txt.
    assert site.elsewhere == []
    assert site.stats["modelcat/links/offsite"] == 2
    rows = pages(site.data_dir)
    assert all(row["url"].startswith(site.origin) for row in rows.values())
    for path, host in ((M + "leaves.md", "localhost"), (M + "leaves-by-port.md", "127.0.0.1")):
        target = f"http://{host}:{site.elsewhere_port}{ELSEWHERE}"
        assert outcomes(site, [path]) == [
            (path, 1, "disallowed", 302, 0, f"redirects off the site to {target}")
        ]
        assert rows[path]["final_url"] == target
    assert "elsewhere" not in models(site.data_dir)


HUGE = len(FILES[M + "huge.md"])
QUARANTINED = [
    # path, http_status, the reason pages.error starts with
    (M + "claude-opus-5.md", 200, "HTML page, not markdown"),
    (M + "empty.md", 200, "empty body"),
    (M + "bad-utf8.md", 200, "invalid UTF-8 at byte"),
    (M + "nul.md", 200, "binary body (NUL bytes)"),
    # Cancelled on its Content-Length, before the body.
    (M + "huge.md", None, f"body over the size cap: Expected to receive {HUGE} bytes"),
]


@pytest.mark.parametrize(("path", "http_status", "reason"), QUARANTINED)
def test_pages_that_are_not_markdown_are_quarantined(
    site: Site, path: str, http_status: int | None, reason: str
) -> None:
    row = pages(site.data_dir)[path]
    assert (row["outcome"], row["http_status"]) == ("quarantined", http_status)
    assert row["error"].startswith(reason)
    assert (row["retries"], site.requests[path]) == (0, 1)  # no fault here would pass
    # Each but the empty one is a model page otherwise; none is published.
    assert path not in models(site.data_dir).values()
    assert Path(path).stem not in models(site.data_dir)


def test_non_model_pages_are_skipped_and_counted(site: Site) -> None:
    rows = pages(site.data_dir)
    skipped = {
        path: row["content_type"] for path, row in rows.items() if row["outcome"] == "skipped"
    }
    assert skipped == {
        "/llms.txt": None,
        "/llms/providers/openai.md": "provider-page",
        "/llms/notes.md": None,  # no front matter
        "/llms/blog/launch.md": "blog-post",
    }
    assert site.summary["pages_by_outcome"]["skipped"] == len(skipped)
    assert models(site.data_dir).keys().isdisjoint({"notes", "launch", "openai"})


def test_the_newest_duplicate_wins_whatever_the_crawl_order(site: Site) -> None:
    rows = pages(site.data_dir)
    # (loser, winner) by generated_at; the fault delays decided which answered first.
    pairs = [(M + "dup-a-1.md", M + "dup-a-2.md"), (M + "dup-b-1.md", M + "dup-b-2.md")]
    (a_old, a_new), (b_old, b_new) = pairs
    assert rows[a_new]["fetched_at"] > rows[a_old]["fetched_at"]
    assert rows[b_new]["fetched_at"] < rows[b_old]["fetched_at"]
    published = query(
        site.data_dir,
        "SELECT model_id, page_url, page_generated_at FROM models WHERE model_id LIKE 'dup-%'",
    )
    assert sorted((m, urlsplit(url).path, str(at)) for m, url, at in published) == [
        ("dup-a", a_new, "2026-06-01 00:00:00"),
        ("dup-b", b_new, "2026-06-01 00:00:00"),
    ]
    for loser, winner in pairs:
        assert (rows[loser]["outcome"], rows[loser]["error"]) == (
            "duplicate",
            f"same Model ID as {site.origin}{winner}",
        )
        assert rows[winner]["outcome"] == "model"
    issues = query(
        site.data_dir,
        "SELECT model_id, page_url FROM quality_issues WHERE kind = 'duplicate_model_id'",
    )
    assert sorted((m, urlsplit(url).path) for m, url in issues) == [
        ("dup-a", a_old),
        ("dup-b", b_old),
    ]


def test_the_run_publishes_everything_else(site: Site, expected: dict) -> None:
    lost = {"o1-pro", "o3-deep-research", "claude-opus-5"}  # failed, failed, quarantined
    gained = {"new-home", "dup-a", "dup-b"}
    assert models(site.data_dir).keys() == (expected.keys() - lost) | gained
    rows = pages(site.data_dir)
    # Every demo page without a fault is a model, fetched once, never retried.
    plain = {model["page_path"] for model in expected.values()} - set(scripts(0))
    assert {(rows[p]["outcome"], rows[p]["retries"], site.requests[p]) for p in plain} == {
        ("model", 0, 1)
    }
    by_outcome = {
        "model": 189,
        "skipped": 4,
        "redirected": 2,
        "duplicate": 2,
        "quarantined": 5,
        "failed": 3,
        "disallowed": 3,
    }
    assert Counter(row["outcome"] for row in rows.values()) == by_outcome
    assert site.summary["pages_by_outcome"] == by_outcome
    listed = {(p["url"], p["outcome"], p["error"]) for p in site.summary["failed_pages"]}
    assert listed == {
        (row["url"], row["outcome"], row["error"])
        for row in rows.values()
        if row["outcome"] in ("failed", "quarantined", "disallowed")
    }
    runs = query(site.data_dir, "SELECT status, pages_seen, models_published FROM runs")
    assert runs == [("published", len(rows), 189)]
    assert site.stats["finish_reason"] == "finished"


def test_a_passing_failure_keeps_the_model_and_a_404_drops_it(
    mirror: Path, server: MirrorServer, data_dir: Path
) -> None:
    first = refresh(server, data_dir)
    assert first.returncode == 0, first.stdout + first.stderr
    sql = "SELECT fetched_at, content_sha256 FROM models WHERE model_id = 'o3'"
    prices = "SELECT metric, tier_label, usd_per_mtok FROM official_prices WHERE model_id = 'o3'"
    before, before_prices = query(data_dir, sql), sorted(query(data_dir, prices))

    server.faults = Faults({M + "o3.md": [status(503)]})
    (mirror / M.lstrip("/") / "o1-pro.md").unlink()
    second = refresh(server, data_dir)
    assert second.returncode == 0, second.stdout + second.stderr

    rows = pages(data_dir)
    fields = ("outcome", "http_status", "retries")
    assert [tuple(rows[p][f] for f in fields) for p in (M + "o3.md", M + "o1-pro.md")] == [
        ("failed", 503, RETRY_TIMES),
        ("failed", 404, 0),
    ]
    # o3 as the last catalog had it, old fetched_at included; o1-pro gone.
    assert query(data_dir, sql) == before
    assert sorted(query(data_dir, prices)) == before_prices
    assert "o1-pro" not in models(data_dir)
    summary = run_files(data_dir)[-1][0]
    assert (summary["models_carried_forward"], summary["models_published"]) == (1, 188)
    statuses = query(data_dir, "SELECT status FROM runs ORDER BY run_id")
    assert statuses == [("published",), ("published",)]
