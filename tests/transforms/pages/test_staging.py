"""Staging a run (``transforms.pages.staging``): the real ``Stager`` fed the items a crawl of
saved pages makes, into real files: the page log, the page values, the archive and the
validator store."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tests.support.archive import replace_frame
from tests.support.runs import sha256
from tests.support.staging import BASE, demo_pages, failed, fetched, not_modified, stage
from transforms.contract.layout import RunDir
from transforms.contract.vocabulary import PageOutcome
from transforms.pages.archive import PageArchive, Validators
from transforms.pages.items import PageItem
from transforms.pages.log import read_page_log
from transforms.pages.parse import decode_markdown, parse_page
from transforms.pages.staging import Stager
from transforms.pages.values import values_table

MODELS = ["claude-3-haiku-20240307", "gemini-2.0-flash-001", "gpt-5-2025-08-07"]
INDEX = "https://mirror.test/llms.txt"
LOGIN_WALL = b'<!doctype html><html><head><meta http-equiv="refresh" content="0; url=/login">'
INDEX_BODY = b"# PipeLLM\n\n## Models\n\n- [a](https://mirror.test/llms/models/a.md)\n"


class Place:
    """A data directory's archive and validator store, and a run directory per run."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.validators = root / "validators.json"

    @property
    def archive(self) -> PageArchive:
        """The archive as a run opens it (each run reads the packs anew)."""
        return PageArchive(self.root / "archive")

    def run(self, name: str, items: list[PageItem]) -> RunDir:
        run_dir = RunDir(self.root / "runs" / name)
        stage(run_dir, items, self.archive, self.validators)
        return run_dir

    def store(self) -> Validators:
        return Validators.load(self.validators)


@pytest.fixture
def place(tmp_path: Path) -> Place:
    return Place(tmp_path)


def test_a_staged_run_is_its_page_log_values_archive_and_store(place: Place) -> None:
    pages = demo_pages(MODELS)
    items = [fetched(INDEX, INDEX_BODY), *(fetched(url, body) for url, body in pages.items())]
    run_dir = place.run("r1", items)

    logged, problems = read_page_log(run_dir)
    assert logged["url"].tolist() == [INDEX, *pages]  # one line per URL, in crawl order
    assert logged["outcome"].tolist() == ["skipped", "model", "model", "model"]
    assert problems.empty
    # Page values: every value of every model page, exactly the parse of its body.
    staged = pq.read_table(run_dir.page_values)
    parsed = [
        (url, sha256(body), parse_page(decode_markdown(body), url)) for url, body in pages.items()
    ]
    assert staged.to_pylist() == values_table(parsed).to_pylist()
    # Every body fetched is archived, the index too, and gives back its bytes.
    for body in [INDEX_BODY, *pages.values()]:
        assert place.archive.get(sha256(body)) == body
    # The store knows each URL by what it was served with.
    store = place.store()
    assert set(store.entries) == {INDEX, *pages}
    url, body = next(iter(pages.items()))
    entry = store.get(url)
    assert entry is not None
    assert (entry.content_sha256, entry.content_type) == (sha256(body), "model-detail-page")
    assert entry.etag == fetched(url, body).etag
    assert store.get(INDEX).links == ["https://mirror.test/llms/models/a.md"]
    # The run's pack is sealed with the SHA-256 of its bytes.
    (pack,) = (place.root / "archive" / "packs").glob("*.pack")
    seal = pack.with_name(pack.name + ".sha256").read_text(encoding="ascii")
    assert seal == sha256(pack.read_bytes()) + "\n"


def test_a_staged_item_lets_go_of_its_body(place: Place) -> None:
    ((url, body),) = demo_pages(MODELS[:1]).items()
    item = fetched(url, body)
    stager = Stager(RunDir(place.root / "runs" / "r1"), place.archive, place.validators)
    stager.add(item)
    assert item.body is None
    assert item.content_sha256 == sha256(body)
    stager.close()


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b"\x00\x01binary", "binary body (NUL bytes)"),
        (b"   \n", "empty body"),
        (b"<!doctype html><html><body>Sign in</body></html>", "HTML page, not markdown"),
    ],
)
def test_a_model_page_that_cannot_be_read_is_quarantined_with_its_reason(
    place: Place, body: bytes, error: str
) -> None:
    """The spider checks this first; whatever it let through, the stager never loses a
    page: it is logged, quarantined, and has no values."""
    item = fetched(BASE + "m.md", body)
    item.outcome, item.error = PageOutcome.MODEL, None  # as if the crawl had taken it for one
    run_dir = place.run("r1", [item])
    logged, _ = read_page_log(run_dir)
    assert logged[["outcome", "error"]].astype(object).to_numpy().tolist() == [
        ["quarantined", logged["error"].iloc[0]]
    ]
    assert logged["error"].iloc[0].startswith(error)
    assert pq.read_table(run_dir.page_values).num_rows == 0


