"""Where a command field came from is the harness's decision (catalogue and request), never the S1SP's label.

Before, "came from Annex C" passed when the S1SP labelled the field so: the system under test
certified itself. Now the harness decides: from Annex C when the catalogue's entry for the SRV,
command and field gives it and the command holds that value; from the request when the request
the User sent carries the element. A label no verdict rests on can still be false, and a false
one is caught.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from s1sr.catalogue import load_catalogue
from s1sr.catalogue.sources import FROM_ANNEX_C, FROM_REQUEST, NOT_ANNEX_C_VALUE, command_sources, field_source
from tests.conftest import s1sr


def _run(tmp_path: Path, *args: str) -> tuple[int, list[dict[str, object]]]:
    done = s1sr("run", "--dmc", "secure-esme", "--report-dir", str(tmp_path), *args)
    assert done.returncode in (0, 1, 3), done.stdout + done.stderr
    return done.returncode, json.loads((tmp_path / "results.json").read_text())["scenarios"]


@pytest.mark.parametrize(
    ("srv", "command", "field", "value", "verdict", "described"),
    [
        ("8.11", "AddToJoinWhitelist", "join_method", "install-code", FROM_ANNEX_C,
         "Annex C, S1SR 4.3 (interpretation)"),
        ("8.11", "AddToJoinWhitelist", "join_method", "pre-configured", NOT_ANNEX_C_VALUE,
         "not the Annex C value install-code of S1SR 4.3"),
        ("2.1", "SetPrepayConfiguration", "emergency_credit_auto_activation", False, FROM_ANNEX_C,
         "Annex C, S1SR 4.3 (interpretation)"),
        ("2.1", "SetPrepayConfiguration", "emergency_credit_auto_activation", True, NOT_ANNEX_C_VALUE,
         "not the Annex C value false of S1SR 4.3"),
        ("1.6", "SetPaymentMode", "debt_recovery_per_payment_percent", 0, FROM_ANNEX_C,
         "Annex C, S1SR 4.3 (interpretation)"),
        ("8.11", "AddToJoinWhitelist", "join_minutes", 2, FROM_REQUEST, "the request"),
        # The entry is for SRV 8.11: the same command and field under another SRV has no Annex C value.
        ("1.6", "AddToJoinWhitelist", "join_method", "install-code", FROM_REQUEST, "the request"),
    ],
)  # fmt: skip
def test_the_source_of_a_field_by_the_catalogue(
    srv: str, command: str, field: str, value: object, verdict: str, described: str
) -> None:
    found = field_source(load_catalogue("4.3"), srv, command, field, value, "whatever the S1SP says")
    assert (found.verdict, found.describe()) == (verdict, described)
    assert found.label == "whatever the S1SP says"


def test_an_s1sp_that_labels_nothing_passes_clause_23(tmp_path: Path) -> None:
    # Before, every "came from Annex C" step failed for an S1SP that did not label its fields.
    code, scenarios = _run(tmp_path, "--clause", "23", "--s1sp", "tests.s1sp_variants:LabelsNothing")
    assert code == 0
    assert [s["outcome"] for s in scenarios] == ["passed"] * 7


def test_an_s1sp_that_labels_request_values_annex_c_is_caught(tmp_path: Path) -> None:
    code, scenarios = _run(tmp_path, "--clause", "23", "--s1sp", "tests.s1sp_variants:LabelsEveryFieldAnnexC")
    assert code == 1
    failed = {str(s["name"]): str(s["reason"]) for s in scenarios if s["outcome"] == "failed"}
    assert failed == {
        "SRV 1.6 appends the debt recovery rate from Annex C": (
            "the S1SP labels SetPaymentMode.disablement_threshold_pence as filled by itself ('Annex C, S1SR 4.3 "
            "(interpretation)'), but the request carried DisablementThreshold: its evidence of where the value "
            "came from is false"
        ),
        "SRV 2.1 appends the emergency credit auto-activation from Annex C": (
            "the S1SP labels SetPrepayConfiguration.emergency_credit_limit_pence as filled by itself ('Annex C, "
            "S1SR 4.3 (interpretation)'), but the request carried EmergencyCreditLimit: its evidence of where the "
            "value came from is false"
        ),
        "SRV 8.11 appends the join method from Annex C": (
            "the S1SP labels AddToJoinWhitelist.join_minutes as filled by itself ('Annex C, S1SR 4.3 "
            "(interpretation)'), but the request carried JoinTimePeriod: its evidence of where the value came "
            "from is false"
        ),
        "SRV 11.1 appends the activation mode from Annex C": (
            "the S1SP labels TransferFirmware.image_hash as filled by itself ('Annex C, S1SR 4.3 "
            "(interpretation)'), but the request carried FirmwareImage: its evidence of where the value came from "
            "is false"
        ),
    }


def test_a_value_from_the_request_labelled_annex_c_is_caught(tmp_path: Path) -> None:
    code, scenarios = _run(tmp_path, "--clause", "23", "--s1sp", "tests.s1sp_variants:AnnexCValueFromRequest")
    assert code == 1
    failed = [s for s in scenarios if s["outcome"] == "failed"]
    assert [s["name"] for s in failed] == ["SRV 2.1 appends the emergency credit auto-activation from Annex C"]
    assert failed[0]["mismatch"] == {
        "what": "SetPrepayConfiguration.emergency_credit_auto_activation, which Annex C of S1SR 4.3 gives "
        "(the S1SP labels it 'Annex C, S1SR 4.3 (interpretation)')",
        "expected": "false",
        "actual": "true",
    }


FEATURE = """@clause-23 @srv-8.11
Feature: An analyst's Annex C expectation

  Scenario: SRV 8.11 appends the join method from Annex C
    When the User adds device 00-DB-12-34-56-78-90-C1 to the Communications Hub whitelist with JoinTimePeriod 90
    Then the field {field} of AddToJoinWhitelist came from {source}
