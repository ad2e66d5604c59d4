"""``modelcat report`` and ``refresh --report`` on catalogs a real crawl published."""

from __future__ import annotations

from pathlib import Path

from modelcat.demo.mirror import MirrorServer
from modelcat.report.text import page_name
from tests.support import modelcat, query, refresh


def test_refresh_rebuilds_the_report_after_a_published_run(
    server: MirrorServer, mirror: Path, data_dir: Path, tmp_path: Path
) -> None:
    site = tmp_path / "site"
    first = refresh(server, data_dir, "--report", str(site))
    assert first.returncode == 0, first.stderr
    assert f"report: {site / 'index.html'}" in first.stdout
    run_id = query(data_dir, "SELECT max(run_id) FROM runs")[0][0]
    assert run_id in (site / "index.html").read_text(encoding="utf-8")
    models = {r[0] for r in query(data_dir, "SELECT model_id FROM models")}
    assert {p.stem for p in (site / "models").glob("*.html")} == {page_name(m) for m in models}
    # A run that publishes nothing leaves the site as it was.
    (mirror / "llms.txt").write_text("# nothing here\n", encoding="utf-8")
    before = (site / "index.html").read_bytes()
    second = refresh(server, data_dir, "--report", str(site))
    assert second.returncode == 1
    assert "report:" not in second.stdout
    assert (site / "index.html").read_bytes() == before


def test_report_of_the_past_and_its_errors(published: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    early = modelcat(
        "report", "--out", str(site), "--data-dir", str(published), "--as-of", "2001-01-01"
    )
    assert early.returncode == 1
    assert early.stderr.strip() == "report: the catalog had no published run at that time"
    assert not site.exists()
    bad = modelcat("report", "--out", str(site), "--data-dir", str(published), "--as-of", "soon")
    assert bad.returncode == 1
    assert "not an ISO 8601" in bad.stderr
    done = modelcat(
        "report", "--out", str(site), "--data-dir", str(published), "--as-of", "2999-01-01"
    )
    assert done.returncode == 0, done.stderr
    assert "shown as it stood at <time>2999-01-01 00:00:00Z</time>" in (
        site / "index.html"
    ).read_text(encoding="utf-8")
