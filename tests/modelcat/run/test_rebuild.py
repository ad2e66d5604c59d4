"""Where a rebuild may start (``modelcat.run.rebuild``): only where it has what it needs,
after ``--keep`` pruned older runs' bodies and snapshots; runs published from saved pages
(``tests.support.runs``), pruned by the real ``prune``. Through the command:
``tests/e2e/test_rebuild_limits.py``."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelcat.run.rebuild import NotRebuildable, rebuild
from modelcat.run.retention import prune
from tests.support.archive import damage
from tests.support.runs import Answer, publish_run, raise_input_price
from tests.support.staging import demo_pages
from transforms.contract.layout import DataDir
from transforms.pages.log import read_page_log
from transforms.publish.snapshot import discard

MODELS = ("deepseek-chat", "o3", "codex-auto-review")


def three_runs(data_dir: DataDir, keep: int | None) -> list[str]:
    """Three runs; the first page's price rises before the second and the third."""
    site: dict[str, Answer] = dict(demo_pages(MODELS))
    ids = []
    for run in range(3):
        if run:
            url = next(iter(site))
            body = site[url]
            assert isinstance(body, bytes)
            site[url] = raise_input_price(body)
        summary = publish_run(data_dir, site)
        assert summary.status == "published"
        ids.append(summary.run_id)
        if keep is not None:
            prune(data_dir, keep)
    return ids


def test_with_nothing_pruned_any_run_is_a_start(tmp_path: Path) -> None:
    data_dir = DataDir(tmp_path / "data")
    first, _, third = three_runs(data_dir, keep=None)
    assert [s.status for s in rebuild(data_dir, first)] == ["published"] * 3
    assert data_dir.published_snapshot() == data_dir.snapshot_of(third)


def test_a_start_the_archive_no_longer_reaches_is_refused(tmp_path: Path) -> None:
    data_dir = DataDir(tmp_path / "data")
    ids, oldest = three_runs(data_dir, keep=1), 2
    catalog = data_dir.catalog_file.read_bytes()
    with pytest.raises(NotRebuildable) as refused:
        rebuild(data_dir, ids[0])
    message = str(refused.value)
    assert message.startswith(
        f"cannot rebuild from {ids[0]}: run {ids[0]} keeps only its summary (its page log was "
        "pruned by --keep)"
    )
    assert message.endswith(
        f"the oldest run that can be rebuilt is {ids[oldest]} "
        f"(modelcat rebuild --run {ids[oldest]})"
    )
    assert data_dir.catalog_file.read_bytes() == catalog
    assert [s.run_id for s in rebuild(data_dir, ids[oldest])] == ids[oldest:]


def test_a_body_lost_that_no_snapshot_holds_is_refused(tmp_path: Path) -> None:
    """Lost some other way than by --keep (a body and the run's own snapshot deleted)."""
    data_dir = DataDir(tmp_path / "data")
    _, second, _ = three_runs(data_dir, keep=None)
    pages, _ = read_page_log(data_dir.run(second))
    fetched = pages.loc[pages["outcome"] == "model", "content_sha256"].tolist()
    (body,) = fetched  # the one page that changed before the second run
    damage(data_dir.archive, body, "missing")
    discard(data_dir, second)
    with pytest.raises(NotRebuildable) as refused:
        rebuild(data_dir, second)
    assert str(refused.value) == (
        f"cannot rebuild from {second}: the archive no longer holds 1 page bodies run {second} "
        "read, and no snapshot holds their values (pruned by --keep?); no published run can "
        "be rebuilt"
    )


def test_a_body_pruned_but_held_by_its_runs_snapshot_is_no_loss(tmp_path: Path) -> None:
    """``--keep 2`` keeps the snapshot before the two runs it keeps: the first run's values."""
    data_dir = DataDir(tmp_path / "data")
    first, _, _ = three_runs(data_dir, keep=2)
    assert [s.status for s in rebuild(data_dir, first)] == ["published"] * 3


def test_a_start_whose_base_snapshot_was_pruned_is_refused(tmp_path: Path) -> None:
    data_dir = DataDir(tmp_path / "data")
    first, second, _ = three_runs(data_dir, keep=1)
    with pytest.raises(NotRebuildable, match=rf"the snapshot of the run before it \({first}\)"):
        rebuild(data_dir, second)
