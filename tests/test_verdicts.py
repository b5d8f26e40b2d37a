"""Verdicts a gate can rest on: three run verdicts, a record of exactly what was selected, unique ids,
configuration refused before anything runs, adapters held to their contract, responses matched to requests."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from s1sr.duis.signing import generated_credentials
from tests.conftest import REPO, s1sr


def _results(folder: Path) -> dict[str, object]:
    data: dict[str, object] = json.loads((folder / "results.json").read_text())
    return data


def _scenarios(folder: Path) -> list[dict[str, object]]:
    scenarios: list[dict[str, object]] = _results(folder)["scenarios"]  # type: ignore[assignment]
    return scenarios


def _one_line(done: object) -> str:
    stderr: str = done.stderr  # type: ignore[attr-defined]
    assert done.returncode == 2, done.stdout + stderr  # type: ignore[attr-defined]
    assert "Traceback" not in stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    return lines[0]


# --- three verdicts, never confused ---------------------------------------------------------


def test_a_k_selection_is_judged_on_what_it_selects(tmp_path: Path) -> None:
    done = s1sr("run", "-k", "JoinTimePeriod", "--report-dir", str(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    results = _results(tmp_path)
    assert results["summary"] == {"passed": 30, "failed": 0, "error": 0, "waived": 0, "not applicable": 0, "not run": 0}
    assert results["verdict"] == "CONFORMANT"
    assert results["exit_code"] == 0
    assert len(_scenarios(tmp_path)) == 30
    assert "CONFORMANT: all 30 applicable scenario(s) passed" in done.stdout


def test_a_mark_selection_leaves_the_rest_out_of_the_record(tmp_path: Path) -> None:
    done = s1sr(
        "run", "--clause", "18.63", "--dmc", "secure-esme", "--report-dir", str(tmp_path), "--", "-m", "s1sr_version"
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert _results(tmp_path)["summary"] == {
        "passed": 2, "failed": 0, "error": 0, "waived": 0, "not applicable": 3, "not run": 0,
    }  # fmt: skip
    assert sorted(str(s["name"]) for s in _scenarios(tmp_path)) == [
        "S1SR 4.2 rejects the whole request when any listed HAN is busy (busy device first)",
        "S1SR 4.2 rejects the whole request when any listed HAN is busy (busy device last)",
        "S1SR 4.2: the outcome of a device not sent names the device whose HAN is busy",
        "S1SR 4.3 rejects only the device whose HAN is busy (busy device first)",
        "S1SR 4.3 rejects only the device whose HAN is busy (busy device last)",
    ]


def test_a_selection_of_nothing_is_a_usage_error() -> None:
    done = s1sr("run", "--clause", "18.62", "--", "-k", "no-such-scenario")
    assert done.returncode == 2, done.stdout + done.stderr
    assert "no scenario was selected" in done.stderr


def test_a_rig_that_returns_device_errors_is_inconclusive_not_non_conformant(tmp_path: Path) -> None:
    done = s1sr("run", "--adapter-option", "fault=device-error", "--report-dir", str(tmp_path))
    assert done.returncode == 3, done.stdout + done.stderr
    assert "INCONCLUSIVE" in done.stdout and "NOT CONFORMANT" not in done.stdout
    results = _results(tmp_path)
    assert results["verdict"] == "INCONCLUSIVE"
    assert results["exit_code"] == 3
    summary = results["summary"]
    assert isinstance(summary, dict)
    assert summary["failed"] == 0 and summary["error"] > 200
    suite = ET.parse(tmp_path / "junit.xml").getroot().find("testsuite")
    assert suite is not None
    properties = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert properties["verdict"] == "INCONCLUSIVE"
    features = json.loads((tmp_path / "cucumber.json").read_text())
    assert all({"name": "@run-inconclusive", "line": 1} in f["tags"] for f in features)
    assert ">INCONCLUSIVE<" in (tmp_path / "index.html").read_text()


def test_nothing_applicable_is_inconclusive(tmp_path: Path) -> None:
    done = s1sr("run", "--clause", "18.37", "--dmc", "secure-gsme", "--report-dir", str(tmp_path))
    assert done.returncode == 3, done.stdout + done.stderr
    assert "nothing applicable was judged" in done.stdout
    assert _results(tmp_path)["summary"] == {
        "passed": 0, "failed": 0, "error": 0, "waived": 0, "not applicable": 13, "not run": 0,
    }  # fmt: skip


def test_a_failure_beside_errors_is_not_conformant(tmp_path: Path) -> None:
    # The busy-HAN adapter fails 18.63; a device error on every ActivateFirmware adds errors.
    done = s1sr(
        "run", "--adapter", "tests.faulty_devices:HidesFirmwareInProgress", "--dmc", "secure-esme",
        "--clause", "18.63", "--report-dir", str(tmp_path),
    )  # fmt: skip
    assert done.returncode == 1, done.stdout + done.stderr
    assert _results(tmp_path)["verdict"] == "NOT CONFORMANT"


# --- every scenario example has a unique, stable id and name ------------------------------


@pytest.fixture(scope="module")
def full_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("full-run")
    done = s1sr("run", "--report-dir", str(folder))
    assert done.returncode == 0, done.stdout + done.stderr
    return folder


def test_every_scenario_example_has_a_unique_id_and_name(full_run: Path) -> None:
    scenarios = _scenarios(full_run)
    assert len(scenarios) == 404
    assert len({s["id"] for s in scenarios}) == 404
    assert len({(s["name"], s["dmc"]) for s in scenarios}) == 404
    cases = ET.parse(full_run / "junit.xml").getroot().iter("testcase")
    assert len({(c.get("classname"), c.get("name")) for c in cases}) == 404
    elements = [e["id"] for f in json.loads((full_run / "cucumber.json").read_text()) for e in f["elements"]]
    assert len(set(elements)) == 404


def test_outline_rows_with_one_rendered_name_carry_their_values(full_run: Path) -> None:
    names = sorted(
        str(s["name"])
        for s in _scenarios(full_run)
        if s["dmc"] == "secure-esme" and str(s["name"]).startswith("An adjustment beyond the DUIS range")
    )
    assert names == [
        "An adjustment beyond the DUIS range is refused before it reaches the meter (adjust = -2147483649)",
        "An adjustment beyond the DUIS range is refused before it reaches the meter (adjust = 2147483648)",
    ]
    ids = sorted(
        str(s["id"])
        for s in _scenarios(full_run)
        if str(s["name"]).startswith("An adjustment beyond the DUIS range") and s["dmc"] == "secure-esme"
    )
    assert ids == [
        "features/18.03-meter-balance-adjustment.feature:44:50#1[secure-esme]",
        "features/18.03-meter-balance-adjustment.feature:44:50#2[secure-esme]",
    ]


def test_the_consultation_pack_counts_what_clauses_counts(full_run: Path) -> None:
    done = s1sr("consultation", "--report-dir", str(full_run))
    assert done.returncode == 0, done.stdout + done.stderr
    row = next(line for line in (full_run / "consultation.md").read_text().splitlines() if line.startswith("| 18.3 |"))
    assert "| 16 |" in row, row
    clauses = {c["id"]: c for c in json.loads(s1sr("clauses", "--json").stdout)}
    assert clauses["18.3"]["scenarios"] == 16


# --- configuration checked before anything runs -----------------------------------------------


@pytest.fixture
def previous_report(tmp_path: Path) -> tuple[Path, dict[str, bytes]]:
    folder = tmp_path / "report"
    done = s1sr("run", "--clause", "18.62", "--dmc", "secure-esme", "--report-dir", str(folder))
    assert done.returncode == 0, done.stdout + done.stderr
    return folder, {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


def _untouched(folder: Path, before: dict[str, bytes]) -> None:
    assert {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()} == before


def _pem(tmp_path: Path) -> tuple[Path, Path]:
    other = ec.generate_private_key(ec.SECP256R1())
    key = tmp_path / "other-key.pem"
    key.write_bytes(
        other.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    cert = tmp_path / "cert.pem"
    cert.write_bytes(generated_credentials().cert_pem)
    return key, cert


def test_a_key_and_certificate_that_do_not_match_are_refused_before_the_run(
    tmp_path: Path, previous_report: tuple[Path, dict[str, bytes]]
) -> None:
    folder, before = previous_report
    key, cert = _pem(tmp_path)
    line = _one_line(s1sr("run", "--signing-key", str(key), "--signing-cert", str(cert), "--report-dir", str(folder)))
    assert "do not belong together" in line and "--signing-key" in line
    _untouched(folder, before)


@pytest.mark.parametrize("value", ["nan", "inf", "1e308", "0", "-5", "600.001"])
def test_a_timeout_that_is_not_a_sane_positive_number_is_refused(
    value: str, previous_report: tuple[Path, dict[str, bytes]]
) -> None:
    folder, before = previous_report
    line = _one_line(s1sr("run", "--timeout", value, "--report-dir", str(folder)))
    assert line.startswith("s1sr: error: --timeout:"), line
    _untouched(folder, before)


def test_the_largest_timeout_is_accepted() -> None:
    done = s1sr("run", "--timeout", "600", "--clause", "18.62", "--dmc", "secure-esme")
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_feature_file_that_does_not_parse_is_named_with_its_line(
    tmp_path: Path, previous_report: tuple[Path, dict[str, bytes]]
) -> None:
    folder, before = previous_report
    features = tmp_path / "features"
    features.mkdir()
    (features / "good.feature").write_text((REPO / "features" / "18.62-join-time-in-minutes.feature").read_text())
    (features / "broken.feature").write_text(
        "Feature: broken\n  Scenario: one\n    Given the meter balance is 500 pence\n\n  Scenaro Outline typo\n"
    )
    line = _one_line(s1sr("run", "--features", str(features), "--report-dir", str(folder)))
    assert f"{features / 'broken.feature'}:5: feature file does not parse" in line, line
    _untouched(folder, before)


# --- adapters held to their contract ------------------------------------------------------


@pytest.mark.parametrize(
    ("adapter", "reason"),
    [
        ("EmptySnapshot", "adapter 'empty-snapshot' broke its contract: its snapshot has no entry for listed device"),
        ("ListSnapshot", "adapter 'list-snapshot' broke its contract: snapshot() returned list"),
        ("ReplyIsADict", "adapter 'dict-reply' broke its contract: SetPaymentMode returned dict, not a DeviceReply"),
    ],
)
def test_an_adapter_outside_its_contract_errors_and_never_fails_the_s1sp(
    tmp_path: Path, adapter: str, reason: str
) -> None:
    done = s1sr(
        "run", "--adapter", f"tests.broken_adapters:{adapter}", "--dmc", "secure-esme", "--clause", "18.3",
        "--report-dir", str(tmp_path),
    )  # fmt: skip
    assert done.returncode == 3, done.stdout + done.stderr
    scenarios = _scenarios(tmp_path)
    assert {s["outcome"] for s in scenarios} == {"error"}
    assert all(reason in str(s["reason"]) for s in scenarios), {str(s["reason"]) for s in scenarios}


# --- every response judged against its request ------------------------------------------------


@pytest.mark.parametrize(
    ("s1sp", "reason"),
    [
        ("EchoesAnotherRequestID", "sr:Header/sr:RequestID is 90-B3-D5-1F-30-01-00-00:00-DB-12-34-56-78-90-A0:"),
        ("SignsAnotherCounter", "signed SMETS1Response Header/OriginatorCounter is '7', expected '10"),
        (
            "SignsFromAnotherDevice",
            "Header/BusinessOriginatorID is '00-DB-12-34-56-78-90-B0', expected '00-DB-12-34-56-78-90-A0'",
        ),
        (
            "SignsForAnotherUser",
            "Header/BusinessTargetID is '90-B3-D5-1F-30-01-00-02', expected '90-B3-D5-1F-30-01-00-00'",
        ),
    ],
)
def test_a_response_that_does_not_answer_its_request_fails(tmp_path: Path, s1sp: str, reason: str) -> None:
    done = s1sr(
        "run", "--s1sp", f"tests.miscorrelating:{s1sp}", "--dmc", "secure-esme", "--clause", "18.16",
        "--report-dir", str(tmp_path),
    )  # fmt: skip
    assert done.returncode == 1, done.stdout + done.stderr
    scenarios = _scenarios(tmp_path)
    assert {s["outcome"] for s in scenarios} == {"failed"}
    assert all("does not answer request" in str(s["reason"]) for s in scenarios)
    evidence = [e for s in scenarios for e in s["evidence"]]  # type: ignore[attr-defined]
    assert any(reason in e["correlation"] for e in evidence), {e["correlation"] for e in evidence}


def test_matching_responses_say_so_in_the_evidence(full_run: Path) -> None:
    evidence = [e for s in _scenarios(full_run) for e in s["evidence"]]  # type: ignore[attr-defined]
    answered = [e for e in evidence if e["response_xml"]]
    assert answered and {e["correlation"] for e in answered} == {"matches the request"}
