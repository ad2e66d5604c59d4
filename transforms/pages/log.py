"""The page log, ``runs/ID/pages.jsonl``: one JSON line per URL a run touched, whatever
happened to it (``PageItem`` without its body). The one place that knows its format.

The stager writes it as the crawl goes; the build's plan reads it whole (``read_page_log``),
and the run records read what a killed run left of it (``partial=True``: a last line cut
short is left out). Retention needs only the bodies a run saw (``body_hashes``). Writing it
loads no pandas: a refresh stages its first pages before it has loaded pandas.
"""

from __future__ import annotations

import json
from typing import IO, TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.json as pa_json

from transforms.contract.layout import RunDir
from transforms.pages.items import PageItem

if TYPE_CHECKING:
    import pandas as pd

# The log's columns as the build reads them, in the dtypes of these Arrow types
# (``casting.pandas_dtype``); ``fetched_at`` and ``problems`` are read apart.
PAGE_COLUMNS: dict[str, pa.DataType] = {
    "url": pa.string(),
    "final_url": pa.string(),
    "http_status": pa.int32(),
    "outcome": pa.string(),
    "content_type": pa.string(),
    "error": pa.string(),
    "retries": pa.int32(),
    "content_sha256": pa.string(),
}


# Only the body hash of each line, read by Arrow's JSON reader: ~6x cheaper than ``json``.
_HASHES_ONLY = pa_json.ParseOptions(
    explicit_schema=pa.schema([("content_sha256", pa.string())]),
    unexpected_field_behavior="ignore",
)
# Every field the build reads, read by Arrow's JSON reader: a line that does not fit (not
# JSON, a field of another type or given twice) makes the whole log read line by line.
_LINES = pa_json.ParseOptions(
    explicit_schema=pa.schema(
        [*PAGE_COLUMNS.items(), ("fetched_at", pa.string()), ("problems", pa.list_(pa.string()))]
    ),
    unexpected_field_behavior="ignore",
)


def page_record(item: PageItem) -> dict[str, Any]:
    """One line of the log: the item without its body and validators."""
    return {
        "url": item.url,
        "final_url": item.final_url,
        "http_status": item.http_status,
        "outcome": str(item.outcome),
        "content_type": item.content_type,
        "error": item.error,
        "fetched_at": item.fetched_at.isoformat(),
        "retries": item.retries,
        "content_sha256": item.content_sha256,
        "problems": item.problems,
    }


class PageLogWriter:
    """Appends one line per page to a run's log, as the pages arrive."""

    def __init__(self, run_dir: RunDir) -> None:
        run_dir.path.mkdir(parents=True, exist_ok=True)
        self.file: IO[str] = run_dir.page_log.open("w", encoding="utf-8")

    def write(self, item: PageItem) -> dict[str, Any]:
        """Log the item; returns its line's record."""
        record = page_record(item)
        self.file.write(json.dumps(record, ensure_ascii=False) + "\n")
        return record

    def close(self) -> None:
        self.file.close()


def read_page_log(run_dir: RunDir, *, partial: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A run's page log, and the parse problems it recorded (page_url, problem).

    ``partial``: the log of a run that may have been killed while writing it; a line that
    cannot be read (the last one, cut short) is left out, and a missing log is empty.
    """
    if not partial:
        lines = _arrow_lines(run_dir)
        if lines is not None:
            return _frames(lines)
    records = []
    if run_dir.page_log.exists() or not partial:
        with run_dir.page_log.open(encoding="utf-8", errors="replace" if partial else None) as log:
            for line in log:
                if not line.strip():
                    continue
                try:
                    records.append(json.loads(line))
                except ValueError:
                    if not partial:
                        raise
    return page_frame(records)


def page_frame(records: list[dict[str, Any]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Page log records (``page_record``) as the log's frame, and the parse problems they
    recorded (page_url, problem)."""
    import pandas as pd  # here, not above: see the module's docstring

    from transforms.contract.casting import STRING, pandas_dtype

    pages = pd.DataFrame(records, columns=[*PAGE_COLUMNS, "fetched_at", "problems"])
    problems = (
        pages[["final_url", "problems"]]
        .explode("problems")
        .dropna()
        .set_axis(["page_url", "problem"], axis=1)
        .astype(STRING)
        .reset_index(drop=True)
    )
    dtypes = {name: pandas_dtype(arrow_type) for name, arrow_type in PAGE_COLUMNS.items()}
    pages = pages.drop(columns="problems").astype(dtypes)
    pages["fetched_at"] = _fetched_at(pages["fetched_at"])
    return pages, problems


def _arrow_lines(run_dir: RunDir) -> pa.Table | None:
    """The log as Arrow reads it (in a third of the time ``json`` takes a line at a time), or
    None where Arrow cannot read it as the lines we write: ``json`` then decides."""
    try:
        lines = pa_json.read_json(run_dir.page_log, parse_options=_LINES)
        lines.validate(full=True)  # Arrow's JSON reader lets bytes that are not UTF-8 through
    except pa.ArrowInvalid:
        return None
    return lines


def _frames(lines: pa.Table) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``page_frame`` of the records Arrow read as ``lines``."""
    import pyarrow.compute as pc

    from transforms.contract.casting import STRING, pandas_dtype

    listed = lines["problems"].combine_chunks()
    pages_of = pc.list_parent_indices(listed)
    problems = pa.table(
        {
            "page_url": lines["final_url"].take(pages_of),
            "problem": pc.list_flatten(listed),
        }
    )
    problems = problems.filter(
        pc.and_(pc.is_valid(problems["page_url"]), pc.is_valid(problems["problem"]))
    )
    pages = lines.select(list(PAGE_COLUMNS)).to_pandas(types_mapper=pandas_dtype)
    pages["fetched_at"] = _fetched_at(lines["fetched_at"].to_pandas())
    return pages, problems.to_pandas().astype(STRING)


def _fetched_at(iso: pd.Series) -> pd.Series:
    import pandas as pd

    fetched = pd.to_datetime(iso, utc=True, format="ISO8601")
    return fetched.dt.tz_localize(None).astype("datetime64[us]")


def body_hashes(run_dir: RunDir) -> set[str]:
    """The SHA-256 of every body a run's page log names. A log Arrow cannot read as JSON lines
    of the expected types is read line by line instead, and raises as ``read_page_log`` does."""
    try:
        hashes = pa_json.read_json(run_dir.page_log, parse_options=_HASHES_ONLY)
    except pa.ArrowInvalid:
        pages, _ = read_page_log(run_dir)
        return set(pages["content_sha256"].dropna())
    return set(hashes["content_sha256"].drop_null().to_pylist())
