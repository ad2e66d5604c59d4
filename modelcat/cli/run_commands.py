"""``modelcat refresh`` and ``modelcat rebuild``: their options, how a run that did not end
normally is told, and the summary a run prints.

The crawler and transforms (pandas, pandera) load only when a run starts, so the first
line shows at once and the commands analysts run many times a day never load them.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from modelcat.cli.terminal import (
    DataDirOption,
    UsageProblem,
    err,
    escape,
    results,
    writing_results,
)
from transforms.contract.layout import DataDir
from transforms.contract.vocabulary import ExitCode, RunStatus
from transforms.references.log import NOT_ASKED

if TYPE_CHECKING:
    from modelcat.cli.progress import RunProgress
    from modelcat.run.records import RunSummary

UNCHANGED = "interrupted; the published catalog is unchanged"
HEARTBEAT_SECONDS = 30.0


# Over 60 lines in one piece: a typer command's signature is its list of options.
def refresh_command(
    start_url: Annotated[
        list[str] | None,
        typer.Option("--start-url", help="Index URL to start from; repeatable."),
    ] = None,
    data_dir: DataDirOption = Path("data"),
    delay: Annotated[
        float | None,
        typer.Option(
            help="Seconds between requests to a host (default: polite, with AutoThrottle)."
        ),
    ] = None,
    concurrency: Annotated[
        int | None, typer.Option(min=1, help="Requests in flight (default: polite).")
    ] = None,
    setting: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            "-s",
            help="A crawl setting, NAME=VALUE; repeatable. Network, retry, politeness, "
            "timeout, size-cap and log-level settings only (see the README).",
        ),
    ] = None,
    allow_shrink: Annotated[
        bool,
        typer.Option(help="Publish even if the run lost over 25% of the previous models."),
    ] = False,
    keep: Annotated[
        int | None,
        typer.Option(min=1, help="Keep raw pages and snapshots of the last N runs only."),
    ] = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No progress: print only the summary.")
    ] = False,
    heartbeat: Annotated[
        float,
        typer.Option(min=0, help="Off a terminal: seconds between progress lines (0: none)."),
    ] = HEARTBEAT_SECONDS,
    reference: Annotated[
        list[str] | None,
        typer.Option(
            "--reference",
            help="A public catalog to cross-check, NAME=URL with NAME litellm, openrouter, "
            "models.dev or genai-prices; repeatable. Default: the four live catalogs when "
            "no --start-url is given, none when one is.",
        ),
    ] = None,
    no_references: Annotated[
        bool, typer.Option("--no-references", help="Cross-check no public catalog.")
    ] = False,
    report: Annotated[
        Path | None,
        typer.Option(
            "--report", help="After a published run, rebuild the static site in this directory."
        ),
    ] = None,
) -> None:
    """Crawl the mirror, build the catalog and publish it (Parquet + DuckDB).

    Exits 0 when a catalog was published, 1 when nothing was (the previous catalog is kept),
    3 when another process holds the data directory, 4 when its local state is broken past
    repair, 130 / 143 when stopped by SIGINT / SIGTERM (nothing published).
    """
    # The first line shows at once; the crawler and transforms take seconds to import, while
    # the crawl child, started first, imports Scrapy.
    from modelcat.run.child import CrawlChild

    with (
        _run_errors("refresh", data_dir),
        _progress(quiet=quiet, heartbeat=heartbeat) as progress,
        CrawlChild() as child,
    ):
        from crawler.spec import CrawlOptions
        from modelcat.run.refresh import refresh

        options = CrawlOptions(
            start_urls=list(start_url or CrawlOptions().start_urls),
            delay=delay,
            concurrency=concurrency,
            settings=dict(_name_value(s) for s in setting or []),
            references=_references(reference, live=not start_url, none=no_references),
        )
        progress.crawling(options.start_urls)
        summary = refresh(
            DataDir(data_dir),
            options,
            progress.page,
            allow_shrink=allow_shrink,
            keep=keep,
            on_step=progress.step,
            child=child,
        )
    code = ExitCode.DONE if summary.status == RunStatus.PUBLISHED else ExitCode.NOT_DONE
    _print_summary(summary, data_dir)
    if report is not None and code == ExitCode.DONE:
        from modelcat.cli.report import write_report

        write_report(report, data_dir)
    raise typer.Exit(code)


def _references(given: list[str] | None, *, live: bool, none: bool) -> dict[str, str]:
    """The catalogs to cross-check: those given, else the live ones on a live crawl."""
    from crawler.site import REFERENCE_URLS
    from transforms.contract.vocabulary import ReferenceSource

    if none:
        if given:
            raise UsageProblem("refresh: --no-references and --reference exclude each other")
        return {}
    if not given:
        return dict(REFERENCE_URLS) if live else {}
    references: dict[str, str] = {}
    names = ", ".join(ReferenceSource)
    for text in given:
        name, _, url = (part.strip() for part in text.partition("="))
        if name not in set(ReferenceSource):
            raise UsageProblem(f"refresh: --reference {name}: unknown catalog; known: {names}")
        if not url.startswith(("http://", "https://")):
            raise UsageProblem(f"refresh: --reference {name}={url}: expected an http(s) URL")
        if name in references:
            raise UsageProblem(f"refresh: --reference {name} given twice")
        references[name] = url
    return references


@contextmanager
def _run_errors(command: str, data_dir: Path) -> Iterator[None]:
    """How a refresh or rebuild that did not end normally is told, and its exit code."""
    from modelcat.run.interrupts import Interrupted  # signals only: the first line stays quick

    try:
        yield
    except KeyboardInterrupt:  # before the run took over the signals: nothing had started
        _deaf()
        err.print(UNCHANGED)
        raise typer.Exit(ExitCode.SIGINT) from None
    except Interrupted as interrupt:
        _deaf()
        if interrupt.summary is not None:
            _print_summary(interrupt.summary, data_dir)
        err.print(f"{UNCHANGED} ({interrupt.signal_name})")
        raise typer.Exit(interrupt.exit_code) from None
    except Exception as error:
        # Raised by modules the run has imported already.
        from modelcat.run.lock import RefreshLocked
        from modelcat.run.records import RunSummary
        from transforms.publish.catalog_file import CatalogInUse
        from transforms.publish.repair import BrokenState
        from transforms.publish.snapshot import PublishFailed

        if isinstance(error, PublishFailed):  # a full disk: recorded, the catalog unchanged
            if isinstance(error.summary, RunSummary):
                _print_summary(error.summary, data_dir)
            else:
                err.print(f"[red]{command} failed:[/] {escape(str(error))}")
            raise typer.Exit(ExitCode.NOT_DONE) from None

        if isinstance(error, RefreshLocked | CatalogInUse):
            err.print(f"[red]{command} refused:[/] {escape(str(error))}")
            raise typer.Exit(ExitCode.LOCKED) from None
        if isinstance(error, BrokenState):
            err.print(f"[red]{command} refused:[/] {escape(str(error))}")
            raise typer.Exit(ExitCode.BROKEN_STATE) from None
        raise


def _deaf() -> None:
    """Ignore stop signals from here to the exit: the run has stopped and is saying so.
    (Ignored, not handled: at exit Python resets handled signals to the default, which a
    second Ctrl-C would then kill with a code other than the one documented.)"""
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.SIG_IGN)


def _name_value(text: str) -> tuple[str, Any]:
    from crawler.spec import user_setting

    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise typer.BadParameter(f"expected NAME=VALUE, got {text!r}", param_hint="--set")
    try:
        return name.strip(), user_setting(name.strip(), value.strip())
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--set") from None


def _progress(*, quiet: bool, heartbeat: float) -> RunProgress:
    from modelcat.cli.progress import Mode, RunProgress

    mode = Mode.QUIET if quiet else Mode.LIVE if err.is_terminal else Mode.LINES
    return RunProgress(err, mode, heartbeat=heartbeat)


def rebuild_command(
    run: Annotated[
        str | None,
        typer.Option(help="First run to re-derive (default: the latest published run)."),
    ] = None,
    data_dir: DataDirOption = Path("data"),
) -> None:
    """Re-run the transforms on archived pages, without the network; republish.

    Re-derives RUN and every later published run, in order, so a parser fix reaches them.
    Exits 2, naming the oldest run it can start from, when --keep pruned what RUN needs.
    """
    with _run_errors("rebuild", data_dir):
        from modelcat.run.rebuild import NotRebuildable, rebuild

        try:
            summaries = rebuild(DataDir(data_dir), run)
        except NotRebuildable as error:  # asked for a start it no longer has: bad usage
            err.print(f"[red]rebuild refused:[/] {escape(str(error))}")
            raise typer.Exit(ExitCode.USAGE) from None
        except ValueError as error:
            err.print(f"[red]rebuild refused:[/] {escape(str(error))}")
            raise typer.Exit(ExitCode.NOT_DONE) from None
    published = summaries and all(s.status == RunStatus.PUBLISHED for s in summaries)
    for summary in summaries:
        _print_summary(summary, data_dir, rebuilt=True)
    raise typer.Exit(ExitCode.DONE if published else ExitCode.NOT_DONE)


def _print_summary(summary: RunSummary, data_dir: Path, *, rebuilt: bool = False) -> None:
    with writing_results():
        for line in summary_lines(summary, data_dir, rebuilt=rebuilt):
            results.print(line, highlight=False)


def summary_lines(summary: RunSummary, data_dir: Path, *, rebuilt: bool = False) -> list[str]:
    """What a run did, in a few lines (``summary.json`` has it all)."""
    style = {"published": "green", "refused": "yellow"}.get(summary.status, "red")
    lines = [f"[bold]run {summary.run_id}[/]: [{style}]{summary.status}[/]"]
    if summary.message:
        lines.append(f"  {escape(summary.message)}")
    for repaired in summary.recovered:
        lines.append(f"  [yellow]recovered:[/] {escape(repaired)}")
    outcomes = ", ".join(f"{n} {o}" for o, n in sorted(summary.pages_by_outcome.items()))
    if rebuilt:
        lines.append(f"  pages: {summary.pages_seen}, re-read from the archive ({outcomes})")
    else:
        retried = f"; {summary.pages_retried} needed a retry" if summary.pages_retried else ""
        lines.append(f"  pages: {summary.pages_seen} ({outcomes}){retried}")
    lines.append(
        f"  models: {summary.models_published} published, {summary.official_prices} official "
        f"prices, {summary.provider_offers} provider offers"
    )
    issues = ", ".join(f"{n} {k}" for k, n in sorted(summary.quality_issues_by_kind.items()))
    total = sum(summary.quality_issues_by_kind.values())
    lines.append(f"  quality issues: {total} ({issues or 'none'})")
    for page in summary.failed_pages[:20]:
        url, error = escape(page["url"]), escape(page["error"])
        lines.append(f"  [red]{page['outcome']}[/] {url}: {error}")
    if len(summary.failed_pages) > 20:
        lines.append(f"  … and {len(summary.failed_pages) - 20} more: SELECT * FROM pages")
    if summary.models_carried_forward:
        lines.append(
            f"  {summary.models_carried_forward} models carried forward from the previous "
            "catalog: their pages failed this time"
        )
    if summary.references:
        lines.append(f"  {reference_line(summary)}")
    if summary.status == RunStatus.PUBLISHED:
        changed = ", ".join(f"{n} {k}" for k, n in sorted(summary.changes_by_kind.items()))
        lines.append(f"  changes: {sum(summary.changes_by_kind.values())} ({changed or 'none'})")
    if summary.seconds:
        timing = ", ".join(f"{step} {secs:.1f}s" for step, secs in summary.seconds.items())
        lines.append(f"  time: {timing}")
    catalog = DataDir(data_dir).catalog_file
    if summary.status == RunStatus.PUBLISHED:
        lines.append(f"  catalog: {catalog}")
    else:
        lines.append(f"  nothing was published: {_still_live(data_dir)}")
    return lines


def reference_line(summary: RunSummary) -> str:
    """``references: litellm 2,985 entries, 161 matched, …; discrepancies: 427``."""
    parts = []
    for report in summary.references:
        text = f"{report['source']} {report['entries']:,} entries, {report['matched']:,} matched"
        if report["unavailable"] == NOT_ASKED:
            text += f" ({NOT_ASKED}; last values carried forward)"
        elif report["unavailable"]:
            text += f" [yellow](unavailable: {escape(report['unavailable'])}; carried forward)[/]"
        parts.append(text)
    return f"references: {'; '.join(parts)}; discrepancies: {summary.discrepancies:,}"


def _still_live(data_dir: Path) -> str:
    from transforms.publish.catalog_file import CatalogInUse, written_from

    catalog = DataDir(data_dir).catalog_file
    try:
        publication, problem = written_from(DataDir(data_dir))
    except CatalogInUse as busy:
        return str(busy)
    if problem is not None:
        return f"the catalog at {catalog} is as it was ({problem})"
    if publication is None:
        return "no catalog has been published here yet"
    return f"the catalog at {catalog} is unchanged ({publication})"
