"""The hostile corpus mixed into the demo mirror, crawled for real from a loopback server by
``modelcat refresh``: no hostile page blocks the others, every normal page publishes exactly
as tests/fixtures/demo_expected.json says, and every hostile page ends as the corpus'
expected.json says. Two runs: the first serves good versions of the pages the second makes
hostile, so the second shows a page gone bad is carried forward, never reported removed."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from modelcat.demo import DEMO_MIRROR
from modelcat.demo.mirror import MirrorServer
from tests.support import HOSTILE, SEED_PAGE, query, refresh
from tests.support.expected import MODEL_FIELDS, OFFER_FIELDS
from tests.support.hostile import EXPECTED, check, outcome_of
from transforms.contract.casting import to_frame

PATH = "/llms/models/hostile/"
# Pages that are good in the first run and hostile in the second: each model must stay.
TURNED_BAD = {
    "deep-yaml-front-matter.md": "hostile-deep-yaml",
    "content-type-list.md": "hostile-content-type-list",
}


def write_site(mirror: Path, *, hostile: bool) -> None:
    pages = mirror / PATH.strip("/")
    pages.mkdir(parents=True, exist_ok=True)
    for path in sorted(HOSTILE.glob("*.md")):
        if hostile or path.name not in TURNED_BAD:
            (pages / path.name).write_bytes(path.read_bytes())
        else:
            good = SEED_PAGE.read_text().replace("gpt-4.1-mini-2025-04-14", TURNED_BAD[path.name])
            (pages / path.name).write_text(good, encoding="utf-8")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hostile-site")
    mirror, data_dir = root / "mirror", root / "data"
    shutil.copytree(DEMO_MIRROR, mirror)
    with (mirror / "llms.txt").open("a", encoding="utf-8") as index:
        index.write("\n## Hostile\n\n")
        index.writelines(f"- [{p.stem}]({PATH}{p.name})\n" for p in sorted(HOSTILE.glob("*.md")))
    with MirrorServer(mirror) as server:
        write_site(mirror, hostile=False)
        first = refresh(server, data_dir)
        assert first.returncode == 0, first.stdout + first.stderr
        write_site(mirror, hostile=True)
        second = refresh(server, data_dir)
        assert second.returncode == 0, second.stdout + second.stderr
    return data_dir


def published(data_dir: Path) -> dict:
    current = data_dir / "current"
    return {path.stem: to_frame(pq.read_table(path)) for path in current.glob("*.parquet")}


def test_every_normal_page_publishes_exactly(site: Path, expected: dict) -> None:
    ids = list(expected)
    columns = ", ".join(MODEL_FIELDS)
    rows = query(site, f"SELECT model_id, {columns} FROM models WHERE model_id IN ?", [ids])
    models = {row[0]: dict(zip(MODEL_FIELDS, row[1:], strict=True)) for row in rows}
    assert set(models) == set(expected)
    for model_id, want in expected.items():
        for field in MODEL_FIELDS:
            value = models[model_id][field]
            value = value.isoformat() if field == "release_date" and value else value
            assert value == want[field], (model_id, field)
    prices = query(
        site,
        "SELECT model_id, metric, tier_min_tokens, tier_max_tokens, usd_per_mtok "
        "FROM official_prices WHERE model_id IN ?",
        [ids],
    )
    assert sorted(prices) == sorted(
        (m, p["metric"], p["tier_min_tokens"], p["tier_max_tokens"], Decimal(p["usd_per_mtok"]))
        for m, model in expected.items()
        for p in model["official_prices"]
    )
    offers = query(
        site,
        f"SELECT model_id, {', '.join(OFFER_FIELDS)} FROM provider_offers WHERE model_id IN ?",
        [ids],
    )
    assert sorted(offers, key=repr) == sorted(
        (
            (m, *(Decimal(o[f]) if f.endswith("_mtok") and o[f] else o[f] for f in OFFER_FIELDS))
            for m, model in expected.items()
            for o in model["provider_offers"]
        ),
        key=repr,
    )
    # Nothing the normal pages say is flagged beyond what the demo flags on its own.
    kinds = query(site, "SELECT DISTINCT kind FROM quality_issues WHERE model_id IN ?", [ids])
    assert kinds == [("overview_contradiction",)]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_hostile_page_has_its_outcome(site: Path, name: str) -> None:
    tables = published(site)
    url = query(site, "SELECT url FROM pages WHERE url LIKE ?", [f"%{PATH}{name}"])[0][0]
    if name in TURNED_BAD:  # carried forward: its model keeps the good version's values
        assert query(site, "SELECT outcome FROM pages WHERE url = ?", [url]) == [("quarantined",)]
        return
    check(name, outcome_of(tables, url))


def test_a_page_gone_bad_is_carried_forward_not_removed(site: Path) -> None:
    """Issue 9 item 5: a 600-deep front matter raised inside the spider; the page had no
    pages row and its model, published before, was reported removed."""
    for name, model_id in TURNED_BAD.items():
        (outcome, error) = query(
            site, "SELECT outcome, error FROM pages WHERE url LIKE ?", [f"%{PATH}{name}"]
        )[0]
        assert outcome == "quarantined"
        assert EXPECTED[name]["error"] in error
        assert query(site, "SELECT count(*) FROM models WHERE model_id = ?", [model_id]) == [(1,)]
        removed = "SELECT count(*) FROM changes WHERE model_id = ? AND kind = 'model_removed'"
        assert query(site, removed, [model_id]) == [(0,)]


def test_every_page_has_a_row(site: Path) -> None:
    listed = len(list(HOSTILE.glob("*.md"))) + len(list((DEMO_MIRROR / "llms").rglob("*.md")))
    assert query(site, "SELECT count(*) FROM pages")[0][0] == listed + 1  # and llms.txt
