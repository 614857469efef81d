"""The HTML report in a headless Chromium: every chart renders data points, no request
leaves the page, and a screenshot is kept."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from playwright.sync_api import sync_playwright

from segment_pipeline.cli import main

from .conftest import DAYS, Runner

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
CHARTS = {
    "Members over time",
    "Daily additions (up) and removals by reason (down)",
    "Join times of the current members",
    "Picked contacts by persona",
    "Journey entrants per day",
}


@pytest.mark.e2e
def test_report_renders_offline(runner: Runner, project_dir, tmp_path: Path) -> None:
    assert CHROMIUM.is_file(), f"{CHROMIUM} is missing"
    journey = {
        "name": "welcome",
        "trigger_segment": "big_accounts",
        "starts_on": DAYS[0].isoformat(),
        "duration_days": 7,
        "allow_reentry": False,
    }
    (project_dir.root / "journeys").mkdir()
    (project_dir.root / "journeys" / "welcome.yml").write_text(yaml.safe_dump(journey))
    runner.materialize(DAYS)
    out = tmp_path / "report.html"
    result = CliRunner().invoke(
        main,
        [
            "report",
            "--out",
            str(out),
            "--warehouse",
            str(runner.settings.warehouse),
            "--project-dir",
            str(project_dir.root),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "5 charts" in result.output
    html = out.read_text()
    assert "cdn.plot.ly" not in html.split("<body>")[0]

    requests: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 2600})
            page.on("request", lambda request: requests.append(request.url))
            page.goto(out.as_uri(), wait_until="load")
            page.wait_for_selector(".js-plotly-plot .main-svg", timeout=30_000)
            charts = page.evaluate(
                """() => [...document.querySelectorAll('.js-plotly-plot')].map(chart => ({
                    title: chart.layout.title.text,
                    points: chart.querySelectorAll('g.point, .scatterlayer .trace path.js-line')
                        .length,
                }))"""
            )
            page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
        finally:
            browser.close()
    assert {chart["title"] for chart in charts} == CHARTS
    assert all(chart["points"] > 0 for chart in charts), charts
    assert (tmp_path / "report.png").stat().st_size > 10_000
    assert [url for url in requests if not url.startswith("file://")] == []
