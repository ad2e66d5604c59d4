"""Retention (``--keep N``): what of older runs may go, and what always stays."""

from __future__ import annotations

import pyarrow.parquet as pq

from modelcat.run.records import read_summaries
from transforms.build.plan import read_pages
from transforms.contract.layout import CATALOG_VALUES_FILE, PAGE_VALUES_FILE, DataDir
from transforms.contract.vocabulary import RunStatus
from transforms.pages.archive import PageArchive
from transforms.publish import discard


def prune(data_dir: DataDir, keep: int) -> dict[str, int]:
    """Keep the last ``keep`` published runs rebuildable; prune older raw pages, never history.

    Those runs keep their archived bodies and snapshots, and so does the snapshot just before
    them (a rebuild starts from it). History tables, run summaries and page logs always
    stay; older runs' bodies, snapshots and staged page values go.
    """
    summaries = read_summaries(data_dir)
    published = [s["run_id"] for s in summaries if s["status"] == RunStatus.PUBLISHED]
    retained = published[-keep:] if keep > 0 else []
    base = published[-keep - 1 : -keep] if keep > 0 else []
    wanted: set[str] = set()
    for run_id in retained:
        pages, _ = read_pages(data_dir.run(run_id))
        wanted |= set(pages["content_sha256"].dropna())
    current = data_dir.current_snapshot()
    if current is not None:
        values = pq.read_table(current / "page_values.parquet", columns=["content_sha256"])
        wanted |= set(values["content_sha256"].drop_null().to_pylist())
    removed = {"bodies": PageArchive(data_dir.archive).prune(wanted), "snapshots": 0}
    for snapshot in sorted(data_dir.snapshots.iterdir()) if data_dir.snapshots.exists() else []:
        run_id = snapshot.name.split(".")[0]
        if run_id not in retained and run_id not in base and snapshot != current:
            removed["snapshots"] += discard(data_dir, snapshot.name)
    for run_id in published[: len(published) - len(retained)]:
        for staged in (PAGE_VALUES_FILE, CATALOG_VALUES_FILE):
            (data_dir.run(run_id) / staged).unlink(missing_ok=True)
    return removed
