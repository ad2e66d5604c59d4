"""The report in a real browser: headless Chromium (the system's, through Playwright) opens
the site over ``file://``, sorts, filters, keeps the view in the address, compares, prices
workloads exactly as the catalog's ``workload_costs`` does, passes an axe-core audit, and
is photographed at 1280 and 390 px, light and dark (``.artefacts/report/``)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import modelcat
from modelcat.report import build_report
from modelcat.report.text import page_name
from tests.support.browser import ARTEFACTS, axe_source, chromium
from transforms.contract.layout import DataDir

playwright_api = pytest.importorskip(
    "playwright.sync_api", reason="BROWSER TESTS SKIPPED: no playwright"
)

MODEL = "claude-4-sonnet-20250514"  # its input price rose between the two runs


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    path = chromium()
    with playwright_api.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=path, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def odd_site(odd_data: DataDir, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("browser") / "site"
    build_report(out, odd_data.root)
    return out


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    problems: list[str] = []
    opened.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    opened.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    opened.on(
        "request",
        lambda r: None if r.url.startswith("file://") else problems.append(f"request {r.url}"),
    )
    yield opened
    context.close()
    assert problems == []


def url(site: Path, path: str = "index.html") -> str:
    file, _, fragment = path.partition("#")
    return (site / file).as_uri() + (f"#{fragment}" if fragment else "")


def column(page: Any, table: str, index: int) -> list[str]:
    return page.eval_on_selector_all(
        f"#{table} tbody tr:not([hidden])",
        f"rows => rows.map(r => r.cells[{index}].getAttribute('data-v'))",
    )


def test_the_site_opens_from_file_and_every_nav_link_works(page: Any, odd_site: Path) -> None:
    page.goto(url(odd_site))
    for label in ("Models", "Providers", "Changes", "Cost", "Compare", "Data quality", "Runs"):
        page.get_by_role("navigation").get_by_role("link", name=label, exact=True).click()
        assert page.locator("h1").inner_text()
        page.go_back()


def test_sorting_each_kind_of_column(page: Any, odd_site: Path) -> None:
    page.goto(url(odd_site, "models.html"))
    header = page.locator("#models thead th")
    # Numbers (tokens): ascending, then descending, empty cells last both ways.
    header.nth(2).locator("button").click()
    values = column(page, "models", 2)
    filled = [int(v) for v in values if v]
    assert filled == sorted(filled)
    assert values[len(filled) :] == [""] * (len(values) - len(filled))
    header.nth(2).locator("button").click()
    filled = [int(v) for v in column(page, "models", 2) if v]
    assert filled == sorted(filled, reverse=True)
    assert header.nth(2).get_attribute("aria-sort") == "descending"
    # Money: exact decimals, not text ("10" after "9").
    header.nth(4).locator("button").click()
    prices = [Decimal(v) for v in column(page, "models", 4) if v]
    assert prices == sorted(prices)
    assert len(set(prices)) > 3
    # Text.
    header.nth(0).locator("button").click()
    ids = column(page, "models", 0)
    assert ids == sorted(ids)


def test_filters_are_kept_in_the_address(page: Any, odd_site: Path) -> None:
    page.goto(url(odd_site, "models.html"))
    total = len(column(page, "models", 0))
    page.select_option("select[name=family]", "Anthropic")
    page.fill("input[name=context]", "500000")
    page.locator("#models thead th").nth(4).locator("button").click()
    shown = column(page, "models", 0)
    assert 0 < len(shown) < total
    for cell in page.locator("#models tbody tr:not([hidden])").all():
        assert cell.get_attribute("data-family") == "Anthropic"
        assert int(cell.get_attribute("data-context")) >= 500000
    fragment = page.evaluate("location.hash")
    assert "family=Anthropic" in fragment
    assert "context=500000" in fragment
    page.goto("about:blank")
    page.goto(url(odd_site, "models.html") + fragment)
    assert column(page, "models", 0) == shown
    assert page.locator("select[name=family]").input_value() == "Anthropic"


def test_search_and_price_filters(page: Any, odd_site: Path) -> None:
    page.goto(url(odd_site, "models.html"))
    page.fill("input[name=text]", "deepseek")
    assert set(column(page, "models", 0)) == {"deepseek-chat", "deepseek-reasoner"}
    page.fill("input[name=text]", "")
    page.fill("input[name=price]", "1")
    prices = [Decimal(v) for v in column(page, "models", 4)]
    assert prices
    assert max(prices) <= 1


def test_the_tables_are_there_without_javascript(browser: Any, odd_site: Path) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(url(odd_site, "models.html"))
    rows = page.locator("#models tbody tr").count()
    context.close()
    assert rows == len(list((odd_site / "models").glob("*.html")))


def test_compare_three_models_from_the_address(page: Any, odd_site: Path) -> None:
    ids = [MODEL, "deepseek-chat", "org/model<script>alert(1)</script>"]
    fragment = ",".join(page.evaluate("ids => ids.map(encodeURIComponent)", ids))
    page.goto(url(odd_site, "compare.html") + "#m=" + fragment)
    heads = page.locator("#comparison table").first.locator("thead th").all_inner_texts()
    assert heads[1:] == ids
    assert page.locator("#comparison svg[role=img] path").count() >= 3
    page.locator("#picked button").first.click()
    # The table is drawn again after the click: wait for it (count() would not).
    heads = page.locator("#comparison table").first.locator("thead th")
    playwright_api.expect(heads).to_have_count(3)
    assert MODEL not in page.evaluate("decodeURIComponent(location.hash)")


def workloads(count: int, seed: int) -> list[dict[str, int]]:
    """Random workloads around the tier and context boundaries, with cache and without."""
    rng = random.Random(seed)
    edges = [
        0,
        1,
        1000,
        128_000,
        128_001,
        199_999,
        200_000,
        200_001,
        272_000,
        272_001,
        1_000_000,
        1_048_577,
        2_000_000,
    ]
    out = []
    for _ in range(count):
        prompt = rng.choice(edges) if rng.random() < 0.6 else rng.randrange(0, 3_000_000)
        read = rng.randrange(0, prompt + 1) if prompt and rng.random() < 0.5 else 0
        write = rng.randrange(0, prompt - read + 1) if prompt - read and rng.random() < 0.3 else 0
        out.append(
            {
                "input_tokens": prompt,
                "output_tokens": rng.choice([0, 1, 500, rng.randrange(0, 200_000)]),
                "cache_read_tokens": read,
                "cache_write_tokens": write,
                "requests": rng.choice([0, 1, 30, rng.randrange(0, 10_000_000)]),
            }
        )
    return out


SQL_ROWS = (
    "SELECT model_id, provider, region, tier_label, CAST(total_usd AS VARCHAR), unpriced, "
    "billed_as_input, exceeds_context, reason FROM workload_costs(?, output_tokens := ?, "
    "cache_read_tokens := ?, cache_write_tokens := ?, requests := ?) ORDER BY total_usd IS NULL, "
    "exceeds_context IS TRUE, total_usd, model_id, provider NULLS FIRST, region NULLS FIRST"
)
JS_ROWS = """ws => ws.map(w => modelcatCost(w).map(r => [r.model_id, r.provider, r.region,
  r.tier_label, r.total_usd, r.unpriced, r.billed_as_input, r.exceeds_context, r.reason]))"""


@pytest.mark.parametrize("catalog", ["priced", "odd_data"])
def test_the_calculator_is_workload_costs(
    catalog: str, request: pytest.FixtureRequest, page: Any, tmp_path: Path
) -> None:
    data = request.getfixturevalue(catalog)
    data_dir = data.root if isinstance(data, DataDir) else data
    build_report(tmp_path / "site", data_dir)
    page.goto(url(tmp_path / "site", "cost.html"))
    cases = workloads(150, seed=20)
    got = page.evaluate(JS_ROWS, cases)
    kinds: set[str] = set()
    with modelcat.open(data_dir) as con:
        for case, rows in zip(cases, got, strict=True):
            want = [list(r) for r in con.execute(SQL_ROWS, list(case.values())).fetchall()]
            assert rows == want, case
            kinds.update(r[8].split(" ")[0] for r in want if r[8])
            kinds.update("folded" for r in want if r[6])
            kinds.update("exceeds" for r in want if r[7])
    assert {"folded", "exceeds", "no"} <= kinds  # cache as input, overflow, unpriced seen


TIER_SQL = (
    "SELECT model_id, provider, service_tier, CAST(total_usd AS VARCHAR) FROM workload_costs(?, "
    "output_tokens := ?, cache_read_tokens := ?, cache_write_tokens := ?, requests := ?, "
    "service_tier := ?) ORDER BY total_usd IS NULL, exceeds_context IS TRUE, total_usd, "
    "model_id, provider NULLS FIRST, region NULLS FIRST"
)
TIER_JS = """([ws, tier]) => ws.map(w => modelcatCost({...w, service_tier: tier}).map(r =>
  [r.model_id, r.provider, r.service_tier, r.total_usd]))"""


@pytest.mark.parametrize("tier", ["standard", "batch", "flex", "priority", None])
def test_the_calculator_compares_one_service_tier(
    tier: str | None, odd_data: DataDir, page: Any, tmp_path: Path
) -> None:
    """As workload_costs does: the offers of one tier (official prices are standard), or
    every tier; an unknown tier is refused, not read as every tier."""
    build_report(tmp_path / "site", odd_data.root)
    page.goto(url(tmp_path / "site", "cost.html"))
    cases = workloads(20, seed=7)
    got = page.evaluate(TIER_JS, [cases, tier])
    with modelcat.open(odd_data.root) as con:
        for case, rows in zip(cases, got, strict=True):
            want = con.execute(TIER_SQL, [*case.values(), tier]).fetchall()
            assert rows == [list(r) for r in want], case
    if tier is not None:
        assert {r[2] for rows in got for r in rows} <= {tier}
    with pytest.raises(Exception, match="unknown service_tier"):
        page.evaluate("modelcatCost({input_tokens: 1, service_tier: 'cheap'})")


def test_the_service_tier_is_picked_on_the_page_and_kept_in_the_address(
    odd_data: DataDir, page: Any, tmp_path: Path
) -> None:
    build_report(tmp_path / "site", odd_data.root)
    page.goto(url(tmp_path / "site", "cost.html"))
    assert page.locator("select[name=service_tier]").input_value() == "standard"
    page.fill("input[name=requests]", "3")
    page.select_option("select[name=service_tier]", "batch")
    with modelcat.open(odd_data.root) as con:
        (batch,) = con.execute(
            "SELECT count(*) FROM workload_costs(2000, output_tokens := 500, requests := 3, "
            "service_tier := 'batch') WHERE exceeds_context IS NOT TRUE"
        ).fetchone()
    assert batch > 0
    assert page.locator("#costs tbody tr").count() == min(batch, 200)
    assert "service_tier=batch" in page.evaluate("location.hash")
    page.reload()
    assert page.locator("select[name=service_tier]").input_value() == "batch"
    page.select_option("select[name=service_tier]", "")
    page.reload()
    assert page.locator("select[name=service_tier]").input_value() == ""


def test_the_calculator_page_shows_the_ranking(page: Any, priced: Path, tmp_path: Path) -> None:
    build_report(tmp_path / "site", priced)
    page.goto(url(tmp_path / "site", "cost.html"))
    page.fill("input[name=input]", "250000")
    page.fill("input[name=cache_read]", "50000")
    page.fill("input[name=output]", "1000")
    page.fill("input[name=requests]", "1000")
    with modelcat.open(priced) as con:
        want = con.execute(
            "SELECT model_id, CAST(total_usd AS VARCHAR) FROM workload_costs(250000, "
            "output_tokens := 1000, cache_read_tokens := 50000, requests := 1000) "
            "WHERE exceeds_context IS NOT TRUE ORDER BY total_usd IS NULL, total_usd, model_id, "
            "provider NULLS FIRST, region NULLS FIRST"
        ).fetchall()
    rows = page.locator("#costs tbody tr")
    assert rows.count() == len(want)
    first = rows.first
    assert first.locator("th").inner_text() == want[0][0]
    assert first.locator("td.total").get_attribute("data-usd") == want[0][1]
    unpriced = [m for m, total in want if total is None]
    if unpriced:
        assert "unpriced" in rows.last.inner_text()
    page.fill("input[name=cache_read]", "300000")
    assert "exceed input_tokens" in page.locator("#cost-error").inner_text()


PAGE_TYPES = {
    "index": "index.html",
    "models": "models.html",
    "model": f"models/{page_name(MODEL)}.html",
    "providers": "providers.html",
    "provider": f"providers/{page_name('Anthropic')}.html",
    "changes": "changes.html",
    "cost": "cost.html",
    "compare": f"compare.html#m={MODEL},deepseek-chat,o3",
    "quality": "quality.html",
    "runs": "runs.html",
}


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_no_serious_accessibility_violation(browser: Any, odd_site: Path, scheme: str) -> None:
    axe = axe_source()
    context = browser.new_context(color_scheme=scheme)
    page = context.new_page()
    found = {}
    for name, path in PAGE_TYPES.items():
        page.goto(url(odd_site, path))
        page.add_script_tag(content=axe)
        result = page.evaluate("async () => await axe.run(document)")
        bad = [
            (v["id"], v["impact"], [n["target"] for n in v["nodes"][:3]])
            for v in result["violations"]
            if v["impact"] in ("serious", "critical")
        ]
        if bad:
            found[name] = bad
    context.close()
    assert found == {}


def test_screenshots_of_each_page_type(browser: Any, odd_site: Path) -> None:
    """Kept as artefacts: look at them."""
    out = ARTEFACTS / "report"
    out.mkdir(parents=True, exist_ok=True)
    for scheme in ("light", "dark"):
        for width in (1280, 390):
            context = browser.new_context(
                viewport={"width": width, "height": 900}, color_scheme=scheme
            )
            page = context.new_page()
            for name, path in PAGE_TYPES.items():
                page.goto(url(odd_site, path))
                shot = out / f"{name}-{width}-{scheme}.png"
                page.screenshot(path=str(shot), full_page=True)
                assert shot.stat().st_size > 5000
                # Readable at 390 px: the page itself never scrolls sideways (tables do).
                assert page.evaluate("document.documentElement.scrollWidth") <= width + 1, (
                    name,
                    width,
                )
            context.close()