"""


@pytest.mark.parametrize(
    ("field", "source", "reason"),
    [
        ("join_method", "Annex C with value certificate",
         "ConfigError: the feature: the feature expects AddToJoinWhitelist.join_method certificate from Annex C; "
         "the catalogue of S1SR 4.3 gives install-code; correct the feature or the catalogue: they must state the "
         "same value"),
        ("join_minutes", "Annex C with value 2",
         "ConfigError: the feature: the catalogue of S1SR 4.3 has no Annex C entry for SRV 8.11 "
         "AddToJoinWhitelist.join_minutes; add the [[annex_c]] entry to the catalogue, or correct the feature"),
        ("join_method", "the request's JoinTimePeriod",
         "ConfigError: the feature: Annex C of S1SR 4.3 gives AddToJoinWhitelist.join_method for SRV 8.11: it "
         "cannot come from the request; correct the feature or the catalogue"),
        ("join_minutes", "the request's InstallCodes",
         "ConfigError: the feature: the request the scenario sent (SRV 8.11) carries no InstallCodes; name an "
         "element of the request's body"),
    ],
    ids=["value the catalogue does not give", "no entry", "an Annex C field from the request", "no such element"],
)  # fmt: skip
def test_a_feature_that_disagrees_with_the_catalogue_is_an_error_not_a_failure(
    tmp_path: Path, field: str, source: str, reason: str
) -> None:
    folder = tmp_path / "features"
    folder.mkdir()
    (folder / "annex-c.feature").write_text(FEATURE.format(field=field, source=source))
    code, scenarios = _run(tmp_path / "report", "--features", str(folder))
    assert code == 3
    assert [(s["outcome"], s["reason"]) for s in scenarios] == [("error", reason)]


def test_every_field_of_a_command_gets_the_harness_source_beside_the_s1sp_label() -> None:
    fields = {"joining_device": "00-DB-12-34-56-78-90-C1", "join_minutes": 2, "install_code": "0A1B2C3D4E5F",
              "join_method": "install-code"}  # fmt: skip
    found = command_sources(load_catalogue("4.3"), "8.11", "AddToJoinWhitelist", fields, {"join_minutes": "mine"})
    assert [(s.field, s.describe(), s.label) for s in found] == [
        ("joining_device", "the request", None),
        ("join_minutes", "the request", "mine"),
        ("install_code", "the request", None),
        ("join_method", "Annex C, S1SR 4.3 (interpretation)", None),
    ]
