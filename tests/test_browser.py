"""index.html shown to a person: headless Chromium renders the clause table, a failing scenario expands
to show expected and actual, the filters work, and the page makes no network request. Passed and not
applicable scenarios are listed by the page's script as it loads (s1sr/report/packing.py): a test waits
for the list (``_listed``) before it reads it."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO, run_mutant

CHROMIUM = os.environ.get("S1SR_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]  # fmt: skip


def _packed_rows(page: str) -> str:
    """The rows of the packed scenarios of ``page`` (each with a placeholder for its body)."""
    from s1sr.report.packing import decompress

    return "".join(decompress(b) for b in re.findall(r'<script type="application/gzip" class="rows">([^<]*)<', page))


def _listed(page: Any) -> None:
    """Wait until the page has listed every scenario (it then says how many it shows)."""
    page.wait_for_function("document.getElementById('shown').textContent !== ''", timeout=30_000)


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
            _listed(page)
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


def test_failures_come_first_and_the_clause_table_links_to_them(browser_page_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(browser_page_path.as_uri())
            _listed(page)
            outcomes = page.locator("details.scenario").evaluate_all("ds => ds.map(d => d.dataset.outcome)")
            assert outcomes == ["failed"] * 10 + ["passed"] * 42
            row = page.locator("#clauses tbody tr[data-clause='18.16']")
            assert row.get_attribute("class") == "attention"
            assert page.locator("#clauses tbody tr[data-clause='18.62']").get_attribute("class") is None
            link = row.locator("a")
            assert link.count() == 1 and link.inner_text() == "10"
            target = (link.get_attribute("href") or "").removeprefix("#")
            first = page.locator("details.scenario").first
            assert first.get_attribute("id") == target
            assert first.get_attribute("open") is None
            link.click()
            assert first.get_attribute("open") is not None  # following the link opens the scenario
            assert "s1sr 0.1.0" in page.locator("#tool").inner_text()
        finally:
            browser.close()


@pytest.fixture(scope="module")
def three_failures(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if CHROMIUM is None:
        pytest.skip("no chromium")
    folder = tmp_path_factory.mktemp("three-failures")
    done = run_mutant(
        "no_load_limit_check", "run", "--clause", "18.37", "--dmc", "secure-esme", "-k", "not position",
        "--report-dir", str(folder),
    )  # fmt: skip
    assert done.returncode == 1, done.stdout + done.stderr
    assert "9 passed, 3 failed, 0 error" in done.stdout
    return folder / "index.html"


def test_printed_on_a4_the_failures_are_expanded_and_the_passes_left_out(three_failures: Path, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright
    from pypdf import PdfReader

    pdf = tmp_path / "report.pdf"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            page = browser.new_page()
            page.goto(three_failures.as_uri())
            page.evaluate("window.dispatchEvent(new Event('beforeprint'))")  # what the browser's Print fires
            assert page.locator("details.scenario[open]").count() == 3
            page.pdf(path=str(pdf), prefer_css_page_size=True)
        finally:
            browser.close()
    reader = PdfReader(str(pdf))
    assert 1 <= len(reader.pages) <= 3
    for printed in reader.pages:
        width, height = float(printed.mediabox.width), float(printed.mediabox.height)
        assert abs(width - 595.3) < 1 and abs(height - 841.9) < 1  # A4 in points
    text = " ".join(" ".join(p.extract_text() for p in reader.pages).replace("\ufb01", "fi").split())
    assert "NOT CONFORMANT" in text
    for watts in ("65536", "100000", "4294967295"):
        assert f"threshold {watts} W does not fit" in text  # each failure's reason, expanded
    assert "is accepted and reaches the meter unchanged" not in text  # passed scenarios are not printed


@pytest.fixture(scope="module")
def waived_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run of clause 23 whose S1SP fails four scenarios, three of them waived, archived and reported."""
    if CHROMIUM is None:
        if os.environ.get("S1SR_REQUIRE_BROWSER"):
            pytest.fail("S1SR_REQUIRE_BROWSER is set but no chromium is installed")
        pytest.skip("no chromium")
    folder = tmp_path_factory.mktemp("waived")
    tables = "".join(
        f'[[waiver]]\nscenario = "features/23-annex-c-defaults.feature:{line}[secure-esme]"\n'
        f'reason = "false Annex C label"\nreference = "S1SP-{line}"\nexpires = 2099-12-31\naccepted_by = "RM"\n\n'
        for line in (11, 18, 24)
    )
    expired = (
        '[[waiver]]\nclause = "18.63"\nreason = "r"\nreference = "old"\nexpires = 2020-01-01\naccepted_by = "RM"\n'
    )
    (folder / "waivers.toml").write_text(tables + expired)
    done = subprocess.run(
        [sys.executable, "-m", "s1sr", "run", "--s1sp", "tests.s1sp_variants:LabelsEveryFieldAnnexC",
         "--clause", "23", "--dmc", "secure-esme", "--waivers", str(folder / "waivers.toml"),
         "--report-dir", str(folder / "report"), "--archive-dir", str(folder / "runs")],
        capture_output=True, text=True, cwd=REPO, timeout=600,
    )  # fmt: skip
    assert done.returncode == 1, done.stdout + done.stderr
    return folder / "report"


