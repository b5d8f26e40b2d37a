"""The report folder: four files, parseable by standard tools, written atomically; interrupted runs lose nothing."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.conftest import REPO, s1sr


def test_the_report_folder_holds_the_four_files(failing_report: Path) -> None:
    assert sorted(p.name for p in failing_report.iterdir()) == [
        "cucumber.json", "index.html", "junit.xml", "results.json",
    ]  # fmt: skip
    assert all(oct(p.stat().st_mode)[-3:] == "644" for p in failing_report.iterdir())


def test_junit_has_a_testcase_per_scenario_with_the_clause_in_the_classname(failing_report: Path) -> None:
    suite = ET.parse(failing_report / "junit.xml").getroot().find("testsuite")
    assert suite is not None
    cases = suite.findall("testcase")
    results = json.loads((failing_report / "results.json").read_text())
    assert len(cases) == len(results["scenarios"]) == 52
    assert suite.get("failures") == "10" and suite.get("errors") == "0"
    failed = [c for c in cases if c.find("failure") is not None]
    assert {c.get("classname") for c in failed} == {"s1sr.4.3.clause-18.16"}
    assert all("expected" in (c.find("failure").get("message") or "") for c in failed)  # type: ignore[union-attr]


def test_cucumber_json_has_features_scenarios_and_step_results(failing_report: Path) -> None:
    features = json.loads((failing_report / "cucumber.json").read_text())
    assert {f["name"] for f in features} == {
        "18.16 Values returned after a meter balance adjustment",
        "18.62 JoinTimePeriod converted to minutes",
    }
    elements = [e for f in features for e in f["elements"]]
    assert len(elements) == 52
    statuses = {s["result"]["status"] for e in elements for s in e["steps"]}
    assert statuses == {"passed", "failed", "skipped"}
    for element in elements:
        assert element["type"] == "scenario" and element["steps"]
        assert all(s["keyword"].endswith(" ") for s in element["steps"])


def test_results_json_keeps_expected_and_actual_of_a_failure(failing_report: Path) -> None:
    results = json.loads((failing_report / "results.json").read_text())
    failure = next(s for s in results["scenarios"] if s["outcome"] == "failed")
    assert failure["mismatch"]["what"] == "SRV 4.18 MeterBalance"
    assert failure["mismatch"]["expected"] != failure["mismatch"]["actual"]
    assert [s["status"] for s in failure["steps"]].count("failed") == 1
    assert results["interrupted"] is False


def test_index_html_is_self_contained(failing_report: Path) -> None:
    page = (failing_report / "index.html").read_text()
    assert "<script src" not in page and "<link" not in page and "@import" not in page and "url(" not in page
    assert "NOT CONFORMANT" in page
    assert 'class="mismatch"' in page


def _interrupt(tmp_path: Path, signum: int) -> tuple[int, dict[str, object]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "s1sr", "run", "--adapter-option", "latency_s=0.05", "--report-dir", str(tmp_path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO,
    )  # fmt: skip
    time.sleep(4)
    process.send_signal(signum)
    process.communicate(timeout=60)
    return process.returncode, json.loads((tmp_path / "results.json").read_text())


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_an_interrupted_run_leaves_a_valid_report_with_not_run_scenarios(tmp_path: Path, signum: int) -> None:
    code, results = _interrupt(tmp_path, signum)
    assert code == 130
    assert results["interrupted"] is True
    summary = results["summary"]
    assert isinstance(summary, dict)
    assert summary["not run"] > 0 and summary["passed"] > 0
    assert sum(summary.values()) == 404
    ET.parse(tmp_path / "junit.xml")
    json.loads((tmp_path / "cucumber.json").read_text())
    assert "INTERRUPTED" in (tmp_path / "index.html").read_text()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "a temporary file was left behind"


def test_a_crashing_adapter_is_an_error_and_the_run_goes_on(tmp_path: Path) -> None:
    done = s1sr("run", "--adapter", "tests.faulty_devices:CrashesOnThirdCommand", "--dmc", "secure-esme",
                "--clause", "18.3", "--report-dir", str(tmp_path))  # fmt: skip
    assert done.returncode == 3
    results = json.loads((tmp_path / "results.json").read_text())
    assert {s["outcome"] for s in results["scenarios"]} == {"error"}
    assert len(results["scenarios"]) == 16  # every scenario ran: one crash did not stop the run
    errors = [s for s in results["scenarios"] if s["outcome"] == "error"]
    assert all("RuntimeError: adapter bug: lost its serial port" in s["reason"] for s in errors)
