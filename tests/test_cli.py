"""The s1sr command as a user meets it: exit codes, one-line errors, results.json."""

import json
from pathlib import Path

from tests.conftest import RTDS, one_line_error, s1sr


def test_run_writes_results_json_with_the_documented_fields(tmp_path: Path) -> None:
    done = s1sr("run", "--clause", "18.62", "--dmc", "secure-esme", "--report-dir", str(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["s1sr_version"] == "4.3"
    assert results["dmc"] == ["secure-esme"]
    assert results["summary"]["passed"] == 19
    assert set(results["schema"]) == {"xsd", "requests_validated", "responses_validated", "invalid"}
    scenario = results["scenarios"][0]
    assert {"name", "feature", "clauses", "outcome", "duration_s"} <= set(scenario)
    assert scenario["clauses"] == ["18.62"]
    assert scenario["evidence"][0]["device_commands"][0]["name"] == "AddToJoinWhitelist"
    assert "CONFORMANT" in done.stdout


def test_run_42_checks_the_42_reading_of_18_63(tmp_path: Path) -> None:
    done = s1sr(
        "run",
        "--s1sr-version",
        "4.2",
        "--clause",
        "18.63",
        "--dmc",
        "secure-esme",
        "--report-dir",
        str(tmp_path),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    results = json.loads((tmp_path / "results.json").read_text())
    by_name = {s["name"]: s["outcome"] for s in results["scenarios"]}
    assert by_name["S1SR 4.2 rejects the whole request when any listed HAN is busy (busy device first)"] == "passed"
    assert by_name["S1SR 4.3 rejects only the device whose HAN is busy (busy device first)"] == "not applicable"


def test_clauses_json_lists_every_clause_with_its_scenario_count() -> None:
    done = s1sr("clauses", "--json")
    assert done.returncode == 0, done.stderr
    rows = {r["id"]: r for r in json.loads(done.stdout)}
    assert set(rows) == {
        "18.3",
        "18.4",
        "18.5",
        "18.8",
        "18.16",
        "18.27",
        "18.37",
        "18.62",
        "18.63",
        "18.65",
        "23",
        "DUIS.1",
    }
    assert rows["18.62"]["scenarios"] == 19
    # 9 outline rows and 16 scenarios, 2 of them per fuel: 25 scenario examples
    assert rows["DUIS.1"]["scenarios"] == 25
    assert rows["DUIS.1"]["source"] == "4.3"
    assert rows["18.62"]["srvs"] == ["8.11"]
    assert rows["18.65"]["scenarios"] == 0
    assert rows["18.27"]["provenance"] == "consultation"


def test_translate_json_marks_annex_c_fields(tmp_path: Path) -> None:
    out = tmp_path / "response.xml"
    done = s1sr("translate", str(RTDS / "CCS01_8.11_SUCCESS_REQUEST_DUIS.XML"), "--json", "--out", str(out))
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["srv"] == "8.11"
    command = summary["device_commands"][0]
    assert command["name"] == "AddToJoinWhitelist"
    assert command["fields"]["join_minutes"] == 2
    assert command["annex_c"] == ["join_method"]
    # The harness's finding, from the request and the catalogue, beside the S1SP's own label.
    assert command["sources"]["join_method"] == "Annex C, S1SR 4.3 (interpretation)"
    assert command["sources"]["join_minutes"] == "the request"
    assert summary["response_code"] == "I0"
    assert out.read_bytes().startswith(b"<?xml")


def test_validate_reports_valid_and_invalid(tmp_path: Path) -> None:
    good = RTDS / "ECS04a_1.5_SUCCESS_REQUEST_DUIS.XML"
    bad = tmp_path / "bad.xml"
    bad.write_bytes(good.read_bytes().replace(b"1200000", b"twelve"))
    done = s1sr("validate", str(good), str(bad))
    assert done.returncode == 1
    assert "valid    " in done.stdout and "INVALID  " in done.stdout
    assert "AdjustMeterBalance" in done.stdout


def test_unknown_version_is_one_line_exit_2() -> None:
    assert "4.3" in one_line_error(s1sr("run", "--s1sr-version", "9.9"))


def test_unknown_dmc_is_one_line_exit_2() -> None:
    assert "secure-esme" in one_line_error(s1sr("run", "--dmc", "no-such-meter"))


def test_unknown_clause_is_one_line_exit_2() -> None:
    assert "18.999" in one_line_error(s1sr("run", "--clause", "18.999"))


def test_missing_feature_folder_is_one_line_exit_2(tmp_path: Path) -> None:
    assert "does not exist" in one_line_error(s1sr("run", "--features", str(tmp_path / "nowhere")))


def test_translate_unsupported_srv_is_one_line_exit_2() -> None:
    line = one_line_error(s1sr("translate", str(RTDS / "ECS42_7.1_SUCCESS_REQUEST_DUIS.XML")))
    assert "7.1" in line


def test_translate_missing_file_is_one_line_exit_2(tmp_path: Path) -> None:
    assert "no such file" in one_line_error(s1sr("translate", str(tmp_path / "absent.xml")))


def test_translate_out_into_missing_folder_writes_nothing(tmp_path: Path) -> None:
    target = tmp_path / "missing" / "response.xml"
    one_line_error(s1sr("translate", str(RTDS / "ECS82_4.18_SUCCESS_REQUEST_DUIS.XML"), "--out", str(target)))
    assert not target.exists()


def test_run_signs_with_a_user_supplied_key(tmp_path: Path) -> None:
    from s1sr.duis.signing import generated_credentials

    credentials = generated_credentials()
    (tmp_path / "key.pem").write_bytes(credentials.key_pem)
    (tmp_path / "cert.pem").write_bytes(credentials.cert_pem)
    done = s1sr(
        "run",
        "--clause",
        "18.3",
        "--dmc",
        "secure-gsme",
        "--signing-key",
        str(tmp_path / "key.pem"),
        "--signing-cert",
        str(tmp_path / "cert.pem"),
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_run_without_a_schema_says_so_once(tmp_path: Path) -> None:
    done = s1sr("run", "--clause", "18.62", "--dmc", "secure-esme", cwd=tmp_path, env={"S1SR_DUIS_XSD": ""})
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("schema validation is off") == 1
    assert "S1SR_DUIS_XSD" in done.stdout


def test_credit_only_meter_reports_prepayment_clauses_not_applicable(tmp_path: Path) -> None:
    done = s1sr("run", "--dmc", "secure-esme-credit", "--report-dir", str(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    results = json.loads((tmp_path / "results.json").read_text())
    by_clause: dict[str, set[str]] = {}
    for s in results["scenarios"]:
        for clause in s["clauses"]:
            by_clause.setdefault(clause, set()).add(s["outcome"])
    for clause in ("18.3", "18.4", "18.5", "18.8", "18.16", "18.27"):
        assert by_clause[clause] == {"not applicable"}, clause
    assert by_clause["18.37"] == {"passed"}
    assert by_clause["18.62"] == {"passed"}
    # 93 of the clauses, 25 of DUIS.1 (not mapped to the credit-only model), and the 32 of the packs not in force
    assert results["summary"]["not applicable"] == 150
    assert "150 not applicable" in done.stdout
    reasons = {s["reason"] for s in results["scenarios"] if "18.3" in s["clauses"]}
    assert reasons == {"Annex A does not map clause 18.3 to device model secure-esme-credit"}


def test_clauses_matrix_json() -> None:
    done = s1sr("clauses", "--matrix", "--json")
    assert done.returncode == 0, done.stderr
    matrix = json.loads(done.stdout)["matrix"]
    assert matrix["18.37"] == {
        "secure-esme": True,
        "secure-esme-credit": True,
        "secure-gsme": False,
        "secure-esme-twin": False,
    }
    assert matrix["18.27"]["secure-esme-credit"] is False
