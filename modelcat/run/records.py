"""The record of every run: ``runs/RUN_ID/summary.json``, and the ``runs`` table made of them.

A summary is written when its run ends, atomically (a temporary file renamed over it): a
crash leaves the old file or the new one, never part of one. The record is as durable as
the commit, because a published catalog carries its own run's row in its ``runs`` table,
beside the rows of every run before it. ``reconcile`` restores from those rows a summary
that a crash (``kill -9`` between the commit and the summary) or a damaged disk lost, and
records a run that died before it could write one.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, overload

from transforms.contract.layout import DataDir, RunDir
from transforms.contract.vocabulary import PageOutcome, RunStatus, TableName
from transforms.pages import outcome
from transforms.pages.log import read_page_log

if TYPE_CHECKING:
    import pandas as pd

    from transforms.build.tables import BuiltTables
    from transforms.references.tables import ReferenceTables

RUN_ID = re.compile(r"\d{8}T\d{9}Z")
# The outcomes the runs table counts in columns of their own (pages_<outcome>).
COUNTED_OUTCOMES = (
    PageOutcome.NOT_MODIFIED,
    PageOutcome.FAILED,
    PageOutcome.QUARANTINED,
    PageOutcome.SKIPPED,
)


@dataclass
class RunSummary:
    run_id: str
    started_at: str
    start_urls: list[str] | None
    # The system clock when the run started, as read; ``started_at`` is the run id's time,
    # which never goes back (see ``new_run_id``). They differ only when the clock was behind.
    clock_started_at: str | None = None
    status: str = RunStatus.FAILED
    message: str | None = None
    finished_at: str | None = None
    crawl_finish_reason: str | None = None
    pages_seen: int = 0
    pages_by_outcome: dict[str, int] = field(default_factory=dict)
    pages_fetched: int | None = 0
    pages_retried: int | None = 0
    models_published: int = 0
    models_carried_forward: int | None = 0
    pages_built_ahead: int = 0  # model pages built while the crawl ran (transforms.build.ahead)
    official_prices: int = 0
    provider_offers: int = 0
    quality_issues_by_kind: dict[str, int] = field(default_factory=dict)
    changes_by_kind: dict[str, int] = field(default_factory=dict)
    failed_pages: list[dict[str, str | None]] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    # Local state this run found broken and what it did about it, in words.
    recovered: list[str] = field(default_factory=list)
    # Each reference catalog: source, url, entries, matched, discrepancies, unavailable.
    references: list[dict[str, Any]] = field(default_factory=list)
    discrepancies: int = 0

    def write(self, run_dir: RunDir) -> None:
        run_dir.path.mkdir(parents=True, exist_ok=True)
        _write_atomically(run_dir.summary, json.dumps(asdict(self), indent=2))

    def count_pages(self, pages: pd.DataFrame) -> None:
        """The page counts of a page log (``url, http_status, outcome, error, retries``)."""
        self.pages_seen = len(pages)
        self.pages_by_outcome = dict(Counter(pages["outcome"].astype(str)))
        self.pages_retried = int((pages["retries"].fillna(0) > 0).sum())
        self.pages_fetched = int((pages["http_status"] == 200).sum())
        failed = pages[pages["outcome"].isin(outcome.LISTED_AS_FAILED)]
        self.failed_pages = [
            {"url": url, "outcome": result, "error": error}
            for url, result, error in zip(
                failed["url"], failed["outcome"], failed["error"].astype(object), strict=True
            )
        ]

    def count_built(self, built: BuiltTables) -> None:
        """What the build of this run found: its pages, rows, issues, carried-forward models."""
        self.count_pages(built.pages)
        self.official_prices = len(built.official_prices)
        self.provider_offers = len(built.provider_offers)
        self.quality_issues_by_kind = built.quality_issues_by_kind
        self.models_carried_forward = len(built.carried_forward)

    def count_references(self, references: ReferenceTables) -> None:
        self.references = [asdict(report) for report in references.reports]
        self.discrepancies = len(references.discrepancies)
        self.quality_issues_by_kind = dict(
            Counter(self.quality_issues_by_kind)
            + Counter(references.issues.frame()["kind"].astype(str))
        )

    def count_staged_pages(self, run_dir: RunDir) -> None:
        """The page counts of what the run staged so far (a killed run's last line may be
        cut short: it is left out)."""
        pages, _ = read_page_log(run_dir, partial=True)
        self.count_pages(pages)


def new_run_id(data_dir: DataDir) -> str:
    """A UTC timestamp, sortable, unique within the data directory and later than every run
    before it: the system clock's time, or, when the clock is behind the last run (an NTP
    step back, a VM restored from a snapshot), the last run's time plus a millisecond. So
    runs keep their order and no history interval ends before it starts, whatever the
    clock says; the clock's own reading is kept as the run's ``clock_started_at``."""
    moment = datetime.now(UTC)
    last = max((run_dir.run_id for run_dir in run_dirs(data_dir)), default=None)
    if last is not None:
        moment = max(moment, run_time(last) + timedelta(milliseconds=1))
    while True:
        run_id = moment.strftime("%Y%m%dT%H%M%S") + f"{moment.microsecond // 1000:03d}Z"
        if not data_dir.run(run_id).path.exists():
            return run_id
        moment += timedelta(milliseconds=1)


def run_time(run_id: str) -> datetime:
    """The time a run id names (UTC, milliseconds)."""
    return datetime.strptime(run_id, "%Y%m%dT%H%M%S%fZ").replace(tzinfo=UTC)


def start(data_dir: DataDir, start_urls: list[str] | None) -> RunSummary:
    """The summary of a run starting now: its id and start time, which never go back, and
    the clock's reading."""
    clock = now()
    run_id = new_run_id(data_dir)
    return RunSummary(run_id, iso_time(run_time(run_id)), start_urls, clock_started_at=clock)


