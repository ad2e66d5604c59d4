"""Recovery before a run (``modelcat.run.recovery``): the catalog, its snapshot and ``current``
repaired, then every run's summary reconciled, in that order and in words; a validator store
that cannot be read in full set aside. Each case damages a copy of ``two_runs``."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable

import pytest

from modelcat.run.records import RunSummary
from modelcat.run.recovery import check_validators, recover
from tests.support.runs import publish_run
from tests.support.staging import BASE
from transforms.contract.layout import DataDir
from transforms.pages.archive import Validators
from transforms.publish.catalog_file import written_from
from transforms.publish.repair import BrokenState


def runs(data_dir: DataDir) -> list[str]:
    return sorted(p.name for p in data_dir.runs.iterdir())


def test_a_sound_data_directory_needs_nothing(own_copy: DataDir) -> None:
    assert recover(own_copy) == []


def test_the_catalog_is_repaired_before_the_summaries_are_reconciled(own_copy: DataDir) -> None:
    """Reconciling reads the runs table of the snapshot ``current`` points at, which the
    repair puts back first: a lost link and a lost summary, both restored."""
    first, last = runs(own_copy)
    own_copy.current.unlink()
    own_copy.run(first).summary.unlink()
    assert recover(own_copy) == [
        f"runs/{first}/summary.json was missing: restored from the catalog's runs table"
    ]
    assert own_copy.published_snapshot() == own_copy.snapshot_of(last)
    restored = json.loads(own_copy.run(first).summary.read_text())
    assert (restored["run_id"], restored["status"]) == (first, "published")


def test_every_recovery_is_said_in_order(own_copy: DataDir) -> None:
    first, last = runs(own_copy)
    own_copy.catalog_file.write_bytes(b"garbage")
    own_copy.run(first).summary.write_text("{")
    said = recover(own_copy)
    assert [text.split(" (")[0] for text in said] == [
        "catalog.duckdb could not be opened",
        f"runs/{first}/summary.json could not be read",
    ]
    assert said[0].endswith(f": built again from snapshots/{last}")
    assert said[1].endswith(
        "(kept as summary.unreadable.json): restored from the catalog's runs table"
    )
    assert recover(own_copy) == []


def test_the_last_published_run_is_the_last_one_published(own_copy: DataDir) -> None:
    """A refused run after it is no candidate for the catalog."""
    refused = publish_run(own_copy, {BASE + "only.md": 404})
    assert refused.status == "refused"
    own_copy.catalog_file.write_bytes(b"garbage")
    (recovered,) = recover(own_copy)
    assert recovered.endswith(f"built again from snapshots/{runs(own_copy)[1]}")
    assert written_from(own_copy) == (runs(own_copy)[1], None)


def test_a_catalog_past_repair_stops_a_refresh_but_not_a_rebuild(own_copy: DataDir) -> None:
    own_copy.catalog_file.write_bytes(b"garbage")
    shutil.rmtree(own_copy.snapshots)
    with pytest.raises(BrokenState, match="modelcat rebuild --run FIRST_RUN_ID"):
        recover(own_copy)
    (said,) = recover(own_copy, catalog_needed=False)
    assert said.startswith("catalog.duckdb could not be opened")
    assert said.endswith(": this rebuild writes a new catalog")


STORES: dict[str, tuple[Callable[[str], str], int, str | None]] = {
    # damage, entries kept, what the recovery says (None: nothing)
    "whole": (lambda text: text, 9, None),
    "not JSON": (
        lambda text: "{not json",
        0,
        "validators.json could not be read (not JSON",
    ),
    "an array": (lambda text: "[]", 0, "validators.json could not be read (a JSON list"),
    "an entry of the wrong shape": (
        lambda text: json.dumps({**json.loads(text), BASE + "x.md": {"etag": 7}}),
        9,
        "validators.json had 1 entries that are not validators",
    ),
}


@pytest.mark.parametrize("damage", STORES)
def test_a_validator_store_that_cannot_be_read_whole_is_set_aside(
    own_copy: DataDir, damage: str
) -> None:
    store = own_copy.validators
    harm, kept, says = STORES[damage]
    damaged = harm(store.read_text())
    store.write_text(damaged)
    run_dir = own_copy.run("29990101T000000000Z")

    known, recovered = check_validators(own_copy, run_dir)
    # The run starts from what the file holds now, read once.
    assert known.entries == Validators.load(store).entries
    if says is None:
        assert recovered == []
        assert not run_dir.path.exists()
        assert store.read_text() == damaged
        return
    (said,) = recovered
    assert said.startswith(says)
    assert f"kept as runs/{run_dir.run_id}/validators.unreadable.json" in said
    assert run_dir.unreadable_validators.read_text() == damaged
    assert len(known.entries) == kept
    assert store.exists() is (kept > 0)
    assert check_validators(own_copy, run_dir)[1] == []  # what is left reads whole


def test_no_validator_store_is_nothing_to_set_aside(tmp_path) -> None:
    data_dir = DataDir(tmp_path / "data")
    known, recovered = check_validators(data_dir, data_dir.run("29990101T000000000Z"))
    assert (known.entries, recovered) == ({}, [])


@pytest.mark.parametrize("status", ["failed", "interrupted", "refused"])
def test_a_snapshot_of_a_run_that_was_not_published_is_removed(
    own_copy: DataDir, status: str
) -> None:
    """What a run killed between its snapshot and its commit leaves: nothing points at it."""
    first, last = runs(own_copy)
    orphan = "29990101T000000000Z"
    shutil.copytree(own_copy.snapshot(last).path, own_copy.snapshot(orphan).path)
    RunSummary(orphan, "2999-01-01T00:00:00.000+00:00", None, status=status).write(
        own_copy.run(orphan)
    )
    assert recover(own_copy) == [
        f"snapshots/{orphan} was written by a run that was not published ({status}): removed"
    ]
    assert [s.publication for s in own_copy.published_snapshots()] == [first, last]
    assert recover(own_copy) == []


def test_a_snapshot_without_a_run_record_or_of_a_published_run_stays(
    own_copy: DataDir,
) -> None:
    first, last = runs(own_copy)
    shutil.copytree(own_copy.snapshot(last).path, own_copy.snapshot("29990101T000000000Z").path)
    shutil.copytree(own_copy.snapshot(last).path, own_copy.snapshot(f"{first}.rebuilt-x").path)
    assert recover(own_copy) == []
    assert len(list(own_copy.published_snapshots())) == 4
