"""The page log, ``runs/ID/pages.jsonl`` (``transforms.pages.log``): one line per URL a run
touched, written as the pages arrive and read back whole, or, for a run that was killed
while writing it, as far as it reads."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.staging import failed
from transforms.contract.casting import pandas_dtype
from transforms.contract.layout import RunDir
from transforms.contract.vocabulary import PageOutcome
from transforms.pages.items import PageItem
from transforms.pages.log import (
    PAGE_COLUMNS,
    PageLogWriter,
    body_hashes,
    page_frame,
    page_record,
    read_page_log,
)

URL = "http://127.0.0.1/llms/models/"


def model(name: str, *, problems: list[str] | None = None, at: datetime | None = None):
    return PageItem(
        url=URL + name,
        final_url=URL + name,
        http_status=200,
        outcome=PageOutcome.MODEL,
        content_type="model-detail-page",
        error=None,
        fetched_at=at or datetime(2026, 3, 1, 12, 0, tzinfo=UTC),
        retries=1,
        body=b"the body is never logged",
        content_sha256="ab" * 32,
        etag='"v1"',
        problems=problems or [],
    )


def written(run_dir: RunDir, items: list[PageItem]) -> None:
    log = PageLogWriter(run_dir)
    for item in items:
        log.write(item)
    log.close()


def test_a_line_is_the_item_without_its_body_and_validators() -> None:
    record = page_record(model("a.md", problems=["a ragged row"]))
    assert record == {
        "url": URL + "a.md",
        "final_url": URL + "a.md",
        "http_status": 200,
        "outcome": "model",
        "content_type": "model-detail-page",
        "error": None,
        "fetched_at": "2026-03-01T12:00:00+00:00",
        "retries": 1,
        "content_sha256": "ab" * 32,
        "problems": ["a ragged row"],
    }
    json.dumps(record)  # one JSON line


def test_the_log_reads_back_in_the_types_the_build_reads(tmp_path: Path) -> None:
    run_dir = RunDir(tmp_path / "runs" / "r")
    paris = timezone(timedelta(hours=1))
    items = [
        model("a.md", problems=["first", "second"]),
        model("é.md", at=datetime(2026, 3, 1, 13, 30, tzinfo=paris)),  # 12:30 UTC
        failed(URL + "gone.md", 404),
        failed(URL + "slow.md", None),
    ]
    written(run_dir, items)
    pages, problems = read_page_log(run_dir)

    assert len(run_dir.page_log.read_text(encoding="utf-8").splitlines()) == 4
    assert list(pages.columns) == [*PAGE_COLUMNS, "fetched_at"]
    assert {c: pages[c].dtype for c in PAGE_COLUMNS} == {
        c: pandas_dtype(t) for c, t in PAGE_COLUMNS.items()
    }
    assert {str(pages[c].dtype) for c in PAGE_COLUMNS} == {"string", "Int32"}
    assert pages["http_status"].dtype == pd.Int32Dtype()
    assert pages["url"].tolist() == [item.url for item in items]
    assert pages["outcome"].tolist() == ["model", "model", "failed", "failed"]
    assert pages["http_status"].tolist() == [200, 200, 404, pd.NA]
    assert pages["final_url"].isna().tolist() == [False, False, False, True]
    # Naive UTC, to the microsecond: the catalog's timestamps.
    assert pages["fetched_at"].dtype == "datetime64[us]"
    assert pages["fetched_at"].tolist()[:2] == [
        pd.Timestamp("2026-03-01 12:00:00"),
        pd.Timestamp("2026-03-01 12:30:00"),
    ]
    assert problems.astype(object).to_numpy().tolist() == [
        [URL + "a.md", "first"],
        [URL + "a.md", "second"],
    ]
    assert list(problems.columns) == ["page_url", "problem"]


def test_the_log_of_a_killed_run_reads_as_far_as_it_was_written(tmp_path: Path) -> None:
    run_dir = RunDir(tmp_path / "runs" / "r")
    written(run_dir, [model("a.md"), model("b.md")])
    text = run_dir.page_log.read_text(encoding="utf-8")
    run_dir.page_log.write_text(text + text.splitlines()[0][:25], encoding="utf-8")

    pages, _ = read_page_log(run_dir, partial=True)
    assert pages["url"].tolist() == [URL + "a.md", URL + "b.md"]
    with pytest.raises(ValueError, match=r"JSON|Expecting|Unterminated"):
        read_page_log(run_dir)  # a whole run's log is whole, or the build stops


def test_a_run_killed_before_its_first_page_has_an_empty_log(tmp_path: Path) -> None:
    run_dir = RunDir(tmp_path / "runs" / "r")
    pages, problems = read_page_log(run_dir, partial=True)
    assert pages.empty
    assert problems.empty
    assert list(pages.columns) == [*PAGE_COLUMNS, "fetched_at"]
    with pytest.raises(FileNotFoundError):
        read_page_log(run_dir)


def test_the_bodies_a_run_saw_are_the_hashes_its_log_names(tmp_path: Path) -> None:
    run_dir = RunDir(tmp_path / "runs" / "r")
    other = model("b.md")
    other.content_sha256 = "cd" * 32
    written(run_dir, [model("a.md"), other, model("c.md"), failed(URL + "gone.md", 404)])
    pages, _ = read_page_log(run_dir)

    assert body_hashes(run_dir) == {"ab" * 32, "cd" * 32}
    assert body_hashes(run_dir) == set(pages["content_sha256"].dropna())


NUMBER = '"' + "ab" * 32 + '"'


@pytest.mark.parametrize(
    ("damage", "hashes"),
    [
        pytest.param(lambda line: "{}", {"ab" * 32}, id="a line with no hash"),
        pytest.param(lambda line: line.replace(NUMBER, "12"), {"ab" * 32, "12"}, id="a number"),
    ],
)
def test_a_log_arrow_cannot_read_is_read_as_the_build_reads_it(
    tmp_path: Path, damage, hashes: set[str]
) -> None:
    run_dir = RunDir(tmp_path / "runs" / "r")
    written(run_dir, [model("a.md")])
    line = run_dir.page_log.read_text(encoding="utf-8").splitlines()[0]
    run_dir.page_log.write_text(line + "\n" + damage(line) + "\n", encoding="utf-8")

    assert (
        body_hashes(run_dir) == hashes == set(read_page_log(run_dir)[0]["content_sha256"].dropna())
    )


def test_a_log_cut_short_stops_retention_as_it_stops_the_build(tmp_path: Path) -> None:
    run_dir = RunDir(tmp_path / "runs" / "r")
    written(run_dir, [model("a.md")])
    line = run_dir.page_log.read_text(encoding="utf-8")
    run_dir.page_log.write_text(line + line[:25], encoding="utf-8")
    with pytest.raises(ValueError, match=r"Unterminated|Expecting"):  # json's words, not Arrow's
        body_hashes(run_dir)


_TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=12)


@settings(max_examples=80, deadline=None)
@given(
    items=st.lists(
        st.builds(
            PageItem,
            url=_TEXT,
            final_url=st.none() | _TEXT,
            http_status=st.none() | st.integers(-(2**31), 2**31 - 1),
            outcome=st.sampled_from(PageOutcome),
            content_type=st.none() | _TEXT,
            error=st.none() | _TEXT,
            fetched_at=st.datetimes(
                timezones=st.sampled_from([UTC, timezone(timedelta(hours=-7))])
            ),
            retries=st.integers(0, 2**31 - 1),
            content_sha256=st.none() | _TEXT,
            problems=st.lists(_TEXT, max_size=3),
        ),
        max_size=8,
    )
)
def test_the_log_as_arrow_reads_it_is_the_log_as_json_reads_it(
    tmp_path_factory: pytest.TempPathFactory, items: list[PageItem]
) -> None:
    run_dir = RunDir(tmp_path_factory.mktemp("runs") / "r")
    written(run_dir, items)
    lines = run_dir.page_log.read_text(encoding="utf-8").split("\n")[:-1]
    pages, problems = read_page_log(run_dir)
    # One json.loads a line, as the log was read before Arrow read it.
    json_pages, json_problems = page_frame([json.loads(line) for line in lines])
    pd.testing.assert_frame_equal(pages, json_pages)
    pd.testing.assert_frame_equal(problems, json_problems)
    fetched = [item.fetched_at.astimezone(UTC).replace(tzinfo=None) for item in items]
    assert pages["fetched_at"].tolist() == fetched  # to the microsecond, in UTC


@pytest.mark.parametrize(
    ("line", "error"),
    [
        pytest.param(b'{"url": "\xff"}', UnicodeDecodeError, id="not UTF-8"),
        pytest.param(b'{"url": 1', ValueError, id="cut short"),
    ],
)
def test_a_log_arrow_reads_wrongly_or_not_at_all_raises_as_json_does(
    tmp_path: Path, line: bytes, error: type[Exception]
) -> None:
    run_dir = RunDir(tmp_path / "runs" / "r")
    written(run_dir, [model("a.md")])
    run_dir.page_log.write_bytes(run_dir.page_log.read_bytes() + line + b"\n")
    with pytest.raises(error):
        read_page_log(run_dir)


def test_a_field_given_twice_is_read_as_json_reads_it(tmp_path: Path) -> None:
    run_dir = RunDir(tmp_path / "runs" / "r")
    written(run_dir, [model("a.md")])
    line = run_dir.page_log.read_text(encoding="utf-8").strip()
    run_dir.page_log.write_text(line[:-1] + ', "retries": 7}\n', encoding="utf-8")
    assert read_page_log(run_dir)[0]["retries"].tolist() == [7]  # the last, as json takes it