def test_waived_scenarios_have_their_own_colour_and_the_header_its_fingerprints(waived_report: Path) -> None:
    from playwright.sync_api import sync_playwright

    results = json.loads((waived_report / "results.json").read_text())
    fingerprint = results["tool"]["signing"]["responses"][0]["sha256"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto((waived_report / "index.html").as_uri())
            _listed(page)
            assert page.locator("#overall").inner_text() == "NOT CONFORMANT"
            outcomes = page.locator("details.scenario").evaluate_all("ds => ds.map(d => d.dataset.outcome)")
            assert outcomes == ["failed"] + ["waived"] * 3 + ["passed"] * 3  # known deviations after the unknown
            colour = "el => getComputedStyle(el).color"
            waived = page.locator("details.scenario[data-outcome='waived'] .badge").first
            assert waived.inner_text() == "waived"
            assert waived.evaluate(colour) == "rgb(14, 124, 134)"
            failed = page.locator("details.scenario[data-outcome='failed'] .badge").first
            assert failed.evaluate(colour) == "rgb(207, 34, 46)"
            assert page.locator("#clauses thead th").all_inner_texts()[3:] == [
                "passed", "failed", "error", "waived", "not applicable", "not run",
            ]  # fmt: skip
            register = page.locator("#deviations tbody tr")
            assert register.evaluate_all("rs => rs.map(r => [r.dataset.waiver, r.dataset.status])") == [
                ["1", "applied"], ["2", "applied"], ["3", "applied"], ["4", "expired"],
            ]  # fmt: skip
            register.nth(0).locator("a").click()  # a waiver links to the scenario it waived, which opens
            opened = page.locator("details.scenario[data-outcome='waived'][open]")
            assert opened.count() == 1
            assert "Waived (failed) by waiver 1: false Annex C label" in opened.locator(".waiver").inner_text()
            certificates = page.locator("#certificates").inner_text()
            assert f"SMETS1 Responses: SHA-256 {fingerprint} (CN=s1sr reference S1SP (test key))" in certificates
            archive = results["archive"]
            assert page.locator("#archive").inner_text() == f"run {archive['id']} ({archive['name']})"
            assert "3 applied, 1 expired, 0 unused" in page.locator("#register").inner_text()
        finally:
            browser.close()


def test_a_passed_scenario_carries_its_evidence_compressed_and_shows_it_when_opened(browser_page_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    source = browser_page_path.read_text()
    assert _packed_rows(source).count('<template class="packed"') == 42  # one per passed scenario
    # one group per feature (18.16's passes, 18.62's), both DMCs in it: a block of rows and a pack of bodies each
    assert source.count('<script type="application/gzip" class="rows"') == 2
    assert source.count('<script type="application/gzip" class="pack"') == 2
    assert "A2:1073</sr:RequestID>" not in source  # the passed exchanges' XML is not in the page as text
    assert "A2:1073&lt;/sr:RequestID&gt;" not in source
    assert "JoinTimePeriod of 1 s" not in source  # nor their rows
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            assert page.evaluate("typeof DecompressionStream") == "function"
            page.goto(browser_page_path.as_uri())
            _listed(page)
            failing = page.locator("details.scenario[data-outcome='failed']").first
            assert failing.locator(".body template.packed").count() == 0  # failures are inline, script or not
            assert failing.locator(".body details.evidence pre").count() >= 1
            passed = (
                page.locator("details.scenario[data-outcome='passed']")
                .filter(has_text="A JoinTimePeriod of 1 s reaches the communications hub as 1 min")
                .first
            )  # secure-esme, listed before secure-gsme
            assert "secure-esme" in passed.locator("> summary").inner_text()
            assert passed.locator(".body pre").count() == 0
            passed.locator("> summary").click()
            passed.locator(".body details.evidence").first.wait_for(state="attached", timeout=10_000)
            assert passed.locator(".body template.packed").count() == 0
            assert passed.locator(".body .steps li").count() >= 3
            evidence = passed.locator(".body details.evidence")
            assert evidence.count() == 1
            assert "SRV 8.11" in evidence.locator("> summary").inner_text()
            evidence.locator("> summary").click()
            request, response = evidence.locator("pre").all_inner_texts()
            assert "<sr:RequestID>90-B3-D5-1F-30-01-00-00:00-DB-12-34-56-78-90-A2:1073</sr:RequestID>" in request
            assert "<sr:ServiceReferenceVariant>8.11</sr:ServiceReferenceVariant>" in request
            assert "<sr:ResponseID>00-DB-12-34-56-78-90-A2:90-B3-D5-1F-30-01-00-00:1073</sr:ResponseID>" in response
            assert "<ds:SignatureValue>" in response
            gas = (
                page.locator("details.scenario[data-outcome='passed']")
                .filter(has_text="secure-gsme")
                .filter(has_text="A JoinTimePeriod of 1 s reaches")
            )  # the second body of the same pack
            gas.locator("> summary").click()
            gas.locator(".body details.evidence > summary").click()
            (request,) = gas.locator(".body details.evidence pre").first.all_inner_texts()
            assert "<sr:RequestID>90-B3-D5-1F-30-01-00-00:00-DB-12-34-56-78-90-A2:1085</sr:RequestID>" in request
        finally:
            browser.close()


def test_without_javascript_the_failures_are_whole_and_the_page_says_where_the_passes_are(
    browser_page_path: Path,
) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900}, java_script_enabled=False)
            page.goto(browser_page_path.as_uri())
            assert page.locator("details.scenario").count() == 10  # the failures; the passes are packed
            assert page.locator("details.scenario[data-outcome='passed']").count() == 0
            note = page.locator("#packed-note").inner_text()
            assert note.startswith("42 passed and not applicable scenario(s) are stored compressed in this page")
            assert page.locator("#clauses tbody tr[data-clause='18.62'] td.n").first.inner_text() == "38"  # passed
            failing = page.locator("details.scenario[data-outcome='failed']").first
            failing.locator("> summary").click()
            assert "Expected" in failing.locator(".mismatch .expected").inner_text()
            assert failing.locator(".body details.evidence pre").count() >= 1
        finally:
            browser.close()


