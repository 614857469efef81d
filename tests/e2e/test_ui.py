"""The Dagster UI, in a headless Chromium, shows every segment in the catalog and the lineage."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from segment_pipeline.definitions.project import load_project

from .server import SETTINGS, DagsterDev

#: Debian's chromium (.ci/system-deps.sh); Playwright never downloads a browser here.
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 60_000
#: The global lineage filtered to the `segments` group (where the catalog's own links point).
SEGMENTS_LINEAGE = "/asset-groups~group%3A%22segments%22"
#: Placeholders shown until an asset's status has loaded (catalog row, lineage node).
STATUS_LOADING = re.compile(r"^- partitions$")
NODE_LOADING = re.compile(r"^Loading")


def segment_names(server: DagsterDev) -> list[str]:
    """The project's segments, as the server loaded them."""
    return list(load_project(server.project / SETTINGS["SEGMENT_PIPELINE_PROJECT_DIR"]).segments)


def open_page(page: Page, server: DagsterDev, path: str) -> None:
    page.goto(f"{server.url}{path}", wait_until="domcontentloaded")


@pytest.mark.e2e
def test_catalog_and_lineage_show_every_segment(dagster_dev: DagsterDev, tmp_path: Path) -> None:
    assert CHROMIUM.is_file(), f"{CHROMIUM} is missing: run .ci/system-deps.sh as root"
    names = segment_names(dagster_dev)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            # The catalog renders only the rows in view: tall enough for every asset of the project.
            page = browser.new_page(viewport={"width": 1920, "height": 4000})
            page.set_default_timeout(TIMEOUT_MS)
            # A fresh instance greets the first visitor with a newsletter dialog.
            page.add_locator_handler(
                page.get_by_role("button", name="Skip"), lambda skip: skip.click()
            )

            open_page(page, dagster_dev, "/assets")
            for name in names:
                row = page.locator(f'a[href="/assets/segments/{name}"]').first
                expect(row).to_be_visible()
                expect(row).to_contain_text(f"segments / {name}")
            expect(page.get_by_text(STATUS_LOADING)).to_have_count(0)
            page.screenshot(path=tmp_path / "asset-catalog.png", full_page=True)

            open_page(page, dagster_dev, SEGMENTS_LINEAGE)
            for name in names:
                expect(page.locator(f'[data-tooltip="{name}"]')).to_be_visible()
            expect(page.get_by_text(NODE_LOADING)).to_have_count(0)
            page.screenshot(path=tmp_path / "segments-lineage.png")
        finally:
            browser.close()
