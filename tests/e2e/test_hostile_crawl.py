"""The hostile corpus mixed into the demo mirror, crawled for real from a loopback server by
``modelcat refresh``: no hostile page blocks the others, every normal page publishes exactly
as tests/fixtures/demo_expected.json says, and every hostile page ends as the corpus'
expected.json says. Two runs: the first serves good versions of the pages the second makes
hostile, so the second shows a page gone bad is carried forward, never reported removed."""

from __future__ import annotations

import json
import shutil
from decimal import Decimal
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from modelcat.demo import DEMO_MIRROR
from modelcat.demo.mirror import MirrorServer
from tests.support import HOSTILE, SEED_PAGE, modelcat, query, refresh
from tests.support.expected import MODEL_FIELDS, OFFER_FIELDS
from tests.support.hostile import EXPECTED, check, outcome_of
from transforms.contract.casting import to_frame

PATH = "/llms/models/hostile/"
# Pages that are good in the first run and hostile in the second: each model must stay.
TURNED_BAD = {
    "deep-yaml-front-matter.md": "hostile-deep-yaml",
    "content-type-list.md": "hostile-content-type-list",
    # Issue 18: a content type almost the model type was skipped, then reported removed.
    "content-type-no-break-hyphen.md": "hostile-content-type-no-break-hyphen",
    "content-type-zero-width-space.md": "hostile-content-type-zero-width-space",
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


def test_a_page_gone_bad_leaves_an_issue(site: Path) -> None:
    """Issue 18 item 2: a page quarantined because it may be a model page is an issue of
    the run too, naming why."""
    for name in ("content-type-no-break-hyphen.md", "content-type-zero-width-space.md"):
        rows = query(
            site,
            "SELECT kind, problem FROM quality_issues WHERE page_url LIKE ?",
            [f"%{PATH}{name}"],
        )
        problems = [problem for kind, problem in rows if kind == "page_structure"]
        assert len(problems) == 1, (name, rows)
        assert "is not written 'model-detail-page'" in problems[0]


def test_lookalike_model_ids_are_published_apart_and_flagged(site: Path) -> None:
    ids = ["hostile-lookalike", "hostile-look\u200balike", "hostile-look\u200ealike"]
    ids += ["hostile-caf\u00e9", "hostile-cafe\u0301"]
    rows = query(
        site,
        "SELECT m.model_id, count(q.kind) FROM models m LEFT JOIN quality_issues q "
        "ON q.model_id = m.model_id AND q.kind = 'model_id_lookalike' "
        "WHERE m.model_id IN ? GROUP BY m.model_id",
        [ids],
    )
    assert sorted(rows) == sorted((model_id, 1) for model_id in ids)


@pytest.mark.parametrize(
    ("provider", "total"), [("OpenAI", "0.000800000000000"), ("openai", "0.000400000000000")]
)
def test_cost_prices_each_of_two_providers_differing_in_case(
    site: Path, provider: str, total: str
) -> None:
    """Issue 18 item 10: ``OpenAI`` and ``openai`` in one region made ``cost`` exit 2."""
    result = modelcat(
        "cost", "hostile-provider-case-collision", "--input-tokens", "1000",
        "--provider", provider, "--format", "json", "--data-dir", str(site),
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    row = json.loads(result.stdout)
    assert (row["provider"], row["total_usd"]) == (provider, total)


def test_cost_names_the_providers_a_name_matches_only_but_for_case(site: Path) -> None:
    result = modelcat(
        "cost", "hostile-provider-case-collision", "--input-tokens", "1000",
        "--provider", "OPENAI", "--data-dir", str(site),
    )  # fmt: skip
    assert result.returncode == 2, result.stdout + result.stderr
    assert "providers OpenAI, openai all match 'OPENAI'" in result.stderr
    flagged = query(
        site,
        "SELECT provider FROM quality_issues q JOIN provider_offers o USING (model_id) "
        "WHERE q.kind = 'provider_case_collision' AND q.raw_value = o.provider "
        "AND model_id = 'hostile-provider-case-collision' ORDER BY provider",
    )
    assert flagged == [("OpenAI",), ("openai",)]
