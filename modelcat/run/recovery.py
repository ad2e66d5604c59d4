"""Before a run: put right what a crash or damage left in the data directory, and say so.

The catalog file, its snapshot and ``current`` are ``transforms.publish.repair``'s; the
runs' summaries are ``records.reconcile``'s; the validator store is checked here. What was
recovered goes into the run's summary as sentences, and so into its printed summary.
"""

from __future__ import annotations

import os

from modelcat.run.records import published_runs, read_summary, reconcile
from transforms.contract.layout import DataDir, RunDir
from transforms.contract.vocabulary import RunStatus
from transforms.pages.archive import Validators
from transforms.publish.repair import BrokenState, repair
from transforms.publish.snapshot import discard


def recover(data_dir: DataDir, *, catalog_needed: bool = True) -> list[str]:
    """Put right what a crash or damage left in the data directory, before a run starts:
    the catalog, its snapshot and ``current`` (``transforms.publish.repair``), then every
    run's summary (``modelcat.run.records.reconcile``). Returns what was recovered, in words.

    Raises ``BrokenState`` if the catalog is past repair, unless not ``catalog_needed``
    (a rebuild, which makes the catalog anew).
    """
    published = published_runs(data_dir, last=1)
    try:
        recovered = repair(data_dir, published[-1] if published else None)
    except BrokenState as broken:
        if catalog_needed:
            raise
        recovered = [f"{broken.problem}: this rebuild writes a new catalog"]
    recovered += reconcile(data_dir)
    return recovered + remove_orphans(data_dir)


def remove_orphans(data_dir: DataDir) -> list[str]:
    """Remove the snapshots of runs that were not published (a full disk or a kill between
    writing a snapshot and committing it): nothing points at them, and they hold space."""
    current = data_dir.published_snapshot()
    removed = []
    for snapshot in list(data_dir.published_snapshots()):
        summary = read_summary(data_dir.run(snapshot.run_id))
        status = summary["status"] if summary and summary["run_id"] == snapshot.run_id else None
        is_current = current is not None and snapshot.path == current.path
        if status in (None, RunStatus.PUBLISHED) or is_current:
            continue
        discard(data_dir, snapshot.publication)
        removed.append(
            f"snapshots/{snapshot.publication} was written by a run that was not published "
            f"({status}): removed"
        )
    return removed


def check_validators(data_dir: DataDir, run_dir: RunDir) -> tuple[Validators, list[str]]:
    """Set aside a validator store that cannot be read in full, keeping what can be.
    Returns the store the run starts from (what the file now holds), read once, and what
    was set aside."""
    store = Validators.load(data_dir.validators)
    if store.unreadable is None and not store.dropped:
        return store, []
    run_dir.path.mkdir(parents=True, exist_ok=True)
    os.replace(data_dir.validators, run_dir.unreadable_validators)
    if store.entries:
        store.save(data_dir.validators)
    kept = f"kept as runs/{run_dir.run_id}/{run_dir.unreadable_validators.name}"
    if store.unreadable is not None:
        return Validators(), [
            f"validators.json could not be read ({store.unreadable}; {kept}): "
            "the run starts without it, so every page is fetched in full"
        ]
    return Validators(store.entries), [
        f"validators.json had {store.dropped} entries that are not validators ({kept}): "
        "they were dropped, so those pages are fetched in full"
    ]