def finish_time(summary: RunSummary) -> str:
    """Now, or the run's start if the clock reads earlier: a run never ends before it starts."""
    return max(now(), summary.started_at)


def read_summaries(data_dir: DataDir) -> list[dict[str, Any]]:
    """Every run's summary, oldest first; one that cannot be read is left to ``reconcile``."""
    summaries = []
    for run_dir in run_dirs(data_dir):
        summary = _read(run_dir.summary)
        if summary is not None:
            summaries.append(summary)
    return summaries


def published_runs(data_dir: DataDir, last: int) -> list[str]:
    """The newest ``last`` runs whose summaries say they were published, oldest first: read
    from the newest back, so that years of older runs cost nothing."""
    found: list[str] = []
    for run_dir in reversed(run_dirs(data_dir)):
        if len(found) >= last:
            break
        summary = _read(run_dir.summary)
        if summary is not None and summary["status"] == RunStatus.PUBLISHED:
            found.append(summary["run_id"])
    return found[::-1]


def read_summary(run_dir: RunDir) -> dict[str, Any] | None:
    """A run's summary; None when it is missing or cannot be read."""
    return _read(run_dir.summary)


def run_dirs(data_dir: DataDir) -> list[RunDir]:
    """Every run's directory, oldest first (a run id sorts in run order)."""
    try:
        entries = list(os.scandir(data_dir.runs))
    except FileNotFoundError:
        return []
    # ``DirEntry`` answers from the listing, and its path is joined already: no stat and no
    # path arithmetic per run, of thousands.
    runs = sorted((e for e in entries if RUN_ID.fullmatch(e.name) and e.is_dir()), key=_name)
    return [RunDir(Path(entry.path)) for entry in runs]


def _name(entry: os.DirEntry[str]) -> str:
    return entry.name


def reconcile(data_dir: DataDir) -> list[str]:
    """Give every run a readable summary that agrees with the published catalog.

    Run when no run is under way (the data directory's lock held). A summary missing or
    unreadable is restored from the row the catalog's ``runs`` table has for its run (the
    unreadable file is kept beside it); the run the catalog was committed by is published,
    whatever its summary says; a run with neither ended before it could say how: it is
    recorded as failed. Returns what was restored, in words.
    """
    snapshot = data_dir.published_snapshot()
    rows: dict[str, dict[str, Any]] = {}
    if snapshot is not None and snapshot.has(TableName.RUNS):
        rows = {row["run_id"]: row for row in snapshot.read(TableName.RUNS).to_pylist()}
    committed = snapshot.run_id if snapshot is not None else None
    dirs = {run_dir.run_id for run_dir in run_dirs(data_dir)}
    recovered = []
    for run_id in sorted(dirs | set(rows)):
        run_dir = data_dir.run(run_id)
        summary = _read(run_dir.summary)
        row = rows.get(run_id)
        published = summary is not None and summary["status"] == RunStatus.PUBLISHED
        if summary is not None and (run_id != committed or published):
            continue
        name = f"runs/{run_id}/{run_dir.summary.name}"
        if summary is None and run_dir.summary.exists():
            os.replace(run_dir.summary, run_dir.unreadable_summary)
            problem = f"{name} could not be read (kept as {run_dir.unreadable_summary.name})"
        elif summary is None:
            problem = f"{name} was missing"
        else:
            problem = f"{name} said {summary['status']!r}, but the catalog was committed by it"
        if row is not None:
            restored = _from_row(row)
            recovered.append(f"{problem}: restored from the catalog's runs table")
        else:
            restored = _killed(run_dir)
            recovered.append(f"{problem}: the run ended before writing it; recorded as failed")
        restored.write(run_dir)
    return recovered


