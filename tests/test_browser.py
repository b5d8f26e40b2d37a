"""index.html shown to a person: headless Chromium renders the clause table, a failing scenario expands
to show expected and actual, the filters work, and the page makes no network request."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("S1SR_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]  # fmt: skip


@pytest.fixture(scope="module")
def browser_page_path(failing_report: Path) -> Path:
    if CHROMIUM is None:
        if os.environ.get("S1SR_REQUIRE_BROWSER"):
            pytest.fail("S1SR_REQUIRE_BROWSER is set but no chromium is installed")
        pytest.skip("no chromium (install Debian's chromium, or set S1SR_CHROMIUM)")
    return failing_report / "index.html"


def test_the_report_renders_offline_and_shows_a_failure(browser_page_path: Path, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    outside: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("request", lambda r: None if r.url.startswith("file://") else outside.append(r.url))
            page.goto(browser_page_path.as_uri())
            assert page.locator("#overall").inner_text() == "NOT CONFORMANT"
            rows = page.locator("#clauses tbody tr")
            assert rows.count() == 2
            assert rows.nth(0).locator("td").nth(0).inner_text() == "18.16"
            assert page.locator("#shown").inner_text() == "52 shown"
            page.uncheck("input.f-outcome[value='passed']")
            assert page.locator("#shown").inner_text() == "10 shown"
            failing = page.locator("details.scenario[data-outcome='failed']").first
            failing.locator("> summary").click()
            mismatch = failing.locator(".mismatch")
            assert mismatch.is_visible()
            assert "Expected" in mismatch.locator(".expected").inner_text()
            assert "Actual" in mismatch.locator(".actual").inner_text()
            page.select_option("#f-clause", "18.62")
            assert page.locator("#shown").inner_text() == "0 shown"
            shot = tmp_path / "report.png"
            page.select_option("#f-clause", "")
            page.screenshot(path=str(shot))
            assert shot.stat().st_size > 10_000
        finally:
            browser.close()
    assert outside == []
