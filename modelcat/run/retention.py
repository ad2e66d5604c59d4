"""Retention (``--keep N``): what of older runs may go, and what always stays."""

from __future__ import annotations

import os
import sys

from modelcat.run.records import published_runs, run_dirs
from transforms.contract.layout import DataDir
from transforms.contract.vocabulary import TableName
from transforms.pages.archive import PageArchive
from transforms.pages.log import body_hashes
from transforms.publish.snapshot import discard
from transforms.references.log import read_reference_log


def prune(data_dir: DataDir, keep: int) -> dict[str, int]:
    """Keep the last ``keep`` published runs rebuildable; prune what older runs left, never
    history.

    Those runs keep their archived bodies, snapshots and run directories, and so does the run
    just before them (a rebuild starts from its snapshot), as do later runs that were not
    published. Older runs' bodies and snapshots go, and their directories keep only their
    summaries (what the catalog's ``runs`` table is made of, and the evidence of anything
    set aside): an old run costs a summary's few kilobytes, not its page log.
    """
    # Only the newest published runs matter: those kept and the one before them (older runs'
    # directories are pruned by listing them below).
    published = published_runs(data_dir, last=keep + 1 if keep > 0 else sys.maxsize)
    retained = published[-keep:] if keep > 0 else []
    base = published[-keep - 1 : -keep] if keep > 0 else []
    wanted: set[str] = set()
    for run_id in retained:
        wanted |= body_hashes(data_dir.run(run_id))
        wanted |= {
            record.content_sha256
            for record in read_reference_log(data_dir.run(run_id).reference_log)
            if record.content_sha256
        }
    current = data_dir.published_snapshot()
    if current is not None:
        values = current.read(TableName.PAGE_VALUES, columns=["content_sha256"])
        wanted |= set(values["content_sha256"].drop_null().to_pylist())
    removed = {"bodies": PageArchive(data_dir.archive).prune(wanted), "snapshots": 0}
    for snapshot in list(data_dir.published_snapshots()):
        is_current = current is not None and snapshot.path == current.path
        if snapshot.run_id not in {*retained, *base} and not is_current:
            removed["snapshots"] += discard(data_dir, snapshot.publication)
    for run_id in published[: len(published) - len(retained)]:
        run_dir = data_dir.run(run_id)
        for staged in (run_dir.page_values, run_dir.published_values):
            staged.unlink(missing_ok=True)
    oldest_kept = min([*retained, *base], default=None)
    removed["run_files"] = 0
    prunable: set[str] = set()  # the same names in every run's directory
    for run_dir in run_dirs(data_dir):
        if oldest_kept is None or run_dir.run_id >= oldest_kept:
            break
        prunable = prunable or {path.name for path in run_dir.pruned_by_keep()}
        # One listing per run, not a stat per file: years of runs are thousands of them.
        try:
            present = prunable.intersection(os.listdir(run_dir.path))
        except FileNotFoundError:
            continue
        for name in sorted(present):
            (run_dir.path / name).unlink()
            removed["run_files"] += 1
    return removed
