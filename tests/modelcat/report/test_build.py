"""The built site, read back without a browser: pages, links, hosts, numbers, escaping,
determinism and the atomic replace."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from urllib.parse import unquote, urlsplit

import duckdb
import pytest

import modelcat
from modelcat.cli import main
from modelcat.report import build_report
from modelcat.report.build import MARKER, NotASite
from modelcat.report.text import page_name
from tests.support.report import ODD_IDS, links
from transforms.contract.layout import DataDir


def query(data_dir: DataDir, sql: str) -> list[tuple]:
    with modelcat.open(data_dir.root) as con:
        return con.execute(sql).fetchall()


def test_every_model_provider_and_run_has_its_page(odd_data: DataDir, site: Path) -> None:
    models = [r[0] for r in query(odd_data, "SELECT model_id FROM models")]
    providers = [r[0] for r in query(odd_data, "SELECT DISTINCT provider FROM provider_offers")]
    runs = [r[0] for r in query(odd_data, "SELECT run_id FROM runs")]
    assert set(ODD_IDS) <= set(models)
    for folder, keys in (("models", models), ("providers", providers), ("runs", runs)):
        pages = {p.name for p in (site / folder).glob("*.html")}
        assert pages == {f"{page_name(k)}.html" for k in keys}, folder
        for key in keys:  # the page is that key's, not a neighbour's
            text = (site / folder / f"{page_name(key)}.html").read_text(encoding="utf-8")
            assert "<h1>" in text


def test_every_relative_link_and_anchor_resolves(site: Path) -> None:
    pages = sorted(site.rglob("*.html"))
    assert len(pages) > 40
    ids = {page: links(page).ids for page in pages}
    checked = 0
    for page in pages:
        for url in links(page).urls:
            parts = urlsplit(url)
            if parts.scheme or parts.netloc:
                continue
            target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
            assert target.is_file(), f"{page.relative_to(site)}: {url} -> nothing"
            assert site.resolve() in target.parents, f"{url} leaves the site"
            if parts.fragment and "=" not in parts.fragment:  # an anchor, not a view
                assert parts.fragment in ids[target], f"{page.relative_to(site)}: {url}"
            checked += 1
    assert checked > 1000


def test_nothing_is_requested_from_another_host(odd_data: DataDir, site: Path) -> None:
    sources = {
        url
        for row in query(odd_data, "SELECT page_url, canonical_url FROM models")
        for url in row
        if url
    }
    for path in site.rglob("*"):
        if path.suffix not in (".html", ".css", ".js", ".xml"):
            continue
        text = path.read_text(encoding="utf-8")
        assert "url(" not in text or path.suffix != ".css" or "url(http" not in text
        for call in ("fetch(", "import(", "Worker("):
            assert call not in text, (path.name, call)
        if path.suffix == ".html":
            parsed = links(path)
            for url in parsed.urls:
                if urlsplit(url).netloc:
                    assert url in sources, f"{path.name} links to {url}"
            assert 'type="module"' not in text


def test_prices_shown_equal_the_catalogs_decimals(odd_data: DataDir, site: Path) -> None:
    rows = query(
        odd_data,
        "SELECT model_id, tier_label, metric, usd_per_mtok FROM official_prices ORDER BY ALL",
    )
    checked = 0
    for model_id in {r[0] for r in rows}:
        text = (site / "models" / f"{page_name(model_id)}.html").read_text(encoding="utf-8")
        table = text.split("by context tier</caption>", 1)[1].split("</table>", 1)[0]
        tiers = re.findall(r'<th scope="col">([^<]*)', table)[1:]
        shown: dict[tuple[str, str], str] = {}
        for metric, cells in re.findall(r'<tr><th scope="row">([^<]*)</th>(.*?)</tr>', table):
            for tier, cell in zip(tiers, re.findall(r"<td[^>]*>([^<]*)</td>", cells), strict=True):
                shown[(unescape(tier), unescape(metric))] = cell
        for mid, tier, metric, price in rows:
            if mid != model_id:
                continue
            cell = shown[(tier, metric)]
            if price is None:
                assert cell == "unread"
            else:
                assert cell.startswith("$"), (mid, tier, metric)
                assert Decimal(cell[1:]) == price, (mid, tier, metric)
            checked += 1
    assert checked == len(rows) > 50


def test_the_models_table_shows_first_tier_prices_exactly(odd_data: DataDir, site: Path) -> None:
    expected = dict(
        query(
            odd_data,
            "SELECT model_id, arg_min(usd_per_mtok, (tier_min_tokens, tier_label)) "
            "FROM official_prices WHERE metric = 'input' AND tier_min_tokens IS NOT NULL "
            "GROUP BY ALL",
        )
    )
    text = (site / "models.html").read_text(encoding="utf-8")
    rows = re.findall(
        r'<tr data-family.*?data-price="([^"]*)".*?<th scope="row" data-v="([^"]*)"', text
    )
    assert len(rows) == len(query(odd_data, "SELECT * FROM models"))
    for price, model_id in rows:
        want = expected.get(unescape(model_id))
        if want is not None and price:
            assert Decimal(price) == want, model_id


def unescape(text: str) -> str:
    import html

    return html.unescape(text)


def test_odd_ids_are_escaped_everywhere(site: Path) -> None:
    for path in site.rglob("*"):
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            assert "<script>alert" not in text, path
            assert "</script>alert" not in text
    models = (site / "models.html").read_text(encoding="utf-8")
    assert "org/model&lt;script&gt;alert(1)&lt;/script&gt;" in models
    assert "Quote&quot;s &amp; &#x27;apostrophes&#x27;" in models


def test_two_builds_are_byte_identical(odd_data: DataDir, site: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    build_report(again, odd_data.root)
    first = {p.relative_to(site): p.read_bytes() for p in site.rglob("*") if p.is_file()}
    second = {p.relative_to(again): p.read_bytes() for p in again.rglob("*") if p.is_file()}
    assert first.keys() == second.keys()
    assert [k for k in first if first[k] != second[k]] == []


def test_a_build_replaces_a_report_whole_and_nothing_else(
    odd_data: DataDir, tmp_path: Path
) -> None:
    out = tmp_path / "site"
    build_report(out, odd_data.root)
    (out / "stale.html").write_text("old", encoding="utf-8")
    build_report(out, odd_data.root)
    assert not (out / "stale.html").exists()
    assert (out / MARKER).is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]  # nothing left beside
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep", encoding="utf-8")
    with pytest.raises(NotASite):
        build_report(mine, odd_data.root)
    assert (mine / "notes.txt").read_text(encoding="utf-8") == "keep"


def test_reference_tables_are_shown_once_the_catalog_has_them(
    own_copy: DataDir, tmp_path: Path
) -> None:
    """Empty reference tables build (every other test); a row in one is shown."""
    with duckdb.connect(str(own_copy.catalog_file)) as con:
        con.execute(
            "INSERT INTO reference_prices (source, source_model, model_id, metric, "
            "tier_min_tokens, usd_per_mtok, raw_value) "
            "VALUES ('litellm', 'o3', 'o3', 'input', 0, 2.5, '2.5e-06')"
        )
    build_report(tmp_path / "site", own_copy.root)
    page = (tmp_path / "site" / "models" / "o3.html").read_text(encoding="utf-8")
    assert "<h2>Reference prices</h2>" in page
    assert "<td>2.5</td>" in page
    other = (tmp_path / "site" / "models" / "deepseek-chat.html").read_text(encoding="utf-8")
    assert "<h2>Reference prices</h2><p>None.</p>" in other


def test_the_command_writes_the_site_and_says_where(
    odd_data: DataDir, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "site"
    assert main(["report", "--out", str(out), "--data-dir", str(odd_data.root)]) == 0
    assert capsys.readouterr().out.strip() == f"report: {out / 'index.html'}"
    assert main(["report", "--out", str(out), "--data-dir", str(tmp_path / "none")]) == 1
    assert "no catalog" in capsys.readouterr().err