def test_the_text_filter_finds_listed_scenarios_and_a_link_to_one_opens_it(browser_page_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    from s1sr.report.packing import unpacked

    target = re.findall(
        r'<details class="scenario" id="(s\d+)" data-outcome="passed"', unpacked(browser_page_path.read_text())
    )[5]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(f"{browser_page_path.as_uri()}#{target}")
            _listed(page)
            opened = page.locator("details.scenario[open]")
            assert opened.count() == 1 and opened.get_attribute("id") == target
            opened.locator(".body .steps li").first.wait_for(timeout=10_000)  # its body expanded too
            page.fill("#f-text", "JOINTIMEPERIOD OF 1 S reaches")  # by name, in any case
            assert page.locator("#shown").inner_text() == "2 shown"  # that example on both DMCs
            shown = page.locator("details.scenario:visible > summary").all_inner_texts()
            assert [("secure-esme" in s, "A JoinTimePeriod of 1 s reaches" in s) for s in shown] == [
                (True, True), (False, True),
            ]  # fmt: skip
            page.fill("#f-text", "secure-esme")  # the DMC is not part of the name
            assert page.locator("#shown").inner_text() == "0 shown"
        finally:
            browser.close()


#: index.html of the default run (404 scenarios: 310 passed, 94 not applicable) with every body inline,
#: measured before bodies were packed: 7,033,852 bytes. Packed (one pack per example) it measured 1,059,878;
#: with rows packed too, a group per feature, 461,034.
INLINE_DEFAULT_PAGE_BYTES = 7_033_852


@pytest.fixture(scope="module")
def default_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if CHROMIUM is None:
        if os.environ.get("S1SR_REQUIRE_BROWSER"):
            pytest.fail("S1SR_REQUIRE_BROWSER is set but no chromium is installed")
        pytest.skip("no chromium")
    folder = tmp_path_factory.mktemp("default")
    done = subprocess.run(
        [sys.executable, "-m", "s1sr", "run", "--no-archive", "--report-dir", str(folder / "report")],
        capture_output=True, text=True, cwd=REPO, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return folder / "report"


def test_the_default_run_s_page_is_under_an_eighth_of_its_inline_size_and_opens(default_report: Path) -> None:
    from playwright.sync_api import sync_playwright

    from s1sr.report.packing import unpacked

    page_path = default_report / "index.html"
    size = page_path.stat().st_size
    assert size < INLINE_DEFAULT_PAGE_BYTES // 8, size  # one pack per example (1.06 MB) would not do
    source = page_path.read_text()
    assert _packed_rows(source).count('<template class="packed"') == 404
    assert len(unpacked(source).encode()) > 3 * size  # every row and body is still in the page, compressed
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(page_path.as_uri())
            _listed(page)
            assert page.locator("#overall").inner_text() == "CONFORMANT"
            assert page.locator("#shown").inner_text() == "404 shown"
            na = page.locator("details.scenario[data-outcome='not applicable']").first
            na.locator("> summary").click()
            na.locator(".body p.reason").wait_for(timeout=10_000)  # a not applicable body expands too
            assert na.locator(".body template.packed").count() == 0
        finally:
            browser.close()