def _from_row(row: dict[str, Any]) -> RunSummary:
    """A summary from the run's row in a catalog's ``runs`` table (``publishing.runs_table``
    inverted)."""
    outcomes = {str(o): row[f"pages_{o}"] for o in COUNTED_OUTCOMES if row[f"pages_{o}"]}
    return RunSummary(
        run_id=row["run_id"],
        started_at=iso_time(row["started_at"]),
        start_urls=row["start_urls"],
        clock_started_at=iso_time(row["clock_started_at"]) if row.get("clock_started_at") else None,
        status=row["status"],
        message=row["message"],
        finished_at=iso_time(row["finished_at"]) if row["finished_at"] else None,
        # Not in the table; but only a crawl that finished is ever published.
        crawl_finish_reason="finished" if row["status"] == RunStatus.PUBLISHED else None,
        pages_seen=row["pages_seen"],
        pages_by_outcome=outcomes,
        pages_fetched=row["pages_fetched"],
        pages_retried=row["pages_retried"],
        models_published=row["models_published"],
        models_carried_forward=row["models_carried_forward"],
        quality_issues_by_kind=dict(row["quality_issues_by_kind"] or []),
        changes_by_kind=dict(row["changes_by_kind"] or []),
        recovered=["this summary was restored from the catalog's runs table"],
    )


def _killed(run_dir: RunDir) -> RunSummary:
    """The record of a run that died without writing one: what its page log shows."""
    summary = RunSummary(run_dir.run_id, iso_time(run_time(run_dir.run_id)), None)
    summary.message = "the run ended without recording how (killed?); nothing was published"
    summary.count_staged_pages(run_dir)
    return summary


# The summary files this process read, by path: their inode, size and mtime then, and their
# bytes. A run reads every summary several times (recovery, the runs table, retention), and
# after years there are thousands; a summary is only ever replaced whole (a new inode), so a
# file whose stat is unchanged holds the bytes read. Bytes, not parsed summaries: a third of
# the memory, for a parse each time.
_READ: dict[str, tuple[tuple[int, int, int], bytes]] = {}


def _read(path: Path) -> dict[str, Any] | None:
    """A summary file's content, or None when it is missing or not a summary."""
    name = os.fspath(path)
    try:
        stat = os.stat(name)
        seen = (stat.st_ino, stat.st_size, stat.st_mtime_ns)
        known = _READ.get(name)
        if known is None or known[0] != seen:
            known = _READ[name] = (seen, path.read_bytes())
        summary = json.loads(known[1])
    except (OSError, ValueError, RecursionError):
        return None
    if not isinstance(summary, dict) or not {"run_id", "started_at", "status"} <= set(summary):
        return None
    return summary


def _write_atomically(path: Path, text: str) -> None:
    partial = path.with_name(f".{path.name}.partial")
    with partial.open("w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(partial, path)


def now() -> str:
    return iso_time(datetime.now(UTC))


def iso_time(moment: datetime) -> str:
    """A time as a summary writes it: ISO 8601, UTC, milliseconds."""
    if moment.tzinfo is None:  # the catalog's timestamps are naive UTC
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


@overload
def timestamp(text: str) -> datetime: ...
@overload
def timestamp(text: str | None) -> datetime | None: ...
def timestamp(text: str | None) -> datetime | None:
    """A summary's ISO time as the catalog stores it: naive UTC."""
    if not text:
        return None
    return datetime.fromisoformat(text).astimezone(UTC).replace(tzinfo=None)