def test_the_parse_problems_of_a_page_are_logged_with_it(place: Place) -> None:
    body = demo_pages(MODELS[:1])[BASE + f"{MODELS[0]}.md"]
    ragged = body.replace(b"## Provider Availability\n", b"## Provider Availability\n| a |\n", 1)
    run_dir = place.run("r1", [fetched(BASE + "ragged.md", ragged)])
    _, problems = read_page_log(run_dir)
    expected = parse_page(decode_markdown(ragged), BASE + "ragged.md").problems
    assert expected
    assert problems["problem"].tolist() == expected
    assert place.store().get(BASE + "ragged.md").problems == expected


def test_the_store_keeps_what_a_failed_or_unreached_page_needs_for_its_next_304(
    place: Place,
) -> None:
    pages = demo_pages([*MODELS, "deepseek-chat"])
    a, b, c, d = pages
    place.run("r1", [fetched(url, body) for url, body in pages.items()])
    first = place.store()

    # Run 2: a answers 304, b fails, c answers with a login wall, d is not reached (the
    # run was stopped, or d left the index).
    place.run("r2", [not_modified(a, first.get(a)), failed(b, 503), fetched(c, LOGIN_WALL)])
    second = place.store()
    assert second.entries == first.entries

    # Run 3: d's body is gone from the archive: a 304 for it could not be answered offline.
    replace_frame(place.archive.root, first.get(d).content_sha256, None)
    changed = pages[a].replace(b"## Overview", b"## Overview\nNew words.", 1)
    place.run("r3", [fetched(a, changed), failed(b, 404)])
    third = place.store()
    assert set(third.entries) == {a, b, c}
    assert third.get(a).content_sha256 == sha256(changed)
    assert (third.get(b), third.get(c)) == (first.get(b), first.get(c))


def test_a_run_that_learnt_nothing_leaves_the_store_as_it_was(place: Place) -> None:
    """Every page answering 304 with what the store holds: the file is not written again.
    One the run read only in part (an entry that was not a validator) is written whole."""
    pages = demo_pages(MODELS)
    place.run("r1", [fetched(url, body) for url, body in pages.items()])
    first = place.store()
    unchanged = [not_modified(url, first.get(url)) for url in pages]
    stamped = 1_000_000_000 * 10**9  # a time no write now would give the file
    os.utime(place.validators, ns=(stamped, stamped))
    place.run("r2", unchanged)
    assert place.validators.stat().st_mtime_ns == stamped
    assert place.store().entries == first.entries

    raw = json.loads(place.validators.read_text())
    place.validators.write_text(json.dumps(raw | {"https://mirror.test/x.md": {"etag": 1}}))
    place.run("r3", unchanged)
    assert place.store().dropped == 0
    assert place.store().entries == first.entries


def test_a_redirect_teaches_the_store_nothing(place: Place) -> None:
    ((url, body),) = demo_pages(MODELS[:1]).items()
    redirect = fetched(BASE + "alias.md", b"moved")
    redirect.outcome, redirect.final_url, redirect.http_status = (
        PageOutcome.REDIRECTED,
        url,
        301,
    )
    place.run("r1", [redirect, fetched(url, body)])
    assert set(place.store().entries) == {url}


def test_a_plain_crawl_stages_without_a_store(tmp_path: Path) -> None:
    """``scrapy crawl pipellm`` alone: no validator store is read or written."""
    ((url, body),) = demo_pages(MODELS[:1]).items()
    run_dir = RunDir(tmp_path / "staged")
    stage(run_dir, [fetched(url, body)], PageArchive(tmp_path / "archive"), None)
    assert sorted(p.name for p in run_dir.path.iterdir()) == ["page_values.parquet", "pages.jsonl"]
    assert not (tmp_path / "validators.json").exists()
    assert json.loads(run_dir.page_log.read_text())["outcome"] == "model"
